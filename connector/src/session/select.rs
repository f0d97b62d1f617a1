//! Selecting the records of one response with the paginator of the chain it belongs to.

use super::InFlight;
use crate::actions::{Action, action_for};
use crate::config::Resource;
use crate::dependent;
use crate::extract::extract;
use crate::incremental::Tracker;
use crate::paginator::{Guard, PageView, Paginate, Paginator};
use crate::protocol::{Error, Notice, Response};
use crate::selector::Selector;

/// One request chain's paginating state: the resource's own (or its current chain's), or
/// that of a chain running ahead.
pub(super) struct Chain<'a> {
    pub(super) paginator: &'a mut Paginator,
    pub(super) guard: &'a mut Guard,
    /// The parent row of a dependent resource's chain.
    pub(super) row: Option<&'a dependent::Row>,
}

/// What a chain made of one response.
pub(super) struct Selected {
    /// As one JSON array text.
    pub(super) records: String,
    pub(super) count: usize,
    /// The chain's last page: its paginator is done or the incremental range is left behind.
    pub(super) chain_done: bool,
    pub(super) notices: Vec<Notice>,
}

/// Selects the records of one response and advances the chain's paginator.
pub(super) fn select(
    res: &Resource,
    chain: Chain<'_>,
    detected_selector: &mut Option<Selector>,
    inc: Option<&mut Tracker>,
    flight: &InFlight,
    response: &Response,
) -> Result<Selected, Error> {
    let ep = &res.endpoint;
    if let Some(Action::Ignore) = action_for(&ep.response_actions, response) {
        return Ok(Selected {
            records: "[]".into(),
            count: 0,
            chain_done: true,
            notices: vec![Notice::info(format!(
                "HTTP {} from {} {} matched response_actions: ignored, no records",
                response.status, flight.method, flight.url
            ))],
        });
    }
    let selector = ep.data_selector.as_ref().or(detected_selector.as_ref());
    let ex = extract(flight.method, &flight.url, response, selector)?;
    let mut notices = ex.notices;
    if ex.count == 0
        && chain.guard.pages() == 0
        && let Some(sel) = &ep.data_selector
        && let Some((key, object)) = sel.missing_key(&ex.body)
    {
        notices.push(missing_records(sel, key, object));
    }
    if detected_selector.is_none() {
        detected_selector.clone_from(&ex.detected);
    }
    let view = PageView {
        status: response.status,
        url: &flight.url,
        body: &ex.body,
        headers: &response.headers,
        count: ex.count,
    };
    if chain.guard.pages() == 0 {
        // A next link back to the first page is a loop too.
        chain.guard.check_reference(response.status, &flight.url)?;
    }
    let advance = chain.paginator.advance(&view)?;
    chain
        .guard
        .check(response.status, &ex.records, ex.count, !advance.done)?;
    if let (false, Some(reference)) = (advance.done, &advance.reference) {
        chain.guard.check_reference(response.status, reference)?;
    }
    let processed =
        crate::records::process(res, chain.row, inc, response.status, ex.records, ex.count)?;
    Ok(Selected {
        records: processed.text,
        count: processed.count,
        chain_done: advance.done || processed.past_range,
        notices: notices.into_iter().chain(advance.notices).collect(),
    })
}

/// The warning for a first response without the `data_selector`'s path: dlt loads nothing
/// and says nothing, which is how a misspelled selector goes unnoticed. (A later page
/// without it is an API's way of saying that the records ended.)
fn missing_records(
    sel: &Selector,
    key: &str,
    object: &serde_json::Map<String, serde_json::Value>,
) -> Notice {
    const SHOWN: usize = 8;
    let mut keys: Vec<String> = object
        .keys()
        .take(SHOWN)
        .map(|k| format!("`{k}`"))
        .collect();
    if object.len() > SHOWN {
        keys.push(format!("and {} more", object.len() - SHOWN));
    }
    let keys = match keys.is_empty() {
        true => "it is an empty object".to_string(),
        false => format!("its keys: {}", keys.join(", ")),
    };
    Notice::warn(format!(
        "data_selector `{}` found no records in the first response: it has no key `{key}` ({keys}); check data_selector if the API has records",
        sel.as_str()
    ))
}
