//! Flattening a page straight from its JSON text: each record's leaves become the cells of
//! its row as the parser meets them, with no `serde_json::Value` in between, and strings
//! without escapes borrowed from the page. Gives the same rows as [`Flattener::flatten`] on
//! the parsed records.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::flatten::{FlatRow, Flattener};
use crate::types::{Cell, string_type};

/// Why a page's text could not be flattened.
#[derive(Debug)]
pub(crate) enum PageError {
    /// Record `index` is not an object (`found`: its JSON kind).
    NotAnObject { index: usize, found: &'static str },
    /// The text is not a JSON array of records.
    Json(String),
}

/// The rows of the JSON array `text`, flattened by `flattener`.
pub(crate) fn flatten_page<'a>(
    flattener: &mut Flattener,
    text: &'a str,
) -> Result<Vec<FlatRow<'a>>, PageError> {
    let mut not_object = None;
    let mut de = serde_json::Deserializer::from_str(text);
    let rows = de
        .deserialize_seq(Page {
            flattener,
            not_object: &mut not_object,
        })
        .and_then(|rows| de.end().map(|()| rows));
    match (rows, not_object) {
        (_, Some((index, found))) => Err(PageError::NotAnObject { index, found }),
        (Ok(rows), None) => Ok(rows),
        (Err(e), None) => Err(PageError::Json(e.to_string())),
    }
}

struct Page<'f> {
    flattener: &'f mut Flattener,
    not_object: &'f mut Option<(usize, &'static str)>,
}

impl<'de> Visitor<'de> for Page<'_> {
    type Value = Vec<FlatRow<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut rows = Vec::with_capacity(seq.size_hint().unwrap_or(64));
        loop {
            let index = rows.len();
            let record = Record {
                flattener: &mut *self.flattener,
                index,
                not_object: &mut *self.not_object,
            };
            match seq.next_element_seed(record)? {
                Some(row) => rows.push(row),
                None => return Ok(rows),
            }
        }
    }
}

/// One record: an object, flattened into a row.
struct Record<'f> {
    flattener: &'f mut Flattener,
    index: usize,
    not_object: &'f mut Option<(usize, &'static str)>,
}

impl<'de> DeserializeSeed<'de> for Record<'_> {
    type Value = FlatRow<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Record<'_> {
    type Value = FlatRow<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let mut row = Vec::with_capacity(map.size_hint().unwrap_or(16));
        self.flattener.start_record();
        walk(self.flattener, map, None, 0, &mut row)?;
        Ok(row)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.refuse("array", IgnoredAny.visit_seq(seq))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        self.refuse("string", Ok(IgnoredAny))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        self.refuse("number", Ok(IgnoredAny))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        self.refuse("number", Ok(IgnoredAny))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        self.refuse("number", Ok(IgnoredAny))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        self.refuse("bool", Ok(IgnoredAny))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.refuse("null", Ok(IgnoredAny))
    }
}

impl Record<'_> {
    /// Notes that this record is a `found`, not an object, and stops the page.
    fn refuse<T, E: de::Error>(
        self,
        found: &'static str,
        _: Result<IgnoredAny, E>,
    ) -> Result<T, E> {
        *self.not_object = Some((self.index, found));
        Err(E::custom(format!("record {} is not an object", self.index)))
    }
}

/// Flattens the entries of one object into `row`, under `prefix`.
fn walk<'de, A: MapAccess<'de>>(
    flattener: &mut Flattener,
    mut map: A,
    prefix: Option<&Arc<str>>,
    depth: u32,
    row: &mut FlatRow<'de>,
) -> Result<(), A::Error> {
    while let Some(key) = map.next_key::<Cow<'de, str>>()? {
        let name = flattener.column(prefix, &key);
        let value = map.next_value_seed(Leaf {
            flattener: &mut *flattener,
            name: &name,
            depth,
            row: &mut *row,
        })?;
        if let Some(cell) = value {
            flattener.push(row, name, cell);
        }
    }
    Ok(())
}

/// One value of an object: a cell, or (a nested object flattened in place) nothing.
struct Leaf<'f, 'de> {
    flattener: &'f mut Flattener,
    name: &'f Arc<str>,
    depth: u32,
    row: &'f mut FlatRow<'de>,
}

