//! [`Scenario`]: a harness around the scenario server (server.rs) for the dlt-parity tests,
//! every secret set for every run and checked in its output and database files.

use serde_json::Value;

use super::server::Server;
use super::{ApiServer, Harness, Reply, Req, Run};

/// One scenario: a temp dir, a scenario server, secrets, and runs of the real binary.
pub type Scenario = Harness<Server>;

impl ApiServer for Server {
    fn base_url(&self) -> String {
        Server::base_url(self)
    }
}

impl Harness<Server> {
    pub fn new(handler: impl Fn(&Req) -> Reply + Send + Sync + 'static) -> Scenario {
        Harness::with_server(Server::start(handler))
    }

    /// `sluice run` of `config` (written as config.json) into `out.db`; asserts no secret
    /// is in the output or the database files.
    pub fn run(&self, config: &Value, extra: &[&str]) -> Run {
        let run = self.run_with_echoing_api(config, extra);
        self.assert_db_has_no_secret();
        run
    }

    /// [`Scenario::run`] against an API that echoes a secret into its records: the user's
    /// records keep it, so only the output is checked (by `exec`), not the database.
    pub fn run_with_echoing_api(&self, config: &Value, extra: &[&str]) -> Run {
        let path = self.write_config("config.json", config);
        self.run_file(&path, extra, &self.secret_vars())
    }
}
