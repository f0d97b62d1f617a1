//! `data_selector`: the JSONPath subset dlt configs use to find records in a response.
//!
//! Supported: `data`, `data.items`, `$`, `$.data`, `$.results[*]`, `[*]`, `$['data']`,
//! `data[0]`, `*`. A missing or `null` value at the path selects nothing (an empty page).

use serde_json::Value;

use crate::protocol::Error;

/// One step of a selector path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
    /// `[*]` or `*`: every element of a list, every value of an object.
    Wildcard,
}

/// A parsed `data_selector`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    source: String,
    steps: Vec<Step>,
}

/// What a selector found in a body.
#[derive(Debug, Clone, PartialEq)]
pub enum Selected<'a> {
    /// Nothing (or `null`) at the path.
    Nothing,
    /// The records found.
    Records(Vec<&'a Value>),
}

impl Selector {
    /// Parses `text`; errors name `path` (the config key of the selector).
    pub fn parse(path: &str, text: &str) -> Result<Selector, Error> {
        let bad =
            |why: &str| Error::config(path, format!("invalid data_selector \"{text}\": {why}"));
        let mut steps = Vec::new();
        let mut rest = text.trim();
        if let Some(r) = rest.strip_prefix('$') {
            rest = r;
        }
        let mut first = true;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('[') {
                let end = r.find(']').ok_or_else(|| bad("unclosed ["))?;
                let inner = r[..end].trim();
                rest = &r[end + 1..];
                let step = if inner == "*" {
                    Step::Wildcard
                } else if let Some(q) = quoted(inner) {
                    Step::Key(q.to_string())
                } else if let Ok(i) = inner.parse::<usize>() {
                    Step::Index(i)
                } else {
                    return Err(bad("expected [*], [N] or ['key']"));
                };
                steps.push(step);
            } else {
                let r = match rest.strip_prefix('.') {
                    Some(r) => r,
                    None if first => rest,
                    None => return Err(bad("expected . or [")),
                };
                let end = r.find(['.', '[']).unwrap_or(r.len());
                let key = &r[..end];
                if key.is_empty() {
                    return Err(bad("empty key"));
                }
                steps.push(if key == "*" {
                    Step::Wildcard
                } else {
                    Step::Key(key.to_string())
                });
                rest = &r[end..];
            }
            first = false;
        }
        Ok(Selector {
            source: text.to_string(),
            steps,
        })
    }

    /// The selector as written in the config.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The keys of a selector that is a path of keys only (`data.items`, `$`).
    pub fn keys(&self) -> Option<Vec<&str>> {
        self.steps
            .iter()
            .map(|s| match s {
                Step::Key(k) => Some(k.as_str()),
                Step::Index(_) | Step::Wildcard => None,
            })
            .collect()
    }

    /// Where `body` lacks the path of a key-only selector: the first missing key and the
    /// object that lacks it. `None` when the path is there (`null` included), when a value
    /// on it is not an object, or when the selector has indexes or wildcards.
    pub fn missing_key<'s, 'b>(
        &'s self,
        body: &'b Value,
    ) -> Option<(&'s str, &'b serde_json::Map<String, Value>)> {
        let mut value = body;
        for step in &self.steps {
            let Step::Key(key) = step else {
                return None;
            };
            let map = value.as_object()?;
            match map.get(key) {
                Some(next) => value = next,
                None => return Some((key, map)),
            }
        }
        None
    }

    /// Walks `body`. A list at the end of the path is its elements; any other value is one
    /// record. After a wildcard every match is one record.
    pub fn select<'a>(&self, body: &'a Value) -> Selected<'a> {
        let mut current: Vec<&'a Value> = vec![body];
        let mut spread = false;
        for step in &self.steps {
            let mut next = Vec::new();
            for v in current {
                match (step, v) {
                    (Step::Key(k), Value::Object(m)) => next.extend(m.get(k)),
                    (Step::Index(i), Value::Array(a)) => next.extend(a.get(*i)),
                    (Step::Wildcard, Value::Array(a)) => next.extend(a.iter()),
                    (Step::Wildcard, Value::Object(m)) => next.extend(m.values()),
                    _ => {}
                }
            }
            spread |= *step == Step::Wildcard;
            current = next;
        }
        current.retain(|v| !v.is_null());
        if spread {
            return if current.is_empty() {
                Selected::Nothing
            } else {
                Selected::Records(current)
            };
        }
        match current.first() {
            None => Selected::Nothing,
            Some(Value::Array(items)) => Selected::Records(items.iter().collect()),
            Some(one) => Selected::Records(vec![*one]),
        }
    }
}

fn quoted(s: &str) -> Option<&str> {
    s.strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .or_else(|| s.strip_prefix('"').and_then(|r| r.strip_suffix('"')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sel(text: &str) -> Selector {
        Selector::parse("s", text).unwrap()
    }

    fn ids(s: Selected<'_>) -> Vec<i64> {
        match s {
            Selected::Nothing => panic!("selected nothing"),
            Selected::Records(r) => r.iter().map(|v| v["id"].as_i64().unwrap()).collect(),
        }
    }

    #[test]
    fn parses_the_dlt_forms() {
        let key = |k: &str| Step::Key(k.into());
        assert_eq!(sel("data").steps(), [key("data")]);
        assert_eq!(sel("data.items").steps(), [key("data"), key("items")]);
        assert_eq!(sel("$.data").steps(), [key("data")]);
        assert_eq!(
            sel("$.results[*]").steps(),
            [key("results"), Step::Wildcard]
        );
        assert!(sel("$").steps().is_empty());
        assert_eq!(sel("[*]").steps(), [Step::Wildcard]);
        assert_eq!(sel("$['a b'][0]").steps(), [key("a b"), Step::Index(0)]);
    }

    #[test]
    fn rejects_malformed_selectors_with_path() {
        let err = Selector::parse("resources[0].endpoint.data_selector", "data[").unwrap_err();
        assert_eq!(
            err.to_string(),
            "resources[0].endpoint.data_selector: invalid data_selector \"data[\": unclosed ["
        );
        assert!(Selector::parse("p", "data..x").is_err());
        assert!(Selector::parse("p", "data[x]").is_err());
    }

    #[test]
    fn selects_lists_objects_and_nested_paths() {
        let body = json!({"data": [{"id": 1}, {"id": 2}], "meta": {"items": [{"id": 3}]}});
        assert_eq!(ids(sel("data").select(&body)), [1, 2]);
        assert_eq!(ids(sel("$.data[*]").select(&body)), [1, 2]);
        assert_eq!(ids(sel("meta.items").select(&body)), [3]);
        assert_eq!(ids(sel("data[1]").select(&body)), [2]);
        let list = json!([{"id": 7}, {"id": 8}]);
        assert_eq!(ids(sel("$").select(&list)), [7, 8]);
        assert_eq!(ids(sel("[*]").select(&list)), [7, 8]);
        let obj = json!({"item": {"id": 9}});
        assert_eq!(ids(sel("item").select(&obj)), [9]);
    }

    #[test]
    fn missing_or_null_selects_nothing() {
        let body = json!({"data": null, "other": []});
        assert_eq!(sel("data").select(&body), Selected::Nothing);
        assert_eq!(sel("missing.deeper").select(&body), Selected::Nothing);
        assert_eq!(sel("other").select(&body), Selected::Records(vec![]));
        assert_eq!(sel("$.other[*]").select(&body), Selected::Nothing);
    }
}
