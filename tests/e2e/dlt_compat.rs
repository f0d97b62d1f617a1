//! dlt compatibility: configs written exactly as dlt's documentation shows them (Python dict
//! literals as JSON; `dlt.secrets["x"]` as `{"secret": "x"}`), each run unchanged except the
//! base URL pointed at a local server that behaves like the API in the docs.

use serde_json::{Value, json};

use crate::support::{KEY, Reply, Req, Scenario, World, decode, origin, rec};

/// Parses a config text, pointing `https://api.example.com` (or the API's real host) at `base`.
fn doc_config(text: &str, real_host: &str, base: &str) -> Value {
    serde_json::from_str(&text.replace(real_host, base)).expect("doc config parses")
}

// ---- 1. GitHub issues + comments (dlt's rest_api "Quick example"), header_link detected --

const GITHUB: &str = r#"{
    "client": {
        "base_url": "https://api.github.com/repos/dlt-hub/dlt/",
        "auth": {
            "token": {"secret": "github_token"}
        }
    },
    "resource_defaults": {
        "primary_key": "id",
        "write_disposition": "merge",
        "endpoint": {
            "params": {
                "per_page": 100
            }
        }
    },
    "resources": [
        {
            "name": "issues",
            "endpoint": {
                "path": "issues",
                "params": {
                    "sort": "updated",
                    "direction": "desc",
                    "state": "open",
                    "since": {
                        "type": "incremental",
                        "cursor_path": "updated_at",
                        "initial_value": "2024-01-25T11:21:28Z"
                    }
                }
            }
        },
        {
            "name": "issue_comments",
            "endpoint": {
                "path": "issues/{resources.issues.number}/comments"
            },
            "include_from_parent": ["id"]
        }
    ]
}"#;

const GITHUB_TOKEN: &str = "ghp_e2eGithubToken4411";
const ISSUES: usize = 12;

fn issue(number: usize) -> Value {
    json!({"id": 9000 + number, "number": number, "title": format!("issue {number}"),
           "state": "open", "updated_at": format!("2024-02-{:02}T10:00:00Z", 28 - number),
           "user": {"login": "octocat", "id": 1}})
}

fn comments_of(number: usize) -> usize {
    number % 3
}

/// GitHub: pages of at most 5 (whatever per_page says), `Link` with every query parameter.
fn github(r: &Req) -> Reply {
    if r.header("authorization") != Some(format!("Bearer {GITHUB_TOKEN}").as_str()) {
        return Reply::status(401, r#"{"message": "Bad credentials"}"#);
    }
    let parts: Vec<&str> = r.path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["repos", "dlt-hub", "dlt", "issues"] => {
            let page = r.qn("page").max(1);
            let data: Vec<Value> = ((page - 1) * 5..(page * 5).min(ISSUES))
                .map(|i| issue(i + 1))
                .collect();
            let mut reply = Reply::json(Value::Array(data));
            if page * 5 < ISSUES {
                let mut query: Vec<String> = r
                    .query
                    .iter()
                    .filter(|(k, _)| k != "page")
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                query.push(format!("page={}", page + 1));
                let next = format!("{}{}?{}", origin(r), r.path, query.join("&"));
                reply = reply.header("Link", &format!("<{next}>; rel=\"next\""));
            }
            reply
        }
        ["repos", "dlt-hub", "dlt", "issues", n, "comments"] => {
            let n: usize = n.parse().unwrap_or(0);
            let data: Vec<Value> = (0..comments_of(n))
                .map(|j| json!({"id": n * 100 + j, "body": format!("comment {j} on {n}")}))
                .collect();
            Reply::json(Value::Array(data))
        }
        _ => Reply::status(404, r#"{"message": "Not Found"}"#),
    }
}

#[test]
fn github_issues_and_comments_as_in_the_dlt_docs() {
    let env = Scenario::new(github).secret("GITHUB_TOKEN", GITHUB_TOKEN);
    let base = format!("{}/repos/dlt-hub/dlt/", env.base_url());
    let config = doc_config(GITHUB, "https://api.github.com/repos/dlt-hub/dlt/", &base);
    let run = env.run(&config, &[]);
    run.ok();

    let q = "direction=desc&per_page=100&since=2024-01-25T11:21:28Z&sort=updated&state=open";
    let mut expected = vec![
        format!("GET /repos/dlt-hub/dlt/issues?{q}"),
        format!(
            "GET /repos/dlt-hub/dlt/issues?direction=desc&page=2&per_page=100&since=2024-01-25T11:21:28Z&sort=updated&state=open"
        ),
        format!(
            "GET /repos/dlt-hub/dlt/issues?direction=desc&page=3&per_page=100&since=2024-01-25T11:21:28Z&sort=updated&state=open"
        ),
    ];
    for n in 1..=ISSUES {
        expected.push(format!(
            "GET /repos/dlt-hub/dlt/issues/{n}/comments?per_page=100"
        ));
    }
    expected.sort();
    assert_eq!(env.server.sorted_lines(), expected, "{}", run.output());

    assert_eq!(env.ids("issues"), (9001..=9012).collect::<Vec<i64>>());
    let comments: usize = (1..=ISSUES).map(comments_of).sum();
    assert_eq!(env.ids("issue_comments").len(), comments);
    let wrong_parent: i64 = env.col::<i64>(
        "SELECT count(*) FROM issue_comments WHERE _issues_id IS NOT (9000 + id / 100)",
    )[0];
    assert_eq!(wrong_parent, 0, "_issues_id is the parent issue's id");
    assert_eq!(
        env.col::<String>("SELECT user__login FROM issues LIMIT 1"),
        vec!["octocat"]
    );
}

// ---- 2. PokeAPI (dlt's `rest_api_pipeline.py` example): string resources, auto-detection --

const POKEMON: &str = r#"{
    "client": {
        "base_url": "https://pokeapi.co/api/v2/"
    },
    "resource_defaults": {
        "endpoint": {
            "params": {
                "limit": 1000
            }
        }
    },
    "resources": [
        "pokemon",
        "berry",
        "location"
    ]
}"#;

