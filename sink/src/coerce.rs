//! Values into typed columns, as dlt coerces them (dialect-free): a value that converts
//! goes into its column converted; one that does not goes into a variant column
//! `<column>__v_<type>` named after the value's own JSON type.

use std::borrow::Cow;

use crate::naming::NESTING;
use crate::types::{Cell, DataType, is_timestamp};

/// A value ready to be stored.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Stored<'c> {
    Null,
    Int(i64),
    Real(f64),
    Text(Cow<'c, str>),
    Blob(Vec<u8>),
}

/// The type a value's JSON kind gives (dlt's `py_type_to_sc_type`): what a variant column
/// is named after and typed as.
pub(crate) fn own_type(cell: &Cell<'_>) -> Option<DataType> {
    Some(match cell {
        Cell::Null => return None,
        Cell::Int(_) => DataType::Bigint,
        Cell::Float(_) => DataType::Double,
        Cell::Bool(_) => DataType::Bool,
        Cell::Str(..) | Cell::Id(_) | Cell::RowId(_) => DataType::Text,
        Cell::Json(_) => DataType::Json,
    })
}

/// The variant column a value that does not fit column `column` goes to: `price__v_text`.
pub(crate) fn variant_name(column: &str, cell: &Cell<'_>) -> Option<String> {
    own_type(cell).map(|t| format!("{column}{NESTING}v_{t}"))
}

/// `cell` converted for a column of type `t`, or `None` when it does not fit (dlt's
/// `coerce_value`): integers and integral doubles are interchangeable, numbers and strings
/// of numbers convert, `true`/`yes`/`1`-like strings become bools, unix times become
/// timestamps, anything becomes text (`True`/`False` for bools, JSON for lists and objects).
pub(crate) fn coerce<'c>(cell: &'c Cell<'_>, t: DataType) -> Option<Stored<'c>> {
    use DataType as T;
    let text = |s: &'c str| Some(Stored::Text(Cow::Borrowed(s)));
    match (cell, t) {
        (Cell::Null, _) => Some(Stored::Null),
        (Cell::Int(i), T::Bigint) => Some(Stored::Int(*i)),
        (Cell::Float(f), T::Double) => Some(Stored::Real(*f)),
        (Cell::Bool(b), T::Bool) => Some(Stored::Int(i64::from(*b))),
        (Cell::Str(s, _), T::Text) => text(s),
        (Cell::Id(s), T::Text) => text(s),
        (Cell::RowId(id), T::Text) => text(id.as_str()),
        (Cell::Json(j), T::Json | T::Text) => text(j),
        (Cell::Int(i), T::Text) => Some(Stored::Text(i.to_string().into())),
        (Cell::Float(f), T::Text) => Some(Stored::Text(float_text(*f).into())),
        (Cell::Bool(b), T::Text) => Some(Stored::Text(if *b { "True" } else { "False" }.into())),
        (Cell::Float(f), T::Bigint) => integral(*f).map(Stored::Int),
        (Cell::Str(s, _), T::Bigint) => parse_int(s).map(Stored::Int),
        (Cell::Int(i), T::Double) => Some(Stored::Real(*i as f64)),
        (Cell::Str(s, _), T::Double) => parse_float(s).map(Stored::Real),
        (Cell::Str(s, _), T::Bool) => str2bool(s).map(|b| Stored::Int(i64::from(b))),
        (Cell::Int(i), T::Bool) => Some(Stored::Int(i64::from(*i != 0))),
        (Cell::Float(f), T::Bool) => Some(Stored::Int(i64::from(*f != 0.0))),
        // The type inferred when the page was read says whether it is a timestamp.
        (Cell::Str(s, t), T::Timestamp) if *t == T::Timestamp || is_timestamp(s) => text(s),
        (Cell::Str(s, _), T::Timestamp) => parse_float(s).and_then(unix_time).map(owned),
        (Cell::Int(i), T::Timestamp) => unix_time(*i as f64).map(owned),
        (Cell::Float(f), T::Timestamp) => unix_time(*f).map(owned),
        (Cell::Str(s, _), T::Json) => serde_json::from_str::<serde::de::IgnoredAny>(s)
            .ok()
            .map(|_| Stored::Text(Cow::Borrowed(&**s))),
        (Cell::Str(s, t), T::Date) if *t == T::Timestamp || is_timestamp(s) => text(&s[..10]),
        (Cell::Int(i), T::Date) => unix_time(*i as f64).map(|t| owned(t[..10].to_owned())),
        (Cell::Float(f), T::Date) => unix_time(*f).map(|t| owned(t[..10].to_owned())),
        (Cell::Int(i), T::Decimal) => Some(owned(i.to_string())),
        (Cell::Float(f), T::Decimal) => f.is_finite().then(|| owned(float_text(*f))),
        (Cell::Str(s, _), T::Decimal) => decimal(s.trim()).then(|| text(s.trim()))?,
        (Cell::Str(s, _), T::Binary) => binary(s.trim()).map(Stored::Blob),
        (Cell::Int(i), T::Binary) if *i >= 0 => {
            let bytes = i.to_le_bytes();
            let used = bytes.iter().rposition(|b| *b != 0).map_or(0, |p| p + 1);
            Some(Stored::Blob(bytes[..used].to_vec()))
        }
        _ => None,
    }
}

