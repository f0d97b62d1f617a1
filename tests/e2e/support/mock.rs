//! [`World`]: a harness around the `sluice_mock_api` inventory API, whose key is set (or
//! not, or wrong) per run.

use std::path::{Path, PathBuf};

use serde_json::Value;
use sluice_mock_api::{MockConfig, MockServer, item};

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

    /// The mock API of `items` items with `fault` injected (`503x3@1200`, ...), and the seed
    /// config pointed at it.
    pub fn with_fault(items: usize, fault: &str) -> (World, PathBuf) {
        let world = World::new(MockConfig {
            items,
            faults: vec![fault.parse().expect("a fault")],
            ..MockConfig::default()
        });
        let config = world.write_config("inventory.json", &world.seed_config());
        (world, config)
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

impl Harness<MockServer> {
    /// `inventory_items` and its tags equal the mock's items `1..=items` of `generation`,
    /// value by value: one row per item, each item's tags in order, no stray child rows.
    pub fn assert_items_loaded(&self, items: u64, generation: u64) {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT id, name, quantity, price, updated_at FROM inventory_items ORDER BY id",
            )
            .unwrap();
        let rows: Vec<(i64, String, Option<i64>, f64, String)> = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows.len() as u64, items);
        for (id, name, quantity, price, updated_at) in rows {
            let source = item(id as u64, generation);
            assert_eq!(name, source["name"].as_str().unwrap(), "item {id}");
            assert_eq!(quantity, source["quantity"].as_i64(), "item {id}");
            assert!((price - source["price"].as_f64().unwrap()).abs() < 1e-9);
            assert_eq!(updated_at, source["updated_at"].as_str().unwrap());
        }
        // The child table too: each item's tags, in order, and nothing else (no duplicates from
        // re-sent pages, no orphans).
        let mut stmt = conn
            .prepare(
                "SELECT i.id, t.value FROM inventory_items__tags t \
                 JOIN inventory_items i ON i._dlt_id = t._dlt_parent_id \
                 ORDER BY i.id, t._dlt_list_idx",
            )
            .unwrap();
        let mut tags: std::collections::BTreeMap<i64, Vec<String>> = Default::default();
        for row in stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .unwrap()
        {
            let (id, tag) = row.unwrap();
            tags.entry(id).or_default().push(tag);
        }
        let mut expected_rows = 0;
        for id in 1..=items {
            let want: Vec<String> = item(id, generation)["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_owned())
                .collect();
            expected_rows += want.len() as i64;
            assert_eq!(
                tags.remove(&(id as i64)).unwrap_or_default(),
                want,
                "tags of item {id}"
            );
        }
        assert_eq!(
            self.count("inventory_items__tags"),
            expected_rows,
            "no stray child rows"
        );
        // A merge's child rows carry their root's id too (dlt's `_dlt_root_id`).
        let merged: i64 = conn
            .query_row(
                "SELECT count(*) FROM pragma_table_info('inventory_items__tags') \
                 WHERE name = '_dlt_root_id'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        if merged == 1 {
            let astray: i64 = conn
                .query_row(
                    "SELECT count(*) FROM inventory_items__tags \
                     WHERE _dlt_root_id IS NOT _dlt_parent_id",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(astray, 0, "every tag's root is its parent");
        }
    }
}
