//! Flattening of nested records into `parent__child` leaf cells (dialect-free).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::naming::{NESTING, normalize_identifier};
use crate::types::{Cell, string_type};

/// A flattened record: `(column name, cell)` in first-seen order. Names are shared: the
/// cells of one column in every row of a page point to one name.
pub(crate) type FlatRow<'a> = Vec<(Arc<str>, Cell<'a>)>;

/// Flattens records, caching the normalization of raw keys so a page of similar records
/// normalizes each distinct key once.
#[derive(Debug, Default)]
pub(crate) struct Flattener {
    /// Levels of nested objects flattened; deeper objects stay JSON. `None`: no limit.
    max_nesting: Option<u32>,
    names: HashMap<String, String>,
    /// Every normalized name produced so far.
    normalized: HashSet<String>,
    /// True once two raw keys normalized to the same name: rows must then be deduplicated.
    ambiguous: bool,
    /// The cells of the previous record, by position: `(prefix, raw key, column name)`.
    /// Records of a page repeat their keys in order, so a cell's name is usually found here
    /// without hashing or allocating.
    recent: Vec<(Option<Arc<str>>, String, Arc<str>)>,
    /// Position of the next cell in the record being flattened.
    cursor: usize,
}

impl Flattener {
    /// A flattener that flattens at most `max_nesting` levels of nested objects.
    pub(crate) fn new(max_nesting: Option<u32>) -> Self {
        Flattener {
            max_nesting,
            ..Flattener::default()
        }
    }

