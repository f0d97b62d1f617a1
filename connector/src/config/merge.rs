//! Normalizing the short forms of dlt and deep-merging `resource_defaults`.

use serde_json::{Map, Value};

use super::walk;
use crate::protocol::Error;

/// A resource as an object: a bare string is `{"name": s}` (dlt: its path is its name);
/// a string `endpoint` is `{"path": s}` and a string `paginator` is `{"type": s}`.
pub(crate) fn normalize_resource(path: &str, value: &Value) -> Result<Value, Error> {
    let mut map = match value {
        Value::String(name) => {
            let mut m = Map::new();
            m.insert("name".into(), Value::String(name.clone()));
            m
        }
        Value::Object(m) => m.clone(),
        other => return Err(walk::wrong_type(path, "a resource object or a name", other)),
    };
    if let Some(endpoint) = map.get_mut("endpoint") {
        if let Value::String(p) = endpoint {
            let p = p.clone();
            *endpoint = single("path", p);
        }
        if let Value::Object(ep) = endpoint
            && let Some(pag) = ep.get_mut("paginator")
            && let Value::String(t) = pag
        {
            let t = t.clone();
            *pag = single("type", t);
        }
    }
    Ok(Value::Object(map))
}

fn single(key: &str, value: String) -> Value {
    let mut m = Map::new();
    m.insert(key.into(), Value::String(value));
    Value::Object(m)
}

/// Deep-merges `over` into `base`: objects merge recursively, `over` wins elsewhere.
/// A paginator of another `type` replaces the default one instead of merging with it.
pub(crate) fn deep_merge(base: &Value, over: &Value) -> Value {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            let mut out = b.clone();
            for (key, ov) in o {
                let merged = match out.get(key) {
                    Some(bv) if key == "paginator" && paginator_type(bv) != paginator_type(ov) => {
                        ov.clone()
                    }
                    Some(bv) => deep_merge(bv, ov),
                    None => ov.clone(),
                };
                out.insert(key.clone(), merged);
            }
            Value::Object(out)
        }
        (_, over) => over.clone(),
    }
}

fn paginator_type(v: &Value) -> Option<&Value> {
    v.as_object().and_then(|m| m.get("type"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_objects_recursively_resource_wins() {
        let base = json!({"primary_key": "id", "endpoint": {"params": {"x": 1, "y": 2}}});
        let over = json!({"name": "a", "endpoint": {"path": "/a", "params": {"y": 3}}});
        let merged = deep_merge(&base, &over);
        assert_eq!(
            merged,
            json!({"primary_key": "id", "endpoint": {"params": {"x": 1, "y": 3}, "path": "/a"}, "name": "a"})
        );
    }

    #[test]
    fn paginator_of_other_type_replaces_default() {
        let base = json!({"endpoint": {"paginator": {"type": "offset", "limit": 10}}});
        let over = json!({"endpoint": {"paginator": {"type": "single_page"}}});
        let merged = deep_merge(&base, &over);
        assert_eq!(
            merged,
            json!({"endpoint": {"paginator": {"type": "single_page"}}})
        );
        let same = json!({"endpoint": {"paginator": {"type": "offset", "limit": 50}}});
        let merged = deep_merge(&base, &same);
        assert_eq!(merged["endpoint"]["paginator"]["limit"], 50);
    }

    #[test]
    fn normalizes_short_forms() {
        let r = normalize_resource("resources[0]", &json!("items")).unwrap();
        assert_eq!(r, json!({"name": "items"}));
        let r = normalize_resource("r", &json!({"name": "a", "endpoint": "/x"})).unwrap();
        assert_eq!(r, json!({"name": "a", "endpoint": {"path": "/x"}}));
        let r = normalize_resource(
            "r",
            &json!({"name": "a", "endpoint": {"paginator": "single_page"}}),
        )
        .unwrap();
        assert_eq!(r["endpoint"]["paginator"], json!({"type": "single_page"}));
        let err = normalize_resource("resources[1]", &json!(3)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "resources[1]: expected a resource object or a name, found a number"
        );
    }
}
