use super::*;
use crate::flatten::Flattener;
use crate::flatten_json::flatten_page;

fn root_rows(text: &'static str) -> Vec<&'static Row<'static>> {
    let mut f = Flattener::new("t", None, false, "1");
    let rows = flatten_page(&mut f, text).unwrap().tables.swap_remove(0);
    Box::leak(rows.into_boxed_slice()).iter().collect()
}

fn names(cols: &[ColumnInfo]) -> Vec<(String, DataType, bool)> {
    cols.iter()
        .map(|c| (c.name.clone(), c.data_type, c.nullable))
        .collect()
}

#[test]
fn first_typed_value_sets_the_type_and_null_only_fields_get_no_column() {
    let rows =
        root_rows(r#"[{"id": 1, "n": null, "q": 2}, {"id": 2, "x": 1.5, "n": null, "q": 2.5}]"#);
    let added: Vec<ColumnInfo> = plan(&TableSchema::default(), &rows, &["id".to_owned()], &[])
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    let got = names(&added);
    let want = [
        ("id", DataType::Bigint, false),
        ("q", DataType::Bigint, true),
        ("_dlt_load_id", DataType::Text, false),
        ("_dlt_id", DataType::Text, false),
        ("x", DataType::Double, true),
        ("q__v_double", DataType::Double, true),
    ];
    let want: Vec<(String, DataType, bool)> = want
        .iter()
        .map(|(n, t, b)| ((*n).to_owned(), *t, *b))
        .collect();
    assert_eq!(got, want);
    assert!(added[0].primary_key);
}

#[test]
fn later_pages_add_variants_and_new_fields_only() {
    let first = root_rows(r#"[{"id": 1, "price": 9.5, "flag": true}]"#);
    let cols = |planned: Vec<(ColumnInfo, Kind)>| -> Vec<ColumnInfo> {
        planned.into_iter().map(|(c, _)| c).collect()
    };
    let base = TableSchema::default().with(&cols(plan(&TableSchema::default(), &first, &[], &[])));
    let next =
        root_rows(r#"[{"id": "7", "price": "n/a", "flag": "yes", "later": null, "new": "x"}]"#);
    let planned = plan(&base, &next, &[], &[]);
    assert_eq!(
        planned[0].1,
        Kind::Variant {
            base: "price".into()
        }
    );
    assert_eq!(planned[1].1, Kind::New);
    let added = cols(planned);
    let got: Vec<String> = added.iter().map(|c| c.name.clone()).collect();
    // "7" fits bigint and "yes" fits bool (dlt coerces them); "n/a" does not fit double.
    assert_eq!(got, ["price__v_text", "new"]);
    assert!(plan(&base, &first, &[], &[]).is_empty());
    let schema = base.with(&added);
    let mut positions = Positions::default();
    let (name, cell) = &next[0].cells[1];
    let (i, stored) = schema.place(&mut positions, 1, name, cell).unwrap();
    assert_eq!(schema.columns()[i].name, "price__v_text");
    assert_eq!(stored, Stored::Text("n/a".into()));
}
