//! A page flattened in parts (the engine's way with large pages) against the same page
//! flattened whole: arbitrary text, parts of 1-64 bytes, each kind of `_dlt_id`. The same
//! rows, or a failure at the same record; nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_sink::fuzzing::{Ids, parts_agree_with_whole};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let ids = match pick % 3 {
        0 => Ids::Random,
        1 => Ids::Key,
        _ => Ids::Row,
    };
    let part_bytes = usize::from(pick >> 2) + 1;
    parts_agree_with_whole(&String::from_utf8_lossy(rest), part_bytes, ids);
});
