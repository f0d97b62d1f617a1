//! Auth, end to end: each dlt auth type against a real server that checks the credential,
//! assertions on exactly what the server saw, and no secret in stdout, stderr or the database
//! (`Scenario` checks every run's output and database files for every secret it set).

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::support::{Reply, Req, Scenario, base64, decode, id_range, records};

const KEY: &str = "e2e-auth-Key-5d81b2";
const TOKEN: &str = "e2e-auth-Token-93ae04";
const PASSWORD: &str = "e2e-auth-Pass-c4f7";
const CLIENT_ID: &str = "e2e-client-id-61";
const CLIENT_SECRET: &str = "e2e-Client-Secret-0b9d";

fn config(base: &str, auth: Value) -> Value {
    json!({
        "client": {"base_url": base, "auth": auth},
        "resources": [{
            "name": "items",
            "primary_key": "id",
            "endpoint": {"path": "/items", "data_selector": "data",
                         "paginator": {"type": "offset", "limit": 10}},
        }],
    })
}

/// 30 records in pages of 10 when `authorized(req)`, else 401.
fn api(authorized: impl Fn(&Req) -> bool + Send + Sync + 'static) -> impl Fn(&Req) -> Reply {
    move |r: &Req| {
        if authorized(r) {
            Reply::json(json!({"data": records(r.qn("offset"), r.qn("limit"), 30), "total": 30}))
        } else {
            Reply::status(401, "{\"message\": \"bad credentials\"}")
        }
    }
}

fn cookie(r: &Req, name: &str) -> Option<String> {
    r.header("cookie")?.split(';').find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == name).then(|| decode(v))
    })
}

/// Runs `auth` against a server accepting `authorized` and returns the env after asserting
/// the 3 pages loaded.
fn loads_with(
    auth: Value,
    secrets: &[(&str, &str)],
    authorized: impl Fn(&Req) -> bool + Send + Sync + 'static,
) -> Scenario {
    let mut env = Scenario::new(api(authorized));
    for (var, value) in secrets {
        env = env.secret(var, value);
    }
    let run = env.run(&config(&env.base_url(), auth), &[]);
    run.ok();
    assert_eq!(env.ids("items"), id_range(1, 30));
    assert_eq!(env.server.requests().len(), 3, "{}", run.output());
    env
}

#[test]
fn api_key_in_the_query() {
    let auth = json!({"type": "api_key", "name": "api_key", "api_key": {"secret": "api_key"},
                      "location": "query"});
    let env = loads_with(auth, &[("API_KEY", KEY)], |r| r.q("api_key") == Some(KEY));
    for r in env.server.requests() {
        assert_eq!(r.q("api_key"), Some(KEY));
        assert_eq!(r.header("authorization"), None, "only where configured");
    }
}

#[test]
fn api_key_in_a_header_and_dlt_default_header_location() {
    let auth = json!({"type": "api_key", "name": "X-API-Key", "api_key": {"secret": "api_key"}});
    let env = loads_with(auth, &[("API_KEY", KEY)], |r| {
        r.header("x-api-key") == Some(KEY)
    });
    for r in env.server.requests() {
        assert!(r.q("api_key").is_none() && r.q("X-API-Key").is_none());
    }
}

#[test]
fn api_key_in_a_cookie() {
    let auth = json!({"type": "api_key", "name": "session", "api_key": {"secret": "api_key"},
                      "location": "cookie"});
    let env = loads_with(auth, &[("API_KEY", KEY)], |r| {
        cookie(r, "session").as_deref() == Some(KEY)
    });
    for r in env.server.requests() {
        assert_eq!(r.query.len(), 2, "limit and offset only: {:?}", r.query);
        assert_eq!(r.header("authorization"), None);
    }
}

#[test]
fn bearer_token() {
    let auth = json!({"type": "bearer", "token": {"secret": "api_token"}});
    let expected = format!("Bearer {TOKEN}");
    loads_with(auth, &[("API_TOKEN", TOKEN)], move |r| {
        r.header("authorization") == Some(expected.as_str())
    });
}