/// PokeAPI: `{"count", "next", "previous", "results"}`, at most 20 per page here.
fn pokeapi(r: &Req) -> Reply {
    let name = r.path.trim_start_matches("/api/v2/").trim_end_matches('/');
    let count = match name {
        "pokemon" => 45,
        "berry" => 7,
        "location" => 3,
        _ => return Reply::status(404, "Not Found"),
    };
    let (offset, limit) = (r.qn("offset"), r.qn("limit").min(20));
    let results: Vec<Value> = (offset..(offset + limit).min(count))
        .map(|i| json!({"name": format!("{name}-{}", i + 1), "url": format!("{}/api/v2/{name}/{}/", origin(r), i + 1)}))
        .collect();
    let next = if offset + limit < count {
        json!(format!(
            "{}/api/v2/{name}?offset={}&limit={limit}",
            origin(r),
            offset + limit
        ))
    } else {
        Value::Null
    };
    Reply::json(json!({"count": count, "next": next, "previous": null, "results": results}))
}

#[test]
fn pokeapi_string_resources_as_in_the_dlt_docs() {
    let env = Scenario::new(pokeapi);
    let config = doc_config(POKEMON, "https://pokeapi.co", &env.base_url());
    let run = env.run(&config, &[]);
    run.ok();
    let mut expected = vec![
        "GET /api/v2/pokemon?limit=1000".to_string(),
        "GET /api/v2/pokemon?limit=20&offset=20".to_string(),
        "GET /api/v2/pokemon?limit=20&offset=40".to_string(),
        "GET /api/v2/berry?limit=1000".to_string(),
        "GET /api/v2/location?limit=1000".to_string(),
    ];
    expected.sort();
    assert_eq!(env.server.sorted_lines(), expected, "{}", run.output());
    for (table, n) in [("pokemon", 45), ("berry", 7), ("location", 3)] {
        let names: Vec<String> = env.col(&format!("SELECT name FROM \"{table}\" ORDER BY rowid"));
        let want: Vec<String> = (1..=n).map(|i| format!("{table}-{i}")).collect();
        assert_eq!(names, want, "{table}");
    }
}

// ---- 3. A page-number API (dlt's PageNumberPaginator example) -----------------------------

const PAGE_NUMBER: &str = r#"{
    "client": {
        "base_url": "https://api.example.com/"
    },
    "resources": [
        {
            "name": "posts",
            "primary_key": "id",
            "endpoint": {
                "path": "posts",
                "data_selector": "items",
                "paginator": {
                    "type": "page_number",
                    "base_page": 1,
                    "page_param": "page",
                    "total_path": "total_pages"
                }
            }
        }
    ]
}"#;

fn page_number_api(r: &Req) -> Reply {
    let page = r.qn("page").max(1);
    let items: Vec<Value> = ((page - 1) * 10..(page * 10).min(34))
        .map(|i| rec(i + 1))
        .collect();
    Reply::json(json!({"items": items, "total_pages": 4}))
}

#[test]
fn a_page_number_api_as_in_the_dlt_docs() {
    let env = Scenario::new(page_number_api);
    let config = doc_config(PAGE_NUMBER, "https://api.example.com", &env.base_url());
    let run = env.run(&config, &[]);
    run.ok();
    let expected: Vec<String> = (1..=4).map(|p| format!("GET /posts?page={p}")).collect();
    // Pages 2-4 are asked together once page 1 gave the total: each once.
    assert_eq!(env.server.sorted_lines(), expected, "{}", run.output());
    assert_eq!(env.ids("posts"), (1..=34).collect::<Vec<i64>>());
}

