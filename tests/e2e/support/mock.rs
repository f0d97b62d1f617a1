//! [`World`]: a harness around the `sluice_mock_api` inventory API, whose key is set (or
//! not, or wrong) per run.

use std::path::{Path, PathBuf};

use serde_json::Value;
use sluice_mock_api::{MockConfig, MockServer};

use super::{ApiServer, Harness, Run};

/// A key no output may ever contain.
pub const KEY: &str = "e2e-Secret-Key-7f3a9c";

/// One test against the mock API.
pub type World = Harness<MockServer>;

impl ApiServer for MockServer {
    fn base_url(&self) -> String {
        MockServer::base_url(self)
    }
}

impl Harness<MockServer> {
    pub fn new(config: MockConfig) -> World {
        let server = MockServer::start(MockConfig {
            api_key: KEY.to_string(),
            ..config
        })
        .expect("mock API starts");
        let mut world = Harness::with_server(server);
        world.guard("API_KEY", KEY, "the API key".into());
        world
    }

    pub fn inventory(items: usize) -> World {
        World::new(MockConfig {
            items,
            ..MockConfig::default()
        })
    }

    /// The seed config pointed at the mock API.
    pub fn seed_config(&self) -> Value {
        sluice::demo::seed_config(&self.base_url())
    }

    /// `examples/{file}` written as `file`, unchanged but for its base URL (the mock API's).
    pub fn write_example(&self, file: &str) -> PathBuf {
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        let text = std::fs::read_to_string(examples.join(file)).unwrap();
        let path = self.dir.path().join(file);
        std::fs::write(
            &path,
            text.replace("https://api.example.com", &self.base_url()),
        )
        .unwrap();
        path
    }

    /// Runs `sluice run` on `config` with `API_KEY` set to `key` (or unset).
    pub fn run(&self, config: &Path, key: Option<&str>, extra: &[&str]) -> Run {
        self.run_file(config, extra, &[("API_KEY", key)])
    }
}
