use serde_json::{Value, json};

use crate::config::Config;
use crate::protocol::{Method, Page, Request, Response};
use crate::session::Session;

fn err(v: Value) -> String {
    Config::from_value(&v).unwrap_err().to_string()
}

fn client() -> Value {
    json!({"base_url": "https://api.example.com"})
}

#[test]
fn missing_parent_is_a_config_error_with_did_you_mean() {
    let v = json!({"client": client(), "resources": [
        "issues",
        {"name": "comments", "endpoint": {"path": "/issues/{resources.isues.number}/comments"}}]});
    assert_eq!(
        err(v),
        "resources[1].endpoint.path: placeholder {resources.isues.number} names no resource (did you mean \"issues\"?)"
    );
    let v = json!({"client": client(), "resources": [
        "issues",
        {"name": "c", "endpoint": {"path": "/c", "params": {"id": "{resources.zzz.id}"}}}]});
    assert_eq!(
        err(v),
        "resources[1].endpoint.params.id: placeholder {resources.zzz.id} names no resource"
    );
    let v = json!({"client": client(), "resources": [
        "issues",
        {"name": "c", "endpoint": {"path": "/c", "params": {"id": {"type": "resolve", "resource": "isues", "field": "id"}}}}]});
    assert_eq!(
        err(v),
        "resources[1].endpoint.params.id: placeholder {resources.isues.id} names no resource (did you mean \"issues\"?)"
    );
}

#[test]
fn other_link_errors_name_their_key() {
    let base = |r: Value| json!({"client": client(), "resources": ["issues", "users", r]});
    assert_eq!(
        err(base(
            json!({"name": "c", "endpoint": {"path": "/c", "json": {"q": {"id": "{resources.issues.}"}}}})
        )),
        "resources[2].endpoint.json: placeholder {resources.issues.}: \"\" is not a valid field path (expected names joined by dots, e.g. user.id)"
    );
    assert_eq!(
        err(base(
            json!({"name": "c", "endpoint": {"path": "/{resources.issues.id}/{resources.users.id}"}})
        )),
        "resources[2].endpoint.path: placeholder {resources.users.id} names a second parent (a resource has one parent; \"issues\" already is)"
    );
    assert_eq!(
        err(base(
            json!({"name": "c", "include_from_parent": ["id"], "endpoint": "/c"})
        )),
        "resources[2].include_from_parent: needs a parent: the endpoint names no {resources.<parent>.<field>} placeholder"
    );
    assert_eq!(
        err(base(
            json!({"name": "c", "endpoint": {"path": "/c", "headers": {"X-Since": "{incremental.start_value}"}}})
        )),
        "resources[2].endpoint.headers.X-Since: an {incremental.*} placeholder needs endpoint.incremental (or a params entry of type incremental)"
    );
    assert_eq!(
        err(base(
            json!({"name": "c", "endpoint": {"path": "/c", "params": {"x": {"type": "resolv"}}}})
        )),
        "resources[2].endpoint.params.x.type: unknown param type \"resolv\" (expected one of: resolve, incremental; did you mean \"resolve\"?)"
    );
    let cycle = json!({"client": client(), "resources": [
        {"name": "a", "endpoint": "/a/{resources.b.id}"},
        {"name": "b", "endpoint": "/b/{resources.a.id}"}]});
    assert_eq!(
        err(cycle),
        "resources[0].endpoint: placeholders form a cycle: a -> b -> a"
    );
}

#[test]
fn children_may_come_first_and_are_reordered() {
    let v = json!({"client": client(), "resources": [
        {"name": "comments", "selected": true, "include_from_parent": ["title"], "max_table_nesting": 1,
         "endpoint": {"path": "/issues/{resources.issues.number}/comments"}},
        {"name": "issues", "selected": false, "write_disposition": {"disposition": "merge", "strategy": "upsert"}},
        "users"]});
    let s = Session::open(&v.to_string(), &[]).unwrap();
    let infos = s.resources();
    let names: Vec<&str> = infos.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["issues", "comments", "users"]);
    assert_eq!(infos[0].parent, None);
    assert!(!infos[0].selected);
    assert_eq!(infos[1].parent.as_deref(), Some("issues"));
    assert_eq!(infos[1].max_table_nesting, Some(1));
    assert!(infos[1].selected);
    assert_eq!(infos[2].max_table_nesting, None);
    let c = s.config().resource("comments").unwrap();
    assert_eq!(
        c.parent_fields,
        vec!["number".to_string(), "title".to_string()]
    );
}

fn respond(req: &Request, body: Value) -> Response {
    Response::json(req.seq, &body)
}