// ---- 4. A cursor API (dlt's JSONResponseCursorPaginator example) --------------------------

const CURSOR: &str = r#"{
    "client": {
        "base_url": "https://api.example.com/"
    },
    "resources": [
        {
            "name": "posts",
            "primary_key": "id",
            "endpoint": {
                "path": "posts",
                "paginator": {
                    "type": "cursor",
                    "cursor_path": "cursors.next",
                    "cursor_param": "cursor"
                }
            }
        }
    ]
}"#;

fn cursor_api(r: &Req) -> Reply {
    // Opaque cursors: "eyJpZCI6<N>fQ" encodes the position N.
    let pos: usize = r
        .q("cursor")
        .and_then(|c| c.strip_prefix("eyJpZCI6")?.strip_suffix("fQ")?.parse().ok())
        .unwrap_or(0);
    let items: Vec<Value> = (pos..(pos + 10).min(23)).map(|i| rec(i + 1)).collect();
    let next = if pos + 10 < 23 {
        json!(format!("eyJpZCI6{}fQ", pos + 10))
    } else {
        Value::Null
    };
    Reply::json(json!({"items": items, "cursors": {"next": next}}))
}

#[test]
fn a_cursor_api_as_in_the_dlt_docs() {
    let env = Scenario::new(cursor_api);
    let config = doc_config(CURSOR, "https://api.example.com", &env.base_url());
    let run = env.run(&config, &[]);
    run.ok();
    assert_eq!(
        env.server.lines(),
        vec![
            "GET /posts",
            "GET /posts?cursor=eyJpZCI610fQ",
            "GET /posts?cursor=eyJpZCI620fQ",
        ],
        "{}",
        run.output()
    );
    assert_eq!(env.ids("posts"), (1..=23).collect::<Vec<i64>>());
}

// ---- 5. A POST search API with the cursor in the JSON body (cursor_body_path) ------------

const SEARCH: &str = r#"{
    "client": {
        "base_url": "https://api.example.com/",
        "auth": {
            "type": "api_key",
            "name": "X-API-Key",
            "api_key": {"secret": "search_api_key"},
            "location": "header"
        }
    },
    "resources": [
        {
            "name": "search_results",
            "primary_key": "id",
            "endpoint": {
                "path": "search",
                "method": "POST",
                "json": {
                    "query": "sluice",
                    "limit": 10
                },
                "data_selector": "results",
                "paginator": {
                    "type": "cursor",
                    "cursor_path": "next_page_token",
                    "cursor_body_path": "page_token"
                }
            }
        }
    ]
}"#;

const SEARCH_KEY: &str = "e2e-Search-Key-33f1";

fn search_api(r: &Req) -> Reply {
    if r.header("x-api-key") != Some(SEARCH_KEY) || r.method != "POST" {
        return Reply::status(401, "unauthorized");
    }
    let body = r.json();
    let pos: usize = body["page_token"]
        .as_str()
        .and_then(|t| t.strip_prefix("tok")?.parse().ok())
        .unwrap_or(0);
    let results: Vec<Value> = (pos..(pos + 10).min(27)).map(|i| rec(i + 1)).collect();
    let next = if pos + 10 < 27 {
        json!(format!("tok{}", pos + 10))
    } else {
        Value::Null
    };
    Reply::json(json!({"results": results, "next_page_token": next}))
}

#[test]
fn a_post_search_api_with_a_json_body_cursor() {
    let env = Scenario::new(search_api).secret("SEARCH_API_KEY", SEARCH_KEY);
    let config = doc_config(SEARCH, "https://api.example.com", &env.base_url());
    let run = env.run(&config, &[]);
    run.ok();
    assert_eq!(
        env.server.lines(),
        vec![
            r#"POST /search {"limit":10,"query":"sluice"}"#,
            r#"POST /search {"limit":10,"page_token":"tok10","query":"sluice"}"#,
            r#"POST /search {"limit":10,"page_token":"tok20","query":"sluice"}"#,
        ],
        "{}",
        run.output()
    );
    assert_eq!(env.ids("search_results"), (1..=27).collect::<Vec<i64>>());
}

// ---- 5b. A POST search API paged by offset in the JSON body (offset_body_path) ----------

fn offset_search_api(r: &Req) -> Reply {
    let body = r.json();
    let (Some(offset), Some(size)) = (
        body["paging"]["offset"].as_u64(),
        body["paging"]["size"].as_u64(),
    ) else {
        return Reply::status(400, "paging.offset and paging.size are required");
    };
    let hits: Vec<Value> = (offset..(offset + size).min(47))
        .map(|i| rec(i as usize + 1))
        .collect();
    Reply::json(json!({"hits": hits, "meta": {"total": 47}}))
}

