//! Data types and per-value type inference (dialect-free).

use std::fmt;

/// Logical type of a column, as recorded in `_sluice_columns`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataType {
    Bigint,
    Double,
    Bool,
    Text,
    Timestamp,
    Json,
    /// A calendar date, stored as `YYYY-MM-DD` text (only from a `columns` hint).
    Date,
    /// An exact number, stored as its decimal text (only from a `columns` hint).
    Decimal,
    /// Bytes (only from a `columns` hint): base64 or `0x` hex text is decoded.
    Binary,
}

impl DataType {
    /// The lowercase name used in metadata and Display.
    pub fn as_str(self) -> &'static str {
        match self {
            DataType::Bigint => "bigint",
            DataType::Double => "double",
            DataType::Bool => "bool",
            DataType::Text => "text",
            DataType::Timestamp => "timestamp",
            DataType::Json => "json",
            DataType::Date => "date",
            DataType::Decimal => "decimal",
            DataType::Binary => "binary",
        }
    }

    /// Parses the lowercase name written by [`DataType::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "bigint" => DataType::Bigint,
            "double" => DataType::Double,
            "bool" => DataType::Bool,
            "text" => DataType::Text,
            "timestamp" => DataType::Timestamp,
            "json" => DataType::Json,
            "date" => DataType::Date,
            "decimal" => DataType::Decimal,
            "binary" => DataType::Binary,
            _ => return None,
        })
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Metadata of one column of a loaded table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnInfo {
    pub name: String,
    pub data_type: DataType,
    pub nullable: bool,
    pub primary_key: bool,
}

/// One flattened leaf value of a record.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cell<'a> {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A string (borrowed from the page when it has no escapes), with its inferred type
    /// (`Text` or `Timestamp`).
    Str(std::borrow::Cow<'a, str>, DataType),
    /// A list or object kept whole, as its JSON text.
    Json(String),
    /// `_dlt_load_id`: text shared by the rows that hold it, with no copy per row.
    Id(std::sync::Arc<str>),
    /// A row's `_dlt_id` (also `_dlt_parent_id`, `_dlt_root_id` of its children): 14
    /// characters kept inline.
    RowId(crate::flatten::RowId),
}

impl Cell<'_> {
    /// The type this value implies; `None` for null.
    pub(crate) fn data_type(&self) -> Option<DataType> {
        Some(match self {
            Cell::Null => return None,
            Cell::Int(_) => DataType::Bigint,
            Cell::Float(_) => DataType::Double,
            Cell::Bool(_) => DataType::Bool,
            Cell::Str(_, t) => *t,
            Cell::Id(_) | Cell::RowId(_) => DataType::Text,
            Cell::Json(_) => DataType::Json,
        })
    }

    /// The value as text for a `text` column: a string as itself, anything else as JSON text.
    pub(crate) fn to_text(&self) -> Option<String> {
        Some(match self {
            Cell::Null => return None,
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => serde_json::Value::from(*f).to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Str(s, _) => s.to_string(),
            Cell::Id(s) => s.to_string(),
            Cell::RowId(id) => id.as_str().to_owned(),
            Cell::Json(j) => j.clone(),
        })
    }
}

/// Infers the type of a string: `Timestamp` for an ISO-8601 date or date-time, else `Text`.
pub(crate) fn string_type(s: &str) -> DataType {
    if is_timestamp(s) {
        DataType::Timestamp
    } else {
        DataType::Text
    }
}

/// True for `YYYY-MM-DD`, optionally followed by `T`/space, `HH:MM[:SS[.fff]]` and an
/// optional `Z` or `±HH:MM`/`±HHMM` offset.
pub(crate) fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (num(&b[0..4]), num(&b[5..7]), num(&b[8..10]))
    else {
        return false;
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return false;
    }
    let rest = &b[10..];
    if rest.is_empty() {
        return true;
    }
    if !matches!(rest[0], b'T' | b't' | b' ') {
        return false;
    }
    time_with_offset(&rest[1..])
}

fn time_with_offset(b: &[u8]) -> bool {
    if b.len() < 5 || b[2] != b':' {
        return false;
    }
    let (Some(h), Some(m)) = (num(&b[0..2]), num(&b[3..5])) else {
        return false;
    };
    if h > 23 || m > 59 {
        return false;
    }
    let mut rest = &b[5..];
    if rest.first() == Some(&b':') {
        let Some(sec) = rest.get(1..3).and_then(num) else {
            return false;
        };
        if sec > 60 {
            return false;
        }
        rest = &rest[3..];
        if matches!(rest.first(), Some(b'.') | Some(b',')) {
            let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return false;
            }
            rest = &rest[1 + digits..];
        }
    }
    match rest {
        [] | [b'Z'] | [b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] | [b'+' | b'-', h1, h2, m1, m2] => {
            matches!((num(&[*h1, *h2]), num(&[*m1, *m2])), (Some(h), Some(m)) if h <= 23 && m <= 59)
        }
        [b'+' | b'-', h1, h2] => matches!(num(&[*h1, *h2]), Some(h) if h <= 23),
        _ => false,
    }
}

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        for ok in [
            "2024-05-01T12:00:00Z",
            "2024-05-01T12:00:00+02:00",
            "2024-05-01T12:00:00.123456Z",
            "2024-05-01 12:00:00",
            "2024-05-01T12:00",
            "2024-05-01",
            "2024-02-29",
            "2024-05-01T12:00:00-0500",
        ] {
            assert!(is_timestamp(ok), "{ok}");
        }
        for bad in [
            "2024-13-01",
            "2023-02-29",
            "2024-05-01T25:00:00Z",
            "2024-05-01T12:00:00Q",
            "2024-05-01X",
            "hello",
            "2024-5-1",
            "12345678901",
            "2024-05-01T12:00:00.Z",
        ] {
            assert!(!is_timestamp(bad), "{bad}");
        }
    }

    #[test]
    fn names_round_trip() {
        for t in [DataType::Bigint, DataType::Json, DataType::Timestamp] {
            assert_eq!(DataType::parse(t.as_str()), Some(t));
        }
        assert_eq!(DataType::Timestamp.to_string(), "timestamp");
    }
}
