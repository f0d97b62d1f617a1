//! The servers of the paginator suite (paginators.rs): each a plain function of the request,
//! serving one paginator style (or one trap) over a small dataset.

use serde_json::{Value, json};

use crate::support::{Reply, Req, origin, records};

/// Offset API over 25 records with a total.
pub fn offset_total(r: &Req) -> Reply {
    Reply::json(json!({"data": records(r.qn("offset"), r.qn("limit"), 25), "total": 25}))
}
/// Offset API over 25 records, no total.
pub fn offset_25(r: &Req) -> Reply {
    Reply::json(json!({"data": records(r.qn("offset"), r.qn("limit"), 25)}))
}
/// Offset API over 20 records, no total (a full last page, then an empty one).
pub fn offset_20(r: &Req) -> Reply {
    Reply::json(json!({"data": records(r.qn("offset"), r.qn("limit"), 20)}))
}
pub fn offset_has_more(r: &Req) -> Reply {
    let (o, l) = (r.qn("offset"), r.qn("limit"));
    Reply::json(json!({"data": records(o, l, 20), "has_more": o + l < 20}))
}
pub fn offset_50(r: &Req) -> Reply {
    Reply::json(json!({"data": records(r.qn("offset"), r.qn("limit"), 50)}))
}
pub fn skip_take(r: &Req) -> Reply {
    Reply::json(json!({"data": records(r.qn("skip"), r.qn("take"), 15), "meta": {"count": 15}}))
}
/// Caps every page at 5 records whatever `limit` asks, with a total of 25.
pub fn offset_capped(r: &Req) -> Reply {
    let limit = r.qn("limit").min(5);
    Reply::json(json!({"data": records(r.qn("offset"), limit, 25), "total": 25}))
}
/// Pages of 10 numbered from `p=1`, with `total_pages`.
pub fn pages_total(r: &Req) -> Reply {
    let p = r.qn("p").max(1);
    Reply::json(json!({"data": records((p - 1) * 10, 10, 25), "total_pages": 3}))
}
/// Pages of 10 numbered from `page=N` with base `base`, no total.
pub fn pages_from(r: &Req, base: usize, n: usize) -> Reply {
    let p = r.qn("page").saturating_sub(base);
    Reply::json(json!({"data": records(p * 10, 10, n)}))
}
pub fn pages_20_base0(r: &Req) -> Reply {
    pages_from(r, 0, 20)
}
pub fn pages_50_base1(r: &Req) -> Reply {
    pages_from(r, 1, 50)
}
/// Ignores `page`: the same page every time.
pub fn same_page(_: &Req) -> Reply {
    Reply::json(json!({"data": records(0, 10, 100)}))
}
pub fn cursor_pos(c: Option<&str>) -> usize {
    c.and_then(|c| c.strip_prefix('c'))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
pub fn next_cursor(pos: usize, n: usize) -> Value {
    if pos + 10 < n {
        json!(format!("c{}", pos + 10))
    } else {
        Value::Null
    }
}
pub fn cursor_api(r: &Req) -> Reply {
    let pos = cursor_pos(r.q("cursor"));
    Reply::json(json!({"items": records(pos, 10, 25), "cursors": {"next": next_cursor(pos, 25)}}))
}
/// Answers the cursor `c10` again on the second page.
pub fn cursor_repeats(r: &Req) -> Reply {
    let pos = cursor_pos(r.q("cursor"));
    Reply::json(json!({"items": records(pos, 10, 100), "cursors": {"next": "c10"}}))
}
/// Never ends: a new cursor on every page.
pub fn cursor_endless(r: &Req) -> Reply {
    let pos = cursor_pos(r.q("cursor"));
    Reply::json(
        json!({"items": records(pos, 10, 1_000_000), "cursors": {"next": format!("c{}", pos + 10)}}),
    )
}
pub fn search_api(r: &Req) -> Reply {
    let body = r.json();
    let pos = cursor_pos(body["cursor"].as_str());
    let size = body["size"].as_u64().unwrap_or(0) as usize;
    Reply::json(json!({"hits": records(pos, size, 25), "next_cursor": next_cursor(pos, 25)}))
}
pub fn header_cursor_api(r: &Req) -> Reply {
    let pos = cursor_pos(r.q("after"));
    let reply = Reply::json(records(pos, 10, 25));
    match next_cursor(pos, 25).as_str() {
        Some(c) => reply.header("X-Next-Cursor", c),
        None => reply,
    }
}
/// Page `page` (default 1) of 25 records in tens.
pub fn page_of(r: &Req) -> (usize, Value) {
    let page = r.qn("page").max(1);
    (page, records((page - 1) * 10, 10, 25))
}
/// json_link with a path-absolute link to page 2 and a relative link to page 3.
pub fn json_link_relative(r: &Req) -> Reply {
    let (page, data) = page_of(r);
    let next = match page {
        1 => json!("/items?page=2"),
        2 => json!("items?page=3"),
        _ => Value::Null,
    };
    Reply::json(json!({"data": data, "paging": {"next": next}}))
}
pub fn json_link_absolute(r: &Req) -> Reply {
    let (page, data) = page_of(r);
    let next = if page < 3 {
        json!(format!("{}/items?page={}", origin(r), page + 1))
    } else {
        Value::Null
    };
    Reply::json(json!({"data": data, "next": next}))
}
/// DRF/PokeAPI style: `{"count", "next", "previous", "results"}`.
pub fn drf_style(r: &Req) -> Reply {
    let (page, data) = page_of(r);
    let next = if page < 3 {
        json!(format!("{}/items?page={}", origin(r), page + 1))
    } else {
        Value::Null
    };
    Reply::json(json!({"count": 25, "next": next, "previous": null, "results": data}))
}
pub fn json_link_repeats(r: &Req) -> Reply {
    let (_, data) = page_of(r);
    Reply::json(json!({"data": data, "next": "/items?page=2"}))
}
pub fn header_link_api(r: &Req) -> Reply {
    let (page, data) = page_of(r);
    let o = origin(r);
    let mut link = format!("<{o}/items?page=3>; rel=\"last\"");
    if page < 3 {
        link = format!("<{o}/items?page={}>; rel=\"next\", {link}", page + 1);
    }
    Reply::json(data).header("Link", &link)
}
pub fn plain_list(_: &Req) -> Reply {
    Reply::json(records(0, 7, 7))
}
pub fn results_wrapped(_: &Req) -> Reply {
    Reply::json(json!({"count": 7, "results": records(0, 7, 7)}))
}
/// Offset (limit 10) over 20 records; the third page is `last`.
pub fn offset_then(r: &Req, last: fn() -> Reply) -> Reply {
    if r.qn("offset") >= 20 {
        last()
    } else {
        offset_20(r)
    }
}
pub fn last_null(r: &Req) -> Reply {
    offset_then(r, || Reply::json(json!({"data": null})))
}
pub fn last_missing(r: &Req) -> Reply {
    offset_then(r, || Reply::json(json!({"meta": {}})))
}
pub fn last_204(r: &Req) -> Reply {
    offset_then(r, || Reply::status(204, ""))
}
pub fn last_empty_body(r: &Req) -> Reply {
    offset_then(r, || Reply::status(200, ""))
}
/// Second page: an error payload with HTTP 200 (and a total saying more exist).
pub fn error_payload(r: &Req) -> Reply {
    if r.qn("offset") >= 10 {
        Reply::json(json!({"error": {"code": "quota", "message": "daily quota exhausted"}}))
    } else {
        Reply::json(json!({"data": records(0, 10, 30), "total": 30}))
    }
}
/// Second page: a 404.
pub fn second_404(r: &Req) -> Reply {
    if r.qn("offset") >= 10 {
        Reply::status(404, "{\"detail\": \"gone\"}")
    } else {
        Reply::json(json!({"data": records(0, 10, 30), "total": 30}))
    }
}
/// Second page: a 400 whose body says "not found".
pub fn second_not_found(r: &Req) -> Reply {
    if r.qn("offset") >= 10 {
        Reply::status(400, "{\"detail\": \"page not found\"}")
    } else {
        Reply::json(json!({"data": records(0, 10, 30), "total": 30}))
    }
}
