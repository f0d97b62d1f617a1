//! Secrets an API echoes back: a cursor equal to the key, a record holding the bearer header.
//! The state is sluice's own and must never hold one (the checkpoint is refused); records are
//! the user's data and are kept, with a warning naming where the secret is.

use serde_json::Value;

use crate::redact;

/// Where the first secret in a page's records is: `record 3, field meta.token (column
/// meta__token)`; `None` when the records hold none. Parses the page only when its text
/// holds a secret.
pub fn secret_in_records(records: &str) -> Option<String> {
    if !redact::contains(records) {
        return None;
    }
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(records) else {
        return Some("the page's records".to_string());
    };
    for (i, item) in items.iter().enumerate() {
        let mut path = Vec::new();
        if find(item, &mut path) {
            let field = path.join(".");
            let column: Vec<String> = path
                .iter()
                .filter(|p| !p.starts_with('['))
                .map(|p| sluice_sink::normalize_identifier(p))
                .collect();
            return Some(format!(
                "record {i}, field {field} (column {})",
                column.join("__")
            ));
        }
    }
    Some("the page's records".to_string())
}

/// Depth-first search for a string holding a secret; `path` ends at it.
fn find(value: &Value, path: &mut Vec<String>) -> bool {
    match value {
        Value::String(s) => redact::contains(s),
        Value::Object(map) => map.iter().any(|(k, v)| {
            path.push(k.clone());
            let found = find(v, path);
            if !found {
                path.pop();
            }
            found
        }),
        Value::Array(items) => items.iter().enumerate().any(|(i, v)| {
            path.push(format!("[{i}]"));
            let found = find(v, path);
            if !found {
                path.pop();
            }
            found
        }),
        _ => false,
    }
}
