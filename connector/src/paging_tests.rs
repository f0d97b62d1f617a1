//! Session-level tests of paginators, detection, guards and response actions: each drives
//! a [`Session`] against a fake server function and asserts the exact requests and rows.

use serde_json::{Value, json};

use crate::protocol::{
    Auth, ClientAuth, Credential, Error, Level, Method, Page, Request, Response,
};
use crate::session::Session;

fn ok(req: &Request, body: Value, headers: &[(&str, &str)]) -> Response {
    Response {
        seq: req.seq,
        status: 200,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.to_string().into_bytes(),
    }
}

/// Drives `resource` to its end; returns the pages and the requests made.
fn drive(
    s: &mut Session,
    resource: &str,
    mut server: impl FnMut(&Request) -> Response,
) -> Result<(Vec<Page>, Vec<Request>), Error> {
    let (mut pages, mut reqs) = (Vec::new(), Vec::new());
    loop {
        let mut next = s.next_requests(resource)?;
        assert!(next.len() <= 1, "one request in flight per chain");
        let Some(req) = next.pop() else { break };
        let resp = server(&req);
        reqs.push(req);
        pages.push(s.on_response(resource, resp)?);
        assert!(pages.len() < 200, "runaway");
    }
    Ok((pages, reqs))
}

fn ids(pages: &[Page]) -> Vec<u64> {
    pages
        .iter()
        .flat_map(|p| serde_json::from_str::<Vec<Value>>(&p.records).unwrap())
        .map(|r| r["id"].as_u64().unwrap())
        .collect()
}

fn query(url: &str, key: &str) -> Option<String> {
    url.split_once('?')?
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(str::to_string))
}

#[test]
fn github_style_header_link() {
    let cfg = json!({
        "client": {"base_url": "https://api.github.com/repos/o/r/", "paginator": "header_link"},
        "resources": [{"name": "issues", "endpoint": {"path": "issues", "params": {"per_page": 2, "state": "open"}}}]
    });
    let mut s = Session::open(&cfg.to_string(), &[]).unwrap();
    let (pages, reqs) = drive(&mut s, "issues", |r| {
        let page: u64 = query(&r.url, "page").map_or(1, |p| p.parse().unwrap());
        let body = json!([{"id": page * 2 - 1}, {"id": page * 2}]);
        let link = format!(
            "</repos/o/r/issues?per_page=2&state=open&page={}>; rel=\"next\"",
            page + 1
        );
        if page < 3 {
            ok(r, body, &[("Link", &link)])
        } else {
            ok(r, body, &[])
        }
    })
    .unwrap();
    let urls: Vec<&str> = reqs.iter().map(|r| r.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://api.github.com/repos/o/r/issues?per_page=2&state=open",
            "https://api.github.com/repos/o/r/issues?per_page=2&state=open&page=2",
            "https://api.github.com/repos/o/r/issues?per_page=2&state=open&page=3",
        ]
    );
    assert_eq!(ids(&pages), [1, 2, 3, 4, 5, 6]);
    assert!(pages[2].done && !pages[1].done);
    let state: Value = serde_json::from_str(&pages[0].state).unwrap();
    assert_eq!(
        state["next_url"],
        "https://api.github.com/repos/o/r/issues?per_page=2&state=open&page=2"
    );
}

#[test]
fn post_search_with_cursor_in_the_body() {
    let cfg = json!({
        "client": {"base_url": "https://api.notion.com/v1"},
        "resources": [{"name": "search", "endpoint": {"path": "search", "method": "POST",
            "json": {"query": "x", "page_size": 2}, "data_selector": "results",
            "paginator": {"type": "cursor", "cursor_path": "next_cursor", "cursor_body_path": "start_cursor"}}}]
    });
    let mut s = Session::open(&cfg.to_string(), &[]).unwrap();
    let (pages, reqs) = drive(&mut s, "search", |r| {
        let body: Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        let (ids, next) = match body.get("start_cursor").and_then(Value::as_str) {
            None => (vec![1, 2], json!("c1")),
            Some("c1") => (vec![3, 4], json!("c2")),
            Some(_) => (vec![5], Value::Null),
        };
        let results: Vec<Value> = ids.iter().map(|i| json!({"id": i})).collect();
        ok(
            r,
            json!({"results": results, "next_cursor": next, "has_more": !next.is_null()}),
            &[],
        )
    })
    .unwrap();
    assert_eq!(ids(&pages), [1, 2, 3, 4, 5]);
    assert!(
        reqs.iter()
            .all(|r| r.method == Method::Post && r.url == "https://api.notion.com/v1/search")
    );
    let bodies: Vec<Value> = reqs
        .iter()
        .map(|r| serde_json::from_str(r.body.as_deref().unwrap()).unwrap())
        .collect();
    assert_eq!(bodies[0], json!({"query": "x", "page_size": 2}));
    assert_eq!(
        bodies[2],
        json!({"query": "x", "page_size": 2, "start_cursor": "c2"})
    );
    assert!(
        reqs[1]
            .headers
            .contains(&("Content-Type".to_string(), "application/json".to_string()))
    );
}

