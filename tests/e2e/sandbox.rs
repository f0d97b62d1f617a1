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

/// `sluice run` with the hostile connector doing `what`; returns stderr's lines.
fn misbehave(what: &str, extra: &[&str]) -> (Option<i32>, Vec<String>, World) {
    let world = World::inventory(10);
    let config = json!({"client": {"base_url": world.seed_config()["client"]["base_url"]},
                        "hostile": what, "resources": []});
    let path = world.write_config("hostile.json", &config);
    let mut args = vec!["--connector", hostile().to_str().unwrap()];
    args.extend_from_slice(extra);
    let run = world.run(&path, Some(KEY), &args);
    let lines = run.stderr.lines().map(str::to_string).collect();
    (run.code, lines, world)
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
