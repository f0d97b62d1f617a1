//! The engine bench: `cargo bench -p sluice --bench engine`. It serves the seed config from
//! the bundled mock API in this process (127.0.0.1) and runs the release `sluice` binary
//! against it, reporting each target as a ratio measured in the same run:
//!
//! 1. records/s of a full sync into SQLite vs a raw native loop over the same pages
//!    (reqwest GET + serde_json parse of each page, one keep-alive connection);
//! 2. with a mock that takes 50 ms a page (100 pages): `--concurrency 8` vs `--concurrency 1`;
//! 3. peak RSS syncing 1M records vs 10k (GNU `time`, when /usr/bin/time exists);
//! 4. a merge sync (second run, 10% of items changed) vs the first sync;
//! 5. a dependent resource (each item's stock movements, chains of 1 to 3 pages) from a
//!    mock that takes 50 ms a page: `--concurrency 8` vs `--concurrency 1`;
//! 6. all the records in one page (`limit` as large as the API) vs pages of 100: what a page
//!    costs when nothing overlaps, and that nothing grows faster than the page;
//! 7. four resources of 20 pages each from a mock that takes 50 ms a page:
//!    `--parallel-resources 4` vs one resource after the other.
//!
//! `SLUICE_BENCH_QUICK=1` shrinks every size for a smoke run. Rounds alternate the two sides
//! of each ratio so both see the same machine load; medians are reported.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sluice_mock_api::{DEFAULT_API_KEY, MockConfig, MockServer};

const SLUICE: &str = env!("CARGO_BIN_EXE_sluice");

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

struct Sizes {
    items: usize,
    rounds: usize,
    latency_pages: usize,
    small: usize,
    big: usize,
}

fn main() -> Result<()> {
    let quick = std::env::var_os("SLUICE_BENCH_QUICK").is_some();
    let sizes = if quick {
        Sizes {
            items: 10_000,
            rounds: 1,
            latency_pages: 20,
            small: 1_000,
            big: 20_000,
        }
    } else {
        Sizes {
            items: 100_000,
            rounds: 3,
            latency_pages: 100,
            small: 10_000,
            big: 1_000_000,
        }
    };
    let dir = tempfile::tempdir()?;
    println!(
        "sluice engine bench ({} cores; release binary {SLUICE})",
        cores()
    );
    throughput(dir.path(), &sizes)?;
    latency(dir.path(), &sizes)?;
    memory(dir.path(), &sizes)?;
    merge(dir.path(), &sizes)?;
    dependent(dir.path(), &sizes)?;
    one_page(dir.path(), &sizes)?;
    parallel(dir.path(), &sizes)?;
    Ok(())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn mock(items: usize, latency: Duration) -> Result<MockServer> {
    Ok(MockServer::start(MockConfig {
        items,
        latency,
        ..MockConfig::default()
    })?)
}

/// The seed config (`examples/inventory.json`) pointed at `server`.
fn config(dir: &Path, server: &MockServer) -> Result<PathBuf> {
    let path = dir.join("inventory.json");
    let seed = sluice::demo::seed_config(&server.base_url());
    std::fs::write(&path, serde_json::to_string(&seed)?)?;
    Ok(path)
}

/// One `sluice run` into `db`: wall seconds and peak RSS (KiB, when GNU time is there).
fn sync(dir: &Path, config: &Path, db: &Path, args: &[&str]) -> Result<(f64, Option<u64>)> {
    let time = Path::new("/usr/bin/time");
    let mut cmd = if time.exists() {
        let mut c = Command::new(time);
        c.args(["-f", "peak-rss-kb %M", SLUICE]);
        c
    } else {
        Command::new(SLUICE)
    };
    cmd.args(["run", "-q", "--config"])
        .arg(config)
        .arg("--db")
        .arg(db)
        .args(args)
        .env("API_KEY", DEFAULT_API_KEY)
        .env("SLUICE_CACHE_DIR", dir.join("cache"));
    // Straight to the mock on 127.0.0.1, whatever proxy or CA file the machine names.
    cmd.env_remove("SSL_CERT_FILE");
    for name in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        cmd.env_remove(name);
    }
    let started = Instant::now();
    let out = cmd.output()?;
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("sluice failed: {stderr}").into());
    }
    let rss = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak-rss-kb "))
        .and_then(|v| v.trim().parse().ok());
    Ok((seconds, rss))
}