    /// Flattens one object. Nested objects recurse (down to the nesting limit, below which
    /// they become JSON text); lists become JSON text.
    pub(crate) fn flatten<'a>(&mut self, record: &'a Map<String, Value>) -> FlatRow<'a> {
        let mut out = Vec::with_capacity(record.len());
        self.start_record();
        self.walk(record, None, 0, &mut out);
        out
    }

    /// Starts a record: its cells are matched with the previous record's by position.
    pub(crate) fn start_record(&mut self) {
        self.cursor = 0;
    }

    /// The column name of the next cell: `key` normalized, under `prefix`.
    pub(crate) fn column(&mut self, prefix: Option<&Arc<str>>, key: &str) -> Arc<str> {
        let at = self.cursor;
        self.cursor += 1;
        if let Some((p, k, name)) = self.recent.get(at)
            && k == key
            && match (p, prefix) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
                _ => false,
            }
        {
            return Arc::clone(name);
        }
        let leaf = self.name(key);
        let name: Arc<str> = match prefix {
            Some(p) => format!("{p}{NESTING}{leaf}").into(),
            None => leaf.into(),
        };
        let entry = (prefix.cloned(), key.to_owned(), Arc::clone(&name));
        match self.recent.get_mut(at) {
            Some(slot) => *slot = entry,
            None => self.recent.push(entry),
        }
        name
    }

    pub(crate) fn name(&mut self, key: &str) -> &str {
        if !self.names.contains_key(key) {
            let name = normalize_identifier(key);
            if !self.normalized.insert(name.clone()) {
                self.ambiguous = true;
            }
            self.names.insert(key.to_owned(), name);
        }
        self.names.get(key).map_or("_", String::as_str)
    }

    fn walk<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        prefix: Option<&Arc<str>>,
        depth: u32,
        out: &mut FlatRow<'a>,
    ) {
        for (key, value) in obj {
            let name = self.column(prefix, key);
            let cell = match value {
                Value::Object(child) if self.flattens(depth) => {
                    self.walk(child, Some(&name), depth + 1, out);
                    continue;
                }
                Value::Object(_) => Cell::Json(value.to_string()),
                Value::Null => Cell::Null,
                Value::Bool(b) => Cell::Bool(*b),
                Value::Number(n) => match n.as_i64() {
                    Some(i) => Cell::Int(i),
                    None => Cell::Float(n.as_f64().unwrap_or(f64::NAN)),
                },
                Value::String(s) => Cell::Str(s.into(), string_type(s)),
                Value::Array(_) => Cell::Json(value.to_string()),
            };
            self.push(out, name, cell);
        }
    }

    /// Whether an object `depth` levels down is flattened into columns (else kept as JSON).
    pub(crate) fn flattens(&self, depth: u32) -> bool {
        self.max_nesting.is_none_or(|max| depth < max)
    }

    /// Adds a cell to a row. Two raw keys normalizing to the same name: the last one wins.
    /// Only scanned for once such a pair has been seen, so the common case stays linear.
    pub(crate) fn push<'a>(&self, out: &mut FlatRow<'a>, name: Arc<str>, cell: Cell<'a>) {
        if self.ambiguous
            && let Some(slot) = out.iter_mut().find(|(n, _)| *n == name)
        {
            slot.1 = cell;
        } else {
            out.push((name, cell));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::DataType;
    use serde_json::json;

    #[test]
    fn flattens_nested_objects_and_keeps_lists_as_json() {
        let v = json!({"id": 1, "warehouse": {"code": "W1", "geo": {"lat": 1.5}}, "tags": ["a", "b"],
                       "updatedAt": "2024-05-01T12:00:00Z", "ok": true, "gone": null});
        let mut f = Flattener::default();
        let row = f.flatten(v.as_object().unwrap());
        let names: Vec<&str> = row.iter().map(|(n, _)| &**n).collect();
        assert_eq!(
            names,
            [
                "id",
                "warehouse__code",
                "warehouse__geo__lat",
                "tags",
                "updated_at",
                "ok",
                "gone"
            ]
        );
        assert_eq!(row[0].1, Cell::Int(1));
        assert_eq!(row[1].1, Cell::Str("W1".into(), DataType::Text));
        assert_eq!(row[2].1, Cell::Float(1.5));
        assert_eq!(row[3].1, Cell::Json(r#"["a","b"]"#.to_owned()));
        assert_eq!(row[4].1.data_type(), Some(DataType::Timestamp));
        assert_eq!(row[5].1, Cell::Bool(true));
        assert_eq!(row[6].1, Cell::Null);
    }

    #[test]
    fn objects_below_the_nesting_limit_stay_json() {
        let v = json!({"id": 1, "w": {"code": "W1", "geo": {"lat": 1.5, "p": {"x": 1}}}});
        let names = |max: Option<u32>| {
            let mut f = Flattener::new(max);
            f.flatten(v.as_object().unwrap())
                .into_iter()
                .map(|(n, c)| (n, c.data_type()))
                .collect::<Vec<_>>()
        };
        let json = Some(DataType::Json);
        assert_eq!(
            names(Some(0)),
            [("id".into(), Some(DataType::Bigint)), ("w".into(), json)]
        );
        assert_eq!(
            names(Some(1)),
            [
                ("id".into(), Some(DataType::Bigint)),
                ("w__code".into(), Some(DataType::Text)),
                ("w__geo".into(), json)
            ]
        );
        assert_eq!(names(Some(2))[3], ("w__geo__p".into(), json));
        assert_eq!(names(Some(3)), names(None));
        assert_eq!(names(None).len(), 4);
        let mut f = Flattener::new(Some(0));
        let row = f.flatten(v.as_object().unwrap());
        assert_eq!(
            row[1].1,
            Cell::Json(r#"{"code":"W1","geo":{"lat":1.5,"p":{"x":1}}}"#.into())
        );
    }

    #[test]
    fn colliding_keys_keep_the_last_value() {
        let v = json!({"a": 1, "updatedAt": "x", "updated_at": "y", "b": 2});
        let mut f = Flattener::default();
        let row = f.flatten(v.as_object().unwrap());
        let names: Vec<&str> = row.iter().map(|(n, _)| &**n).collect();
        assert_eq!(names, ["a", "updated_at", "b"]);
        assert_eq!(row[1].1, Cell::Str("y".into(), DataType::Text));
    }
}
