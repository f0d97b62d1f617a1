//! Properties: records flattened into a table and its child tables read back as the values
//! they were (nested objects through their `a__b` columns, lists through their child tables,
//! in order), whatever their shape; and merge loads leave exactly the last record of each
//! key with its own child rows, as dlt's delete-insert does.

mod common;

use common::{Db, spec};
use proptest::prelude::*;
use rusqlite::types::Value as Sql;
use serde_json::{Map, Value, json};
use sluice_sink::WriteDisposition::{Append, Merge};
use sluice_sink::{Outcome, Sink};

/// A leaf whose type the key's first letter fixes (so no field changes type).
fn leaf(kind: char) -> BoxedStrategy<Value> {
    match kind {
        'i' => any::<i64>().prop_map(Value::from).boxed(),
        'f' => (-1e12f64..1e12).prop_map(|f| json!(f)).boxed(),
        'b' => any::<bool>().prop_map(Value::from).boxed(),
        _ => "[a-z ]{0,10}".prop_map(Value::from).boxed(),
    }
}

/// A key `<kind>_<name>`: `i`/`f`/`b`/`s` leaves, `n` a nested object, `l` a list of ints.
fn key() -> impl Strategy<Value = String> {
    ("[ifbsnl]", "[a-z]{1,5}").prop_map(|(k, n)| format!("{k}_{n}"))
}

fn value_for(key: &str) -> BoxedStrategy<Value> {
    let kind = key.chars().next().unwrap_or('s');
    match kind {
        'n' => prop::collection::btree_map("[ifbs]_[a-z]{1,4}", Just(()), 0..4)
            .prop_flat_map(|keys| {
                let fields: Vec<_> = keys
                    .into_keys()
                    .map(|k| {
                        let kind = k.chars().next().unwrap_or('s');
                        (
                            Just(k),
                            prop_oneof![4 => leaf(kind), 1 => Just(Value::Null)],
                        )
                    })
                    .collect();
                fields.prop_map(|f| Value::Object(f.into_iter().collect::<Map<_, _>>()))
            })
            .boxed(),
        'l' => prop::collection::vec(any::<i32>().prop_map(Value::from), 0..5)
            .prop_map(Value::Array)
            .boxed(),
        k => prop_oneof![4 => leaf(k), 1 => Just(Value::Null)].boxed(),
    }
}

fn record() -> impl Strategy<Value = Value> {
    prop::collection::btree_set(key(), 1..7).prop_flat_map(|keys| {
        let fields: Vec<_> = keys
            .into_iter()
            .map(|k| (Just(k.clone()), value_for(&k)))
            .collect();
        fields.prop_map(|f| Value::Object(f.into_iter().collect::<Map<_, _>>()))
    })
}

/// The stored form of a JSON leaf.
fn stored(v: &Value) -> Sql {
    match v {
        Value::Null => Sql::Null,
        Value::Bool(b) => Sql::Integer(i64::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Sql::Integer(i),
            None => Sql::Real(n.as_f64().unwrap()),
        },
        Value::String(s) => Sql::Text(s.clone()),
        other => panic!("not a leaf: {other}"),
    }
}

