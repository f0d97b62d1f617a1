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

fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Nanoseconds since the epoch of `YYYY-MM-DD[T ]HH:MM:SS[.f](Z|±HH:MM)` or a bare
/// `YYYY-MM-DD` (midnight UTC).
pub(crate) fn instant(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (digits(&s[0..4])?, digits(&s[5..7])?, digits(&s[8..10])?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let day = i128::from(days(y, mo, d)) * 86_400 * 1_000_000_000;
    if b.len() == 10 {
        return Some(day);
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
    let mut nanos: i64 = 0;
    if let Some(r) = rest.strip_prefix('.') {
        let n = r.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let frac = &r[..n.min(9)];
        nanos = digits(frac)? * 10_i64.pow(9 - u32::try_from(frac.len()).ok()?);
        rest = &r[n..];
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
    let secs = h * 3600 + mi * 60 + sec - offset;
    Some(day + i128::from(secs) * 1_000_000_000 + i128::from(nanos))
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
