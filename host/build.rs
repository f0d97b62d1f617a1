//! Builds the connector in `connector/` as a wasm32-wasip2 component and embeds it, so the
//! `sluice` binary carries a working connector. Set `SLUICE_CONNECTOR_WASM` to embed a
//! prebuilt component instead.

use std::env;
use std::path::PathBuf;

use sluice_build_support::{Component, build, use_prebuilt};

const ARTIFACT: &str = "sluice_connector.wasm";

fn main() {
    println!("cargo:rerun-if-env-changed=SLUICE_CONNECTOR_WASM");
    if let Some(prebuilt) = env::var_os("SLUICE_CONNECTOR_WASM").filter(|v| !v.is_empty()) {
        use_prebuilt(&PathBuf::from(prebuilt), ARTIFACT);
        return;
    }
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .expect("host/ sits in the workspace")
        .to_path_buf();
    let watched: Vec<PathBuf> = ["connector/src", "connector/Cargo.toml", "wit", "Cargo.lock"]
        .iter()
        .map(|p| root.join(p))
        .collect();
    build(&Component {
        manifest: &root.join("Cargo.toml"),
        package: Some("sluice-connector"),
        profile: "wasm",
        artifact: ARTIFACT,
        target_dir_name: "connector-wasm",
        watched: &watched,
    });
}
