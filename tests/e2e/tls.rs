//! HTTPS against a server on 127.0.0.1 whose certificate a test authority issued: it loads
//! when `--ca-cert` trusts the authority; without it, or with a certificate for another
//! name, the request fails at once (one connection, no retry) saying what is wrong with the
//! certificate and how to trust an authority; a `--ca-cert` file without certificates is a
//! command-line error (exit 2).

use std::sync::atomic::Ordering;

use serde_json::json;

use crate::support::{Harness, TlsServer};

/// An API key no output may show: sent in the query, so it is in the URL errors name.
const KEY: &str = "tls-test-key-3141";

fn config(env: &Harness<TlsServer>) -> std::path::PathBuf {
    let config = json!({
        "client": {"base_url": env.base_url(),
                   "auth": {"type": "api_key", "name": "api_key", "location": "query",
                            "api_key": {"secret": "api_key"}}},
        "resources": [{"name": "items", "primary_key": "id",
                       "endpoint": {"path": "/items", "data_selector": "data",
                                    "paginator": {"type": "offset", "limit": 2,
                                                  "total_path": "total"}}}]
    });
    env.write_config("config.json", &config)
}

#[test]
fn https_loads_when_the_authority_is_trusted() {
    let env = Harness::with_server(TlsServer::start(&["127.0.0.1"])).secret("API_KEY", KEY);
    let ca = env.dir.path().join("ca.pem");
    std::fs::write(&ca, &env.server.ca_pem).unwrap();
    let path = config(&env);
    let run = env.sluice(
        &[
            "run",
            "--config",
            path.to_str().unwrap(),
            "--db",
            "out.db",
            "--ca-cert",
            ca.to_str().unwrap(),
        ],
        &env.secret_vars(),
    );
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert_eq!(env.ids("items"), vec![0, 1, 2, 3, 4]);
    let targets = env.server.targets.lock().unwrap().clone();
    assert!(targets.len() >= 3, "{targets:?}");
    // The key went inside TLS, injected at send time.
    assert!(
        targets
            .iter()
            .all(|t| t.contains(&format!("api_key={KEY}"))),
        "{targets:?}"
    );
    env.assert_db_has_no_secret();

    // Without the flag, the file SSL_CERT_FILE names (as curl and OpenSSL read it).
    let answered = targets.len();
    let mut vars = env.secret_vars();
    vars.push(("SSL_CERT_FILE", ca.to_str()));
    let run = env.sluice(
        &["run", "--config", path.to_str().unwrap(), "--db", "out.db"],
        &vars,
    );
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert!(env.server.targets.lock().unwrap().len() > answered);
}

#[test]
fn an_untrusted_certificate_fails_at_once_saying_how_to_trust_it() {
    for (names, expected) in [
        (
            &["127.0.0.1"][..],
            "the server's certificate is not trusted: its issuer is unknown (--ca-cert FILE \
             or SSL_CERT_FILE trusts another certificate authority)",
        ),
        (
            &["localhost"][..],
            "the server's certificate is not valid: certificate not valid for name \"127.0.0.1\"",
        ),
    ] {
        let env = Harness::with_server(TlsServer::start(names)).secret("API_KEY", KEY);
        let ca = env.dir.path().join("ca.pem");
        std::fs::write(&ca, &env.server.ca_pem).unwrap();
        let path = config(&env);
        // The name is checked even when the authority is trusted.
        let trust: &[&str] = if names == ["localhost"] {
            &["--ca-cert", ca.to_str().unwrap()]
        } else {
            &[]
        };
        let mut args = vec!["run", "--config", path.to_str().unwrap(), "--db", "out.db"];
        args.extend(trust);
        let run = env.sluice(&args, &env.secret_vars());
        assert_eq!(run.code, Some(1), "{}", run.output());
        let error = run
            .stderr
            .lines()
            .find(|l| l.starts_with("error: resource `items` failed: "))
            .unwrap_or_else(|| panic!("{}", run.stderr));
        assert!(
            error.contains(&format!("{}/items?", env.base_url())) && error.contains(expected),
            "{error}"
        );
        assert!(!run.stderr.contains("retry"), "{}", run.stderr);
        assert_eq!(env.server.connections.load(Ordering::SeqCst), 1);
        assert_eq!(env.server.answered.load(Ordering::SeqCst), 0);
        assert!(!env.has_table("items"));
    }
}

#[test]
fn a_ca_cert_file_without_certificates_is_a_usage_error() {
    let env = Harness::with_server(TlsServer::start(&["127.0.0.1"]));
    let path = config(&env);
    let config = path.to_str().unwrap();
    for (file, expected) in [
        (
            config,
            "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
        ),
        (
            "missing.pem",
            "cannot read missing.pem: No such file or directory",
        ),
    ] {
        let run = env.sluice(&["run", "--config", config, "--ca-cert", file], &[]);
        assert_eq!(run.code, Some(2), "{}", run.output());
        let first = run.stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("error: invalid value") && first.contains(expected),
            "{}",
            run.stderr
        );
    }
    // From the environment, the message says where the file name came from.
    let run = env.sluice(
        &["run", "--config", config],
        &[("SSL_CERT_FILE", Some("missing.pem"))],
    );
    assert_eq!(run.code, Some(2), "{}", run.output());
    assert!(
        run.stderr
            .contains("cannot read missing.pem (named by SSL_CERT_FILE): No such file"),
        "{}",
        run.stderr
    );
    assert_eq!(env.server.connections.load(Ordering::SeqCst), 0);
    assert!(!env.db().exists());
}
