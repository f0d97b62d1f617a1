//! The JavaScript toolchain, from npm (jco, pinned): the built connector transpiled by jco
//! runs under Node, and a connector written in JavaScript and componentized (StarlingMonkey
//! inside, ~12 MB) fits the host's store limits and syncs the seed config.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::support::{KEY, World};

/// jco, pinned; it brings componentize-js.
const JCO: &str = "@bytecodealliance/jco@1.35.0";

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Runs `cmd`, asserting success; returns its stdout.
fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e} (Node and npm must be installed)"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `target/jco` with jco installed from npm (once per test process).
fn jco() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = root().join("target/jco");
        std::fs::create_dir_all(&dir).unwrap();
        if !dir.join("node_modules/@bytecodealliance/jco").exists() {
            std::fs::write(
                dir.join("package.json"),
                r#"{"private": true, "type": "module"}"#,
            )
            .unwrap();
            run(
                Command::new("npm")
                    .args(["install", "--silent", "--no-audit", "--no-fund", JCO])
                    .current_dir(&dir),
                "npm install jco",
            );
        }
        dir
    })
}

/// The built connector is a standard component for other runtimes too: jco transpiles it to
/// JavaScript, and Node drives the whole seed sync with it against the mock API on
/// 127.0.0.1, the host's part (fetch, key injection) done in `tests/jco/drive.mjs`.
#[test]
fn the_connector_runs_under_jco_in_node() {
    let dir = jco();
    let wasm = dir.join("sluice_connector.wasm");
    std::fs::write(&wasm, sluice::runtime::BUILTIN_CONNECTOR).unwrap();
    let out = dir.join("out");
    run(
        Command::new("npx")
            .args(["--no-install", "jco", "transpile"])
            .arg(&wasm)
            .args(["--name", "connector", "-o"])
            .arg(&out)
            .current_dir(dir),
        "jco transpile",
    );
    let world = World::inventory(250);
    let base = world.seed_config()["client"]["base_url"]
        .as_str()
        .unwrap()
        .to_string();
    let printed = run(
        Command::new("node")
            .arg(root().join("tests/jco/drive.mjs"))
            .arg(out.join("connector.js"))
            .arg(&base)
            .arg(KEY)
            .current_dir(dir),
        "node drive.mjs",
    );
    let result: serde_json::Value = serde_json::from_str(printed.trim()).expect("one JSON line");
    assert_eq!(result["resources"], serde_json::json!(["inventory_items"]));
    let ids: Vec<u64> = result["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(
        ids,
        (1..=250).collect::<Vec<u64>>(),
        "every record, once, in order"
    );
    assert_eq!(
        world.server.requests().len(),
        3,
        "pages of 100 with a total"
    );
}

#[test]
fn a_javascript_connector_built_with_jco_componentize_syncs_the_seed_config() {
    let dir = jco();
    // componentize-js reads the WIT package and the source from its working directory.
    let build = dir.join("js-connector");
    std::fs::create_dir_all(build.join("wit")).unwrap();
    for entry in std::fs::read_dir(root().join("wit")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, build.join("wit").join(path.file_name().unwrap())).unwrap();
    }
    // The build script runs from under `target/jco`, where its imports resolve.
    for file in ["source.js", "build.mjs"] {
        std::fs::copy(
            root().join("tests/js-connector").join(file),
            build.join(file),
        )
        .unwrap();
    }
    run(
        Command::new("node")
            .args(["build.mjs", "source.js", "wit", "connector.wasm"])
            .current_dir(&build),
        "componentize the JavaScript connector",
    );
    let wasm = build.join("connector.wasm");
    let size = std::fs::metadata(&wasm).unwrap().len();
    assert!(size > 5 << 20, "a JavaScript engine inside: {size} bytes");
    crate::component::syncs_the_seed_config_with(&wasm);
}
