//! Test support: run the real `sluice` binary against a real mock API and read the real
//! SQLite file it wrote.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rusqlite::Connection;
use serde_json::Value;
use sluice_mock_api::{MockConfig, MockServer};

/// A key no output may ever contain.
pub const KEY: &str = "e2e-Secret-Key-7f3a9c";

/// One test's world: a temp dir holding the config and database, and a mock API.
pub struct World {
    pub dir: tempfile::TempDir,
    pub server: MockServer,
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

impl World {
    pub fn new(config: MockConfig) -> World {
        let server = MockServer::start(MockConfig {
            api_key: KEY.to_string(),
            ..config
        })
        .expect("mock API starts");
        World {
            dir: tempfile::tempdir().expect("temp dir"),
            server,
        }
    }

    pub fn inventory(items: usize) -> World {
        World::new(MockConfig {
            items,
            ..MockConfig::default()
        })
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("out.db")
    }

    /// The seed config pointed at the mock API, written as `name`.
    pub fn seed_config(&self) -> Value {
        sluice::demo::seed_config(&self.server.base_url())
    }

    pub fn write_config(&self, name: &str, config: &Value) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(
            &path,
            serde_json::to_string_pretty(config).expect("config serializes"),
        )
        .expect("write config");
        path
    }

    /// Runs `sluice run` on `config` with `API_KEY` set to `key` (or unset).
    pub fn run(&self, config: &Path, key: Option<&str>, extra: &[&str]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sluice"));
        cmd.arg("run")
            .arg("--config")
            .arg(config)
            .arg("--db")
            .arg(self.db());
        cmd.args(["--retry-initial-delay", "0.05"]);
        // A connector build to test instead of the embedded one (see server.rs).
        let connector = std::env::var("SLUICE_E2E_CONNECTOR").unwrap_or_default();
        if !connector.is_empty() {
            cmd.args(["--connector", connector.as_str()]);
        }
        cmd.args(extra);
        self.exec(cmd, key)
    }

    pub fn exec(&self, mut cmd: Command, key: Option<&str>) -> Run {
        cmd.current_dir(self.dir.path())
            .env_remove("API_KEY")
            .env("SLUICE_CACHE_DIR", shared_cache_dir());
        if let Some(key) = key {
            cmd.env("API_KEY", key);
        }
        let Output {
            status,
            stdout,
            stderr,
        } = cmd.output().expect("sluice runs");
        let run = Run {
            code: status.code(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        };
        assert_no_secret(&run.output(), "sluice output");
        run
    }

    pub fn conn(&self) -> Connection {
        Connection::open(self.db()).expect("database opens")
    }

    pub fn count(&self, table: &str) -> i64 {
        self.conn()
            .query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
                r.get(0)
            })
            .expect("count")
    }

    pub fn has_table(&self, table: &str) -> bool {
        if !self.db().exists() {
            return false;
        }
        self.conn()
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get::<_, i64>(0),
            )
            .expect("sqlite_master")
            > 0
    }

    /// Asserts the key is in no file of the database (main file, WAL, journal).
    pub fn assert_db_has_no_secret(&self) {
        for entry in std::fs::read_dir(self.dir.path()).expect("read dir") {
            let path = entry.expect("dir entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with("out.db") {
                let bytes = std::fs::read(&path).expect("read db file");
                assert!(
                    !bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
                    "the API key is stored in {}",
                    path.display()
                );
            }
        }
    }
}

pub fn assert_no_secret(text: &str, what: &str) {
    assert!(!text.contains(KEY), "{what} contains the API key:\n{text}");
}

/// Compiled components cached across tests, so only the first test compiles.
pub fn shared_cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sluice-e2e-cache")
}
