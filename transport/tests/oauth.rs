//! OAuth2 client credentials against a real token server on 127.0.0.1: both client auth
//! methods as the server sees them, caching, expiry, refresh once on 401, the retry policy on
//! token requests, and no secret or token in any error or Debug string.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Seen, TestServer, client, reply};
use sluice_transport::{
    Auth, ClientAuth, Credential, Method, OAuth2, Request, Response, TransportError,
};

const CLIENT_SECRET: &str = "cl13nt-s3cret&/+";
const TOKEN_MARK: &str = "T0KEN-VALUE";

/// How the fake authorization server and API behave.
#[derive(Clone, Copy)]
struct Behaviour {
    /// `expires_in` of issued tokens (None: left out).
    expires_in: Option<u32>,
    /// Which token numbers (1-based) the API accepts.
    api_accepts: fn(usize) -> bool,
    /// Token requests answered 503 before the first success.
    token_failures: usize,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            expires_in: Some(3600),
            api_accepts: |_| true,
            token_failures: 0,
        }
    }
}

/// One server with `/token` (issues `tok-N-T0KEN-VALUE`) and `/api` (checks the bearer token).
fn server(b: Behaviour) -> TestServer {
    let token_calls = Arc::new(AtomicUsize::new(0));
    let issued = Arc::new(AtomicUsize::new(0));
    TestServer::serve(move |seen: &Seen, _| {
        if seen.url.starts_with("/token") {
            let call = token_calls.fetch_add(1, Ordering::SeqCst) + 1;
            if call <= b.token_failures {
                return reply(503);
            }
            let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
            let expires = b
                .expires_in
                .map(|e| format!(",\"expires_in\":{e}"))
                .unwrap_or_default();
            return reply(200).body(&format!(
                "{{\"access_token\":\"tok-{n}-{TOKEN_MARK}\",\"token_type\":\"bearer\"{expires}}}"
            ));
        }
        let number = seen
            .header("authorization")
            .and_then(|a| a.strip_prefix("Bearer tok-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|n| n.parse::<usize>().ok());
        match number {
            Some(n) if (b.api_accepts)(n) => reply(200).body("[]"),
            _ => reply(401),
        }
    })
}

fn grant(s: &TestServer, client_auth: ClientAuth) -> Auth {
    Auth::OAuth2(OAuth2 {
        token_url: s.url("/token"),
        client_id: Credential::Literal("my-client".into()),
        client_secret: Credential::Secret("client_secret".into()),
        scopes: vec!["read".into(), "write".into()],
        client_auth,
        extra_params: vec![("audience".into(), "inventory".into())],
    })
}

fn api(s: &TestServer, auth: Auth) -> Request {
    Request {
        method: Method::Get,
        url: s.url("/api"),
        headers: Vec::new(),
        body: None,
        auth: Some(auth),
    }
}

fn oauth_client(s: &TestServer, attempts: u32) -> sluice_transport::Client {
    client(&[s.host()], attempts, &[("CLIENT_SECRET", CLIENT_SECRET)])
}

fn send(c: &sluice_transport::Client, rq: &Request) -> Result<Response, TransportError> {
    c.send(rq, &mut |_| {})
}

fn split(seen: &[Seen]) -> (Vec<&Seen>, Vec<&Seen>) {
    seen.iter().partition(|s| s.url.starts_with("/token"))
}

fn assert_clean(text: &str) {
    for form in [CLIENT_SECRET, "cl13nt-s3cret%26", TOKEN_MARK] {
        assert!(!text.contains(form), "{form:?} leaked in: {text}");
    }
}

#[test]
fn client_secret_basic_sends_basic_auth_and_the_form() {
    let s = server(Behaviour::default());
    let c = oauth_client(&s, 1);
    let r = send(&c, &api(&s, grant(&s, ClientAuth::Basic))).unwrap();
    assert_eq!(r.status, 200);
    let seen = s.seen();
    let (token, calls) = split(&seen);
    assert_eq!(token.len(), 1);
    assert_eq!(token[0].method, "POST");
    let expected = format!(
        "Basic {}",
        b64(format!("my-client:{CLIENT_SECRET}").as_bytes())
    );
    assert_eq!(token[0].header("authorization"), Some(expected.as_str()));
    assert_eq!(
        token[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        token[0].body,
        "grant_type=client_credentials&scope=read%20write&audience=inventory"
    );
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].header("authorization"),
        Some(format!("Bearer tok-1-{TOKEN_MARK}").as_str())
    );
}

#[test]
fn client_secret_post_sends_the_credentials_in_the_body() {
    let s = server(Behaviour::default());
    let c = oauth_client(&s, 1);
    send(&c, &api(&s, grant(&s, ClientAuth::Body))).unwrap();
    let seen = s.seen();
    let (token, _) = split(&seen);
    assert_eq!(token[0].header("authorization"), None);
    assert_eq!(
        token[0].body,
        "grant_type=client_credentials&scope=read%20write&audience=inventory\
         &client_id=my-client&client_secret=cl13nt-s3cret%26%2F%2B"
    );
}

#[test]
fn one_token_request_serves_many_calls() {
    let s = server(Behaviour::default());
    let c = oauth_client(&s, 1);
    let rq = api(&s, grant(&s, ClientAuth::Basic));
    for _ in 0..5 {
        assert_eq!(send(&c, &rq).unwrap().status, 200);
    }
    let seen = s.seen();
    let (token, calls) = split(&seen);
    assert_eq!((token.len(), calls.len()), (1, 5));
}

#[test]
fn threads_sharing_a_client_share_one_token_and_one_refresh() {
    // Token 1 is refused by the API: every thread gets a 401 with it, yet only one thread
    // fetches token 2, and the others send with it.
    let s = server(Behaviour {
        api_accepts: |n| n >= 2,
        ..Behaviour::default()
    });
    let env = [("CLIENT_SECRET", CLIENT_SECRET)];
    let c = common::client_with_timeout(&[s.host()], 1, &env, Duration::from_secs(10));
    let rq = api(&s, grant(&s, ClientAuth::Basic));
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..3 {
                    assert_eq!(send(&c, &rq).unwrap().status, 200);
                }
            });
        }
    });
    let seen = s.seen();
    let (token, calls) = split(&seen);
    assert_eq!(token.len(), 2, "one token, then one refresh, for 8 threads");
    let accepted = calls
        .iter()
        .filter(|c| {
            c.header("authorization")
                .unwrap()
                .starts_with("Bearer tok-2-")
        })
        .count();
    assert_eq!(accepted, 24);
}

