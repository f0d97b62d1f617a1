//! Used by build scripts (`host/build.rs`, `bench/build.rs`) to build a crate for
//! `wasm32-wasip2` with a nested `cargo build` and copy the component into `OUT_DIR`.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target every sluice component is built for.
pub const TARGET: &str = "wasm32-wasip2";

/// One component to build.
#[derive(Debug, Clone)]
pub struct Component<'a> {
    /// The `Cargo.toml` of the workspace (or crate) to build from.
    pub manifest: &'a Path,
    /// `--package`, when the manifest is a workspace.
    pub package: Option<&'a str>,
    /// The cargo profile (`wasm`, `release`).
    pub profile: &'a str,
    /// The file name of the built component, e.g. `sluice_connector.wasm`.
    pub artifact: &'a str,
    /// Name of the target directory, under the outer build's target directory, shared by
    /// every profile of the outer build so the component builds once.
    pub target_dir_name: &'a str,
    /// Paths whose change must rebuild the component.
    pub watched: &'a [PathBuf],
}

/// Builds `component` and copies it to `$OUT_DIR/<artifact>`; returns that path.
/// Panics with a clear message (the way a build script reports failure).
pub fn build(component: &Component<'_>) -> PathBuf {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for path in component.watched {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    check_target_installed();
    let target_dir = shared_target_dir(&out, component.target_dir_name);
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--lib",
        "--target",
        TARGET,
        "--profile",
        component.profile,
    ]);
    if let Some(package) = component.package {
        cmd.args(["--package", package]);
    }
    cmd.arg("--manifest-path")
        .arg(component.manifest)
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
    let what = component.artifact;
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build {what}: {e}"));
    assert!(
        status.success(),
        "building {what} for {TARGET} failed (see above)"
    );
    let built = target_dir.join(TARGET).join(component.profile).join(what);
    let dest = out.join(what);
    copy(&built, &dest);
    dest
}

/// Copies a prebuilt component into `$OUT_DIR/<artifact>` instead of building one.
pub fn use_prebuilt(prebuilt: &Path, artifact: &str) -> PathBuf {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rerun-if-changed={}", prebuilt.display());
    let dest = out.join(artifact);
    copy(prebuilt, &dest);
    dest
}

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap_or_else(|e| panic!("cannot copy {}: {e}", from.display()));
}

/// `<outer target>/<name>`. OUT_DIR is `<target>/[<triple>/]<profile>/build/<pkg>-<hash>/out`.
fn shared_target_dir(out: &Path, name: &str) -> PathBuf {
    out.ancestors()
        .nth(4)
        .map_or_else(|| out.join(name), |t| t.join(name))
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
