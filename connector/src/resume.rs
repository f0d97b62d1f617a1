//! Resuming an interrupted load from its last committed page.
//!
//! Every page's state carries, while the resource is not done, a [`Position`] under the key
//! `resume`: the paginator's next page, the pages loaded so far, where a dependent resource's
//! chains stand, and the incremental range the load started with. The host commits that state
//! with the page in one transaction, so after a crash, a failure or Ctrl-C the saved state
//! says exactly which page comes next. The state of the last page of a load has no position:
//! the next run starts fresh (or from its incremental cursor).
//!
//! A position is only used with the endpoint it was written for: its [`fingerprint`] covers
//! the base URL, method, path, params, body, data selector and paginator. Another endpoint
//! starts over from page 1, and says so.

use serde_json::{Map, Value, json};

use crate::config::{Config, Resource};
use crate::incremental::fnv_hex;
use crate::protocol::Error;

/// Key of the position in a page's state object.
pub const KEY: &str = "resume";

/// Where an unfinished load stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    /// [`fingerprint`] of the endpoint the position was written for.
    pub fingerprint: String,
    /// Pages loaded so far, in every run of this load.
    pub pages: u64,
    /// The paginator's state for the next page; `None` between two chains of a dependent
    /// resource (the next chain starts at its first page).
    pub paginator: Option<Map<String, Value>>,
    /// Dependent resources: parent records whose chains are done, and the fields of the one
    /// whose chain is in progress.
    pub chain: Option<ChainPosition>,
    /// The incremental range the load started with ([`crate::incremental::Tracker::start_state`]).
    pub incremental_start: Option<Value>,
}

/// Where a dependent resource's chains stand.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainPosition {
    /// Parent records whose chains are complete (the first `done` of the parent's records).
    pub done: u64,
    /// The parent fields of the chain in progress, to check the parent still lists the same
    /// record at that place.
    pub current: Option<Value>,
}

/// A digest of everything that decides which page a position points at.
pub fn fingerprint(config: &Config, res: &Resource) -> String {
    let ep = &res.endpoint;
    let described = format!(
        "{}|{:?}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}{}",
        config.client.base_url,
        ep.method,
        ep.path,
        ep.params,
        ep.json,
        ep.data_selector,
        ep.paginator,
        ep.incremental,
        res.parent,
        // Appended only when set, so positions saved before `data` existed still match.
        ep.data
            .as_ref()
            .map(|d| format!("|{d:?}"))
            .unwrap_or_default(),
    );
    fnv_hex(&described)
}

impl Position {
    /// The position as stored in a page's state.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("fingerprint".into(), Value::from(self.fingerprint.clone()));
        m.insert("pages".into(), Value::from(self.pages));
        if let Some(p) = &self.paginator {
            m.insert("paginator".into(), Value::Object(p.clone()));
        }
        if let Some(c) = &self.chain {
            m.insert(
                "chain".into(),
                json!({"done": c.done, "current": c.current.clone().unwrap_or(Value::Null)}),
            );
        }
        if let Some(i) = &self.incremental_start {
            m.insert("incremental_start".into(), i.clone());
        }
        Value::Object(m)
    }

    /// Reads the position from a saved state object, if it has one.
    pub fn from_state(resource: &str, state: &Map<String, Value>) -> Result<Option<Self>, Error> {
        let Some(value) = state.get(KEY) else {
            return Ok(None);
        };
        let bad = |what: &str| {
            Error::State(format!(
                "resource \"{resource}\": {KEY}.{what} is missing or of the wrong type"
            ))
        };
        let obj = value.as_object().ok_or_else(|| bad("(object)"))?;
        let fingerprint = obj
            .get("fingerprint")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("fingerprint"))?
            .to_string();
        let pages = obj
            .get("pages")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad("pages"))?;
        let paginator = match obj.get("paginator") {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m.clone()),
            Some(_) => return Err(bad("paginator")),
        };
        let chain = match obj.get("chain") {
            None | Some(Value::Null) => None,
            Some(c) => Some(ChainPosition {
                done: c
                    .get("done")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| bad("chain.done"))?,
                current: c.get("current").filter(|v| !v.is_null()).cloned(),
            }),
        };
        Ok(Some(Position {
            fingerprint,
            pages,
            paginator,
            chain,
            incremental_start: obj.get("incremental_start").cloned(),
        }))
    }
}

#[cfg(test)]
#[path = "resume_tests.rs"]
mod tests;