#[test]
fn an_expired_token_is_refreshed() {
    let s = server(Behaviour {
        expires_in: Some(1),
        ..Behaviour::default()
    });
    let c = oauth_client(&s, 1);
    let rq = api(&s, grant(&s, ClientAuth::Basic));
    send(&c, &rq).unwrap();
    send(&c, &rq).unwrap();
    std::thread::sleep(Duration::from_millis(700));
    send(&c, &rq).unwrap();
    let seen = s.seen();
    let (token, calls) = split(&seen);
    assert_eq!(token.len(), 2);
    let bearer: Vec<_> = calls
        .iter()
        .map(|c| c.header("authorization").unwrap().to_string())
        .collect();
    assert_eq!(
        bearer,
        [
            format!("Bearer tok-1-{TOKEN_MARK}"),
            format!("Bearer tok-1-{TOKEN_MARK}"),
            format!("Bearer tok-2-{TOKEN_MARK}")
        ]
    );
}

#[test]
fn a_401_refreshes_the_token_once_and_resends() {
    let s = server(Behaviour {
        api_accepts: |n| n >= 2,
        ..Behaviour::default()
    });
    let env = [("CLIENT_SECRET", CLIENT_SECRET)];
    let c = common::client_with_timeout(&[s.host()], 1, &env, Duration::from_secs(10));
    let r = send(&c, &api(&s, grant(&s, ClientAuth::Basic))).unwrap();
    assert_eq!(r.status, 200);
    let seen = s.seen();
    let urls: Vec<&str> = seen.iter().map(|s| s.url.as_str()).collect();
    assert_eq!(urls, ["/token", "/api", "/token", "/api"]);
}

