//! The records of a page after selection: parent fields added (dependent resources), then
//! the incremental range applied.

use serde_json::Value;

use crate::config::Resource;
use crate::dependent::{Row, include_parent_fields};
use crate::incremental::{Tracker, record_key};
use crate::protocol::Error;

/// A page's records, ready to load.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Processed {
    /// As one JSON array text.
    pub text: String,
    pub count: usize,
    /// True when the incremental `row_order` says later pages hold nothing in range.
    pub past_range: bool,
}

/// Adds `include_from_parent` fields and filters by the incremental range. Leaves the text
/// as it is when there is nothing to do.
pub(crate) fn process(
    res: &Resource,
    row: Option<&Row>,
    inc: Option<&mut Tracker>,
    status: u16,
    text: String,
    count: usize,
) -> Result<Processed, Error> {
    let include = !res.include_from_parent.is_empty();
    if (!include && inc.is_none()) || count == 0 {
        return Ok(Processed {
            text,
            count,
            past_range: false,
        });
    }
    let mut records: Vec<Value> = serde_json::from_str(&text)
        .map_err(|e| Error::response(status, format!("cannot read selected records: {e}")))?;
    if include && let (Some(parent), Some(row)) = (&res.parent, row) {
        include_parent_fields(
            &mut records,
            parent,
            &res.include_from_parent,
            row,
            &res.name,
        )?;
    }
    let mut past_range = false;
    if let Some(t) = inc {
        // `incremental.primary_key` (copied out of the tracker `filter` borrows), else the
        // resource's: no copy per page in the usual case.
        let own = t.primary_key().map(<[String]>::to_vec);
        let pk = own.as_deref().unwrap_or(&res.primary_key);
        let f = t.filter(status, records, &|r| record_key(r, pk))?;
        past_range = f.past_range;
        records = f.records;
    }
    let text = serde_json::to_string(&records)
        .map_err(|e| Error::response(status, format!("cannot serialize records: {e}")))?;
    Ok(Processed {
        count: records.len(),
        text,
        past_range,
    })
}
