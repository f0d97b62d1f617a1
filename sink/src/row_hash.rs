//! dlt's row hash: under the `scd2` merge strategy a record's `_dlt_id` is a hash of the
//! whole record (dlt's `get_row_hash(row)`), so a record that did not change keeps its id
//! from load to load and a changed one gets a new id. dlt hashes the record's JSON as orjson
//! writes it with sorted keys, compact, leaving out its top-level `_dlt` fields: the same
//! text is written here from the record's JSON, and hashed as `key_ids` hashes keys.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::flatten::RowId;

/// The row hash of each record of a page (`records`: the JSON array text), in order; `None`
/// when the text is not an array of objects (flattening the page then names the problem).
pub(crate) fn of_page(records: &str) -> Option<Vec<RowId>> {
    let records: Vec<Node<'_>> = serde_json::from_str(records).ok()?;
    let mut out = Vec::with_capacity(256);
    records
        .into_iter()
        .map(|record| match record {
            Node::Obj(mut fields) => {
                fields.retain(|(k, _)| !k.starts_with("_dlt"));
                out.clear();
                write_object(&mut out, &mut fields);
                Some(crate::key_ids::digest(&out))
            }
            _ => None,
        })
        .collect()
}

/// The row hash of one record.
#[cfg(test)]
fn of_record(record: &str) -> RowId {
    of_page(&format!("[{record}]")).expect("an object")[0]
}

/// A JSON value as read from the page: strings without escapes borrowed from it, objects as
/// their fields in order.
enum Node<'a> {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Str(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    Obj(Vec<(Cow<'a, str>, Node<'a>)>),
}

/// Writes `v` as orjson does with `OPT_SORT_KEYS`: keys sorted (by code point, which is the
/// order of their UTF-8 bytes), no spaces. Strings are escaped as orjson escapes them (`"`,
/// `\` and control characters: `\n`, `\t`, …, else `\u00XX`; everything else as it is),
/// which is how serde_json escapes them. Numbers as orjson writes them: integers as they
/// are, floats in their shortest form that reads back the same (`0.1`, `100.0`, `1e+20`,
/// `1e-7`). (An integer `-0` reads as the float `-0.0` here and as the integer `0` in
/// Python: the one number whose hash differs from dlt's.)
fn write_value(out: &mut Vec<u8>, v: &mut Node<'_>) {
    match v {
        Node::Null => out.extend_from_slice(b"null"),
        Node::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Node::Number(n) => write_json(out, n),
        Node::Str(s) => write_json(out, s.as_ref()),
        Node::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter_mut().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Node::Obj(fields) => write_object(out, fields),
    }
}

/// An object of `fields`, sorted by key. A repeated key keeps its last value, as Python's
/// `json` reads it.
fn write_object(out: &mut Vec<u8>, fields: &mut Vec<(Cow<'_, str>, Node<'_>)>) {
    // Stable: of equal keys the last one is last, and wins.
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    out.push(b'{');
    let mut first = true;
    for i in 0..fields.len() {
        if fields.get(i + 1).is_some_and(|next| next.0 == fields[i].0) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        let (k, v) = &mut fields[i];
        write_json(out, k.as_ref());
        out.push(b':');
        write_value(out, v);
    }
    out.push(b'}');
}

/// A string or number as serde_json writes it (and orjson: see [`write_value`]).
pub(crate) fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    // Writing into a `Vec` cannot fail, and strings and numbers always serialize.
    let _ = serde_json::to_writer(out, v);
}

impl<'de> Deserialize<'de> for Node<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

/// A key, borrowed from the page when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(NodeVisitor).and_then(|node| match node {
            Node::Str(s) => Ok(Key(s)),
            _ => Err(de::Error::custom("a key that is not a string")),
        })
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Node<'de>, E> {
        Ok(Node::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Node<'de>, E> {
        Ok(Node::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Node<'de>, E> {
        Ok(Node::Number(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Node<'de>, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Node::Null, Node::Number))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Owned(s.to_owned())))
    }
    fn visit_string<E>(self, s: String) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Owned(s)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node<'de>, A::Error> {
        let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some((Key(k), v)) = map.next_entry()? {
            fields.push((k, v));
        }
        Ok(Node::Obj(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(text: &str) -> String {
        of_record(text).as_str().to_owned()
    }

    #[test]
    fn hashes_as_dlt_hashes_a_record() {
        // dlt 1.31.0: `get_row_hash(json.loads(line))` of each line.
        assert_eq!(
            hash(r#"{"id": 1, "name": "a", "tags": ["x", "y"], "meta": {"z": 1, "b": null}}"#),
            "lX/5zLE9gvt/3g"
        );
        // Floats, escapes, a `_dlt` field left out, a big integer.
        assert_eq!(
            hash(
                r#"{"b": 1e20, "a": 0.1, "c": 1e-7, "d": 100.0, "e": "\u0001\n\u001f\u007f\u00fc\"\\/", "_dlt_x": 5, "f": true, "h": 1.5e300, "i": 12345678901234567, "j": -0.0, "k": 1E2, "l": 123456789012345678.0}"#
            ),
            "kAyuNQL56BzlbQ"
        );
    }

    #[test]
    fn equal_records_hash_alike_whatever_their_key_order_and_changed_ones_do_not() {
        let a = hash(r#"{"id": 1, "q": [1, {"y": 2, "x": 1}]}"#);
        assert_eq!(a, hash(r#"{"q": [1, {"x": 1, "y": 2}], "id": 1}"#));
        assert_ne!(a, hash(r#"{"q": [1, {"x": 1, "y": 3}], "id": 1}"#));
        assert_ne!(a, hash(r#"{"q": [{"x": 1, "y": 2}, 1], "id": 1}"#));
        // A repeated key keeps its last value, as Python's `json` reads it.
        assert_eq!(
            hash(r#"{"b": 1, "a": {"x": 1, "x": 2}, "b": 3}"#),
            hash(r#"{"a": {"x": 2}, "b": 3}"#)
        );
        assert_ne!(hash(r#"{"b": 3, "b": 1}"#), hash(r#"{"b": 3}"#));
    }

    #[test]
    fn a_page_that_is_not_an_array_of_objects_has_no_hashes() {
        assert_eq!(of_page("[]"), Some(Vec::new()));
        assert_eq!(of_page(r#"[{"a": 1}, {"a": 2}]"#).map(|h| h.len()), Some(2));
        assert!(of_page(r#"[{"a": 1}, 2]"#).is_none());
        assert!(of_page("{").is_none());
    }
}