#[test]
fn a_second_401_is_returned_to_the_caller() {
    let s = server(Behaviour {
        api_accepts: |_| false,
        ..Behaviour::default()
    });
    let c = oauth_client(&s, 3);
    let r = send(&c, &api(&s, grant(&s, ClientAuth::Basic))).unwrap();
    assert_eq!(r.status, 401);
    let seen = s.seen();
    let (token, calls) = split(&seen);
    assert_eq!((token.len(), calls.len()), (2, 2));
}

#[test]
fn token_requests_get_the_retry_policy() {
    let s = server(Behaviour {
        token_failures: 2,
        ..Behaviour::default()
    });
    let c = oauth_client(&s, 3);
    let mut retries = Vec::new();
    let r = c
        .send(&api(&s, grant(&s, ClientAuth::Basic)), &mut |e| {
            let sluice_transport::Event::Retry { url, reason, .. } = e;
            retries.push((url.to_string(), reason));
        })
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        retries,
        [
            (s.url("/token"), "HTTP 503".to_string()),
            (s.url("/token"), "HTTP 503".to_string())
        ]
    );
}

#[test]
fn token_errors_name_status_and_url_but_no_secret() {
    let s = TestServer::serve(|_, _| {
        reply(401).body(&format!(
            "{{\"error\":\"invalid_client\",\"error_description\":\"bad secret {CLIENT_SECRET}\"}}"
        ))
    });
    let c = oauth_client(&s, 1);
    let e = send(&c, &api(&s, grant(&s, ClientAuth::Body))).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, TransportError::Token { .. }), "{e:?}");
    assert!(text.contains("HTTP 401"), "{text}");
    assert!(text.contains("invalid_client"), "{text}");
    assert!(text.contains(&s.url("/token")), "{text}");
    assert_clean(&text);
    assert_clean(&format!("{e:?}"));
    assert_eq!(s.seen().len(), 1, "no API call without a token");
}

#[test]
fn a_token_without_access_token_is_an_error_without_the_body() {
    let s = TestServer::serve(|_, _| reply(200).body(&format!("{{\"token\":\"{TOKEN_MARK}\"}}")));
    let c = oauth_client(&s, 1);
    let e = send(&c, &api(&s, grant(&s, ClientAuth::Basic))).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("access_token"), "{text}");
    assert_clean(&text);
}

#[test]
fn neither_token_nor_secret_shows_in_debug_or_redacted_text() {
    let s = server(Behaviour::default());
    let c = oauth_client(&s, 1);
    let auth = grant(&s, ClientAuth::Basic);
    send(&c, &api(&s, auth.clone())).unwrap();
    assert_clean(&format!("{c:?}"));
    assert_clean(&format!("{auth:?}"));
    let leaked = format!(
        "Bearer tok-1-{TOKEN_MARK} and {CLIENT_SECRET} and {}",
        b64(format!("my-client:{CLIENT_SECRET}").as_bytes())
    );
    assert_clean(&c.redactor().redact(&leaked));
}

#[test]
fn a_token_url_outside_the_allow_list_is_refused_before_sending() {
    let api_server = server(Behaviour::default());
    let token_server = server(Behaviour::default());
    let c = oauth_client(&api_server, 1);
    let e = send(
        &c,
        &api(&api_server, grant(&token_server, ClientAuth::Basic)),
    )
    .unwrap_err();
    assert!(matches!(e, TransportError::NotAllowed { .. }), "{e:?}");
    assert!(token_server.seen().is_empty());
    assert!(api_server.seen().is_empty());
}

#[test]
fn a_missing_client_secret_fails_before_any_request() {
    let s = server(Behaviour::default());
    let c = client(&[s.host()], 1, &[]);
    let e = send(&c, &api(&s, grant(&s, ClientAuth::Basic))).unwrap_err();
    assert!(e.to_string().contains("client_secret"), "{e}");
    assert!(s.seen().is_empty());
}

fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