/// A decimal number: optional sign, digits with at most one `.`, optional exponent.
fn decimal(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
        None => (body, None),
    };
    let digits = mantissa.chars().filter(char::is_ascii_digit).count();
    digits > 0
        && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
        && mantissa.matches('.').count() <= 1
        && exponent.is_none_or(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_digit()))
}

/// Bytes from `0x` hex or base64 text (dlt's `binary` coercion).
fn binary(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    if let Some(hex) = s.strip_prefix("0x") {
        if hex.len() % 2 != 0 {
            return None;
        }
        return (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
            .collect();
    }
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

fn owned<'c>(s: String) -> Stored<'c> {
    Stored::Text(Cow::Owned(s))
}

/// A double as JSON writes it (`2.0`, `1e20`).
fn float_text(f: f64) -> String {
    serde_json::Value::from(f).to_string()
}

fn integral(f: f64) -> Option<i64> {
    // i64::MAX as f64 rounds up to 2^63, which is out of range.
    (f.is_finite() && f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64)
        .then_some(f as i64)
}

/// Python's `int()` of a trimmed string, and `0x` hex as dlt accepts.
fn parse_int(s: &str) -> Option<i64> {
    let t = s.trim();
    if let Some(hex) = t.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok();
    }
    t.replace('_', "")
        .parse()
        .ok()
        .filter(|_| !t.starts_with('_'))
}

fn parse_float(s: &str) -> Option<f64> {
    let t = s.trim();
    if let Some(hex) = t.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok().map(|i| i as f64);
    }
    t.parse().ok()
}

/// dlt's `str2bool`.
fn str2bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "true" | "t" | "y" | "1" => Some(true),
        "no" | "false" | "f" | "n" | "0" => Some(false),
        _ => None,
    }
}

/// Seconds since the Unix epoch as an RFC 3339 UTC timestamp (`1970-01-01T00:00:05+00:00`).
pub(crate) fn unix_time(secs: f64) -> Option<String> {
    if !secs.is_finite() || secs.abs() > 253_402_300_799.0 {
        return None;
    }
    let whole = secs.floor();
    let micros = ((secs - whole) * 1e6).round() as i64;
    let whole = whole as i64;
    let (days, rem) = (whole.div_euclid(86_400), whole.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let (h, min, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let frac = if micros > 0 {
        format!(".{micros:06}")
    } else {
        String::new()
    };
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}{frac}+00:00"
    ))
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
#[path = "coerce_tests.rs"]
mod tests;
