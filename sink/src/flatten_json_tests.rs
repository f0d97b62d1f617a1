//! Shapes checked against dlt 1.31's relational normalizer on the same records.

use super::*;
use crate::types::DataType;

fn page(text: &'static str, max: Option<u32>, merge: bool) -> (Flattener, PageRows<'static>) {
    let mut f = Flattener::new("items", max, merge, "7");
    let rows = flatten_page(&mut f, text).unwrap_or_else(|e| panic!("{e:?}"));
    (f, rows)
}

/// `table: [column=value, ...]` per row, dlt's id columns shown by name only.
fn shown(f: &Flattener, rows: &PageRows<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for (t, table) in rows.tables.iter().enumerate() {
        for row in table {
            let cells: Vec<String> = row
                .cells
                .iter()
                .map(|(n, c)| match (&**n, c) {
                    ("_dlt_id" | "_dlt_parent_id" | "_dlt_root_id", _) => n.to_string(),
                    (_, Cell::Str(s, _)) => format!("{n}={s}"),
                    (_, Cell::Id(s)) => format!("{n}={s}"),
                    (_, Cell::Int(i)) => format!("{n}={i}"),
                    (_, Cell::Json(j)) => format!("{n}={j}"),
                    (_, c) => format!("{n}={c:?}"),
                })
                .collect();
            out.push(format!("{}: {}", f.table_name(t), cells.join(" ")));
        }
    }
    out
}

const RECORD: &str = r#"[{"id": 1, "tags": ["a", "b"], "warehouse": null,
    "w2": {"id": 3, "bins": [{"n": 1, "sub": [1, 2]}]}, "matrix": [[1, 2], [3]],
    "": 5, "e": [], "o": {}}]"#;

#[test]
fn lists_become_child_tables_like_dlt() {
    let (f, rows) = page(RECORD, None, false);
    assert_eq!(
        shown(&f, &rows),
        [
            "items: id=1 warehouse=Null w2__id=3 _empty=5 _dlt_load_id=7 _dlt_id",
            "items__tags: value=a _dlt_parent_id _dlt_list_idx=0 _dlt_id",
            "items__tags: value=b _dlt_parent_id _dlt_list_idx=1 _dlt_id",
            "items__w2__bins: n=1 _dlt_parent_id _dlt_list_idx=0 _dlt_id",
            "items__w2__bins__sub: value=1 _dlt_parent_id _dlt_list_idx=0 _dlt_id",
            "items__w2__bins__sub: value=2 _dlt_parent_id _dlt_list_idx=1 _dlt_id",
            "items__matrix: _dlt_parent_id _dlt_list_idx=0 _dlt_id",
            "items__matrix: _dlt_parent_id _dlt_list_idx=1 _dlt_id",
            "items__matrix__list: value=1 _dlt_parent_id _dlt_list_idx=0 _dlt_id",
            "items__matrix__list: value=2 _dlt_parent_id _dlt_list_idx=1 _dlt_id",
            "items__matrix__list: value=3 _dlt_parent_id _dlt_list_idx=0 _dlt_id",
        ]
    );
}

#[test]
fn max_table_nesting_keeps_deeper_values_as_json() {
    let (f, rows) = page(RECORD, Some(1), false);
    assert_eq!(
        shown(&f, &rows),
        [
            r#"items: id=1 warehouse=Null w2__id=3 w2__bins=[{"n":1,"sub":[1,2]}] _empty=5 _dlt_load_id=7 _dlt_id"#,
            "items__tags: value=a _dlt_parent_id _dlt_list_idx=0 _dlt_id",
            "items__tags: value=b _dlt_parent_id _dlt_list_idx=1 _dlt_id",
            "items__matrix: list=[1,2] _dlt_parent_id _dlt_list_idx=0 _dlt_id",
            "items__matrix: list=[3] _dlt_parent_id _dlt_list_idx=1 _dlt_id",
        ]
    );
    let (f, rows) = page(RECORD, Some(0), false);
    assert_eq!(
        shown(&f, &rows),
        [
            r#"items: id=1 tags=["a","b"] warehouse=Null w2={"id":3,"bins":[{"n":1,"sub":[1,2]}]} matrix=[[1,2],[3]] _empty=5 e=[] o={} _dlt_load_id=7 _dlt_id"#
        ]
    );
}

