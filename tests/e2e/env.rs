//! `Env`: one scenario of the dlt-parity tests: a temp dir, a scenario server (server.rs),
//! secrets in the environment, and the real `sluice` binary run against them into a real
//! SQLite file; plus the small datasets the scenarios serve.

use std::path::PathBuf;
use std::process::Command;

use rusqlite::Connection;
use rusqlite::types::FromSql;
use serde_json::Value;

use crate::server::{Reply, Req, Server};
use crate::support::{Run, shared_cache_dir};

/// Standard base64 (for checking HTTP basic auth headers).
pub fn base64(input: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = input.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.len();
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= n {
                out.push(ALPHABET[((v >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One scenario: a temp dir, a scenario server, secrets, and runs of the real binary.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub server: Server,
    /// `(env var, value)`: set for every run; no value may appear in any output or db file.
    pub secrets: Vec<(String, String)>,
}

impl Env {
    pub fn new(handler: impl Fn(&Req) -> Reply + Send + Sync + 'static) -> Env {
        Env {
            dir: tempfile::tempdir().expect("temp dir"),
            server: Server::start(handler),
            secrets: Vec::new(),
        }
    }

    pub fn secret(mut self, env_var: &str, value: &str) -> Env {
        self.secrets.push((env_var.into(), value.into()));
        self
    }

    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("out.db")
    }

    /// `sluice run` of `config` (written as config.json) into `out.db`.
    pub fn run(&self, config: &Value, extra: &[&str]) -> Run {
        let path = self.dir.path().join("config.json");
        std::fs::write(&path, serde_json::to_string_pretty(config).unwrap()).unwrap();
        let mut args = vec!["run", "--config", path.to_str().unwrap()];
        let db = self.db();
        args.extend(["--db", db.to_str().unwrap()]);
        args.extend(["--retry-initial-delay", "0.05"]);
        // A connector build to test instead of the embedded one (e.g. one fresher than
        // `/work/stable`), without rebuilding the host.
        let connector = std::env::var("SLUICE_E2E_CONNECTOR").unwrap_or_default();
        if !connector.is_empty() {
            args.extend(["--connector", connector.as_str()]);
        }
        args.extend(extra);
        self.sluice(&args)
    }

    /// Runs the `sluice` binary with `args` in the temp dir, secrets in the environment.
    pub fn sluice(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sluice"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("SLUICE_CACHE_DIR", shared_cache_dir());
        for (name, value) in &self.secrets {
            cmd.env(name, value);
        }
        let output = cmd.output().expect("sluice runs");
        let run = Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        self.assert_no_secret_in(&run.output(), "sluice output");
        self.assert_db_has_no_secret();
        run
    }

    pub fn assert_no_secret_in(&self, text: &str, what: &str) {
        for (name, value) in &self.secrets {
            assert!(
                !text.contains(value.as_str()),
                "{what} contains secret {name}:\n{text}"
            );
        }
    }

    pub fn assert_db_has_no_secret(&self) {
        for entry in std::fs::read_dir(self.dir.path()).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.starts_with("out.db") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            for (var, value) in &self.secrets {
                assert!(
                    !bytes.windows(value.len()).any(|w| w == value.as_bytes()),
                    "secret {var} is stored in {}",
                    path.display()
                );
            }
        }
    }

    pub fn conn(&self) -> Connection {
        Connection::open(self.db()).expect("database opens")
    }

    pub fn has_table(&self, table: &str) -> bool {
        self.db().exists()
            && self
                .conn()
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                    [table],
                    |r| r.get::<_, i64>(0),
                )
                .unwrap()
                > 0
    }

    /// The first column of every row `sql` selects.
    pub fn col<T: FromSql>(&self, sql: &str) -> Vec<T> {
        let conn = self.conn();
        let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        stmt.query_map([], |r| r.get::<_, T>(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// `id`s of `table` in order (empty when the table does not exist).
    pub fn ids(&self, table: &str) -> Vec<i64> {
        if !self.has_table(table) {
            return Vec::new();
        }
        self.col(&format!("SELECT id FROM \"{table}\" ORDER BY id"))
    }
}

/// Record `id` of the scenario datasets.
pub fn rec(id: usize) -> Value {
    serde_json::json!({"id": id, "name": format!("item {id}")})
}

/// The records at positions `[from, from + count)` of a dataset of `n` (ids `from + 1`...).
pub fn records(from: usize, count: usize, n: usize) -> Value {
    Value::Array((from..(from + count).min(n)).map(|i| rec(i + 1)).collect())
}

/// `1..=n` as ids.
pub fn id_range(from: i64, to: i64) -> Vec<i64> {
    (from..=to).collect()
}

/// The `http://host:port` the request was sent to.
pub fn origin(req: &Req) -> String {
    format!("http://{}", req.header("host").unwrap_or("127.0.0.1"))
}
