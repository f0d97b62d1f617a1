//! Test support for every e2e test: one [`Harness`] (a temp dir, a server, the secrets no
//! output may contain) that runs the real `sluice` binary and reads the real SQLite file it
//! wrote. The server kind is the type parameter:
//!
//! - [`World`] (mock.rs): the `sluice_mock_api` inventory API, the key set or unset per run;
//! - [`Scenario`] (scenario.rs): the closure-driven scenario server of server.rs, every
//!   secret set for every run.
//!
//! Shared by both: running the binary (this file), the secret-leak checks (secrets.rs) and
//! the SQLite helpers (db.rs); plus the scenario servers' HTTP types (http.rs) and datasets
//! (data.rs).

mod data;
mod db;
mod http;
mod kill;
mod mock;
mod raw;
mod scenario;
mod secrets;
mod server;
mod tls;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub use data::{base64, id_range, one_page_config, origin, rec, records};
pub use http::{Reply, Req, decode};
pub use kill::{interrupt, kill_at_random_moments};
pub use mock::{KEY, World};
pub use raw::{RawListener, read_head, write_json_reply};
pub use scenario::Scenario;
use secrets::Secret;
pub use tls::TlsServer;

/// The proxy variables sluice (reqwest) reads, in both cases.
pub const PROXY_VARS: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// The `sluice` binary under test.
const SLUICE: &str = env!("CARGO_BIN_EXE_sluice");

/// An HTTP server a harness points `sluice` at.
pub trait ApiServer {
    /// `http://127.0.0.1:PORT` without a trailing slash.
    fn base_url(&self) -> String;
}

/// One test's world: a temp dir holding the config and database, a server of kind `S`, and
/// the secrets no run's output (and no database file, when checked) may contain.
pub struct Harness<S> {
    pub dir: tempfile::TempDir,
    pub server: S,
    secrets: Vec<Secret>,
}

/// What one `sluice` invocation did.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code,
            Some(0),
            "sluice failed:\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Environment variables of one run: each removed, then set when it has a value.
pub type Vars<'a> = [(&'a str, Option<&'a str>)];

impl<S: ApiServer> Harness<S> {
    pub fn with_server(server: S) -> Harness<S> {
        Harness {
            dir: tempfile::tempdir().expect("temp dir"),
            server,
            secrets: Vec::new(),
        }
    }

    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("out.db")
    }

    /// `config` written (pretty JSON) as `name` in the temp dir.
    pub fn write_config(&self, name: &str, config: &Value) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(
            &path,
            serde_json::to_string_pretty(config).expect("config serializes"),
        )
        .expect("write config");
        path
    }

    /// `sluice run` of the config file `config` into `out.db`, `extra` args last.
    pub(super) fn run_file(&self, config: &Path, extra: &[&str], vars: &Vars<'_>) -> Run {
        let cmd = self.run_command(config, extra);
        self.exec(cmd, vars)
    }

    /// `sluice run` started in the background, to be killed or waited for by the test: stdout
    /// discarded, stderr kept for [`Harness::spawned_stderr`].
    pub fn spawn_run(&self, config: &Path, extra: &[&str], vars: &Vars<'_>) -> std::process::Child {
        let mut cmd = self.run_command(config, extra);
        self.environment(&mut cmd, vars);
        let stderr = std::fs::File::create(self.dir.path().join("spawned.stderr")).expect("log");
        cmd.stdout(std::process::Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("sluice starts")
    }

    /// What the last [`Harness::spawn_run`] wrote on stderr so far.
    pub fn spawned_stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("spawned.stderr")).unwrap_or_default()
    }

    fn run_command(&self, config: &Path, extra: &[&str]) -> Command {
        let mut cmd = Command::new(SLUICE);
        cmd.arg("run")
            .arg("--config")
            .arg(config)
            .arg("--db")
            .arg(self.db());
        cmd.args(["--retry-initial-delay", "0.05"]);
        if let Some(connector) = connector() {
            cmd.args(["--connector", connector.as_str()]);
        }
        cmd.args(extra);
        cmd
    }

    /// Runs the `sluice` binary with `args`.
    pub fn sluice(&self, args: &[&str], vars: &Vars<'_>) -> Run {
        let mut cmd = Command::new(SLUICE);
        cmd.args(args);
        self.exec(cmd, vars)
    }

    fn environment(&self, cmd: &mut Command, vars: &Vars<'_>) {
        cmd.current_dir(self.dir.path())
            .env("SLUICE_CACHE_DIR", shared_cache_dir());
        // sluice honours proxy variables, as curl does: the machine's own would take the
        // tests' requests off 127.0.0.1.
        for name in PROXY_VARS {
            cmd.env_remove(name);
        }
        // Read as --ca-cert: the machine's own would be loaded (or refused) in every run.
        cmd.env_remove("SSL_CERT_FILE");
        for (name, value) in vars {
            cmd.env_remove(name);
            if let Some(value) = value {
                cmd.env(name, value);
            }
        }
    }

    /// `sluice run` of `config` into `out.db` like [`Harness::exec`], also returning the
    /// process's peak resident memory in KiB (its `VmHWM`, sampled every few milliseconds).
    pub fn run_measured(&self, config: &Path, extra: &[&str], vars: &Vars<'_>) -> (Run, u64) {
        let mut cmd = self.run_command(config, extra);
        self.environment(&mut cmd, vars);
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let child = cmd.spawn().expect("sluice starts");
        let status = format!("/proc/{}/status", child.id());
        let waiter = std::thread::spawn(move || child.wait_with_output());
        let mut peak = 0u64;
        while !waiter.is_finished() {
            if let Ok(text) = std::fs::read_to_string(&status)
                && let Some(kb) = text
                    .lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kb);
            }
            std::thread::sleep(std::time::Duration::from_millis(3));
        }
        let run = Run::from(waiter.join().expect("waiter").expect("sluice runs"));
        self.assert_no_secret_in(&run.output(), "sluice output");
        (run, peak)
    }

    /// Runs `cmd` in the temp dir with the shared component cache and `vars`, and asserts no
    /// secret is in its output.
    pub fn exec(&self, mut cmd: Command, vars: &Vars<'_>) -> Run {
        self.environment(&mut cmd, vars);
        let run = Run::from(cmd.output().expect("sluice runs"));
        self.assert_no_secret_in(&run.output(), "sluice output");
        run
    }
}

/// A connector build to test instead of the embedded one (e.g. one fresher than
/// `/work/stable`), without rebuilding the host: `SLUICE_E2E_CONNECTOR`, when set.
pub fn connector() -> Option<String> {
    std::env::var("SLUICE_E2E_CONNECTOR")
        .ok()
        .filter(|c| !c.is_empty())
}

/// Compiled components cached across tests, so only the first test compiles.
fn shared_cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sluice-e2e-cache")
}
