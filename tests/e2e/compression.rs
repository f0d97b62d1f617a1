//! Compressed responses: sluice asks for gzip and deflate, as dlt's `requests` client does,
//! loads compressed pages like plain ones, and applies `--max-response-mb` to the
//! decompressed body (a small compressed body that inflates past it is cut off, with memory
//! bounded); a body that does not decompress fails, saying so.

use std::io::Write;

use flate2::Compression;
use flate2::write::{GzEncoder, ZlibEncoder};
use serde_json::{Value, json};

use crate::support::{Reply, Req, Scenario, one_page_config};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// `reply`'s body encoded as `encoding` (`gzip` or `deflate`), with its header.
fn encoded(mut reply: Reply, encoding: &str) -> Reply {
    reply.body = match encoding {
        "gzip" => gzip(&reply.body),
        _ => zlib(&reply.body),
    };
    reply.header("Content-Encoding", encoding)
}

fn accepts(req: &Req, encoding: &str) -> bool {
    req.header("accept-encoding")
        .is_some_and(|v| v.split(',').any(|e| e.trim() == encoding))
}

#[test]
fn gzip_and_deflate_pages_load_the_same_rows() {
    // Pages of 50 of 230 records: odd pages in gzip, even ones in deflate, when asked for.
    let env = Scenario::new(|req: &Req| {
        let page = req.qn("page").max(1);
        let ids =
            ((page - 1) * 50..(page * 50).min(230)).map(|i| json!({"id": i, "tags": ["a", "b"]}));
        let reply = Reply::json(json!({"data": ids.collect::<Vec<Value>>()}));
        let encoding = if page % 2 == 1 { "gzip" } else { "deflate" };
        if accepts(req, encoding) {
            encoded(reply, encoding)
        } else {
            reply
        }
    });
    // `plain` asks for no compression itself, and gets none.
    let resource = |name: &str, headers: Value| {
        json!({"name": name, "primary_key": "id",
               "endpoint": {"path": format!("/{name}"), "data_selector": "data",
                            "headers": headers,
                            "paginator": {"type": "page_number", "base_page": 1,
                                          "total_path": null}}})
    };
    let config = json!({
        "client": {"base_url": env.base_url()},
        "resources": [resource("items", json!({})),
                      resource("plain", json!({"Accept-Encoding": "identity"}))]
    });
    env.run(&config, &[]).ok();
    let requests = env.server.requests();
    // Five pages each, and the empty one after (and pages asked ahead of it).
    assert!(requests.len() >= 12, "{:?}", env.server.lines());
    for req in &requests {
        let header = req.header("accept-encoding");
        match req.path.as_str() {
            "/items" => assert_eq!(header, Some("gzip, deflate")),
            _ => assert_eq!(header, Some("identity")),
        }
    }
    for table in ["items", "plain"] {
        assert_eq!(env.ids(table), (0..230).collect::<Vec<i64>>());
        assert_eq!(env.count(&format!("{table}__tags")), 460);
    }
}

#[test]
fn a_small_body_that_inflates_past_the_limit_is_cut_off_with_memory_bounded() {
    // 320 MiB of JSON (a list of one record padded with spaces) in about 300 KiB of gzip.
    const INFLATED: usize = 320 << 20;
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(b"{\"data\": [{\"id\": 1}").unwrap();
    let spaces = vec![b' '; 1 << 20];
    for _ in 0..INFLATED >> 20 {
        encoder.write_all(&spaces).unwrap();
    }
    encoder.write_all(b"]}").unwrap();
    let bomb = encoder.finish().unwrap();
    assert!(bomb.len() < 2 << 20, "{} bytes compressed", bomb.len());
    let env = Scenario::new(move |_: &Req| {
        let mut reply = Reply::json(Value::Null).header("Content-Encoding", "gzip");
        reply.body = bomb.clone();
        reply
    });
    let config = one_page_config(&env.base_url());
    let path = env.write_config("config.json", &config);
    let (run, peak_kib) = env.run_measured(&path, &["--max-response-mb", "8"], &[]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    let error = run
        .stderr
        .lines()
        .find(|l| l.starts_with("error: resource"));
    assert!(
        error.is_some_and(|l| l.contains("larger than 8 MiB (--max-response-mb)")),
        "{}",
        run.stderr
    );
    eprintln!("320 MiB inflated, 8 MiB limit: peak {} MiB", peak_kib >> 10);
    // Not retried: the same body would come again.
    assert_eq!(env.server.requests().len(), 1);
    assert!(peak_kib > 4 << 10, "the peak was measured: {peak_kib} KiB");
    assert!(
        peak_kib < 100 << 10,
        "peak memory {} MiB for a body inflating to 320 MiB with an 8 MiB limit",
        peak_kib >> 10
    );
    assert!(!env.has_table("items"));
}

#[test]
fn a_body_that_does_not_decompress_or_in_another_encoding_fails_saying_so() {
    // `/gzip` says gzip but is plain text; `/br` is in an encoding sluice did not ask for;
    // `/gone` is a 404 with a garbled gzip body, `/gone_br` one in brotli; `/empty` an empty
    // body said to be gzip.
    let env = Scenario::new(|req: &Req| match req.path.as_str() {
        "/gone" => Reply::status(404, "not gzip").header("Content-Encoding", "gzip"),
        "/gone_br" => Reply::status(404, "not brotli").header("Content-Encoding", "br"),
        "/empty" => Reply::status(200, "").header("Content-Encoding", "gzip"),
        path => Reply::json(json!({"data": [{"id": 1}]}))
            .header("Content-Encoding", path.trim_start_matches('/')),
    });
    let resource = |name: &str| {
        json!({"name": name, "primary_key": "id",
               "endpoint": {"path": format!("/{name}"), "data_selector": "data",
                            "paginator": "single_page"}})
    };
    let config = json!({
        "client": {"base_url": env.base_url()},
        "resources": [resource("gzip"), resource("br"), resource("gone"), resource("gone_br"), resource("empty")]
    });
    let run = env.run(&config, &["--max-attempts", "2"]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    let error = |name: &str| {
        let prefix = format!("error: resource `{name}` failed: ");
        run.stderr
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("{}", run.stderr))
            .to_string()
    };
    let gzip = error("gzip");
    assert!(
        gzip.ends_with(
            "after 2 attempts, the body does not decompress (gzip): invalid gzip header"
        ),
        "{gzip}"
    );
    let br = error("br");
    assert!(
        br.ends_with(
            "it is compressed as `br`, which sluice does not decode (it asks for gzip, deflate)"
        ),
        "{br}"
    );
    // A garbled error body does not hide the status.
    for name in ["gone", "gone_br"] {
        let gone = error(name);
        assert!(gone.contains("HTTP 404 from GET"), "{gone}");
    }
    assert!(
        run.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("empty")
                && l.contains("completed")
                && l.contains(" 0 records")),
        "{}",
        run.stdout
    );
    // The broken body was retried; the one in another encoding and the 404 were not.
    let paths: Vec<String> = env.server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        ["/gzip", "/gzip", "/br", "/gone", "/gone_br", "/empty"]
    );
    assert!(!env.has_table("gzip") && !env.has_table("br"));
}
