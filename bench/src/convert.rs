//! Host side: what crossed the boundary, into the `Vec<Value>` the sink takes.

use serde_json::{Map, Number, Value};

use crate::{Cell, Rows};

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("the page is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the page is JSON but not an array")]
    NotAnArray,
    #[error("row {row} has {cells} cells for {columns} columns")]
    Shape {
        row: usize,
        cells: usize,
        columns: usize,
    },
}

/// Parses a page's JSON array text, as the host does with `page.records` today.
pub fn json_to_values(text: &str) -> Result<Vec<Value>, ConvertError> {
    match serde_json::from_str::<Value>(text)? {
        Value::Array(records) => Ok(records),
        _ => Err(ConvertError::NotAnArray),
    }
}

/// Turns typed rows into one object per row, moving the strings. A `null` cell leaves its
/// column out of the object (a key absent and a key `null` load the same); `json` cells are
/// parsed back into values.
pub fn rows_to_values(rows: Rows) -> Result<Vec<Value>, ConvertError> {
    let Rows { columns, values } = rows;
    let mut records = Vec::with_capacity(values.len());
    for (row, cells) in values.into_iter().enumerate() {
        if cells.len() != columns.len() {
            return Err(ConvertError::Shape {
                row,
                cells: cells.len(),
                columns: columns.len(),
            });
        }
        let mut object = Map::new();
        for (column, cell) in columns.iter().zip(cells) {
            if let Some(value) = cell_to_value(cell)? {
                object.insert(column.clone(), value);
            }
        }
        records.push(Value::Object(object));
    }
    Ok(records)
}

/// One cell as a value; `None` for `null`. A non-finite float becomes JSON `null`.
pub fn cell_to_value(cell: Cell) -> Result<Option<Value>, ConvertError> {
    Ok(match cell {
        Cell::Null => None,
        Cell::Boolean(b) => Some(Value::Bool(b)),
        Cell::Integer(i) => Some(Value::from(i)),
        Cell::Float(f) => Some(Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Cell::Text(s) => Some(Value::String(s)),
        Cell::Json(text) => Some(serde_json::from_str(&text)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_become_values() {
        assert_eq!(cell_to_value(Cell::Null).unwrap(), None);
        assert_eq!(
            cell_to_value(Cell::Boolean(false)).unwrap(),
            Some(json!(false))
        );
        assert_eq!(cell_to_value(Cell::Integer(-7)).unwrap(), Some(json!(-7)));
        assert_eq!(cell_to_value(Cell::Float(2.0)).unwrap(), Some(json!(2.0)));
        assert_eq!(
            cell_to_value(Cell::Float(f64::NAN)).unwrap(),
            Some(Value::Null)
        );
        assert_eq!(
            cell_to_value(Cell::Text("a\"b".into())).unwrap(),
            Some(json!("a\"b"))
        );
        assert_eq!(
            cell_to_value(Cell::Json("18446744073709551615".into())).unwrap(),
            Some(json!(u64::MAX))
        );
        assert!(cell_to_value(Cell::Json("{".into())).is_err());
    }

    #[test]
    fn rows_become_objects_without_null_columns() {
        let rows = Rows {
            columns: vec!["id".into(), "tags".into(), "note".into()],
            values: vec![
                vec![Cell::Integer(1), Cell::Json("[\"x\"]".into()), Cell::Null],
                vec![
                    Cell::Integer(2),
                    Cell::Json("[]".into()),
                    Cell::Text("n".into()),
                ],
            ],
        };
        assert_eq!(
            rows_to_values(rows).unwrap(),
            vec![
                json!({"id": 1, "tags": ["x"]}),
                json!({"id": 2, "tags": [], "note": "n"})
            ]
        );
    }

    #[test]
    fn ragged_rows_are_refused() {
        let rows = Rows {
            columns: vec!["id".into(), "name".into()],
            values: vec![vec![Cell::Integer(1)]],
        };
        let e = rows_to_values(rows).unwrap_err();
        assert!(
            matches!(
                e,
                ConvertError::Shape {
                    row: 0,
                    cells: 1,
                    columns: 2
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn json_pages_must_be_arrays() {
        assert_eq!(
            json_to_values("[{\"a\":1}]").unwrap(),
            vec![json!({"a": 1})]
        );
        assert!(matches!(
            json_to_values("{}"),
            Err(ConvertError::NotAnArray)
        ));
        assert!(matches!(json_to_values("[1,"), Err(ConvertError::Json(_))));
    }
}
