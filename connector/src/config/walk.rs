//! Hand-walking a `serde_json::Value` with a key path, so every error names its path.

use serde_json::{Map, Value};

use crate::protocol::Error;

/// `parent.key`, or `key` at the root.
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// `parent[index]`.
pub(crate) fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

/// "a string", "an object", ... for "expected X, found Y" messages. Never shows the value.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// `expected {what}, found {kind}` at `path`.
pub(crate) fn wrong_type(path: &str, what: &str, found: &Value) -> Error {
    Error::config(path, format!("expected {what}, found {}", kind(found)))
}

/// Levenshtein distance of two short strings.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest of `options` to `word`, when it is a near miss.
pub(crate) fn did_you_mean<'a>(word: &str, options: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    options
        .iter()
        .map(|o| (edit_distance(&lower, o), *o))
        .filter(|(d, o)| *d <= o.len().div_ceil(3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, o)| o)
}

/// `(expected one of: a, b; did you mean "a"?)`.
pub(crate) fn expected_one_of(word: &str, options: &[&str]) -> String {
    let mut s = format!("(expected one of: {}", options.join(", "));
    if let Some(m) = did_you_mean(word, options) {
        s.push_str(&format!("; did you mean \"{m}\"?"));
    }
    s.push(')');
    s
}

/// An object of the config together with its path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Obj<'a> {
    pub path: &'a str,
    pub map: &'a Map<String, Value>,
}

impl<'a> Obj<'a> {
    /// `value` as an object, or a type error at `path`.
    pub fn new(path: &'a str, value: &'a Value) -> Result<Self, Error> {
        match value {
            Value::Object(map) => Ok(Obj { path, map }),
            other => Err(wrong_type(path, "an object", other)),
        }
    }

    /// Errors on the first key not in `allowed`, suggesting a near miss.
    pub fn deny_unknown(&self, allowed: &[&str]) -> Result<(), Error> {
        match self.map.keys().find(|k| !allowed.contains(&k.as_str())) {
            None => Ok(()),
            Some(key) => Err(Error::config(
                join(self.path, key),
                format!("unknown key \"{key}\" {}", expected_one_of(key, allowed)),
            )),
        }
    }

    /// The path of `key` in this object.
    pub fn at(&self, key: &str) -> String {
        join(self.path, key)
    }

    /// The value of `key`; a `null` counts as absent (dlt: `None` means the default).
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub fn str_opt(&self, key: &str) -> Result<Option<&'a str>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(wrong_type(&self.at(key), "a string", other)),
        }
    }

    pub fn str_req(&self, key: &str) -> Result<&'a str, Error> {
        self.str_opt(key)?.ok_or_else(|| missing(&self.at(key)))
    }

    pub fn u64_opt(&self, key: &str) -> Result<Option<u64>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| wrong_type(&self.at(key), "a non-negative integer", v)),
        }
    }

    /// A key holding a string or a list of strings (`primary_key`, `merge_key`), as a list.
    pub fn strings(&self, key: &str) -> Result<Vec<String>, Error> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(wrong_type(&index(&self.at(key), i), "a string", other)),
                })
                .collect(),
            Some(other) => Err(wrong_type(
                &self.at(key),
                "a string or a list of strings",
                other,
            )),
        }
    }

    pub fn bool_opt(&self, key: &str) -> Result<Option<bool>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(wrong_type(&self.at(key), "a boolean", other)),
        }
    }

    /// A map of string values (headers), in key order.
    pub fn string_map(&self, key: &str) -> Result<Vec<(String, String)>, Error> {
        let Some(v) = self.get(key) else {
            return Ok(Vec::new());
        };
        let path = self.at(key);
        let obj = Obj::new(&path, v)?;
        let mut out = Vec::with_capacity(obj.map.len());
        for (k, v) in obj.map {
            match v {
                Value::String(s) => out.push((k.clone(), s.clone())),
                other => return Err(wrong_type(&obj.at(k), "a string", other)),
            }
        }
        Ok(out)
    }
}

/// `missing required key` at `path`.
pub(crate) fn missing(path: &str) -> Error {
    Error::config(path, "missing required key")
}

/// The value of `key`, one of `options` (an unknown one is an error naming the nearest).
pub(crate) fn choice<'a>(
    obj: &Obj<'_>,
    key: &str,
    options: &[&'a str],
) -> Result<Option<&'a str>, Error> {
    match obj.str_opt(key)? {
        None => Ok(None),
        Some(s) => options
            .iter()
            .find(|o| **o == s)
            .copied()
            .map(Some)
            .ok_or_else(|| {
                Error::config(
                    obj.at(key),
                    format!("unknown value \"{s}\" {}", expected_one_of(s, options)),
                )
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("ofset", "offset"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn suggests_only_near_misses() {
        let opts = ["offset", "single_page"];
        assert_eq!(did_you_mean("ofset", &opts), Some("offset"));
        assert_eq!(did_you_mean("OFFSET", &opts), Some("offset"));
        assert_eq!(did_you_mean("cursor", &opts), None);
        assert_eq!(did_you_mean("single-page", &opts), Some("single_page"));
    }

    #[test]
    fn unknown_key_names_path_and_suggestion() {
        let v = serde_json::json!({"base_url": "x", "heders": {}});
        let obj = Obj::new("client", &v).unwrap();
        let err = obj
            .deny_unknown(&["base_url", "headers", "auth"])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "client.heders: unknown key \"heders\" (expected one of: base_url, headers, auth; did you mean \"headers\"?)"
        );
    }
}