#[test]
fn http_basic() {
    let auth = json!({"type": "http_basic", "username": "alice",
                      "password": {"secret": "api_password"}});
    let expected = format!("Basic {}", base64(&format!("alice:{PASSWORD}")));
    loads_with(auth, &[("API_PASSWORD", PASSWORD)], move |r| {
        r.header("authorization") == Some(expected.as_str())
    });
}

/// A token server and an API on one 127.0.0.1 origin. Tokens are `e2e-Access-Token-N`;
/// the API accepts only the newest one, and answers 401 to `revoke_on_request` (1-based API
/// request number) once, as if the token expired early.
struct OAuth {
    tokens_issued: Arc<Mutex<u32>>,
}

fn token(n: u32) -> String {
    format!("e2e-Access-Token-{n}-7c2e")
}

fn form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn oauth_env(revoke_on_request: Option<usize>, always_401: bool) -> (Scenario, OAuth) {
    let tokens_issued = Arc::new(Mutex::new(0u32));
    let api_requests = Arc::new(Mutex::new(0usize));
    let issued = Arc::clone(&tokens_issued);
    let env = Scenario::new(move |r: &Req| {
        if r.path == "/oauth/token" {
            let mut n = issued.lock().unwrap();
            *n += 1;
            return Reply::json(json!({"access_token": token(*n), "token_type": "bearer",
                                      "expires_in": 3600}));
        }
        let mut seen = api_requests.lock().unwrap();
        *seen += 1;
        let current = format!("Bearer {}", token(*issued.lock().unwrap()));
        let revoked = revoke_on_request == Some(*seen);
        if always_401 || revoked || r.header("authorization") != Some(current.as_str()) {
            return Reply::status(401, "{\"error\": \"invalid_token\"}");
        }
        Reply::json(json!({"data": records(r.qn("offset"), r.qn("limit"), 30), "total": 30}))
    })
    .secret("OAUTH_CLIENT_ID", CLIENT_ID)
    .secret("OAUTH_CLIENT_SECRET", CLIENT_SECRET);
    (env, OAuth { tokens_issued })
}

fn oauth_config(env: &Scenario, client_auth: Option<&str>) -> Value {
    let mut auth = json!({
        "type": "oauth2_client_credentials",
        "access_token_url": format!("{}/oauth/token", env.base_url()),
        "client_id": {"secret": "oauth_client_id"},
        "client_secret": {"secret": "oauth_client_secret"},
        "scopes": ["read", "write"],
        "access_token_request_data": {"audience": "inventory"},
    });
    if let Some(method) = client_auth {
        auth["client_auth"] = json!(method);
    }
    config(&env.base_url(), auth)
}

fn assert_no_token_leaks(env: &Scenario, run: &crate::support::Run, issued: u32) {
    for n in 1..=issued {
        assert!(
            !run.output().contains(&token(n)),
            "token {n} in output:\n{}",
            run.output()
        );
        let db = std::fs::read(env.db()).unwrap_or_default();
        assert!(!db.windows(token(n).len()).any(|w| w == token(n).as_bytes()));
    }
}

fn token_requests(env: &Scenario) -> Vec<Req> {
    env.server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/oauth/token")
        .collect()
}

#[test]
fn oauth2_client_credentials_basic_caches_the_token() {
    let (env, oauth) = oauth_env(None, false);
    let run = env.run(&oauth_config(&env, Some("client_secret_basic")), &[]);
    run.ok();
    assert_eq!(env.ids("items"), id_range(1, 30));
    assert_eq!(
        *oauth.tokens_issued.lock().unwrap(),
        1,
        "one token for every request"
    );
    let tokens = token_requests(&env);
    assert_eq!(tokens.len(), 1);
    let t = &tokens[0];
    assert_eq!(t.method, "POST");
    assert_eq!(
        t.header("authorization"),
        Some(format!("Basic {}", base64(&format!("{CLIENT_ID}:{CLIENT_SECRET}"))).as_str()),
        "client_secret_basic when asked for"
    );
    let fields = form(&t.body);
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("grant_type"), Some("client_credentials"));
    assert_eq!(get("scope"), Some("read write"));
    assert_eq!(get("audience"), Some("inventory"));
    assert_eq!(get("client_secret"), None, "not in the body with basic");
    let api: Vec<Req> = env
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/items")
        .collect();
    assert_eq!(api.len(), 3);
    for r in api {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {}", token(1)).as_str())
        );
    }
    assert_no_token_leaks(&env, &run, 1);
}

