//! Builds the benchmark guest in `guest/` as a wasm32-wasip2 component and embeds it, as
//! `host/build.rs` does for the connector. The guest is its own workspace (excluded from
//! sluice's), built with its own release profile into `<target>/guest-wasm`.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let dest = out.join("sluice_bench_guest.wasm");
    let manifest =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    for watched in ["guest/src", "guest/Cargo.toml", "guest/Cargo.lock", "wit"] {
        println!(
            "cargo:rerun-if-changed={}",
            manifest.join(watched).display()
        );
    }
    check_target_installed();
    let target_dir = wasm_target_dir(&out, &manifest);
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--lib", "--target", TARGET, "--release"])
        .arg("--manifest-path")
        .arg(manifest.join("guest").join("Cargo.toml"))
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
        .expect("cannot run cargo to build the bench guest");
    assert!(
        status.success(),
        "building the bench guest for {TARGET} failed (see above)"
    );
    let built = target_dir
        .join(TARGET)
        .join("release")
        .join("sluice_bench_guest.wasm");
    std::fs::copy(&built, &dest).unwrap_or_else(|e| panic!("cannot copy {}: {e}", built.display()));
}

/// `<target>/guest-wasm`, shared by every profile of the bench so the guest builds once.
fn wasm_target_dir(out: &Path, manifest: &Path) -> PathBuf {
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out
    out.ancestors()
        .nth(4)
        .map(|t| t.join("guest-wasm"))
        .unwrap_or_else(|| manifest.join("guest").join("target"))
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
