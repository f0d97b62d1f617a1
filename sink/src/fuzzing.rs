//! Checks for the fuzz targets (`fuzz/`), which reach no further than the public API: built
//! only under `cargo fuzz` (`cfg(fuzzing)`). Each panics where what it checks does not hold.

use serde::de::IgnoredAny;

use crate::flatten::Flattener;
use crate::normalize::{Normalizer, rows_of};

/// How the records' `_dlt_id`s are made in [`parts_agree_with_whole`].
#[derive(Debug, Clone, Copy)]
pub enum Ids {
    /// Unique in the load (a merge, append or replace).
    Random,
    /// The hash of the `id` field (`upsert`).
    Key,
    /// The hash of the whole record (`scd2`).
    Row,
}

/// A page flattened in parts of `part_bytes` gives what it gives flattened whole: the same
/// rows (ids too, when they are hashes), or a failure at the same record. Under
/// [`Ids::Key`] and [`Ids::Row`], flattening twice gives the same ids.
pub fn parts_agree_with_whole(text: &str, part_bytes: usize, ids: Ids) {
    let count = serde_json::from_str::<Vec<IgnoredAny>>(text).map_or(1, |v| v.len());
    let count = u32::try_from(count).unwrap_or(u32::MAX);
    let normalizer = || {
        let flattener = Flattener::new("t", None, true, "1");
        let flattener = match ids {
            Ids::Random => flattener,
            Ids::Key => flattener.with_key_ids(vec!["id".into()]),
            Ids::Row => flattener.with_row_hashes(),
        };
        Normalizer::new(flattener, "t".into())
    };
    let with_ids = !matches!(ids, Ids::Random);
    let whole = normalizer().normalize(text.to_owned(), count, "S".into());
    let mut n = normalizer();
    let mut parts = Vec::new();
    let mut failed = None;
    for part in n.parts_of(text.to_owned(), count, "S".into(), part_bytes) {
        match part {
            Ok(p) => parts.push(p),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    match (whole, failed) {
        (Ok(whole), None) => {
            let mut next = 0;
            for (i, part) in parts.iter().enumerate() {
                let last = i + 1 == parts.len();
                assert_eq!(part.first(), next, "part {i} starts after the one before");
                assert_eq!(part.continues(), !last, "part {i}");
                assert_eq!(part.state(), if last { "S" } else { "" }, "part {i}");
                next += part.count() as usize;
            }
            assert_eq!(next, count as usize, "the parts hold every record");
            let whole = std::slice::from_ref(&whole);
            assert_eq!(rows_of(&parts, with_ids), rows_of(whole, with_ids));
            if with_ids {
                let again = normalizer().normalize(text.to_owned(), count, "S".into());
                let again = again.expect("flattened once already");
                assert_eq!(rows_of(whole, true), rows_of(&[again], true), "ids repeat");
            }
        }
        (Err(whole), Some(part)) => assert_eq!(whole.to_string(), part.to_string()),
        (whole, part) => panic!("whole: {whole:?}\nin parts: {part:?}"),
    }
}

/// The row hash of each record of a page, as text; `None` when the page is not an array of
/// objects.
pub fn row_hashes(records: &str) -> Option<Vec<String>> {
    let hashes = crate::row_hash::of_page(records)?;
    Some(hashes.iter().map(|h| h.as_str().to_owned()).collect())
}
