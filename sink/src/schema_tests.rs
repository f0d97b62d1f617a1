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

/// Every kind of value `fits` lets through converts: the fast path of a page that brings
/// nothing new never skips a variant column `plan` would add.
#[test]
fn kinds_that_always_fit_always_convert() {
    use std::borrow::Cow;
    let samples = [
        Cell::Int(0),
        Cell::Int(-7),
        Cell::Int(i64::MAX),
        Cell::Float(2.5),
        Cell::Float(-1e300),
        Cell::Float(3.0),
        Cell::Bool(true),
        Cell::Str(Cow::Borrowed("text"), DataType::Text),
        Cell::Str(Cow::Borrowed(""), DataType::Text),
        Cell::Str(Cow::Borrowed("12"), DataType::Text),
        Cell::Str(Cow::Borrowed("2024-02-29T10:00:00Z"), DataType::Timestamp),
        Cell::Str(Cow::Borrowed("2024-02-29"), DataType::Timestamp),
        Cell::Json("[1]".into()),
        Cell::Id("abc".into()),
    ];
    let all = [
        DataType::Bigint,
        DataType::Double,
        DataType::Bool,
        DataType::Text,
        DataType::Timestamp,
        DataType::Json,
        DataType::Date,
        DataType::Decimal,
        DataType::Binary,
    ];
    let mut fitting = 0;
    for cell in &samples {
        let own = cell.data_type().unwrap();
        for column in all {
            if always_fits(own, column) {
                fitting += 1;
                assert!(
                    coerce(cell, column).is_some(),
                    "{cell:?} into a {column:?} column"
                );
            }
        }
    }
    assert!(fitting > samples.len(), "the check looked at something");
}

#[test]
fn a_page_fits_when_each_kind_has_a_column_that_takes_it() {
    let schema = TableSchema::default().with(&[
        ColumnInfo {
            name: "id".into(),
            data_type: DataType::Bigint,
            nullable: false,
            primary_key: true,
        },
        ColumnInfo {
            name: "price".into(),
            data_type: DataType::Double,
            nullable: true,
            primary_key: false,
        },
    ]);
    let kinds = |k: &[(&str, DataType)]| -> Vec<(Arc<str>, DataType)> {
        k.iter().map(|(n, t)| (Arc::from(*n), *t)).collect()
    };
    assert!(fits(
        &schema,
        &kinds(&[("id", DataType::Bigint), ("price", DataType::Bigint)])
    ));
    assert!(
        !fits(&schema, &kinds(&[("id", DataType::Double)])),
        "2.5 needs a variant"
    );
    assert!(
        !fits(&schema, &kinds(&[("price", DataType::Text)])),
        "text needs a variant"
    );
    assert!(
        !fits(&schema, &kinds(&[("other", DataType::Bigint)])),
        "a new column"
    );
}
