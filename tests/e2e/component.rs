//! The built connector is a standard WebAssembly component: tooling other than our host
//! (the `wit-component` decoder behind `wasm-tools component wit`) reads its world.

#[test]
fn the_connector_is_a_standard_component_exporting_source() {
    let bytes = sluice::runtime::BUILTIN_CONNECTOR;
    assert!(bytes.len() > 1000);
    let decoded = wit_component::decode(bytes).expect("decodes as a component");
    let resolve = decoded.resolve();
    let mut printer = wit_component::WitPrinter::default();
    printer
        .print(resolve, decoded.package(), &[])
        .expect("prints WIT");
    let wit = printer.output.to_string();
    assert!(
        wit.contains("export sluice:connector/source@0.4.0;"),
        "{wit}"
    );
    // It imports nothing beyond WASI and our own types-only interface: no host functions.
    for line in wit
        .lines()
        .filter(|l| l.trim_start().starts_with("import "))
    {
        assert!(
            line.contains("wasi:") || line.contains("sluice:connector/types@0.4.0"),
            "unexpected import: {line}\n{wit}"
        );
    }
    let types = resolve
        .interfaces
        .iter()
        .find(|(_, i)| i.name.as_deref() == Some("types"))
        .expect("types interface");
    assert!(
        types.1.functions.is_empty(),
        "the types interface declares no functions"
    );
}

/// The WIT world of the component in the file at `path`, as `wasm-tools component wit`
/// prints it.
fn world_of(path: &str) -> String {
    let bytes = std::fs::read(path).unwrap();
    let decoded = wit_component::decode(&bytes).expect("decodes as a component");
    let mut printer = wit_component::WitPrinter::default();
    printer
        .print(decoded.resolve(), decoded.package(), &[])
        .unwrap();
    printer.output.to_string()
}

/// A build of the connector from before the load engine (commit 23db354): a component
/// against `sluice:connector@0.1.0` that plans one request at a time and writes no resume
/// position, as a third party's may.
const OLD_CONNECTOR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/connector-0.1.0-23db354.wasm"
);

#[test]
fn a_connector_built_against_0_1_0_before_the_engine_still_syncs() {
    use crate::support::{KEY, World};

    assert!(world_of(OLD_CONNECTOR).contains("export sluice:connector/source@0.1.0;"));

    let (world, config) = World::with_fault(2500, "503x3@1200");
    let args = ["--connector", OLD_CONNECTOR];
    let first = world.run(&config, Some(KEY), &args);
    assert_eq!(first.code, Some(1), "{}", first.output());
    assert_eq!(
        world.count("inventory_items"),
        1200,
        "pages before the failure kept"
    );
    assert_eq!(
        world.server.max_concurrent(),
        1,
        "it plans one request at a time"
    );

    // It writes no resume position, so the unfinished load starts over from page 1,
    // correctly: merged, no duplicates.
    world.server.clear_requests();
    let second = world.run(&config, Some(KEY), &args);
    second.ok();
    assert!(!second.stdout.contains("resumed"), "{}", second.stdout);
    let offsets: Vec<String> = world
        .server
        .requests()
        .iter()
        .filter_map(|r| r.query_param("offset").map(str::to_string))
        .collect();
    assert_eq!(offsets.first().map(String::as_str), Some("0"));
    assert_eq!(offsets.len(), 25);
    assert_eq!(world.count("inventory_items"), 2500);
    assert_eq!(world.distinct_ids("inventory_items"), 2500);
}

/// A build of the connector at 629d375, the last against `sluice:connector@0.2.0` (table
/// hints, pages in flight, resume positions), as a third party's 0.2.0 component.
const CONNECTOR_0_2_0: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/connector-0.2.0-629d375.wasm"
);

/// Syncs the seed config, changed by `change`, with the component at `connector` from the
/// mock API failing midway: the first run fails, the second resumes where it stopped and
/// loads every item once into `table`. Returns the mock, for more checks.
fn fails_then_resumes(
    connector: &str,
    table: &str,
    change: impl Fn(&mut serde_json::Value),
) -> crate::support::World {
    use crate::support::{KEY, World};

    // Answers that take a few milliseconds, so requests in flight overlap at the server
    // however busy the machine is.
    let world = World::new(sluice_mock_api::MockConfig {
        items: 2500,
        faults: vec!["503x3@1200".parse().expect("a fault")],
        latency: std::time::Duration::from_millis(5),
        ..sluice_mock_api::MockConfig::default()
    });
    let mut changed = world.seed_config();
    change(&mut changed);
    let config = world.write_config("inventory.json", &changed);
    let args = ["--connector", connector];
    let first = world.run(&config, Some(KEY), &args);
    assert_eq!(first.code, Some(1), "{}", first.output());
    assert!(world.count(table) >= 1000, "pages before the failure kept");
    assert!(
        world.server.max_concurrent() > 1,
        "it plans pages ahead (pages in flight came with 0.2.0)"
    );
    world.server.clear_requests();
    let second = world.run(&config, Some(KEY), &args);
    second.ok();
    assert!(
        second.stdout.contains("resumed at page"),
        "{}",
        second.stdout
    );
    let offsets: Vec<u64> = world
        .server
        .requests()
        .iter()
        .filter_map(|r| r.query_param("offset")?.parse().ok())
        .collect();
    assert!(
        !offsets.contains(&0),
        "the second run continued: {offsets:?}"
    );
    assert_eq!(world.count(table), 2500);
    assert_eq!(world.distinct_ids(table), 2500);
    world
}

