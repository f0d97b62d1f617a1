//! `sluice demo`: the seed inventory config against the bundled mock API, into SQLite.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

/// The seed config (`examples/inventory.json`), the first real user's dlt `rest_api` config.
pub const SEED_CONFIG: &str = include_str!("../../examples/inventory.json");

/// The API key the demo's mock API expects. Not a real secret, but handled as one.
pub const DEMO_API_KEY: &str = "demo-secret-key";

/// The seed config pointed at `base_url`.
pub fn seed_config(base_url: &str) -> Value {
    let mut config: Value =
        serde_json::from_str(SEED_CONFIG).expect("the bundled seed config is valid JSON");
    config["client"]["base_url"] = Value::String(base_url.to_string());
    config
}

/// The first `limit` rows of `table`, as an aligned text table.
pub fn sample_rows(
    db: &Path,
    table: &str,
    columns: &[&str],
    limit: usize,
) -> rusqlite::Result<String> {
    let conn = rusqlite::Connection::open(db)?;
    let cols = columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = conn.prepare(&format!(
        "SELECT {cols} FROM \"{table}\" ORDER BY 1 LIMIT {limit}"
    ))?;
    let rows: Vec<Vec<String>> = stmt
        .query_map([], |row| {
            (0..columns.len())
                .map(|i| {
                    Ok(match row.get_ref(i)? {
                        rusqlite::types::ValueRef::Null => "NULL".to_string(),
                        rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                        rusqlite::types::ValueRef::Real(v) => v.to_string(),
                        rusqlite::types::ValueRef::Text(t) => {
                            String::from_utf8_lossy(t).into_owned()
                        }
                        rusqlite::types::ValueRef::Blob(_) => "<blob>".to_string(),
                    })
                })
                .collect()
        })?
        .collect::<Result<_, _>>()?;
    let widths: Vec<usize> = (0..columns.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count().min(28))
                .chain([columns[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let line = |cells: Vec<String>, out: &mut String| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| {
                let c: String = c.chars().take(28).collect();
                format!("{c:<w$}")
            })
            .collect();
        let _ = writeln!(out, "  {}", padded.join("  ").trim_end());
    };
    line(columns.iter().map(|c| c.to_string()).collect(), &mut out);
    for r in rows {
        line(r, &mut out);
    }
    Ok(out)
}
