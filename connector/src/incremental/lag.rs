//! dlt's `incremental.lag` (an attribution window): a run starts `lag` before the last value
//! the run before it saved, so records the API updated late load again. As in dlt: seconds
//! for a date-time cursor, days for a date (`YYYY-MM-DD`, `YYYYMMDD`), the unit of
//! `initial_value` when it is a date or a date-time, plain units for a number; backwards
//! under `last_value_func: max`, forwards under `min`; never past `initial_value`. A date or
//! date-time keeps the format it is written in: separator, digits of the fraction, offset.

use serde_json::{Number, Value};

use super::compare::{Stamp, civil, compare, days, digits};

const NANOS: i128 = 1_000_000_000;
const DAY_NANOS: i128 = 86_400 * NANOS;

/// `value` moved by `lag` (back under `max`, forward under `min`), not past `initial`.
pub(crate) fn apply(
    lag: f64,
    value: &Value,
    initial: Option<&Value>,
    max: bool,
) -> Result<Value, String> {
    let toward = if max { -lag } else { lag };
    // The unit follows `initial_value` when it is a date or a date-time, else the value.
    let unit = match initial.and_then(Value::as_str) {
        Some(i) if is_date(i) => Some(Unit::Days),
        Some(i) if Stamp::parse(i).is_some() => Some(Unit::Seconds),
        _ => None,
    };
    let not_lagged = || {
        format!(
            "lag moves numbers, dates and date-times, not {}",
            match value {
                Value::String(s) => format!("\"{s}\""),
                other => crate::config::walk::kind(other).to_string(),
            }
        )
    };
    let lagged = match value {
        Value::Number(n) => number(n, toward).ok_or_else(not_lagged)?,
        Value::String(s) => Value::String(text(s, toward, unit, max).ok_or_else(not_lagged)?),
        _ => return Err(not_lagged()),
    };
    if let Some(initial) = initial {
        let o = compare(&lagged, initial)?;
        if (max && o.is_le()) || (!max && o.is_ge()) {
            return Ok(initial.clone());
        }
    }
    Ok(lagged)
}

/// A number moved by `toward`; an integer stays one (dlt's `int(value - lag)`).
fn number(n: &Number, toward: f64) -> Option<Value> {
    match n.as_i64() {
        Some(i) if toward.fract() == 0.0 => i.checked_add(toward as i64).map(Value::from),
        Some(i) => Some(Value::from((i as f64 + toward).trunc() as i64)),
        None => Number::from_f64(n.as_f64()? + toward).map(Value::Number),
    }
}

fn is_date(s: &str) -> bool {
    compact(s).is_some() || Stamp::parse(s).is_some_and(|t| t.time.is_none())
}

/// Days since 1970-01-01 of a `YYYYMMDD` date.
fn compact(s: &str) -> Option<i64> {
    if s.len() != 8 {
        return None;
    }
    let (y, m, d) = (digits(&s[0..4])?, digits(&s[4..6])?, digits(&s[6..8])?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| days(y, m, d))
}

/// The unit of a lag, when `initial_value` declares it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Days,
    Seconds,
}

