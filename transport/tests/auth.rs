//! Credential injection observed at a real server, and no secret in any error or Debug string.

mod common;

use common::{TestServer, client, reply};
use sluice_transport::{Auth, Credential, Method, Request, TransportError};

const SECRET: &str = "s3cr3t&key/+=";

fn request(url: String, auth: Auth) -> Request {
    Request {
        method: Method::Get,
        url,
        headers: Vec::new(),
        body: None,
        auth: Some(auth),
    }
}

fn secret(name: &str) -> Credential {
    Credential::Secret(name.to_string())
}

fn assert_clean(text: &str) {
    for form in [SECRET, "s3cr3t%26key", "czNjcjN0"] {
        assert!(
            !text.contains(form),
            "secret form {form:?} leaked in: {text}"
        );
    }
}

#[test]
fn query_auth_is_percent_encoded_and_appended() {
    let server = TestServer::start(vec![reply(200)]);
    let c = client(&[server.host()], 1, &[("API_KEY", SECRET)]);
    let auth = Auth::Query {
        name: "api_key".into(),
        value: secret("api_key"),
    };
    c.send(&request(server.url("/items?page=2"), auth), &mut |_| {})
        .unwrap();
    assert_eq!(
        server.seen()[0].url,
        "/items?page=2&api_key=s3cr3t%26key%2F%2B%3D"
    );
}

#[test]
fn header_auth_is_injected() {
    let server = TestServer::start(vec![reply(200)]);
    let c = client(
        &[server.host()],
        1,
        &[("SOURCES__INVENTORY__API_KEY", SECRET)],
    );
    let auth = Auth::Header {
        name: "X-API-Key".into(),
        value: secret("sources.inventory.api_key"),
    };
    c.send(&request(server.url("/"), auth), &mut |_| {})
        .unwrap();
    assert_eq!(server.seen()[0].header("x-api-key"), Some(SECRET));
}

#[test]
fn cookie_auth_is_appended_to_an_existing_cookie() {
    let server = TestServer::start(vec![reply(200)]);
    let c = client(&[server.host()], 1, &[("SESSION", "abc123")]);
    let mut rq = request(
        server.url("/"),
        Auth::Cookie {
            name: "sid".into(),
            value: secret("session"),
        },
    );
    c.send(&rq, &mut |_| {}).unwrap();
    rq.headers.push(("Cookie".into(), "theme=dark".into()));
    c.send(&rq, &mut |_| {}).unwrap();
    let seen = server.seen();
    assert_eq!(seen[0].header("cookie"), Some("sid=abc123"));
    assert_eq!(seen[1].header("cookie"), Some("theme=dark; sid=abc123"));
}

#[test]
fn bearer_auth_is_injected() {
    let server = TestServer::start(vec![reply(200)]);
    let c = client(&[server.host()], 1, &[("TOKEN", "tok-42")]);
    c.send(
        &request(server.url("/"), Auth::Bearer(secret("token"))),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(
        server.seen()[0].header("authorization"),
        Some("Bearer tok-42")
    );
}

#[test]
fn basic_auth_is_injected_and_its_base64_redacted() {
    let server = TestServer::start(vec![reply(200)]);
    let c = client(&[server.host()], 1, &[("PASSWORD", "pw")]);
    let auth = Auth::Basic {
        username: Credential::Literal("aladdin".into()),
        password: secret("password"),
    };
    c.send(&request(server.url("/"), auth), &mut |_| {})
        .unwrap();
    // base64("aladdin:pw")
    assert_eq!(
        server.seen()[0].header("authorization"),
        Some("Basic YWxhZGRpbjpwdw==")
    );
    let redacted = c
        .redactor()
        .redact("header was Basic YWxhZGRpbjpwdw== for aladdin");
    assert_eq!(redacted, "header was Basic [redacted] for [redacted]");
}

#[test]
fn missing_secret_fails_before_any_request() {
    let server = TestServer::start(vec![reply(200)]);
    let c = client(&[server.host()], 1, &[]);
    let auth = Auth::Bearer(secret("api_key"));
    let err = c.prepare(&auth).unwrap_err();
    assert!(matches!(err, TransportError::Secret(_)), "{err:?}");
    assert!(err.to_string().contains("set env API_KEY"), "{err}");
    let err = c
        .send(&request(server.url("/"), auth), &mut |_| {})
        .unwrap_err();
    assert!(matches!(err, TransportError::Secret(_)));
    assert!(server.seen().is_empty());
}

#[test]
fn credentials_are_stripped_on_cross_host_redirect() {
    let target = TestServer::start(vec![reply(200)]);
    let origin = TestServer::start(vec![reply(302).header("Location", &target.url("/landing"))]);
    let c = client(&[origin.host(), target.host()], 1, &[("API_KEY", SECRET)]);
    let mut rq = request(
        origin.url("/start"),
        Auth::Header {
            name: "X-Key".into(),
            value: secret("api_key"),
        },
    );
    rq.headers
        .push(("Authorization".into(), "Bearer planned".into()));
    rq.headers
        .push(("Accept".into(), "application/json".into()));
    assert_eq!(c.send(&rq, &mut |_| {}).unwrap().status, 200);
    assert_eq!(origin.seen()[0].header("x-key"), Some(SECRET));
    let landed = &target.seen()[0];
    assert_eq!(landed.url, "/landing");
    assert_eq!(landed.header("x-key"), None);
    assert_eq!(landed.header("authorization"), None);
    assert_eq!(landed.header("accept"), Some("application/json"));
}

#[test]
fn same_host_redirect_keeps_header_auth() {
    let server = TestServer::start(vec![reply(301).header("Location", "/v2/items"), reply(200)]);
    let c = client(&[server.host()], 1, &[("TOKEN", "tok-42")]);
    c.send(
        &request(server.url("/items"), Auth::Bearer(secret("token"))),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(
        server.seen()[1].header("authorization"),
        Some("Bearer tok-42")
    );
}

#[test]
fn no_error_or_debug_string_contains_the_secret() {
    let server = TestServer::start(vec![reply(503)]);
    let c = client(&[server.host()], 2, &[("API_KEY", SECRET)]);
    let auth = Auth::Query {
        name: "api_key".into(),
        value: secret("api_key"),
    };
    let rq = request(server.url("/items"), auth);
    let mut events = Vec::new();
    let err = c
        .send(&rq, &mut |e| events.push(format!("{e:?}")))
        .unwrap_err();
    assert!(
        server.seen()[0].url.contains("api_key=s3cr3t%26key"),
        "the secret was sent"
    );
    assert!(matches!(
        err,
        TransportError::RetriesExhausted { attempts: 2, .. }
    ));
    for text in [
        err.to_string(),
        format!("{err:?}"),
        format!("{c:?}"),
        format!("{rq:?}"),
        events.join(" "),
    ] {
        assert_clean(&text);
    }

    // Connection errors and timeouts too, and a literal credential in Debug.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = client(&[format!("127.0.0.1:{port}")], 1, &[]);
    let rq = request(
        format!("http://127.0.0.1:{port}/x"),
        Auth::Query {
            name: "k".into(),
            value: Credential::Literal(SECRET.into()),
        },
    );
    let err = c.send(&rq, &mut |_| {}).unwrap_err();
    for text in [
        err.to_string(),
        format!("{err:?}"),
        format!("{rq:?}"),
        format!("{c:?}"),
    ] {
        assert_clean(&text);
    }
    assert_eq!(
        c.redactor()
            .redact(&format!("url ?k=s3cr3t%26key%2F%2B%3D and {SECRET}")),
        "url ?k=[redacted] and [redacted]"
    );
}