#[test]
fn repeated_cursor_is_an_error_naming_resource_and_value() {
    let cfg = json!({"client": {"base_url": "https://a.io"},
        "resources": [{"name": "events", "endpoint": {"paginator": {"type": "cursor", "cursor_path": "next"}}}]});
    let mut s = Session::open(&cfg.to_string(), &[]).unwrap();
    let mut n = 0;
    let err = drive(&mut s, "events", |r| {
        n += 1;
        let cursor = if n == 3 { "A" } else { ["A", "B"][n - 1] };
        ok(r, json!({"data": [{"id": n}], "next": cursor}), &[])
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "resource \"events\": page 3 points to the next page \"A\" again: the API repeats a cursor or next URL; stopping instead of looping"
    );
    let again = s.next_requests("events").unwrap_err();
    assert!(again.to_string().contains("failed earlier"), "{again}");
}

#[test]
fn next_link_back_to_the_first_page_is_an_error() {
    let cfg = json!({"client": {"base_url": "https://a.io"},
        "resources": [{"name": "items", "endpoint": {"paginator": "json_link"}}]});
    let mut s = Session::open(&cfg.to_string(), &[]).unwrap();
    let mut n = 0;
    let err = drive(&mut s, "items", |r| {
        n += 1;
        let next = if n == 1 { "/items?p=2" } else { "/items" };
        ok(r, json!({"items": [{"id": n}], "next": next}), &[])
    })
    .unwrap_err();
    assert!(
        err.to_string().contains("\"https://a.io/items\" again"),
        "{err}"
    );
}

#[test]
fn detected_paginator_and_selector_are_logged_and_kept() {
    let cfg = json!({"client": {"base_url": "https://a.io"}, "resources": ["items"]});
    let mut s = Session::open(&cfg.to_string(), &[]).unwrap();
    let (pages, reqs) = drive(&mut s, "items", |r| match query(&r.url, "page").as_deref() {
        None => ok(r, json!({"meta": {"total": 3}, "data": [{"id": 1}, {"id": 2}], "links": {"next": "/items?page=2"}}), &[]),
        Some("2") => ok(r, json!({"meta": {"total": 3}, "data": [{"id": 3}], "links": {"next": "/items?page=3"}}), &[]),
        Some(_) => ok(r, json!({"meta": {"total": 3}, "data": null, "links": {"next": null}}), &[]),
    })
    .unwrap();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[2].url, "https://a.io/items?page=3");
    assert_eq!(ids(&pages), [1, 2, 3]);
    assert_eq!(
        (pages[2].count, pages[2].done),
        (0, true),
        "null data on the last page = empty page"
    );
    let msgs: Vec<(Level, &str)> = pages[0]
        .notices
        .iter()
        .map(|n| (n.level, n.message.as_str()))
        .collect();
    assert_eq!(
        msgs,
        [
            (Level::Info, "data_selector not set: using `data`"),
            (
                Level::Info,
                "paginator not set: detected json_link (`links.next` holds a next URL)"
            ),
        ]
    );
    assert!(pages[1].notices.is_empty());
}

#[test]
fn response_actions_ignore_by_status_or_content() {
    let cfg = json!({"client": {"base_url": "https://a.io"},
        "resources": [{"name": "r", "endpoint": {"path": "x", "paginator": {"type": "offset", "limit": 2},
            "response_actions": [{"status_code": 404, "action": "ignore"}, {"content": "no such user", "action": "ignore"}]}}]});
    for (status, body) in [
        (404, "{}"),
        (200, "{\"error\": \"no such user\"}"),
        (400, "no such user"),
    ] {
        let mut s = Session::open(&cfg.to_string(), &[]).unwrap();
        let (pages, reqs) = drive(&mut s, "r", |r| Response {
            seq: r.seq,
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        })
        .unwrap();
        assert_eq!(reqs.len(), 1, "the chain stops");
        assert_eq!((pages[0].count, pages[0].done), (0, true));
        assert!(
            pages[0].notices[0]
                .message
                .contains("matched response_actions"),
            "{:?}",
            pages[0].notices
        );
    }
    let mut s = Session::open(&cfg.to_string(), &[]).unwrap();
    let err = drive(&mut s, "r", |r| Response {
        seq: r.seq,
        status: 500,
        headers: vec![],
        body: b"boom".to_vec(),
    })
    .unwrap_err();
    assert_eq!(
        err,
        Error::Response {
            status: 500,
            message: "HTTP 500 from GET https://a.io/x?offset=0&limit=2: boom".into()
        }
    );
}