#[test]
fn a_connector_built_against_0_2_0_still_syncs_with_its_hints_and_resumes() {
    assert!(world_of(CONNECTOR_0_2_0).contains("export sluice:connector/source@0.2.0;"));
    // 0.2.0's table hints: a table name and a typed column.
    let world = fails_then_resumes(CONNECTOR_0_2_0, "stock", |config| {
        config["resources"][0]["table_name"] = "stock".into();
        config["resources"][0]["columns"] = serde_json::json!({"sku": {"data_type": "text"},
                                                                "price": {"data_type": "text"}});
    });
    let conn = rusqlite::Connection::open(world.db()).unwrap();
    let typ: String = conn
        .query_row("SELECT typeof(price) FROM stock LIMIT 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(typ, "text", "the column hint applied");
}

/// A build of the connector at 97ac8e9, the last against `sluice:connector@0.3.0` (dlt's
/// merge hints and the merge strategies but `scd2`), as a third party's 0.3.0 component.
const CONNECTOR_0_3_0: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/connector-0.3.0-97ac8e9.wasm"
);

#[test]
fn a_connector_built_against_0_3_0_still_syncs_with_its_merge_strategy_and_resumes() {
    assert!(world_of(CONNECTOR_0_3_0).contains("export sluice:connector/source@0.3.0;"));
    // 0.3.0's merge strategies: under `upsert` a record's `_dlt_id` is dlt's hash of its key.
    let world = fails_then_resumes(CONNECTOR_0_3_0, "inventory_items", |config| {
        config["resource_defaults"]["write_disposition"] =
            serde_json::json!({"disposition": "merge", "strategy": "upsert"});
    });
    let conn = rusqlite::Connection::open(world.db()).unwrap();
    let id: String = conn
        .query_row(
            "SELECT _dlt_id FROM inventory_items WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    // dlt 1.31.0: `get_row_hash({"id": 1}, subset=["id"])`.
    assert_eq!(id, "z5jIxXIbUnmbKw", "the upsert strategy applied");
}

/// The Python connector in `tests/python-connector`, built with componentize-py (0.25, from
/// the package index, into a venv under `target/`), once per test process.
fn python_connector() -> &'static std::path::PathBuf {
    use std::path::PathBuf;
    use std::process::Command;
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
        let venv = root.join("target/componentize-py");
        let tool = venv.join("bin/componentize-py");
        if !tool.exists() {
            let made = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .expect("python3 runs");
            assert!(made.success(), "python3 -m venv");
            let pip = Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "componentize-py==0.25.*"])
                .status()
                .expect("pip runs");
            assert!(pip.success(), "pip install componentize-py");
        }
        let out = root.join("target/python-connector.wasm");
        let built = Command::new(&tool)
            .arg("-d")
            .arg(root.join("wit"))
            .args(["-w", "connector", "componentize", "app", "-o"])
            .arg(&out)
            .current_dir(root.join("tests/python-connector"))
            .output()
            .expect("componentize-py runs");
        assert!(
            built.status.success(),
            "componentize-py: {}",
            String::from_utf8_lossy(&built.stderr)
        );
        out
    })
}

#[test]
fn a_python_connector_built_with_componentize_py_syncs_the_seed_config() {
    let wasm = python_connector();
    let bytes = std::fs::read(wasm).unwrap();
    assert!(
        bytes.len() > 5 << 20,
        "CPython inside: {} bytes",
        bytes.len()
    );
    syncs_the_seed_config_with(wasm);
}

/// A third-party connector component syncs the seed config exactly (2,500 rows, 25
/// requests), with no secret in the database.
pub fn syncs_the_seed_config_with(wasm: &std::path::Path) {
    use crate::support::{KEY, World};

    let world = World::inventory(2500);
    let config = world.write_config("inventory.json", &world.seed_config());
    let run = world.run(&config, Some(KEY), &["--connector", wasm.to_str().unwrap()]);
    run.ok();
    assert_eq!(world.count("inventory_items"), 2500);
    assert_eq!(world.distinct_ids("inventory_items"), 2500);
    assert_eq!(world.server.requests().len(), 25);
    world.assert_db_has_no_secret();
}
