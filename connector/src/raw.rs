//! Finding the records of a body without building them: the fast path of [`crate::extract`].
//!
//! For a `data_selector` that is a path of keys (`data`, `data.items`, `$`) ending at a list,
//! the body is walked as raw JSON: only the objects on the path are split into their keys,
//! the records list is handed on as the slice of the body it is, and everything beside the
//! path (totals, cursors, next links) is parsed for the paginator. The records are parsed
//! once, by the host, instead of into a DOM here, back to text here and again by the host.

use std::fmt;

use serde::Deserializer as _;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The records found at a key path.
#[derive(Debug)]
pub(crate) struct Found {
    /// The body with the records list replaced by an empty list, for the paginator.
    pub view: Value,
    /// The records list as JSON text: the body's text from its first record to its last.
    pub records: String,
    pub count: usize,
}

/// The list at `keys` in `body`. `None` when the body is not valid JSON or the path does
/// not end at a list: the caller then parses the whole body and reports what it finds.
///
/// The body is read once by the parser: each object on the path is split into its keys
/// and raw values (skipped, and so checked, by the parser), and the list into its items.
pub(crate) fn find(body: &[u8], keys: &[&str]) -> Option<Found> {
    let text = std::str::from_utf8(body).ok()?;
    let (view, items) = descend(text, keys)?;
    let records = match (items.first(), items.last()) {
        (Some(first), Some(last)) => {
            let start = offset(text, first.get())?;
            let end = offset(text, last.get())? + last.get().len();
            format!("[{}]", text.get(start..end)?)
        }
        _ => "[]".to_owned(),
    };
    Some(Found {
        view,
        records,
        count: items.len(),
    })
}

/// Where `part`, a slice of `whole`, starts in it.
fn offset(whole: &str, part: &str) -> Option<usize> {
    let at = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (at + part.len() <= whole.len()).then_some(at)
}

/// The view of the JSON value `text` (nothing may follow it) and the items of the list at
/// `keys` under it.
fn descend<'a>(text: &'a str, keys: &[&str]) -> Option<(Value, Vec<&'a RawValue>)> {
    let Some((first, rest)) = keys.split_first() else {
        let mut de = serde_json::Deserializer::from_str(text);
        let items: Vec<&RawValue> = serde::Deserialize::deserialize(&mut de).ok()?;
        de.end().ok()?;
        return Some((Value::Array(Vec::new()), items));
    };
    let entries = object_entries(text)?;
    // Like a parsed object, a repeated key means its last value.
    let at = entries.iter().rposition(|(k, _)| k == first)?;
    let (inner_view, items) = descend(entries[at].1.get(), rest)?;
    let mut view = Map::new();
    let mut inner_view = Some(inner_view);
    for (i, (key, value)) in entries.into_iter().enumerate() {
        let value = match i == at {
            true => inner_view.take()?,
            false => serde_json::from_str(value.get()).ok()?,
        };
        view.insert(key, value);
    }
    Some((Value::Object(view), items))
}

/// The keys and raw values of the JSON object `text` (and nothing after it), in order;
/// `None` for anything else.
fn object_entries(text: &str) -> Option<Vec<(String, &RawValue)>> {
    struct Entries;
    impl<'de> Visitor<'de> for Entries {
        type Value = Vec<(String, &'de RawValue)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(map.size_hint().unwrap_or(4));
            while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                out.push(entry);
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let entries = de.deserialize_map(Entries).ok()?;
    de.end().ok()?;
    Some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn finds_the_list_and_keeps_everything_beside_it() {
        let body = br#"{"total": 3, "data": [{"id": 1}, {"id": 2, "tags": ["a"]}, {"id": 3}],
                        "next": {"cursor": "c2"}}"#;
        let found = find(body, &["data"]).unwrap();
        assert_eq!(found.count, 3);
        assert_eq!(parsed(&found.records)[1]["tags"][0], "a");
        assert_eq!(
            found.view,
            json!({"total": 3, "data": [], "next": {"cursor": "c2"}})
        );
        let keys: Vec<&String> = found.view.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["total", "data", "next"], "key order is kept");
    }

    #[test]
    fn nested_paths_and_a_list_body() {
        let body = br#"{"data": {"items": [{"id": 1}], "page": {"next": 2}}, "meta": null}"#;
        let found = find(body, &["data", "items"]).unwrap();
        assert_eq!(found.count, 1);
        assert_eq!(found.view["data"]["page"]["next"], 2);
        assert_eq!(found.view["meta"], Value::Null);
        let list = find(b" [1, null, {\"a\": [2]}] ", &[]).unwrap();
        assert_eq!((list.count, list.view), (3, json!([])));
        assert_eq!(find(b"[]", &[]).unwrap().count, 0);
    }

    #[test]
    fn anything_but_a_list_at_the_path_is_left_to_the_full_parse() {
        for (body, keys) in [
            (&br#"{"data": {"id": 1}}"#[..], &["data"][..]),
            (br#"{"data": null}"#, &["data"]),
            (br#"{"other": []}"#, &["data"]),
            (br#"{"data": [1, 2"#, &["data"]),
            (br#"{"data": [], "x": }"#, &["data"]),
            (b"\xff\xfe", &["data"]),
            (br#"{"error": "nope"}"#, &[]),
            (b"", &[]),
        ] {
            assert!(
                find(body, keys).is_none(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn the_records_text_is_the_list_as_it_is_in_the_body() {
        for list in [
            "[]",
            " [ ] ",
            "[1]",
            r#"["a,b", "c\\\"],[", {"k": [1, 2, {"x": "]"}]}, [], null, -1.5e3, true]"#,
            "[[],[[]],{}]",
            "[\n  {\"a\": \"\\\\\"}, \"\\\\\"\n]",
        ] {
            let items: Vec<Value> = serde_json::from_str(list).unwrap();
            let body = format!(r#"{{"data": {list}, "total": 1}}"#);
            let found = find(body.as_bytes(), &["data"]).unwrap();
            assert_eq!(found.count, items.len(), "{list}");
            assert_eq!(parsed(&found.records), Value::Array(items), "{list}");
        }
    }

    #[test]
    fn trailing_text_is_not_a_body() {
        assert!(find(br#"{"data": [1]} {"data": []}"#, &["data"]).is_none());
        assert!(find(b"[1] x", &[]).is_none());
    }

    #[test]
    fn a_repeated_key_means_its_last_value() {
        let body = br#"{"data": [1], "data": [1, 2]}"#;
        assert_eq!(find(body, &["data"]).unwrap().count, 2);
        let parsed: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(parsed["data"], json!([1, 2]), "as serde_json reads it");
    }
}
