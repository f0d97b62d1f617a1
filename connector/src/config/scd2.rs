//! `write_disposition` of the `scd2` merge strategy: dlt's `validity_column_names`,
//! `active_record_timestamp`, `boundary_timestamp` and `row_version_column_name`.

use serde_json::Value;

use super::walk::{self, Obj};
use crate::incremental::compare::{Stamp, civil};
use crate::protocol::{Error, Scd2};

/// dlt's `DEFAULT_VALIDITY_COLUMN_NAMES`.
const VALIDITY_COLUMNS: [&str; 2] = ["_dlt_valid_from", "_dlt_valid_to"];

/// The options of a `{"disposition": "merge", "strategy": "scd2", ...}` object.
pub(super) fn parse(obj: &Obj<'_>) -> Result<Scd2, Error> {
    let [valid_from, valid_to] = match obj.get("validity_column_names") {
        None => VALIDITY_COLUMNS.map(str::to_owned),
        Some(_) => {
            let names = obj.strings("validity_column_names")?;
            <[String; 2]>::try_from(names).map_err(|names| {
                Error::config(
                    obj.at("validity_column_names"),
                    format!(
                        "expected two column names, [valid from, valid to], found {}",
                        names.len()
                    ),
                )
            })?
        }
    };
    if valid_from == valid_to {
        return Err(Error::config(
            obj.at("validity_column_names"),
            "the two columns must differ",
        ));
    }
    let row_version_column = obj.str_opt("row_version_column_name")?.map(str::to_owned);
    if let Some(column) = row_version_column
        .as_ref()
        .filter(|c| **c == valid_from || **c == valid_to)
    {
        return Err(Error::config(
            obj.at("row_version_column_name"),
            format!("\"{column}\" is a validity column"),
        ));
    }
    Ok(Scd2 {
        valid_from,
        valid_to,
        active_record_timestamp: timestamp(obj, "active_record_timestamp")?,
        boundary_timestamp: timestamp(obj, "boundary_timestamp")?,
        row_version_column,
    })
}

/// A timestamp key: a date or date-time (a time without an offset is UTC, as in dlt), or
/// a Unix time in seconds; written back in RFC 3339, UTC, to the microsecond.
fn timestamp(obj: &Obj<'_>, key: &str) -> Result<Option<String>, Error> {
    let nanos = match obj.get(key) {
        None => return Ok(None),
        Some(Value::String(s)) => Stamp::parse(s).map(|t| t.instant()),
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|f| f.is_finite() && f.abs() < 253_402_300_800.0)
            .map(|f| (f * 1e9).round() as i128),
        Some(other) => {
            return Err(walk::wrong_type(
                &obj.at(key),
                "a timestamp (an ISO 8601 date-time or a Unix time)",
                other,
            ));
        }
    };
    let nanos = nanos.ok_or_else(|| {
        Error::config(
            obj.at(key),
            "expected an ISO 8601 date or date-time, e.g. \"2024-01-31T12:00:00Z\"",
        )
    })?;
    Ok(Some(rfc3339(nanos)))
}

/// `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00` of nanoseconds since the epoch.
fn rfc3339(nanos: i128) -> String {
    let micros = nanos.div_euclid(1_000);
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let (day, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil(i64::try_from(day).unwrap_or_default());
    let (h, min, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let frac = if frac > 0 {
        format!(".{frac:06}")
    } else {
        String::new()
    };
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}{frac}+00:00")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(value: Value) -> Result<Scd2, Error> {
        parse(&Obj::new("write_disposition", &value).unwrap())
    }

    #[test]
    fn timestamps_are_written_in_utc_and_column_names_default_as_in_dlt() {
        let o = options(serde_json::json!({
            "active_record_timestamp": "9999-12-31",
            "boundary_timestamp": "2024-08-21T14:15:16.5+02:00",
        }))
        .unwrap();
        assert_eq!(
            (o.valid_from.as_str(), o.valid_to.as_str()),
            VALIDITY_COLUMNS.into()
        );
        assert_eq!(
            o.active_record_timestamp.as_deref(),
            Some("9999-12-31T00:00:00+00:00")
        );
        assert_eq!(
            o.boundary_timestamp.as_deref(),
            Some("2024-08-21T12:15:16.500000+00:00")
        );
        let o = options(serde_json::json!({"boundary_timestamp": 1_700_000_000})).unwrap();
        assert_eq!(
            o.boundary_timestamp.as_deref(),
            Some("2023-11-14T22:13:20+00:00")
        );
        assert_eq!(o.active_record_timestamp, None);
    }

    #[test]
    fn bad_options_name_their_key() {
        let err = |v: Value| match options(v) {
            Err(Error::Config { path, message }) => format!("{path}: {message}"),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            err(serde_json::json!({"validity_column_names": ["from"]})),
            "write_disposition.validity_column_names: expected two column names, [valid from, valid to], found 1"
        );
        assert!(
            err(serde_json::json!({"boundary_timestamp": "yesterday"}))
                .starts_with("write_disposition.boundary_timestamp: expected an ISO 8601 date")
        );
        assert!(
            err(serde_json::json!({"active_record_timestamp": true}))
                .starts_with("write_disposition.active_record_timestamp: expected a timestamp")
        );
        assert_eq!(
            err(serde_json::json!({"row_version_column_name": "_dlt_valid_to"})),
            "write_disposition.row_version_column_name: \"_dlt_valid_to\" is a validity column"
        );
        assert!(
            err(serde_json::json!({"row_version_column_name": 3}))
                .starts_with("write_disposition.row_version_column_name: expected a string")
        );
    }
}
