//! Proxies: sluice sends its requests through the proxy `HTTP_PROXY` names, as curl and
//! dlt's `requests` do, and straight to the API for the hosts `NO_PROXY` lists. The proxy
//! here listens on 127.0.0.2 and answers for the API itself. A proxy's address is not held
//! to the address policy (a company's proxy is at a private address).

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::support::{RawListener, Reply, Req, Scenario, one_page_config, read_head};

/// A forward proxy on 127.0.0.2 that records each request line and answers two records.
struct Proxy {
    seen: Arc<Mutex<Vec<String>>>,
    listener: RawListener,
}

impl Proxy {
    fn start() -> Proxy {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let listener = RawListener::start("127.0.0.2", move |mut conn, _| {
            let Some(head) = read_head(&mut conn) else {
                return;
            };
            log.lock()
                .unwrap()
                .push(head.lines().next().unwrap_or_default().to_string());
            let body = json!({"data": [{"id": 1}, {"id": 2}]}).to_string();
            let _ = conn.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        });
        Proxy { seen, listener }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.2:{}", self.listener.port)
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

#[test]
fn requests_go_through_http_proxy_except_for_no_proxy_hosts() {
    let env = Scenario::new(|_: &Req| Reply::json(json!({"data": [{"id": 7}]})));
    let proxy = Proxy::start();
    let config = one_page_config(&env.base_url());
    let path = env.write_config("config.json", &config);
    let proxy_url = proxy.url();
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

/// A SOCKS5 proxy on 127.0.0.2 (no authentication, CONNECT only) that records where each
/// connection asked to go and then answers the HTTP request on it as the API.
struct Socks {
    targets: Arc<Mutex<Vec<String>>>,
    listener: RawListener,
}

impl Socks {
    fn start() -> Socks {
        let targets = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&targets);
        let listener = RawListener::start("127.0.0.2", move |mut conn, _| {
            let Some(target) = socks_connect(&mut conn) else {
                return;
            };
            log.lock().unwrap().push(target);
            if read_head(&mut conn).is_none() {
                return;
            }
            let body = json!({"data": [{"id": 5}]}).to_string();
            let _ = conn.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        });
        Socks { targets, listener }
    }
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
    let socks = Socks::start();
    let path = env.write_config("config.json", &one_page_config(&env.base_url()));
    let proxy = format!("socks5h://127.0.0.2:{}", socks.listener.port);
    env.run_file(&path, &[], &[("ALL_PROXY", Some(proxy.as_str()))])
        .ok();
    let api = env.base_url().trim_start_matches("http://").to_string();
    assert_eq!(*socks.targets.lock().unwrap(), [api]);
    assert!(env.server.requests().is_empty());
    assert_eq!(env.ids("items"), vec![5]);
}
