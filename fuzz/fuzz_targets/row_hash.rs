//! dlt's row hash (`scd2`'s `_dlt_id`) of arbitrary text: a page that parses has the same
//! hashes written another way (pretty-printed, each record's keys in reverse order), as
//! orjson's sorted keys make them in dlt. Nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use sluice_sink::fuzzing::row_hashes;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // serde_json's `Value` (with its `raw_value` feature, as here) reads an object whose key
    // is this token as the value under it: the page written another way would not be the
    // same page. The row hash reads such an object as an object.
    if text.contains("$serde_json::private::RawValue") {
        return;
    }
    let Some(hashes) = row_hashes(&text) else {
        return;
    };
    let Ok(Value::Array(records)) = serde_json::from_str::<Value>(&text) else {
        panic!("hashed a page that is not an array: {text}");
    };
    let reversed: Vec<Value> = records
        .into_iter()
        .map(|record| match record {
            Value::Object(fields) => Value::Object(fields.into_iter().rev().collect()),
            other => panic!("hashed a record that is not an object: {other}"),
        })
        .collect();
    let again = serde_json::to_string_pretty(&reversed).expect("JSON");
    assert_eq!(row_hashes(&again), Some(hashes), "{text}\n{again}");
});
