//! [`TlsServer`]: an HTTPS server on 127.0.0.1 (rustls over a [`RawListener`]) with a
//! certificate for `names` issued by a certificate authority made for the test, answering
//! `GET /items?offset=N&limit=M` from five records, one request per connection. It counts
//! the connections it accepted and the requests it answered.

use std::io::Write as _;
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::json;

use super::{ApiServer, RawListener, read_head, write_json_reply};

pub struct TlsServer {
    /// The test authority's certificate, PEM: what `--ca-cert` trusts.
    pub ca_pem: String,
    pub connections: Arc<AtomicUsize>,
    pub answered: Arc<AtomicUsize>,
    /// The request target (path and query) of each request answered.
    pub targets: Arc<Mutex<Vec<String>>>,
    listener: RawListener,
}

impl TlsServer {
    /// Serves with a certificate for `names` (`127.0.0.1`, `localhost`, ...).
    pub fn start(names: &[&str]) -> TlsServer {
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "sluice test authority");
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let leaf = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone(), ca.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        let config = Arc::new(config);
        let connections = Arc::new(AtomicUsize::new(0));
        let answered = Arc::new(AtomicUsize::new(0));
        let targets = Arc::new(Mutex::new(Vec::new()));
        let (accepted, served) = (Arc::clone(&connections), Arc::clone(&answered));
        let seen = Arc::clone(&targets);
        let listener = RawListener::start("127.0.0.1", move |conn, _| {
            accepted.fetch_add(1, Ordering::SeqCst);
            if let Some(target) = answer(conn, &config) {
                seen.lock().unwrap().push(target);
                served.fetch_add(1, Ordering::SeqCst);
            }
        });
        TlsServer {
            ca_pem: ca.pem(),
            connections,
            answered,
            targets,
            listener,
        }
    }
}

/// One request over TLS, answered; its target, or `None` when the handshake or the
/// connection failed.
fn answer(conn: TcpStream, config: &Arc<rustls::ServerConfig>) -> Option<String> {
    conn.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    let tls = rustls::ServerConnection::new(Arc::clone(config)).ok()?;
    let mut stream = rustls::StreamOwned::new(tls, conn);
    let head = read_head(&mut stream)?;
    let target = head.split_whitespace().nth(1)?;
    let number = |name: &str| {
        target
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse::<usize>().ok())
    };
    let (offset, limit) = (number("offset").unwrap_or(0), number("limit").unwrap_or(5));
    let items: Vec<_> = (offset..(offset + limit).min(5))
        .map(|i| json!({"id": i, "name": format!("item {i}")}))
        .collect();
    write_json_reply(&mut stream, &json!({"data": items, "total": 5}))?;
    stream.conn.send_close_notify();
    stream.flush().ok()?;
    Some(target.to_string())
}

impl ApiServer for TlsServer {
    fn base_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.listener.port)
    }
}