#[test]
fn page_number_with_a_capping_server_loses_nothing() {
    // 23 records; the client asks for 10 per page, the server caps at 5 and reports its own
    // page count.
    let cfg = json!({"client": {"base_url": "https://a.io"},
        "resources": [{"name": "p", "endpoint": {"params": {"per_page": 10}, "data_selector": "data",
            "paginator": {"type": "page_number", "base_page": 1, "total_path": "total_pages"}}}]});
    let mut s = Session::open(&cfg.to_string(), &[]).unwrap();
    let (pages, reqs) = drive(&mut s, "p", |r| {
        let page: u64 = query(&r.url, "page").unwrap().parse().unwrap();
        let data: Vec<Value> = ((page - 1) * 5..(page * 5).min(23))
            .map(|i| json!({"id": i}))
            .collect();
        ok(r, json!({"data": data, "total_pages": 5}), &[])
    })
    .unwrap();
    assert_eq!(reqs.len(), 5);
    assert_eq!(reqs[0].url, "https://a.io/p?per_page=10&page=1");
    assert_eq!(ids(&pages), (0..23).collect::<Vec<_>>());
    let warns: Vec<&str> = pages
        .iter()
        .flat_map(|p| &p.notices)
        .filter(|n| n.level == Level::Warn)
        .map(|n| n.message.as_str())
        .collect();
    assert_eq!(warns.len(), 1, "{warns:?}");
    assert!(warns[0].contains("capped the page size"));
}

#[test]
fn oauth2_client_credentials_config() {
    let cfg = json!({"client": {"base_url": "https://a.io", "auth": {
        "type": "oauth2_client_credentials", "access_token_url": "https://auth.a.io/token",
        "client_id": {"secret": "cid"}, "client_secret": {"secret": "csecret"},
        "scopes": "read write", "access_token_request_data": {"audience": "api", "n": 1},
        "client_auth": "client_secret_post"}}, "resources": ["x"]});
    let mut s = Session::open(&cfg.to_string(), &[]).unwrap();
    let req = s.next_requests("x").unwrap().remove(0);
    let Some(Auth::OAuth2(o)) = req.auth else {
        panic!("{:?}", req.auth)
    };
    assert_eq!(o.token_url, "https://auth.a.io/token");
    assert_eq!(o.client_id, Credential::Secret("cid".into()));
    assert_eq!(o.client_secret, Credential::Secret("csecret".into()));
    assert_eq!(o.scopes, ["read", "write"]);
    assert_eq!(o.client_auth, ClientAuth::Body);
    assert_eq!(
        o.extra_params,
        [
            ("audience".to_string(), "api".to_string()),
            ("n".into(), "1".into())
        ]
    );

    let parse = |auth: Value| {
        let cfg = json!({"client": {"base_url": "https://a.io", "auth": auth}, "resources": ["x"]});
        crate::config::Config::from_value(&cfg).map(|c| c.client.auth.unwrap())
    };
    let base = json!({"type": "oauth2_client_credentials", "access_token_url": "https://t.io",
        "client_id": "id", "client_secret": {"secret": "s"}, "scopes": ["a"]});
    let Ok(Auth::OAuth2(o)) = parse(base.clone()) else {
        panic!()
    };
    assert_eq!(
        (o.client_auth, o.scopes),
        (ClientAuth::Body, vec!["a".to_string()]),
        "dlt's default: id and secret in the form body"
    );
    let mut bad = base.clone();
    bad["client_auth"] = json!("client_secret_jwt");
    assert!(
        parse(bad)
            .unwrap_err()
            .to_string()
            .starts_with("client.auth.client_auth: unknown client auth \"client_secret_jwt\"")
    );
    let mut bad = base.clone();
    bad["acces_token_url"] = json!("x");
    assert!(
        parse(bad)
            .unwrap_err()
            .to_string()
            .contains("did you mean \"access_token_url\"?")
    );
    let mut bad = base.clone();
    bad.as_object_mut().unwrap().remove("client_secret");
    assert_eq!(
        parse(bad).unwrap_err().to_string(),
        "client.auth.client_secret: missing required key"
    );
    let mut bad = base;
    bad["scopes"] = json!([1]);
    assert_eq!(
        parse(bad).unwrap_err().to_string(),
        "client.auth.scopes[0]: expected a string, found a number"
    );
}