fn q(url: &str, key: &str) -> Option<String> {
    url.split_once('?')?
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(str::to_string))
}

/// Drives `name` one request at a time; returns the pages and requests.
fn drive(
    s: &mut Session,
    name: &str,
    server: &dyn Fn(&Request) -> Response,
) -> (Vec<Page>, Vec<Request>) {
    let (mut pages, mut reqs) = (Vec::new(), Vec::new());
    loop {
        let next = s.next_requests(name).unwrap();
        let Some(req) = next.into_iter().next() else {
            break;
        };
        let page = s.on_response(name, server(&req)).unwrap();
        reqs.push(req);
        let done = page.done;
        pages.push(page);
        if done {
            break;
        }
        assert!(pages.len() < 10_000, "runaway");
    }
    (pages, reqs)
}

fn rows(pages: &[Page]) -> Vec<Value> {
    pages
        .iter()
        .flat_map(|p| serde_json::from_str::<Vec<Value>>(&p.records).unwrap())
        .collect()
}

const NESTED: &str = r#"{
  "client": {"base_url": "https://api.example.com",
             "paginator": {"type": "offset", "limit": 10}},
  "resource_defaults": {"primary_key": "id", "endpoint": {"data_selector": "data"}},
  "resources": [
    {"name": "issues", "endpoint": {"path": "/repos/o/r/issues"}},
    {"name": "comments", "include_from_parent": ["id", "title"],
     "endpoint": {"path": "/repos/o/r/issues/{resources.issues.number}/comments",
                  "headers": {"X-Issue": "{resources.issues.number}"},
                  "params": {"sort": "created"}}}
  ]
}"#;

/// 30 issues; issue n has (n % 7) * 4 comments, served 10 per page with a total.
fn github(req: &Request) -> Response {
    let off: usize = q(&req.url, "offset").unwrap().parse().unwrap();
    let lim: usize = q(&req.url, "limit").unwrap().parse().unwrap();
    let path = req.url.split('?').next().unwrap();
    let (all, total): (Vec<Value>, usize) = if path.ends_with("/issues") {
        let all = (1..=30).map(|n| json!({"id": 1000 + n, "number": n, "title": format!("issue {n}"), "body": "x"})).collect();
        (all, 30)
    } else {
        let n: usize = path.split('/').nth(7).unwrap().parse().unwrap();
        assert_eq!(req.headers, vec![("X-Issue".to_string(), n.to_string())]);
        let count = (n % 7) * 4;
        (
            (0..count)
                .map(|i| json!({"id": n * 100 + i, "text": "c"}))
                .collect(),
            count,
        )
    };
    let data: Vec<Value> = all.into_iter().skip(off).take(lim).collect();
    respond(req, json!({"data": data, "total": total}))
}

#[test]
fn thirty_parents_each_with_a_paginated_child_chain() {
    let mut s = Session::open(NESTED, &[]).unwrap();
    assert!(
        s.next_requests("comments").unwrap().is_empty(),
        "no parent row yet"
    );
    let (pages, reqs) = drive(&mut s, "issues", &github);
    assert_eq!(reqs.len(), 3);
    assert_eq!(rows(&pages).len(), 30);
    let (pages, reqs) = drive(&mut s, "comments", &github);
    let expected: usize = (1..=30).map(|n| (n % 7) * 4).sum();
    let got = rows(&pages);
    assert_eq!(got.len(), expected);
    // Requests: per issue, ceil(count/10) pages, at least one (an empty chain is one request).
    let expected_reqs: usize = (1..=30usize)
        .map(|n| ((n % 7) * 4).div_ceil(10).max(1))
        .sum();
    assert_eq!(reqs.len(), expected_reqs);
    assert_eq!(
        reqs[0].url,
        "https://api.example.com/repos/o/r/issues/1/comments?sort=created&offset=0&limit=10"
    );
    // Each chain restarts its paginator at offset 0.
    let starts = reqs
        .iter()
        .filter(|r| q(&r.url, "offset").as_deref() == Some("0"))
        .count();
    assert_eq!(starts, 30);
    for r in &got {
        let id = r["id"].as_u64().unwrap();
        let n = id / 100;
        assert_eq!(r["_issues_id"], json!(1000 + n));
        assert_eq!(r["_issues_title"], json!(format!("issue {n}")));
        assert!(
            r.get("_issues_number").is_none(),
            "only included fields are copied"
        );
    }
    assert!(pages.last().unwrap().done);
    assert_eq!(pages.iter().filter(|p| p.done).count(), 1);
    assert!(s.next_requests("comments").unwrap().is_empty());
}

