//! Builds the benchmark guest in `guest/` as a wasm32-wasip2 component and embeds it, as
//! `host/build.rs` does for the connector. The guest is its own workspace (excluded from
//! sluice's), built with its own release profile into `<target>/guest-wasm`.

use std::env;
use std::path::PathBuf;

use sluice_build_support::{Component, build};

fn main() {
    let manifest =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let watched: Vec<PathBuf> = ["guest/src", "guest/Cargo.toml", "guest/Cargo.lock", "wit"]
        .iter()
        .map(|p| manifest.join(p))
        .collect();
    build(&Component {
        manifest: &manifest.join("guest").join("Cargo.toml"),
        package: None,
        profile: "release",
        artifact: "sluice_bench_guest.wasm",
        target_dir_name: "guest-wasm",
        watched: &watched,
    });
}
