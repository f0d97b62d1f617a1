//! Proxies: sluice sends its requests through the proxy `HTTP_PROXY` names, as curl and
//! dlt's `requests` do, and straight to the API for the hosts `NO_PROXY` lists. The proxy
//! here listens on 127.0.0.2 and answers for the API itself. A proxy's address is not held
//! to the address policy (a company's proxy is at a private address).

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::support::{
    RawListener, Reply, Req, Scenario, one_page_config, read_head, write_json_reply,
};

/// How a connection to a [`Proxy`] asks for its destination.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// An HTTP forward proxy: the request names the URL.
    Http,
    /// SOCKS5 (no authentication): a CONNECT to `host:port`, then the request.
    Socks5,
}

/// A proxy on 127.0.0.2 that records what each connection asked for (the request line, or
/// the `host:port` of a SOCKS5 CONNECT) and answers `records` for the API itself.
struct Proxy {
    seen: Arc<Mutex<Vec<String>>>,
    listener: RawListener,
}

impl Proxy {
    fn start(kind: Kind, records: Value) -> Proxy {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let listener = RawListener::start("127.0.0.2", move |mut conn, _| {
            let asked = match kind {
                Kind::Http => {
                    read_head(&mut conn).map(|h| h.lines().next().unwrap_or_default().to_string())
                }
                Kind::Socks5 => socks_connect(&mut conn).filter(|_| read_head(&mut conn).is_some()),
            };
            let Some(asked) = asked else {
                return;
            };
            log.lock().unwrap().push(asked);
            write_json_reply(&mut conn, &json!({"data": records}));
        });
        Proxy { seen, listener }
    }

    fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.2:{}", self.listener.port)
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

#[test]
fn requests_go_through_http_proxy_except_for_no_proxy_hosts() {
    let env = Scenario::new(|_: &Req| Reply::json(json!({"data": [{"id": 7}]})));
    let proxy = Proxy::start(Kind::Http, json!([{"id": 1}, {"id": 2}]));
    let config = one_page_config(&env.base_url());
    let path = env.write_config("config.json", &config);
    let proxy_url = proxy.url("http");
    let through = [("HTTP_PROXY", Some(proxy_url.as_str()))];
    env.run_file(&path, &[], &through).ok();
    assert_eq!(
        proxy.seen(),
        [format!("GET {}/items HTTP/1.1", env.base_url())]
    );
    assert!(env.server.requests().is_empty());
    assert_eq!(env.ids("items"), vec![1, 2]);

    let bypass = [
        ("HTTP_PROXY", Some(proxy_url.as_str())),
        ("NO_PROXY", Some("127.0.0.1")),
    ];
    env.run_file(&path, &[], &bypass).ok();
    assert_eq!(proxy.seen().len(), 1);
    assert_eq!(env.server.lines(), ["GET /items"]);
    assert_eq!(env.ids("items"), vec![1, 2, 7]);

    // A proxy named by a hostname that leads to an address the config does not name (a
    // company's proxy at 10.x): the administrator chose it, so it is not refused.
    let port = proxy_url.rsplit(':').next().unwrap();
    let named = format!("http://proxy.test:{port}");
    let by_name = [("HTTP_PROXY", Some(named.as_str()))];
    let resolve = ["--resolve", "proxy.test=127.0.0.2"];
    env.run_file(&path, &resolve, &by_name).ok();
    assert_eq!(proxy.seen().len(), 2);
    assert_eq!(env.server.lines().len(), 1);
}

/// The SOCKS5 greeting and CONNECT (RFC 1928), answered as granted: the `host:port` asked for.
fn socks_connect(conn: &mut std::net::TcpStream) -> Option<String> {
    let mut head = [0u8; 2];
    conn.read_exact(&mut head).ok()?;
    let mut methods = vec![0u8; usize::from(head[1])];
    conn.read_exact(&mut methods).ok()?;
    conn.write_all(&[5, 0]).ok()?;
    let mut request = [0u8; 4];
    conn.read_exact(&mut request).ok()?;
    let host = match request[3] {
        1 => {
            let mut v4 = [0u8; 4];
            conn.read_exact(&mut v4).ok()?;
            std::net::Ipv4Addr::from(v4).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            conn.read_exact(&mut len).ok()?;
            let mut name = vec![0u8; usize::from(len[0])];
            conn.read_exact(&mut name).ok()?;
            String::from_utf8_lossy(&name).into_owned()
        }
        _ => return None,
    };
    let mut port = [0u8; 2];
    conn.read_exact(&mut port).ok()?;
    conn.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).ok()?;
    Some(format!("{host}:{}", u16::from_be_bytes(port)))
}

#[test]
fn requests_go_through_a_socks5_proxy_named_by_all_proxy() {
    let env = Scenario::new(|_: &Req| Reply::json(json!({"data": [{"id": 7}]})));
    let socks = Proxy::start(Kind::Socks5, json!([{"id": 5}]));
    let path = env.write_config("config.json", &one_page_config(&env.base_url()));
    let proxy = socks.url("socks5h");
    env.run_file(&path, &[], &[("ALL_PROXY", Some(proxy.as_str()))])
        .ok();
    let api = env.base_url().trim_start_matches("http://").to_string();
    assert_eq!(socks.seen(), [api]);
    assert!(env.server.requests().is_empty());
    assert_eq!(env.ids("items"), vec![5]);
}