#[test]
fn ids_link_children_to_parents_and_roots() {
    let (_, rows) = page(RECORD, None, true);
    let get = |t: usize, r: usize, col: &str| -> String {
        rows.tables[t][r]
            .cells
            .iter()
            .find(|(n, _)| &**n == col)
            .map(|(_, c)| c.to_text().unwrap())
            .unwrap_or_default()
    };
    let root_id = get(0, 0, "_dlt_id");
    assert_eq!(root_id.len(), 14, "10 bytes of base64, as dlt");
    assert_eq!(get(1, 0, "_dlt_parent_id"), root_id);
    assert_eq!(get(1, 0, "_dlt_root_id"), root_id);
    // The grandchild points at its parent row, and at the record as its root.
    let bins_id = get(2, 0, "_dlt_id");
    assert_eq!(get(3, 1, "_dlt_parent_id"), bins_id);
    assert_eq!(get(3, 1, "_dlt_root_id"), root_id);
    let (_, plain) = page(RECORD, None, false);
    assert!(
        plain.tables[1][0]
            .cells
            .iter()
            .all(|(n, _)| &**n != "_dlt_root_id")
    );
}

#[test]
fn strings_without_escapes_are_borrowed() {
    let text = r#"[{"a": "plain", "b": "esc\"aped"}]"#;
    let rows = flatten_page(&mut Flattener::new("t", None, false, "1"), text).unwrap();
    let cells = &rows.tables[0][0].cells;
    assert!(matches!(
        cells[0].1,
        Cell::Str(Cow::Borrowed("plain"), DataType::Text)
    ));
    assert!(matches!(&cells[1].1, Cell::Str(Cow::Owned(s), _) if s == "esc\"aped"));
}

#[test]
fn bad_pages_are_errors() {
    let mut f = Flattener::new("t", None, false, "1");
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
            matches!(flatten_page(&mut f, bad), Err(PageError::Json { .. })),
            "{bad}"
        );
    }
    match flatten_page(&mut f, r#"[{"a": 1}, {"updatedAt": 1, "updated_at": 2}]"#) {
        Err(PageError::Collision {
            index: 1,
            collision,
        }) => {
            assert_eq!(collision.column, "updated_at");
            assert_eq!(collision.key, "updated_at");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn keys_with_and_without_escapes_name_the_same_columns() {
    // An escaped key is read into a string of its own, a plain one borrowed: both normalize
    // alike, and a nested one makes the same `parent__child` column.
    let (f, rows) = page(
        r#"[{"Unit Price": 1, "w": {"Bin\u0020No": 2}, "t\u0061gs": ["x"]},
            {"Unit\u0020Price": 3, "w": {"Bin No": 4}, "tags": ["y"]}]"#,
        None,
        false,
    );
    let shown = shown(&f, &rows);
    assert_eq!(
        shown,
        [
            "items: unit_price=1 w__bin_no=2 _dlt_load_id=7 _dlt_id",
            "items: unit_price=3 w__bin_no=4 _dlt_load_id=7 _dlt_id",
            "items__tags: value=x _dlt_parent_id _dlt_list_idx=0 _dlt_id",
            "items__tags: value=y _dlt_parent_id _dlt_list_idx=0 _dlt_id",
        ]
    );
}

#[test]
fn records_nested_past_the_depth_limit_fail_naming_the_place() {
    // A record of `levels` objects, one inside the other (the record itself is the first).
    let nested = |levels: usize| {
        let record = "{\"a\":".repeat(levels) + "1" + &"}".repeat(levels);
        format!("[{record}]")
    };
    let deepest = MAX_RECORD_DEPTH;
    let mut f = Flattener::new("t", None, false, "1");
    let text = nested(deepest);
    let rows = flatten_page(&mut f, &text).unwrap();
    assert_eq!(rows.roots().len(), 1, "{deepest} levels load");
    let text = nested(deepest + 1);
    match flatten_page(&mut Flattener::new("t", None, false, "1"), &text) {
        Err(PageError::TooDeep { line: 1, column }) => {
            assert!(column > deepest * 5 && column <= text.len(), "{column}");
        }
        other => panic!("{other:?}"),
    }
}