#[test]
fn a_post_search_api_paged_by_offset_in_the_json_body() {
    // dlt's OffsetPaginator with `offset_body_path` / `limit_body_path`: the numbers go in
    // the body, and pages are still fetched ahead once the total is known.
    let env = Scenario::new(offset_search_api);
    let config = json!({
        "client": {"base_url": env.base_url()},
        "resources": [{
            "name": "hits",
            "primary_key": "id",
            "endpoint": {
                "path": "/search",
                "method": "POST",
                "json": {"query": "sluice", "paging": {"sort": "id"}},
                "data_selector": "hits",
                "paginator": {"type": "offset", "limit": 10, "total_path": "meta.total",
                              "offset_body_path": "paging.offset",
                              "limit_body_path": "paging.size"},
            },
        }],
    });
    let run = env.run(&config, &[]);
    run.ok();
    let body = |offset: u64| {
        format!(
            r#"POST /search {{"paging":{{"offset":{offset},"size":10,"sort":"id"}},"query":"sluice"}}"#
        )
    };
    assert_eq!(
        env.server.sorted_lines(),
        [0, 10, 20, 30, 40].map(body),
        "{}",
        run.output()
    );
    assert_eq!(env.ids("hits"), (1..=47).collect::<Vec<i64>>());
}

// ---- 6. The seed config (examples/inventory.json), unchanged but for the base URL --------

#[test]
fn the_seed_config_file_runs_unchanged() {
    let world = World::inventory(321);
    let path = world.write_example("inventory.json");
    world.run(&path, Some(KEY), &[]).ok();
    assert_eq!(world.count("inventory_items"), 321);
    assert_eq!(world.server.requests().len(), 4, "offsets 0, 100, 200, 300");
    world.assert_db_has_no_secret();
}

// ---- 7. dlt's `data`: a form search API, and a child sent a raw body ---------------------

/// The fields of a form body (`+` as space, percent-decoded).
fn form(r: &Req) -> Vec<(String, String)> {
    r.body
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn form_search_api(r: &Req) -> Reply {
    match r.path.as_str() {
        "/search" => {
            if r.header("content-type") != Some("application/x-www-form-urlencoded") {
                return Reply::status(415, "a form, please");
            }
            let fields = form(r);
            let get = |k: &str| fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.clone());
            if get("q").as_deref() != Some("red shoes") {
                return Reply::status(400, "q is required");
            }
            let size: usize = get("size").and_then(|s| s.parse().ok()).unwrap_or(0);
            let page = r.qn("page").max(1);
            let hits: Vec<Value> = ((page - 1) * size..(page * size).min(23))
                .map(|i| rec(i + 1))
                .collect();
            Reply::json(json!({"hits": hits, "pages": 23_usize.div_ceil(size)}))
        }
        "/notes" => {
            let id = r.body.strip_prefix("item=").unwrap_or_default();
            if r.header("content-type") != Some("text/plain") || id.is_empty() {
                return Reply::status(400, "item=<id> as text/plain");
            }
            Reply::json(json!([{"note": format!("note of {id}")}]))
        }
        _ => Reply::status(404, "no such path"),
    }
}

#[test]
fn a_form_search_api_and_a_raw_body_with_a_parent_placeholder() {
    // dlt's `endpoint.data` (dlt 1.17): an object goes as a form, a string as it is; its
    // placeholders fill as text, from the parent record too.
    let env = Scenario::new(form_search_api);
    let config = json!({
        "client": {"base_url": env.base_url()},
        "resources": [
            {"name": "hits", "primary_key": "id",
             "endpoint": {"path": "/search", "method": "POST",
                          "data": {"q": "red shoes", "size": 10, "facets": ["a", "b"]},
                          "data_selector": "hits",
                          "paginator": {"type": "page_number", "base_page": 1,
                                        "total_path": "pages"}}},
            {"name": "notes",
             "endpoint": {"path": "/notes", "method": "POST",
                          "headers": {"Content-Type": "text/plain"},
                          "data": "item={resources.hits.id}",
                          "paginator": "single_page"},
             "include_from_parent": ["id"]},
        ],
    });
    let run = env.run(&config, &[]);
    run.ok();
    let searches: Vec<String> = env
        .server
        .sorted_lines()
        .into_iter()
        .filter(|l| l.starts_with("POST /search"))
        .collect();
    assert_eq!(
        searches,
        [1, 2, 3].map(|p| format!("POST /search?page={p} q=red+shoes&size=10&facets=a&facets=b")),
        "{}",
        run.output()
    );
    assert_eq!(env.ids("hits"), (1..=23).collect::<Vec<i64>>());
    assert_eq!(
        env.col::<String>("SELECT note FROM notes WHERE _hits_id = 7"),
        ["note of 7"]
    );
    assert_eq!(env.count("notes"), 23);
}
