//! dlt's deterministic `_dlt_id`s for the merge strategies that key rows (`upsert`,
//! `insert-only`): a record's id is a hash of its primary key (dlt's `get_row_hash` with the
//! key as subset), a child row's a hash of its parent's id, its table and its position
//! (`get_nested_row_hash`). So a record keeps its id, and its child rows theirs, from load
//! to load, as in dlt.

use base64::Engine;
use foldhash::{HashMap, HashMapExt};
use sha3::digest::{ExtendableOutput, Update, XofReader};

use crate::flatten::{DLT_ID, DLT_LIST_IDX, DLT_PARENT_ID, DLT_ROOT_ID, FlatRow, Row, RowId};
use crate::types::Cell;

/// Bytes of dlt's `_dlt_id` digest (`DLT_ID_LENGTH_BYTES`): 14 characters of base64.
const ID_BYTES: usize = 10;

/// dlt's `digest128b(v, 10)`: SHAKE-128 of `v`, 10 bytes, base64 without padding.
pub(crate) fn digest(v: &[u8]) -> RowId {
    let mut hasher = sha3::Shake128::default();
    hasher.update(v);
    let mut bytes = [0u8; ID_BYTES];
    hasher.finalize_xof().read(&mut bytes);
    let text = base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes);
    RowId::from_ascii(text.as_bytes())
}

/// The id of a record keyed by `key` (normalized column names): dlt hashes the JSON object
/// of the key's values, keys sorted, compact (written as [`crate::row_hash`] writes JSON).
pub(crate) fn record_id(cells: &FlatRow<'_>, key: &[String]) -> RowId {
    use crate::row_hash::write_json;
    let mut fields: Vec<(&str, Option<&Cell<'_>>)> = key
        .iter()
        .map(|k| {
            let cell = cells.iter().find(|(n, _)| **n == **k).map(|(_, c)| c);
            (k.as_str(), cell)
        })
        .collect();
    fields.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = Vec::with_capacity(64);
    out.push(b'{');
    for (i, (k, cell)) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json(&mut out, k);
        out.push(b':');
        match cell {
            None | Some(Cell::Null) => out.extend_from_slice(b"null"),
            Some(Cell::Int(i)) => write_json(&mut out, i),
            Some(Cell::Float(f)) => write_json(&mut out, f),
            Some(Cell::Bool(b)) => write_json(&mut out, b),
            Some(other) => write_json(&mut out, &other.to_text().unwrap_or_default()),
        }
    }
    out.push(b'}');
    digest(&out)
}

/// The id of the row at `idx` of the list in table `table` of the row `parent`.
pub(crate) fn child_id(parent: RowId, table: &str, idx: i64) -> RowId {
    digest(format!("{}_{table}_{idx}", parent.as_str()).as_bytes())
}

/// Gives the record `root` of a page, whose child rows are in `tables[1..]` (tables after
/// their parents), the ids its key makes: `from` is the id it was flattened with, `to` its
/// key's. `names` gives each table's name.
pub(crate) fn rekey(
    tables: &mut [Vec<Row<'_>>],
    root: usize,
    (from, to): (RowId, RowId),
    names: &dyn Fn(usize) -> std::sync::Arc<str>,
) {
    let mut ids: HashMap<RowId, RowId> = HashMap::new();
    ids.insert(from, to);
    for (t, rows) in tables.iter_mut().enumerate().skip(1) {
        if rows.last().is_none_or(|r| r.root != root) {
            continue;
        }
        let name = names(t);
        // This record's rows are the last ones of each table.
        for row in rows.iter_mut().rev().take_while(|r| r.root == root) {
            let at = |n: &str| row.cells.iter().position(|(c, _)| **c == *n);
            let (Some(parent_at), Some(idx_at), Some(id_at)) =
                (at(DLT_PARENT_ID), at(DLT_LIST_IDX), at(DLT_ID))
            else {
                continue;
            };
            let root_at = at(DLT_ROOT_ID);
            let (Cell::RowId(parent), Cell::Int(idx), Cell::RowId(old)) = (
                &row.cells[parent_at].1,
                &row.cells[idx_at].1,
                &row.cells[id_at].1,
            ) else {
                continue;
            };
            let (old, idx) = (*old, *idx);
            let parent = ids.get(parent).copied().unwrap_or(*parent);
            let id = child_id(parent, &name, idx);
            ids.insert(old, id);
            row.cells[parent_at].1 = Cell::RowId(parent);
            row.cells[id_at].1 = Cell::RowId(id);
            if let Some(at) = root_at {
                row.cells[at].1 = Cell::RowId(to);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_as_dlt_makes_them() {
        // Computed with dlt: `get_row_hash({"id": 1}, subset=["id"])`,
        // `get_row_hash({"a": "x", "b": 2}, subset=["b", "a"])` and
        // `get_nested_row_hash("<id of id 1>", "items__tags", 0)`.
        let one = record_id(&vec![("id".into(), Cell::Int(1))], &["id".to_string()]);
        assert_eq!(one.as_str(), KEY_1);
        let two = record_id(
            &vec![
                ("b".into(), Cell::Int(2)),
                ("a".into(), Cell::Str("x".into(), crate::DataType::Text)),
            ],
            &["b".to_string(), "a".to_string()],
        );
        assert_eq!(two.as_str(), KEY_AX_B2);
        assert_eq!(child_id(one, "items__tags", 0).as_str(), CHILD_0);
        // `get_row_hash({"id": 'ü"x'}, ...)` and `{"id": 1.5}`: JSON as orjson writes it.
        let quoted = Cell::Str("ü\"x".into(), crate::DataType::Text);
        let id = ["id".to_string()];
        assert_eq!(
            record_id(&vec![("id".into(), quoted)], &id).as_str(),
            KEY_QUOTED
        );
        assert_eq!(
            record_id(&vec![("id".into(), Cell::Float(1.5))], &id).as_str(),
            KEY_FLOAT
        );
    }

    // dlt 1.31.0's values (`pip install dlt`, then the calls above).
    const KEY_1: &str = "z5jIxXIbUnmbKw";
    const KEY_AX_B2: &str = "bp92PG10J38B1g";
    const CHILD_0: &str = "GDkSJA8BDB4ssw";
    const KEY_QUOTED: &str = "oW+g977Cnm6rRA";
    const KEY_FLOAT: &str = "ajYxs7YZNhIBVQ";
}