/// The value of `column` in `row` of `table` (NULL when the column does not exist: a field
/// only ever null gets none).
fn cell(db: &Db, table: &str, column: &str, row_id: &str) -> Sql {
    let exists = db
        .sink
        .columns(table)
        .unwrap()
        .iter()
        .any(|c| c.name == column);
    if !exists {
        return Sql::Null;
    }
    db.inspect()
        .query_row(
            &format!("SELECT \"{column}\" FROM \"{table}\" WHERE _dlt_id = ?1"),
            [row_id],
            |r| r.get(0),
        )
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn records_read_back_as_they_were(pages in prop::collection::vec(prop::collection::vec(record(), 0..6), 1..4)) {
        let mut db = Db::new();
        db.load(&spec("t", &[], Append), &pages);
        let records: Vec<&Value> = pages.iter().flatten().collect();
        let ids: Vec<String> = if records.is_empty() {
            Vec::new()
        } else {
            let conn = db.inspect();
            let mut stmt = conn.prepare("SELECT _dlt_id FROM t ORDER BY _dlt_id").unwrap();
            stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
        };
        prop_assert_eq!(ids.len(), records.len(), "one row per record, in load order");
        for (record, id) in records.iter().zip(&ids) {
            for (k, v) in record.as_object().unwrap() {
                match v {
                    Value::Object(inner) => {
                        for (k2, v2) in inner {
                            prop_assert_eq!(cell(&db, "t", &format!("{k}__{k2}"), id), stored(v2));
                        }
                    }
                    Value::Array(items) => {
                        let got: Vec<Sql> = if db.sink.columns(&format!("t__{k}")).unwrap().is_empty() {
                            Vec::new()
                        } else {
                            let conn = db.inspect();
                            let mut stmt = conn
                                .prepare(&format!(
                                    "SELECT value FROM \"t__{k}\" WHERE _dlt_parent_id = ?1 ORDER BY _dlt_list_idx"
                                ))
                                .unwrap();
                            stmt.query_map([id], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
                        };
                        let want: Vec<Sql> = items.iter().map(stored).collect();
                        prop_assert_eq!(got, want, "list {}", k);
                    }
                    leaf => prop_assert_eq!(cell(&db, "t", k, id), stored(leaf), "field {}", k),
                }
            }
        }
    }
}

/// A record of key `id` with a list of strings and a list of objects holding lists (child
/// and grandchild tables), any of them possibly empty.
fn keyed_record() -> impl Strategy<Value = Value> {
    let part = (0u8..9, prop::collection::vec(0u8..9, 0..3))
        .prop_map(|(n, subs)| json!({"n": n, "subs": subs}));
    (
        0u8..6,
        0u8..9,
        prop::collection::vec("[a-c]", 0..3),
        prop::collection::vec(part, 0..3),
    )
        .prop_map(|(id, v, tags, parts)| json!({"id": id, "v": v, "tags": tags, "parts": parts}))
}

/// The values of `column` in `table` for the rows whose `link` is `id`, in list order (none
/// when the table was never created).
fn children(db: &Db, table: &str, column: &str, link: &str, id: &str) -> Vec<Vec<Sql>> {
    if !db.table_exists(table) {
        return Vec::new();
    }
    let conn = db.inspect();
    let sql = format!(
        "SELECT {column}, _dlt_id FROM \"{table}\" WHERE {link} = ?1 ORDER BY _dlt_list_idx"
    );
    let mut stmt = conn.prepare(&sql).unwrap();
    stmt.query_map([id], |r| Ok(vec![r.get(0)?, r.get(1)?]))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn merge_keeps_the_last_record_of_each_key_with_its_own_child_rows(
        loads in prop::collection::vec(
            prop::collection::vec(prop::collection::vec(keyed_record(), 0..6), 1..4), 1..4),
    ) {
        let mut db = Db::new();
        let spec = spec("t", &["id"], Merge);
        for pages in &loads {
            let id = db.sink.begin(&spec).unwrap();
            for (i, page) in pages.iter().enumerate() {
                db.sink.write_page(id, page, &format!("{{\"page\":{i}}}")).unwrap();
            }
            db.sink.finish(id, Outcome::Completed).unwrap();
        }
        // dlt's delete-insert: the last record of each key, in full.
        let mut last: std::collections::BTreeMap<u64, &Value> = Default::default();
        for record in loads.iter().flatten().flatten() {
            last.insert(record["id"].as_u64().unwrap(), record);
        }
        let roots = if last.is_empty() {
            Vec::new()
        } else {
            db.rows("SELECT id, v, _dlt_id FROM t ORDER BY id")
        };
        prop_assert_eq!(roots.len(), last.len(), "one row per key");
        let (mut tags, mut parts, mut subs) = (0, 0, 0);
        for (row, (key, record)) in roots.iter().zip(&last) {
            prop_assert_eq!(&row[0], &Sql::Integer(*key as i64));
            prop_assert_eq!(&row[1], &stored(&record["v"]));
            let Sql::Text(root) = &row[2] else { panic!("_dlt_id") };
            let got: Vec<Sql> = children(&db, "t__tags", "value", "_dlt_root_id", root)
                .into_iter().map(|r| r[0].clone()).collect();
            let want: Vec<Sql> = record["tags"].as_array().unwrap().iter().map(stored).collect();
            tags += want.len();
            prop_assert_eq!(got, want, "tags of {}", key);
            let got_parts = children(&db, "t__parts", "n", "_dlt_parent_id", root);
            let want_parts = record["parts"].as_array().unwrap();
            prop_assert_eq!(got_parts.len(), want_parts.len(), "parts of {}", key);
            parts += want_parts.len();
            for (got, want) in got_parts.iter().zip(want_parts) {
                prop_assert_eq!(&got[0], &stored(&want["n"]));
                let Sql::Text(part) = &got[1] else { panic!("_dlt_id") };
                let got: Vec<Sql> = children(&db, "t__parts__subs", "value", "_dlt_parent_id", part)
                    .into_iter().map(|r| r[0].clone()).collect();
                let want: Vec<Sql> = want["subs"].as_array().unwrap().iter().map(stored).collect();
                subs += want.len();
                prop_assert_eq!(got, want, "subs of a part of {}", key);
            }
        }
        // No child row of a replaced record is left behind.
        for (table, n) in [("t__tags", tags), ("t__parts", parts), ("t__parts__subs", subs)] {
            let stored = if db.table_exists(table) { db.count(table) } else { 0 };
            prop_assert_eq!(stored, n as i64, "rows in {}", table);
        }
    }
}
