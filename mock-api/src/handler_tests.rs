use super::*;

fn state(config: MockConfig) -> State {
    State::new(config)
}

fn get(state: &mut State, target: &str) -> (Answer, Value) {
    get_with(state, target, &[])
}

fn get_with(state: &mut State, target: &str, headers: &[(&str, &str)]) -> (Answer, Value) {
    let (path, query) = crate::query::split_target(target);
    let headers = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let answer = state.handle("GET".into(), path, query, headers, 1);
    let body = serde_json::from_str(&answer.body).unwrap();
    (answer, body)
}

const KEY: &str = "api_key=demo-secret-key";

#[test]
fn default_page_and_total() {
    let mut s = state(MockConfig::default());
    let (a, body) = get(&mut s, &format!("/v1/inventory?{KEY}"));
    assert_eq!(a.status, 200);
    assert_eq!(body["total"], 2500);
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 100);
    assert_eq!(data[0], item(1, 0));
    assert_eq!(data[99], item(100, 0));
}

#[test]
fn trailing_slash_and_last_partial_page() {
    let mut s = state(MockConfig::default());
    let (a, body) = get(
        &mut s,
        &format!("/v1/inventory/?{KEY}&offset=2450&limit=100"),
    );
    assert_eq!(a.status, 200);
    let ids: Vec<u64> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, (2451..=2500).collect::<Vec<_>>());
}

#[test]
fn offset_beyond_items_is_empty() {
    let mut s = state(MockConfig::default());
    let (a, body) = get(&mut s, &format!("/v1/inventory?{KEY}&offset=99999999999"));
    assert_eq!(a.status, 200);
    assert_eq!(body, json!({"data": [], "total": 2500}));
}

#[test]
fn bad_parameters_are_400() {
    let mut s = state(MockConfig::default());
    for bad in [
        "offset=-1",
        "offset=abc",
        "limit=-5",
        "limit=1.5",
        "offset=",
    ] {
        let (a, body) = get(&mut s, &format!("/v1/inventory?{KEY}&{bad}"));
        assert_eq!(a.status, 400, "{bad}");
        let msg = body["error"].as_str().unwrap();
        let name = bad.split('=').next().unwrap();
        assert!(msg.contains(name), "{msg}");
    }
}

#[test]
fn auth_by_query_or_header_and_never_echoed() {
    let mut s = state(MockConfig {
        api_key: "k-123".into(),
        ..MockConfig::default()
    });
    let (a, _) = get_with(&mut s, "/v1/inventory", &[("x-api-key", "k-123")]);
    assert_eq!(a.status, 200);
    let (a, _) = get(&mut s, "/v1/inventory?api_key=k-123");
    assert_eq!(a.status, 200);
    for target in ["/v1/inventory", "/v1/inventory?api_key=wrong-key-xyz"] {
        let (a, body) = get(&mut s, target);
        assert_eq!(a.status, 401);
        assert_eq!(body, json!({"error": "invalid api key"}));
        assert!(!a.body.contains("k-123") && !a.body.contains("wrong-key-xyz"));
    }
    let (a, _) = get_with(&mut s, "/v1/inventory", &[("X-API-Key", "nope")]);
    assert_eq!(a.status, 401);
}

#[test]
fn unknown_path_and_method() {
    let mut s = state(MockConfig::default());
    let (a, _) = get(&mut s, &format!("/v2/inventory?{KEY}"));
    assert_eq!(a.status, 404);
    let answer = s.handle(
        "POST".into(),
        "/v1/inventory".into(),
        Vec::new(),
        Vec::new(),
        1,
    );
    assert_eq!(answer.status, 405);
    let statuses: Vec<u16> = s.requests.iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![404, 405]);
}

#[test]
fn faults_in_order_and_offset_matching() {
    let mut s = state(MockConfig {
        faults: vec![
            "500@200".parse().unwrap(),
            "503x2".parse().unwrap(),
            "429x1@100:retry-after=7".parse().unwrap(),
        ],
        ..MockConfig::default()
    });
    let mut status = |offset: usize| {
        let (a, _) = get(&mut s, &format!("/v1/inventory?{KEY}&offset={offset}"));
        (a.status, a.retry_after)
    };
    assert_eq!(status(100), (503, None));
    assert_eq!(status(100), (503, None));
    assert_eq!(status(100), (429, Some("7".to_string())));
    assert_eq!(status(100), (200, None));
    assert_eq!(status(200), (500, None));
    assert_eq!(status(200), (200, None));
    assert!(s.config.faults.is_empty());
}

#[test]
fn request_debug_redacts_credentials() {
    let mut s = state(MockConfig::default());
    get_with(
        &mut s,
        &format!("/v1/inventory?{KEY}&offset=0"),
        &[
            ("X-Api-Key", "demo-secret-key"),
            ("Authorization", "Bearer tok-999"),
        ],
    );
    let shown = format!("{:?}", s.requests[0]);
    assert!(
        !shown.contains("demo-secret-key") && !shown.contains("tok-999"),
        "{shown}"
    );
    assert!(shown.contains("offset"));
    assert_eq!(
        s.requests[0].query_param("api_key"),
        Some("demo-secret-key")
    );
    assert_eq!(
        s.requests[0].header("authorization"),
        Some("Bearer tok-999")
    );
}

#[test]
fn movements_of_an_item_in_pages_of_five() {
    let mut s = state(MockConfig {
        items: 30,
        ..MockConfig::default()
    });
    // Item 11 has 11 movements: pages of 5, 5 and 1.
    let mut got = Vec::new();
    for page in 1..=3 {
        let (a, body) = get(
            &mut s,
            &format!("/v1/inventory/11/movements?{KEY}&page={page}"),
        );
        assert_eq!(a.status, 200);
        assert_eq!(body["total_pages"], 3);
        assert_eq!(body["page"], page);
        got.extend(body["data"].as_array().unwrap().clone());
    }
    assert_eq!(got, movements(11));
    assert_eq!(got.len(), 11);
    assert!(got.iter().all(|m| m["item_id"] == 11));
    let (_, past) = get(&mut s, &format!("/v1/inventory/11/movements?{KEY}&page=4"));
    assert_eq!(past["data"], json!([]));
    // Item 12 has none: one empty page.
    let (a, body) = get(&mut s, &format!("/v1/inventory/12/movements?{KEY}"));
    assert_eq!((a.status, body["total_pages"].clone()), (200, json!(1)));
    assert_eq!(body["data"], json!([]));
    for (target, status) in [
        (format!("/v1/inventory/31/movements?{KEY}"), 404),
        (format!("/v1/inventory/x/movements?{KEY}"), 404),
        (format!("/v1/inventory/1/movements?{KEY}&page=0"), 400),
        ("/v1/inventory/1/movements".to_string(), 401),
        (format!("/v1/inventory/1/other?{KEY}"), 404),
    ] {
        assert_eq!(get(&mut s, &target).0.status, status, "{target}");
    }
}

#[test]
fn a_fault_at_an_offset_leaves_movements_alone() {
    let mut s = state(MockConfig {
        faults: vec!["503@0".parse().unwrap()],
        ..MockConfig::default()
    });
    let (a, _) = get(&mut s, &format!("/v1/inventory/5/movements?{KEY}"));
    assert_eq!(a.status, 200);
    let (a, _) = get(&mut s, &format!("/v1/inventory?{KEY}&offset=0"));
    assert_eq!(a.status, 503);
}
