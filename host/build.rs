//! Builds the connector in `connector/` as a wasm32-wasip2 component and embeds it, so the
//! `sluice` binary carries a working connector. Set `SLUICE_CONNECTOR_WASM` to embed a
//! prebuilt component instead.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let dest = out.join("sluice_connector.wasm");
    println!("cargo:rerun-if-env-changed=SLUICE_CONNECTOR_WASM");
    if let Some(prebuilt) = env::var_os("SLUICE_CONNECTOR_WASM").filter(|v| !v.is_empty()) {
        let prebuilt = PathBuf::from(prebuilt);
        println!("cargo:rerun-if-changed={}", prebuilt.display());
        std::fs::copy(&prebuilt, &dest)
            .unwrap_or_else(|e| panic!("cannot copy {}: {e}", prebuilt.display()));
        return;
    }
    let manifest =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest
        .parent()
        .expect("host/ sits in the workspace")
        .to_path_buf();
    for watched in ["connector/src", "connector/Cargo.toml", "wit", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    check_target_installed();
    let target_dir = wasm_target_dir(&out, &root);
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--package",
        "sluice-connector",
        "--lib",
        "--target",
        TARGET,
        "--profile",
        "wasm",
    ])
    .arg("--manifest-path")
    .arg(root.join("Cargo.toml"))
    .arg("--target-dir")
    .arg(&target_dir);
    // Nothing of the outer build (flags for the host target, clippy's wrapper) applies here.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .expect("cannot run cargo to build the connector component");
    assert!(
        status.success(),
        "building the connector for {TARGET} failed (see above)"
    );
    let built = target_dir
        .join(TARGET)
        .join("wasm")
        .join("sluice_connector.wasm");
    std::fs::copy(&built, &dest).unwrap_or_else(|e| panic!("cannot copy {}: {e}", built.display()));
}

/// `<target>/connector-wasm`, shared by every profile of the host so it builds once.
fn wasm_target_dir(out: &Path, root: &Path) -> PathBuf {
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out
    out.ancestors()
        .nth(4)
        .map(|t| t.join("connector-wasm"))
        .unwrap_or_else(|| root.join("target").join("connector-wasm"))
}

fn check_target_installed() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if let Some(sysroot) = sysroot
        && !sysroot.join("lib/rustlib").join(TARGET).exists()
    {
        panic!("the {TARGET} target is not installed: run `rustup target add {TARGET}`");
    }
}
