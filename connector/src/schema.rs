//! The JSON Schema of the config, for `sluice spec`.
//!
//! TODO(issue 3): generate this from the key tables the parser checks against.

use serde_json::{Value, json};

/// The config's JSON Schema (draft 2020-12).
pub fn config_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "sluice rest_api config",
        "type": "object",
        "required": ["client", "resources"],
        "properties": {
            "client": {"type": "object"},
            "resource_defaults": {"type": "object"},
            "resources": {"type": "array"}
        }
    })
}
