//! Ordering of cursor values: numbers numerically, RFC 3339 timestamps as instants (so
//! `…00Z` equals `…00.000+00:00`), other strings lexically.

use std::cmp::Ordering;

use serde_json::Value;

/// Compares two cursor values; values of different kinds cannot be compared.
pub fn compare(a: &Value, b: &Value) -> Result<Ordering, String> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                return Ok(x.cmp(&y));
            }
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            x.partial_cmp(&y)
                .ok_or_else(|| "cursor values are not comparable numbers".to_string())
        }
        (Value::String(x), Value::String(y)) => Ok(match (instant(x), instant(y)) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => x.cmp(y),
        }),
        _ => Err(format!(
            "cannot compare {} with {}",
            crate::config::walk::kind(a),
            crate::config::walk::kind(b)
        )),
    }
}

pub(crate) fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day since 1970-01-01 (the inverse of [`days`]).
pub(crate) fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A date or date-time string, taken apart: `YYYY-MM-DD` or
/// `YYYY-MM-DD[T ]HH:MM:SS[.f](Z|±HH:MM|±HHMM|±HH)?`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stamp<'a> {
    /// Days since 1970-01-01.
    pub day: i64,
    /// The time of day, when there is one.
    pub time: Option<Clock<'a>>,
}

/// The time of day of a [`Stamp`], as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clock<'a> {
    /// `T`, `t` or a space.
    pub sep: char,
    /// Seconds since midnight, wall clock.
    pub secs: i64,
    pub nanos: i64,
    /// Digits of the fraction as written (0: none).
    pub frac_digits: usize,
    /// The offset as written (`Z`, `+02:00`, or empty).
    pub zone: &'a str,
    /// The offset in seconds east of UTC.
    pub offset: i64,
}

impl Stamp<'_> {
    /// Parses a date or date-time; `None` for anything else.
    pub(crate) fn parse(s: &str) -> Option<Stamp<'_>> {
        let b = s.as_bytes();
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let (y, mo, d) = (digits(&s[0..4])?, digits(&s[5..7])?, digits(&s[8..10])?);
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
            return None;
        }
        let day = days(y, mo, d);
        if b.len() == 10 {
            return Some(Stamp { day, time: None });
        }
        if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 19 || b[13] != b':' || b[16] != b':' {
            return None;
        }
        let (h, mi, sec) = (
            digits(&s[11..13])?,
            digits(&s[14..16])?,
            digits(&s[17..19])?,
        );
        let mut rest = &s[19..];
        let (mut nanos, mut frac_digits) = (0, 0);
        if let Some(r) = rest.strip_prefix('.') {
            frac_digits = r.bytes().take_while(u8::is_ascii_digit).count();
            if frac_digits == 0 {
                return None;
            }
            let frac = &r[..frac_digits.min(9)];
            nanos = digits(frac)? * 10_i64.pow(9 - u32::try_from(frac.len()).ok()?);
            rest = &r[frac_digits..];
        }
        let offset = match rest {
            "Z" | "z" | "" => 0,
            _ => {
                let sign = match rest.as_bytes()[0] {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                let r = &rest[1..];
                let (oh, om) = match r.len() {
                    5 if r.as_bytes()[2] == b':' => (digits(&r[0..2])?, digits(&r[3..5])?),
                    4 => (digits(&r[0..2])?, digits(&r[2..4])?),
                    2 => (digits(r)?, 0),
                    _ => return None,
                };
                sign * (oh * 3600 + om * 60)
            }
        };
        let time = Clock {
            sep: char::from(b[10]),
            secs: h * 3600 + mi * 60 + sec,
            nanos,
            frac_digits,
            zone: rest,
            offset,
        };
        Some(Stamp {
            day,
            time: Some(time),
        })
    }

    /// Nanoseconds since the epoch (a bare date: its midnight UTC).
    pub(crate) fn instant(&self) -> i128 {
        let (secs, nanos, offset) = self
            .time
            .as_ref()
            .map_or((0, 0, 0), |t| (t.secs, t.nanos, t.offset));
        (i128::from(self.day) * 86_400 + i128::from(secs - offset)) * 1_000_000_000
            + i128::from(nanos)
    }
}

/// Nanoseconds since the epoch of `YYYY-MM-DD[T ]HH:MM:SS[.f](Z|±HH:MM)` or a bare
/// `YYYY-MM-DD` (midnight UTC).
pub(crate) fn instant(s: &str) -> Option<i128> {
    Stamp::parse(s).map(|t| t.instant())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_compare_as_instants() {
        let a = json!("2024-01-01T00:00:00Z");
        let b = json!("2024-01-01T00:00:00.000+00:00");
        assert_eq!(compare(&a, &b), Ok(Ordering::Equal));
        let c = json!("2024-01-01T01:30:00+02:00"); // 2023-12-31T23:30Z
        assert_eq!(compare(&c, &a), Ok(Ordering::Less));
        assert_eq!(
            compare(&json!("2024-03-01"), &json!("2024-02-29T23:59:59.5Z")),
            Ok(Ordering::Greater)
        );
        assert_eq!(instant("1970-01-01T00:00:01Z"), Some(1_000_000_000));
        assert_eq!(instant("2000-03-01"), Some(951_868_800 * 1_000_000_000));
        for day in [-800_000, -1, 0, 59, 11_016, 19_782, 2_932_896] {
            let (y, m, d) = civil(day);
            assert_eq!(days(y, m, d), day, "{y}-{m}-{d}");
        }
        assert_eq!(civil(days(2024, 2, 29)), (2024, 2, 29));
    }

    #[test]
    fn numbers_and_plain_strings() {
        assert_eq!(compare(&json!(10), &json!(9)), Ok(Ordering::Greater));
        assert_eq!(compare(&json!(1.5), &json!(2)), Ok(Ordering::Less));
        assert_eq!(compare(&json!("b"), &json!("a")), Ok(Ordering::Greater));
        assert_eq!(
            compare(&json!("1"), &json!(1)),
            Err("cannot compare a string with a number".into())
        );
    }
}
