//! A connector that misbehaves is stopped, and the first error line says why: its memory
//! limit (and the flag that sets it), its time limit, or its panic's message. The wasm
//! backtrace is only for `-v`. The hostile connector is `tests/hostile`, built here once.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::json;

use crate::support::{KEY, World};

/// Builds `tests/hostile` for wasm32-wasip2 (once per test process).
fn hostile() -> &'static PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
        let target = root.join("target/hostile");
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--release", "--target", "wasm32-wasip2"])
            .arg("--manifest-path")
            .arg(root.join("tests/hostile/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "the hostile connector builds");
        target.join("wasm32-wasip2/release/sluice_hostile_connector.wasm")
    })
}

/// `sluice run` with the hostile connector doing `what`; returns stderr's lines. The config
/// references the mock's key (so the connector may name it), which no output may show.
fn misbehave(what: &str, extra: &[&str]) -> (Option<i32>, Vec<String>, World) {
    misbehave_in(World::inventory(10), what, extra)
}

/// [`misbehave`] against the mock of `world`.
fn misbehave_in(world: World, what: &str, extra: &[&str]) -> (Option<i32>, Vec<String>, World) {
    let config = json!({"client": {"base_url": world.seed_config()["client"]["base_url"],
                                   "auth": {"api_key": {"secret": "api_key"}}},
                        "hostile": what, "resources": []});
    let path = world.write_config("hostile.json", &config);
    let mut args = vec!["--connector", hostile().to_str().unwrap()];
    args.extend_from_slice(extra);
    let started = std::time::Instant::now();
    let (run, peak_kib) = world.run_measured(&path, &args, &[("API_KEY", Some(KEY))]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "{what}: stopped in bounded time"
    );
    // The connector's memory cap (512 MiB by default) plus the host's own.
    assert!(
        peak_kib < 700 << 10,
        "{what}: peak memory {} MiB",
        peak_kib >> 10
    );
    assert!(!run.output().contains(KEY), "{what}: the key in the output");
    let lines = run.stderr.lines().map(str::to_string).collect();
    (run.code, lines, world)
}

#[test]
fn a_misbehaving_session_fails_naming_its_cause_on_the_first_line() {
    for (what, extra, cause) in [
        (
            "huge_page",
            &["--max-page-mb", "1"][..],
            "more than 1 MiB (--max-page-mb)",
        ),
        ("wrong_count", &[][..], "not a JSON array of 3 items"),
        ("bad_json", &[][..], "not a JSON array of 1 items"),
        (
            "secret",
            &[][..],
            "the connector asked for secret `not_in_the_config`, which the config does not reference",
        ),
        ("never_done", &["--max-pages", "5"][..], "more than 5 pages"),
        (
            "huge_state",
            &["--max-page-mb", "1"][..],
            "the connector returned a state of 2.0 MiB to checkpoint with its page, more than 1 MiB (--max-page-mb)",
        ),
        (
            "twins",
            &[][..],
            "connector protocol error: it lists resource `r` twice",
        ),
    ] {
        let (code, lines, world) = misbehave(what, extra);
        assert_eq!(code, Some(1), "{what}: {lines:?}");
        let first = lines
            .iter()
            .find(|l| l.starts_with("error:"))
            .unwrap_or_else(|| panic!("{what}: {lines:?}"));
        assert!(first.contains(cause), "{what}: {first}");
        if what == "secret" {
            assert!(world.server.requests().is_empty(), "nothing sent");
        }
    }
}

#[test]
fn requests_outside_the_allow_list_are_refused_in_every_disguise() {
    // A canary on 127.0.0.2 at the mock's port: disguises of 127.0.0.2 must not reach it.
    for n in 0..8 {
        let world = World::inventory(10);
        let port = world.seed_config()["client"]["base_url"]
            .as_str()
            .and_then(|u| u.rsplit(':').next())
            .and_then(|p| p.trim_end_matches('/').parse::<u16>().ok())
            .expect("the mock's port");
        let canary = std::net::TcpListener::bind(("127.0.0.2", port)).expect("canary binds");
        canary.set_nonblocking(true).unwrap();
        let what = format!("egress:{n}");
        let (code, lines, world) = misbehave_in(world, &what, &[]);
        assert_eq!(code, Some(1), "{what}: {lines:?}");
        let first = lines.iter().find(|l| l.starts_with("error:")).unwrap();
        assert!(
            first.contains("refused: not in the allow-list"),
            "{what}: {first}"
        );
        assert!(world.server.requests().is_empty(), "{what}: nothing sent");
        assert!(
            canary.accept().is_err(),
            "{what}: the canary on 127.0.0.2 saw a connection"
        );
    }
}

