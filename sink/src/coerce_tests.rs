//! dlt's `coerce_value` rules.

use super::*;
use std::borrow::Cow;

fn s(v: &str) -> Cell<'_> {
    Cell::Str(Cow::Borrowed(v), crate::types::string_type(v))
}

fn text(v: &str) -> Option<Stored<'_>> {
    Some(Stored::Text(Cow::Borrowed(v)))
}

#[test]
fn values_that_convert() {
    use DataType as T;
    assert_eq!(coerce(&Cell::Float(2.0), T::Bigint), Some(Stored::Int(2)));
    assert_eq!(coerce(&s(" 12 "), T::Bigint), Some(Stored::Int(12)));
    assert_eq!(coerce(&s("0x1f"), T::Bigint), Some(Stored::Int(31)));
    assert_eq!(coerce(&Cell::Int(3), T::Double), Some(Stored::Real(3.0)));
    assert_eq!(coerce(&s("2.5"), T::Double), Some(Stored::Real(2.5)));
    assert_eq!(coerce(&Cell::Int(7), T::Text), text("7"));
    assert_eq!(coerce(&Cell::Bool(true), T::Text), text("True"));
    assert_eq!(coerce(&Cell::Json("[1]".into()), T::Text), text("[1]"));
    assert_eq!(coerce(&s("yes"), T::Bool), Some(Stored::Int(1)));
    assert_eq!(coerce(&s("F"), T::Bool), Some(Stored::Int(0)));
    assert_eq!(coerce(&Cell::Int(0), T::Bool), Some(Stored::Int(0)));
    assert_eq!(coerce(&s("2024-05-01"), T::Timestamp), text("2024-05-01"));
    assert_eq!(
        coerce(&Cell::Int(86_405), T::Timestamp),
        Some(Stored::Text("1970-01-02T00:00:05+00:00".to_owned().into()))
    );
    assert_eq!(coerce(&s("[1, 2]"), T::Json), text("[1, 2]"));
    assert_eq!(
        coerce(&s("2024-05-01T12:00:00Z"), T::Date),
        text("2024-05-01")
    );
    assert_eq!(coerce(&s(" 19.990 "), T::Decimal), text("19.990"));
    assert_eq!(
        coerce(&Cell::Float(9.95), T::Decimal),
        Some(Stored::Text("9.95".to_owned().into()))
    );
    assert_eq!(
        coerce(&s("0x0aff"), T::Binary),
        Some(Stored::Blob(vec![10, 255]))
    );
    assert_eq!(
        coerce(&s("aGk="), T::Binary),
        Some(Stored::Blob(b"hi".to_vec()))
    );
    assert_eq!(coerce(&s("12abc"), T::Decimal), None);
    assert_eq!(coerce(&s("not base64!"), T::Binary), None);
}

#[test]
fn values_that_go_to_variants() {
    use DataType as T;
    assert_eq!(coerce(&Cell::Float(1.5), T::Bigint), None);
    assert_eq!(coerce(&s("n/a"), T::Bigint), None);
    assert_eq!(coerce(&Cell::Bool(true), T::Bigint), None);
    assert_eq!(coerce(&Cell::Bool(true), T::Double), None);
    assert_eq!(coerce(&s("maybe"), T::Bool), None);
    assert_eq!(coerce(&s("soon"), T::Timestamp), None);
    assert_eq!(coerce(&Cell::Int(1), T::Json), None);
    assert_eq!(coerce(&Cell::Json("{}".into()), T::Bigint), None);
    assert_eq!(
        variant_name("price", &s("n/a")).as_deref(),
        Some("price__v_text")
    );
    assert_eq!(
        variant_name("qty", &Cell::Float(1.5)).as_deref(),
        Some("qty__v_double")
    );
    assert_eq!(variant_name("x", &Cell::Null), None);
}

#[test]
fn unix_times() {
    assert_eq!(unix_time(0.0).unwrap(), "1970-01-01T00:00:00+00:00");
    assert_eq!(
        unix_time(1_714_564_800.5).unwrap(),
        "2024-05-01T12:00:00.500000+00:00"
    );
    assert_eq!(unix_time(-86_400.0).unwrap(), "1969-12-31T00:00:00+00:00");
    assert_eq!(unix_time(f64::NAN), None);
}