#[test]
fn resolve_form_binds_path_and_query_and_encodes_values() {
    let cfg = json!({"client": client(), "resources": [
        "users",
        {"name": "posts", "endpoint": {"path": "/users/{user}/posts", "method": "POST",
            "params": {"user": {"type": "resolve", "resource": "users", "field": "login"},
                       "org": {"type": "resolve", "resource": "users", "field": "org.name"}},
            "json": {"owner": "{resources.users.id}", "q": "by {resources.users.login}"}}}]});
    let mut s = Session::open(&cfg.to_string(), &[]).unwrap();
    let users = json!([{"id": 5, "login": "ann lee/x", "org": {"name": "R&D"}}]);
    let (_, _) = drive(&mut s, "users", &|r| respond(r, users.clone()));
    let req = s.next_requests("posts").unwrap().remove(0);
    assert_eq!(req.method, Method::Post);
    assert_eq!(
        req.url,
        "https://api.example.com/users/ann%20lee%2Fx/posts?org=R%26D"
    );
    let body: Value = serde_json::from_str(req.body.as_deref().unwrap()).unwrap();
    assert_eq!(body, json!({"owner": 5, "q": "by ann lee/x"}));
    let page = s
        .on_response("posts", respond(&req, json!([{"p": 1}])))
        .unwrap();
    assert!(page.done);
}

#[test]
fn parent_record_without_the_field_is_a_response_error() {
    let cfg = json!({"client": client(), "resources": ["users", {"name": "posts", "endpoint": "/u/{resources.users.id}/posts"}]});
    let mut s = Session::open(&cfg.to_string(), &[]).unwrap();
    drive(&mut s, "users", &|r| {
        respond(r, json!([{"id": 1}, {"name": "no id"}]))
    });
    let req = s.next_requests("posts").unwrap().remove(0);
    assert!(req.url.ends_with("/u/1/posts"));
    s.on_response("posts", respond(&req, json!([]))).unwrap();
    let e = s.next_requests("posts").unwrap_err();
    assert_eq!(
        e.to_string(),
        "resource \"posts\": record 2 of parent \"users\" has no field \"id\" (needed by {resources.users.id})"
    );
    assert!(matches!(
        e,
        crate::protocol::Error::Response { status: 200, .. }
    ));
}

#[test]
fn single_page_chains_of_different_parents_go_out_together() {
    let cfg = json!({"client": client(), "resources": [
        {"name": "issues", "endpoint": {"path": "/issues", "paginator": "single_page"}},
        {"name": "details", "include_from_parent": ["id"],
         "endpoint": {"path": "/issues/{resources.issues.id}", "paginator": "single_page"}}]});
    let mut s = Session::open(&cfg.to_string(), &[]).unwrap();
    let parent = s.next_requests("issues").unwrap().remove(0);
    let rows: Vec<Value> = (1..=5).map(|i| json!({"id": i})).collect();
    let ok = |seq: u64, body: Value| Response::json(seq, &body);
    assert!(
        s.on_response("issues", ok(parent.seq, json!(rows)))
            .unwrap()
            .done
    );
    let plan_all = |s: &mut Session| {
        let mut planned = Vec::new();
        loop {
            let next = s.next_requests("details").unwrap();
            if next.is_empty() {
                break planned;
            }
            planned.extend(next);
        }
    };
    // The first chain goes alone: its answer tells how large a page is before any is held.
    let mut planned = plan_all(&mut s);
    assert_eq!(planned.len(), 1);
    // Every parent's details are the same record: not a repeated page.
    let same = json!({"title": "same"});
    let mut pages = vec![
        s.on_response("details", ok(planned[0].seq, same.clone()))
            .unwrap(),
    ];
    planned.extend(plan_all(&mut s));
    let urls: Vec<&str> = planned.iter().map(|r| r.url.as_str()).collect();
    assert_eq!(
        urls,
        (1..=5)
            .map(|i| format!("https://api.example.com/issues/{i}"))
            .collect::<Vec<_>>(),
        "one request per parent row, the other four at once"
    );
    for req in &planned[1..] {
        pages.push(s.on_response("details", ok(req.seq, same.clone())).unwrap());
    }
    assert!(pages[..4].iter().all(|p| !p.done) && pages[4].done);
    for (i, page) in pages.iter().enumerate() {
        let records: Vec<Value> = serde_json::from_str(&page.records).unwrap();
        assert_eq!(
            records[0]["_issues_id"],
            json!(i + 1),
            "its own parent's field"
        );
    }
    let state: Value = serde_json::from_str(&pages[1].state).unwrap();
    assert_eq!(
        state["resume"]["chain"]["done"], 2,
        "chains done in order: a prefix"
    );
}