impl<'de> DeserializeSeed<'de> for Leaf<'_, 'de> {
    type Value = Option<Cell<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Leaf<'_, 'de> {
    type Value = Option<Cell<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Some(Cell::Null))
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Some(Cell::Bool(b)))
    }
    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Self::Value, E> {
        Ok(Some(Cell::Int(i)))
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Self::Value, E> {
        Ok(Some(match i64::try_from(u) {
            Ok(i) => Cell::Int(i),
            Err(_) => Cell::Float(u as f64),
        }))
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Self::Value, E> {
        Ok(Some(Cell::Float(f)))
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cell::Str(Cow::Borrowed(s), string_type(s))))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Some(Cell::Str(Cow::Owned(s.to_owned()), string_type(s))))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
        let t = string_type(&s);
        Ok(Some(Cell::Str(Cow::Owned(s), t)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let list = Value::Array(serde::Deserialize::deserialize(
            de::value::SeqAccessDeserializer::new(seq),
        )?);
        Ok(Some(Cell::Json(list.to_string())))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        if self.flattener.flattens(self.depth) {
            walk(
                self.flattener,
                map,
                Some(self.name),
                self.depth + 1,
                self.row,
            )?;
            return Ok(None);
        }
        let object: serde_json::Map<String, Value> =
            serde::Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Some(Cell::Json(Value::Object(object).to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The rows of `records` through both paths.
    fn both(records: &Value, max_nesting: Option<u32>) -> (Vec<FlatRow<'static>>, Vec<String>) {
        let text: &'static str = Box::leak(records.to_string().into_boxed_str());
        let from_text = flatten_page(&mut Flattener::new(max_nesting), text)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let mut values = Flattener::new(max_nesting);
        let from_values: Vec<String> = records
            .as_array()
            .unwrap()
            .iter()
            .map(|r| format!("{:?}", values.flatten(r.as_object().unwrap())))
            .collect();
        (from_text, from_values)
    }

    #[test]
    fn gives_the_rows_the_value_path_gives() {
        let records = json!([
            {"id": 1, "name": "Bolt \"M6\"", "price": 0.25, "big": 18446744073709551615u64,
             "neg": -3, "ok": true, "gone": null, "tags": ["a", {"b": 1}],
             "warehouse": {"code": "W1", "geo": {"lat": 1.5, "deep": {"x": [1]}}},
             "updatedAt": "2024-05-01T12:00:00Z", "Unit Price ($)": 3},
            {"id": 2, "warehouse": null, "empty": {}, "list": []}
        ]);
        for nesting in [None, Some(0), Some(1), Some(2)] {
            let (from_text, from_values) = both(&records, nesting);
            let shown: Vec<String> = from_text.iter().map(|r| format!("{r:?}")).collect();
            assert_eq!(shown, from_values, "max_nesting {nesting:?}");
        }
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let text = r#"[{"a": "plain", "b": "esc\"aped"}]"#;
        let rows = flatten_page(&mut Flattener::new(None), text).unwrap();
        assert!(matches!(rows[0][0].1, Cell::Str(Cow::Borrowed("plain"), _)));
        assert!(matches!(&rows[0][1].1, Cell::Str(Cow::Owned(s), _) if s == "esc\"aped"));
    }

    #[test]
    fn a_record_that_is_not_an_object_and_bad_text_are_errors() {
        let mut f = Flattener::new(None);
        assert!(matches!(
            flatten_page(&mut f, r#"[{"id": 1}, [2], {"id": 3}]"#),
            Err(PageError::NotAnObject {
                index: 1,
                found: "array"
            })
        ));
        assert!(matches!(
            flatten_page(&mut f, r#"[{"id": 1}, 7]"#),
            Err(PageError::NotAnObject {
                index: 1,
                found: "number"
            })
        ));
        for bad in [r#"{"id": 1}"#, r#"[{"id": 1}"#, r#"[{"id": 1}] x"#, ""] {
            assert!(
                matches!(flatten_page(&mut f, bad), Err(PageError::Json(_))),
                "{bad}"
            );
        }
    }
}