#[test]
fn oauth2_client_credentials_in_the_body_by_default_as_dlt() {
    let (env, _) = oauth_env(None, false);
    let run = env.run(&oauth_config(&env, None), &[]);
    run.ok();
    assert_eq!(env.ids("items"), id_range(1, 30));
    let tokens = token_requests(&env);
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].header("authorization"), None);
    let fields = form(&tokens[0].body);
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("client_id"), Some(CLIENT_ID));
    assert_eq!(get("client_secret"), Some(CLIENT_SECRET));
    assert_eq!(get("grant_type"), Some("client_credentials"));
    assert_no_token_leaks(&env, &run, 1);
}

#[test]
fn oauth2_refreshes_the_token_once_on_a_401() {
    let (env, oauth) = oauth_env(Some(2), false);
    // One request at a time, for the exact order below (threads sharing one token and one
    // refresh are tested in the transport).
    let run = env.run(&oauth_config(&env, None), &["--concurrency", "1"]);
    run.ok();
    assert_eq!(env.ids("items"), id_range(1, 30));
    assert_eq!(*oauth.tokens_issued.lock().unwrap(), 2);
    let seen: Vec<(String, Option<String>)> = env
        .server
        .requests()
        .iter()
        .map(|r| (r.line(), r.header("authorization").map(str::to_string)))
        .filter(|(l, _)| l.starts_with("GET"))
        .collect();
    let bearer = |n| Some(format!("Bearer {}", token(n)));
    assert_eq!(
        seen,
        vec![
            ("GET /items?limit=10&offset=0".to_string(), bearer(1)),
            ("GET /items?limit=10&offset=10".to_string(), bearer(1)),
            ("GET /items?limit=10&offset=10".to_string(), bearer(2)),
            ("GET /items?limit=10&offset=20".to_string(), bearer(2)),
        ]
    );
    assert_no_token_leaks(&env, &run, 2);
}