#[test]
fn a_connector_past_its_memory_limit_names_the_limit_and_the_flag() {
    let (code, lines, world) = misbehave("alloc", &["--connector-memory-mb", "32"]);
    assert_eq!(code, Some(1), "{lines:?}");
    assert!(
        lines[0]
            .contains("the connector exceeded its memory limit of 32 MiB (--connector-memory-mb)"),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.contains("backtrace")), "{lines:?}");
    assert!(world.server.requests().is_empty());
}

#[test]
fn a_connector_that_panics_shows_its_message_and_the_backtrace_only_with_verbose() {
    let (code, lines, _) = misbehave("panic", &[]);
    assert_eq!(code, Some(1), "{lines:?}");
    assert!(
        lines[0].contains("the connector panicked: the hostile connector gave up on purpose"),
        "{lines:?}"
    );
    assert_eq!(lines.len(), 1, "one line without -v: {lines:?}");
    let (_, verbose, _) = misbehave("panic", &["-v"]);
    assert!(verbose[0].contains("the connector panicked"), "{verbose:?}");
    assert!(
        verbose.iter().any(|l| l.contains("wasm backtrace")),
        "the backtrace with -v: {verbose:?}"
    );
}

#[test]
fn a_connector_that_never_returns_is_stopped_at_its_time_limit() {
    let (code, lines, _) = misbehave("loop", &["--connector-call-timeout", "0.5"]);
    assert_eq!(code, Some(1), "{lines:?}");
    assert!(
        lines[0].contains("ran past its time limit")
            && lines[0].contains("--connector-call-timeout"),
        "{lines:?}"
    );
}

#[test]
fn a_connector_planning_a_flood_of_requests_gets_the_window_and_the_ceiling() {
    // 20,000 requests in one answer: sent 8 at a time at most, and no more than the ceiling.
    let (code, lines, world) = misbehave("flood", &["--max-pages", "40"]);
    assert_eq!(code, Some(1), "{lines:?}");
    let first = lines.iter().find(|l| l.starts_with("error:")).unwrap();
    assert!(first.contains("more than 40 pages"), "{first}");
    let sent = world.server.requests().len();
    assert!(
        sent <= 40,
        "{sent} requests sent past a ceiling of 40 pages"
    );
    assert!(
        world.server.max_concurrent() <= 8,
        "{}",
        world.server.max_concurrent()
    );
}

#[test]
fn a_connector_planning_two_requests_under_one_seq_fails_at_once() {
    let (code, lines, _) = misbehave("dup_seq", &[]);
    assert_eq!(code, Some(1), "{lines:?}");
    let first = lines.iter().find(|l| l.starts_with("error:")).unwrap();
    assert!(
        first.contains("the connector planned request 0 twice"),
        "{first}"
    );
}

#[test]
fn terminal_escapes_in_a_connector_s_words_are_printed_as_text() {
    let (code, lines, _) = misbehave("escapes", &[]);
    assert_eq!(code, Some(1), "{lines:?}");
    let text = lines.join("\n");
    assert!(
        !text.contains(['\u{1b}', '\u{7}', '\r']),
        "a control character reached the terminal: {text:?}"
    );
    let escaped = "\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{d}fake line";
    assert!(
        text.contains(&format!("r: warning: warned {escaped}")),
        "{text}"
    );
    let first = lines.iter().find(|l| l.starts_with("error:")).unwrap();
    assert!(first.contains(&format!("failed {escaped}")), "{first}");
}

#[test]
fn a_flood_of_notices_is_cut_short() {
    let (code, lines, _) = misbehave("chatty", &[]);
    assert_eq!(code, Some(0), "{lines:?}");
    let warnings: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("r: warning: "))
        .collect();
    assert_eq!(warnings.len(), 11, "{lines:?}");
    assert!(
        warnings[0].ends_with("... (100000 characters in all)") && warnings[0].len() < 2100,
        "{}",
        warnings[0].len()
    );
    assert_eq!(warnings[9].as_str(), "r: warning: notice 9");
    assert_eq!(
        warnings[10].as_str(),
        "r: warning: 990 more notices of the connector with this page are not shown"
    );
}
