//! The sink's flattening and type inference: arbitrary text as a page of records, into an
//! in-memory SQLite database, twice (a second page meets the schema the first made), under
//! each disposition. Bad pages are errors; nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_sink::{Outcome, Sink, SqliteSink, TableSpec, WriteDisposition};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let count = serde_json::from_str::<Vec<serde_json::Value>>(&text).map_or(1, |v| v.len());
    let count = u32::try_from(count).unwrap_or(u32::MAX);
    let disposition = match pick % 3 {
        0 => WriteDisposition::Append,
        1 => WriteDisposition::Merge,
        _ => WriteDisposition::Replace,
    };
    let spec = TableSpec {
        name: "items".into(),
        primary_key: if pick & 4 != 0 {
            vec!["id".into()]
        } else {
            Vec::new()
        },
        disposition,
        max_table_nesting: (pick & 8 != 0).then_some(u32::from(pick >> 4) % 3),
        hints: Default::default(),
    };
    let mut sink = SqliteSink::open_in_memory().expect("in-memory database");
    let load = sink.begin(&spec).expect("begin");
    let _ = sink.write_page_text(load, &text, count, "{}");
    let _ = sink.write_page_text(load, &text, count, "{}");
    let _ = sink.finish(load, Outcome::Completed);
});