#[test]
fn oauth2_a_second_401_fails_without_looping() {
    let (env, oauth) = oauth_env(None, true);
    let run = env.run(&oauth_config(&env, None), &[]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert!(run.stderr.contains("401"), "{}", run.stderr);
    assert_eq!(*oauth.tokens_issued.lock().unwrap(), 2, "one refresh only");
    let api = env
        .server
        .requests()
        .iter()
        .filter(|r| r.path == "/items")
        .count();
    assert_eq!(api, 2, "the request and one resend");
    assert!(!env.has_table("items"));
    assert_no_token_leaks(&env, &run, 2);
}

#[test]
fn endpoint_auth_overrides_client_auth_beside_a_public_resource() {
    // dlt: `endpoint.auth` replaces `client.auth` for that resource; `auth: null` sends none.
    let env = Scenario::new(|r: &Req| {
        let bearer = r.header("authorization") == Some(format!("Bearer {TOKEN}").as_str());
        let ok = match r.path.as_str() {
            "/private" => bearer,
            "/keyed" => r.q("key") == Some(KEY) && r.header("authorization").is_none(),
            "/public" => r.header("authorization").is_none() && r.q("key").is_none(),
            _ => false,
        };
        if ok {
            Reply::json(json!({"data": records(r.qn("offset"), r.qn("limit"), 30), "total": 30}))
        } else {
            Reply::status(401, "{\"message\": \"bad credentials\"}")
        }
    })
    .secret("API_TOKEN", TOKEN)
    .secret("API_KEY", KEY);
    let endpoint = |path: &str, auth: Option<Value>| {
        let mut e = json!({"path": path, "data_selector": "data",
                           "paginator": {"type": "offset", "limit": 10}});
        if let Some(a) = auth {
            e["auth"] = a;
        }
        e
    };
    let config = json!({
        "client": {"base_url": env.base_url(),
                   "auth": {"type": "bearer", "token": {"secret": "api_token"}}},
        "resources": [
            {"name": "private", "endpoint": endpoint("/private", None)},
            {"name": "keyed", "endpoint": endpoint("/keyed", Some(json!(
                {"type": "api_key", "name": "key", "location": "query",
                 "api_key": {"secret": "api_key"}})))},
            {"name": "public", "endpoint": endpoint("/public", Some(Value::Null))},
        ],
    });
    let run = env.run(&config, &[]);
    run.ok();
    for table in ["private", "keyed", "public"] {
        assert_eq!(env.ids(table), id_range(1, 30), "{table}");
    }
    let public: Vec<Req> = env
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/public")
        .collect();
    assert_eq!(public.len(), 3);
    assert!(public.iter().all(|r| r.header("authorization").is_none()));
}

#[test]
fn a_secret_echoed_by_the_api_never_reaches_the_state_and_is_named_in_records() {
    // An API that echoes the key: as the next-page cursor on /cursor, inside a record on /items.
    let env = Scenario::new(|r: &Req| match r.path.as_str() {
        "/items" => Reply::json(json!({"data": [
            {"id": 1, "meta": {"seen_auth": format!("Bearer {TOKEN}")}},
            {"id": 2, "meta": {"seen_auth": "none"}},
        ]})),
        "/cursor" => Reply::json(json!({"data": [{"id": 1}], "next": TOKEN})),
        _ => Reply::status(404, "{}"),
    })
    .secret("API_TOKEN", TOKEN);
    let endpoint = |path: &str, paginator: Value| json!({"path": path, "data_selector": "data", "paginator": paginator});
    let config = json!({
        "client": {"base_url": env.base_url(),
                   "auth": {"type": "bearer", "token": {"secret": "api_token"}}},
        "resources": [
            {"name": "items", "endpoint": endpoint("/items", json!("single_page"))},
            {"name": "cursor", "endpoint": endpoint("/cursor", json!(
                {"type": "cursor", "cursor_path": "next", "cursor_param": "after"}))},
        ],
    });
    let run = env.run_with_echoing_api(&config, &[]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    // The records keep the user's data, with one warning naming where the secret is.
    assert_eq!(env.ids("items"), [1, 2]);
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("a record holds a secret value"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", run.stderr);
    assert!(
        warnings[0].contains("record 0, field meta.seen_auth (column meta__seen_auth)"),
        "{}",
        warnings[0]
    );
    // The cursor is never checkpointed: the resource fails with the cause.
    assert!(
        run.stderr
            .contains("the state to checkpoint after this page holds a secret value"),
        "{}",
        run.stderr
    );
    let states: Vec<String> = env.col("SELECT state FROM _sluice_state");
    assert!(states.iter().all(|s| !s.contains(TOKEN)), "{states:?}");
    let ledger: Vec<String> = env.col("SELECT coalesce(error, '') FROM _sluice_loads");
    assert!(ledger.iter().all(|e| !e.contains(TOKEN)), "{ledger:?}");
    assert!(
        !env.has_table("cursor"),
        "the page with the echoed cursor is not written"
    );
}

#[test]
fn resources_loaded_side_by_side_share_one_oauth2_token() {
    // The API accepts only the newest token: groups with a token each would take turns
    // revoking each other's.
    let (env, oauth) = oauth_env(None, false);
    let mut config = oauth_config(&env, None);
    let mut second = config["resources"][0].clone();
    second["name"] = json!("items_again");
    config["resources"].as_array_mut().unwrap().push(second);
    let run = env.run(&config, &["--parallel-resources", "2"]);
    run.ok();
    assert_eq!(env.ids("items"), id_range(1, 30));
    assert_eq!(env.ids("items_again"), id_range(1, 30));
    assert_eq!(
        *oauth.tokens_issued.lock().unwrap(),
        1,
        "one token for both"
    );
    assert_eq!(token_requests(&env).len(), 1);
    assert_no_token_leaks(&env, &run, 1);
}