/// The raw native loop: every page GET on one keep-alive connection, parsed with serde_json.
fn raw_loop(server: &MockServer, items: usize) -> Result<(f64, usize)> {
    let client = reqwest::blocking::Client::builder().no_proxy().build()?;
    let started = Instant::now();
    let mut records = 0;
    for offset in (0..items).step_by(100) {
        let url = format!(
            "{}/v1/inventory?offset={offset}&limit=100&api_key={DEFAULT_API_KEY}",
            server.base_url()
        );
        let body = client.get(url).send()?.bytes()?;
        let page: serde_json::Value = serde_json::from_slice(&body)?;
        records += page["data"].as_array().map_or(0, Vec::len);
    }
    Ok((started.elapsed().as_secs_f64(), records))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn fresh(dir: &Path, name: &str) -> PathBuf {
    let db = dir.join(name);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    db
}

fn throughput(dir: &Path, s: &Sizes) -> Result<()> {
    let server = mock(s.items, Duration::ZERO)?;
    let config = config(dir, &server)?;
    sync(dir, &config, &fresh(dir, "warm.db"), &[])?; // compiles the component once
    let (mut raw, mut engine) = (Vec::new(), Vec::new());
    // The noisiest ratio (two short runs on shared cores): more rounds than the others.
    for _ in 0..s.rounds * 3 {
        let (secs, records) = raw_loop(&server, s.items)?;
        assert_eq!(records, s.items);
        raw.push(secs);
        engine.push(sync(dir, &config, &fresh(dir, "t.db"), &[])?.0);
    }
    let (raw, engine) = (median(raw), median(engine));
    let per_sec = |secs: f64| s.items as f64 / secs;
    println!(
        "1. throughput, {} records: raw reqwest+serde loop {:.0} records/s, sluice sync into SQLite {:.0} records/s: {:.2} of raw (target >= 0.75)",
        s.items,
        per_sec(raw),
        per_sec(engine),
        raw / engine
    );
    Ok(())
}

fn latency(dir: &Path, s: &Sizes) -> Result<()> {
    let server = mock(s.latency_pages * 100, Duration::from_millis(50))?;
    let config = config(dir, &server)?;
    let (mut one, mut eight, mut sixteen) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..s.rounds.min(2) {
        one.push(sync(dir, &config, &fresh(dir, "l1.db"), &["--concurrency", "1"])?.0);
        eight.push(sync(dir, &config, &fresh(dir, "l8.db"), &["--concurrency", "8"])?.0);
        sixteen.push(
            sync(
                dir,
                &config,
                &fresh(dir, "l16.db"),
                &["--concurrency", "16"],
            )?
            .0,
        );
    }
    let (one, eight, sixteen) = (median(one), median(eight), median(sixteen));
    // The first page goes alone (it tells the page size and whether the API caps it), then
    // 99 pages take 13 rounds of 8: at most 100 / 14 = 7.1x (no speculation can beat
    // 100 / 13 = 7.7x with 8 in flight).
    println!(
        "2. 50 ms a page, {} pages: --concurrency 1 {one:.2} s; 8 (default) {eight:.2} s: {:.1}x (target >= 8x; at most 7.1x with 8 in flight); 16 {sixteen:.2} s: {:.1}x; the server saw at most {} at once",
        s.latency_pages,
        one / eight,
        one / sixteen,
        server.max_concurrent()
    );
    Ok(())
}

fn memory(dir: &Path, s: &Sizes) -> Result<()> {
    let mut peak = Vec::new();
    for items in [s.small, s.big] {
        let server = mock(items, Duration::ZERO)?;
        let config = config(dir, &server)?;
        let (secs, rss) = sync(dir, &config, &fresh(dir, "m.db"), &[])?;
        peak.push((items, secs, rss));
    }
    match (peak[0].2, peak[1].2) {
        (Some(small), Some(big)) => println!(
            "3. peak RSS: {} records {:.1} MB ({:.1} s), {} records {:.1} MB ({:.1} s): {:.2}x (target <= 1.5x)",
            peak[0].0,
            small as f64 / 1024.0,
            peak[0].1,
            peak[1].0,
            big as f64 / 1024.0,
            peak[1].1,
            big as f64 / small as f64
        ),
        _ => println!("3. peak RSS: /usr/bin/time (GNU time) is not installed; skipped"),
    }
    Ok(())
}

fn merge(dir: &Path, s: &Sizes) -> Result<()> {
    let (mut first, mut second) = (Vec::new(), Vec::new());
    // Two short runs on shared cores, as noisy as the throughput ratio: as many rounds.
    for _ in 0..s.rounds * 3 {
        let server = mock(s.items, Duration::ZERO)?;
        let config = config(dir, &server)?;
        let db = fresh(dir, "merge.db");
        first.push(sync(dir, &config, &db, &[])?.0);
        server.set_generation(1); // 10% of the items change upstream
        second.push(sync(dir, &config, &db, &[])?.0);
    }
    let (first, second) = (median(first), median(second));
    println!(
        "4. merge, {} records ({} rounds, medians): first sync {first:.2} s, second sync (10% changed) {second:.2} s: {:.2}x the first (target <= 1.0x)",
        s.items,
        s.rounds * 3,
        second / first
    );
    Ok(())
}

/// The seed config with a dependent resource: each item's stock movements, a chain of
/// pages per item (`page_number` up to `total_pages`).
fn dependent_config(dir: &Path, server: &MockServer) -> Result<PathBuf> {
    let path = dir.join("movements.json");
    let mut config = sluice::demo::seed_config(&server.base_url());
    let resources = config["resources"]
        .as_array_mut()
        .ok_or("the seed config has resources")?;
    resources.push(serde_json::json!({
        "name": "movements",
        "endpoint": {
            "path": "/v1/inventory/{resources.inventory_items.id}/movements",
            "data_selector": "data",
            "paginator": {"type": "page_number", "base_page": 1, "total_path": "total_pages"},
        },
    }));
    std::fs::write(&path, serde_json::to_string(&config)?)?;
    Ok(path)
}

fn dependent(dir: &Path, s: &Sizes) -> Result<()> {
    let items = s.latency_pages / 2;
    let server = mock(items, Duration::from_millis(50))?;
    let config = dependent_config(dir, &server)?;
    let (mut one, mut eight) = (Vec::new(), Vec::new());
    for _ in 0..s.rounds.min(2) {
        one.push(sync(dir, &config, &fresh(dir, "d1.db"), &["--concurrency", "1"])?.0);
        eight.push(sync(dir, &config, &fresh(dir, "d8.db"), &["--concurrency", "8"])?.0);
    }
    let requests = server.requests().len() / (2 * s.rounds.min(2));
    let (one, eight) = (median(one), median(eight));
    println!(
        "5. dependent chains, {items} items' movements (1-3 pages each, {requests} requests a sync), 50 ms a page: --concurrency 1 {one:.2} s; 8 {eight:.2} s: {:.1}x",
        one / eight
    );
    Ok(())
}

fn one_page(dir: &Path, s: &Sizes) -> Result<()> {
    let server = mock(s.items, Duration::ZERO)?;
    let paged = config(dir, &server)?;
    let whole = dir.join("one-page.json");
    let mut seed = sluice::demo::seed_config(&server.base_url());
    seed["resources"][0]["endpoint"]["paginator"]["limit"] = serde_json::json!(s.items);
    std::fs::write(&whole, serde_json::to_string(&seed)?)?;
    let (mut pages, mut one, mut rss) = (Vec::new(), Vec::new(), None);
    for _ in 0..s.rounds {
        pages.push(sync(dir, &paged, &fresh(dir, "p.db"), &[])?.0);
        let (secs, peak) = sync(dir, &whole, &fresh(dir, "o.db"), &[])?;
        one.push(secs);
        rss = peak;
    }
    let (pages, one) = (median(pages), median(one));
    let rss = rss.map_or_else(String::new, |kb| {
        format!(", peak RSS {:.0} MB", kb as f64 / 1024.0)
    });
    println!(
        "6. one page of {} records: {one:.2} s vs {pages:.2} s in pages of 100: {:.1}x{rss}",
        s.items,
        one / pages
    );
    Ok(())
}

/// Four resources, each the seed's inventory under another name, 20 pages of 100 each.
fn parallel(dir: &Path, s: &Sizes) -> Result<()> {
    let pages = 20;
    let server = mock(pages * 100, Duration::from_millis(50))?;
    let mut config = sluice::demo::seed_config(&server.base_url());
    let seed = config["resources"][0].clone();
    config["resources"] = (1..=4)
        .map(|n| {
            let mut r = seed.clone();
            r["name"] = serde_json::json!(format!("inventory_{n}"));
            r
        })
        .collect();
    let path = dir.join("four.json");
    std::fs::write(&path, serde_json::to_string(&config)?)?;
    let (mut one, mut four) = (Vec::new(), Vec::new());
    for _ in 0..s.rounds.min(2) {
        one.push(sync(dir, &path, &fresh(dir, "p1.db"), &[])?.0);
        four.push(
            sync(
                dir,
                &path,
                &fresh(dir, "p4.db"),
                &["--parallel-resources", "4"],
            )?
            .0,
        );
    }
    let (one, four) = (median(one), median(four));
    println!(
        "7. four resources of {pages} pages, 50 ms a page: one after the other {one:.2} s; --parallel-resources 4 {four:.2} s: {:.1}x",
        one / four
    );
    Ok(())
}