/// A date or date-time string moved by `toward` days or seconds (`unit`; without one, days
/// for a date and seconds for a date-time).
fn text(s: &str, toward: f64, unit: Option<Unit>, max: bool) -> Option<String> {
    // `date + timedelta(days=x)`: whole days, rounded down. A date moved by seconds is its
    // midnight moved, then its day (dlt formats the moment back as a date).
    let whole_days = match unit {
        Some(Unit::Seconds) => (toward / 86_400.0).floor() as i64,
        _ => toward.floor() as i64,
    };
    let in_days = unit == Some(Unit::Days);
    if let Some(day) = compact(s) {
        let (y, m, d) = civil(day + whole_days);
        return Some(format!("{y:04}{m:02}{d:02}"));
    }
    let stamp = Stamp::parse(s)?;
    let Some(clock) = &stamp.time else {
        let (y, m, d) = civil(stamp.day + whole_days);
        return Some(format!("{y:04}-{m:02}-{d:02}"));
    };
    let offset = i128::from(clock.offset) * NANOS;
    // Wall-clock nanoseconds since the epoch, in the value's own offset.
    let wall = if in_days {
        // A date-time cursor lagged in days: the UTC day of the value, moved, from its first
        // moment (`max`, a lower bound) or to its last (`min`), as dlt takes whole days.
        let utc_day = stamp.instant().div_euclid(DAY_NANOS) + i128::from(whole_days);
        let edge = if max { 0 } else { DAY_NANOS - 1 };
        utc_day * DAY_NANOS + edge + offset
    } else {
        let wall = i128::from(stamp.day) * DAY_NANOS + i128::from(clock.secs) * NANOS;
        wall + i128::from(clock.nanos) + (toward * 1e9).round() as i128
    };
    let day = i64::try_from(wall.div_euclid(DAY_NANOS)).ok()?;
    let of_day = wall.rem_euclid(DAY_NANOS);
    let (y, m, d) = civil(day);
    let secs = of_day / NANOS;
    let (h, mi, sec) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = format!("{y:04}-{m:02}-{d:02}{}{h:02}:{mi:02}:{sec:02}", clock.sep);
    if clock.frac_digits > 0 {
        let nanos = format!("{:09}", of_day % NANOS);
        let digits = clock.frac_digits.min(9);
        out.push('.');
        out.push_str(&nanos[..digits]);
        out.extend(std::iter::repeat_n('0', clock.frac_digits - digits));
    }
    out.push_str(clock.zone);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    proptest! {
        /// Any date-time, any offset and fraction, lagged by whole seconds: the instant moves
        /// by exactly the lag, and the text keeps its separator, fraction digits and zone.
        #[test]
        fn lag_moves_the_instant_and_keeps_the_format(
            day in -30_000i64..60_000,
            secs in 0i64..86_400,
            nanos in 0i64..1_000_000_000,
            digits in 0usize..=9,
            zone in prop::sample::select(vec!["Z", "", "+02:00", "-0530", "+09", "-00:00"]),
            sep in prop::sample::select(vec!['T', ' ']),
            by in 0u32..100_000_000,
            max in any::<bool>(),
        ) {
            let (y, m, d) = civil(day);
            prop_assume!((1..=9999).contains(&y));
            let frac = match digits {
                0 => String::new(),
                n => format!(".{}", &format!("{nanos:09}")[..n]),
            };
            let text = format!(
                "{y:04}-{m:02}-{d:02}{sep}{:02}:{:02}:{:02}{frac}{zone}",
                secs / 3600, secs / 60 % 60, secs % 60
            );
            let lagged = apply(f64::from(by), &json!(text), None, max).unwrap();
            let lagged = lagged.as_str().unwrap();
            let (before, after) = (Stamp::parse(&text).unwrap(), Stamp::parse(lagged).unwrap());
            let shift = i128::from(by) * NANOS * if max { -1 } else { 1 };
            prop_assert_eq!(after.instant() - before.instant(), shift, "{} -> {}", text, lagged);
            let (b, a) = (before.time.unwrap(), after.time.unwrap());
            prop_assert_eq!((a.sep, a.frac_digits, a.zone), (b.sep, b.frac_digits, b.zone));
        }
    }

    fn lag(lag: f64, value: Value, initial: Option<Value>, max: bool) -> Value {
        apply(lag, &value, initial.as_ref(), max).unwrap()
    }

    #[test]
    fn date_times_move_by_seconds_in_their_own_format() {
        let at = |v: &str, by: f64| lag(by, json!(v), None, true);
        assert_eq!(at("2024-03-01T00:10:00Z", 3600.0), "2024-02-29T23:10:00Z");
        assert_eq!(
            at("2024-03-01 00:00:00.250+02:00", 0.5),
            "2024-02-29 23:59:59.750+02:00"
        );
        assert_eq!(
            at("2024-01-01T00:00:00.123456789Z", 1.0),
            "2023-12-31T23:59:59.123456789Z"
        );
        assert_eq!(at("2024-01-01T12:00:00", 86_400.0), "2023-12-31T12:00:00");
        // Forwards under `min`.
        assert_eq!(
            lag(90.0, json!("2024-12-31T23:59:00-0500"), None, false),
            "2025-01-01T00:00:30-0500"
        );
    }

    #[test]
    fn dates_move_by_whole_days_and_numbers_by_units() {
        assert_eq!(lag(2.0, json!("2024-03-01"), None, true), "2024-02-28");
        assert_eq!(lag(1.5, json!("2024-03-01"), None, true), "2024-02-28");
        assert_eq!(lag(1.5, json!("2024-02-28"), None, false), "2024-02-29");
        assert_eq!(lag(3.0, json!("20240301"), None, true), "20240227");
        assert_eq!(lag(10.0, json!(100), None, true), json!(90));
        assert_eq!(lag(2.5, json!(10), None, true), json!(7));
        assert_eq!(lag(0.25, json!(1.5), None, false), json!(1.75));
        // An initial value that is a date makes days of a date-time cursor's lag: the
        // lagged day's first moment, in the value's own offset.
        assert_eq!(
            lag(
                1.0,
                json!("2024-03-02T15:30:00Z"),
                Some(json!("2024-01-01")),
                true
            ),
            "2024-03-01T00:00:00Z"
        );
        // And a date-time initial value makes seconds of a date cursor's lag.
        let initial = Some(json!("2024-01-01T00:00:00Z"));
        assert_eq!(
            lag(3600.0, json!("2024-03-01"), initial, true),
            "2024-02-29"
        );
        let later = Some(json!("2025-01-01T00:00:00Z"));
        assert_eq!(lag(3600.0, json!("2024-03-01"), later, false), "2024-03-01");
    }

    #[test]
    fn never_past_the_initial_value_and_errors_name_the_value() {
        let initial = Some(json!("2024-03-01T00:00:00Z"));
        assert_eq!(
            lag(7200.0, json!("2024-03-01T01:00:00Z"), initial.clone(), true),
            "2024-03-01T00:00:00Z"
        );
        assert_eq!(
            lag(60.0, json!("2024-03-01T01:00:00Z"), initial, true),
            "2024-03-01T00:59:00Z"
        );
        assert_eq!(lag(50.0, json!(10), Some(json!(40)), false), json!(40));
        assert_eq!(
            apply(1.0, &json!("abc"), None, true),
            Err("lag moves numbers, dates and date-times, not \"abc\"".into())
        );
        assert!(apply(1.0, &json!(true), None, true).is_err());
    }
}
