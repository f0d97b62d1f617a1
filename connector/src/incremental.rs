//! `incremental`: load only records past the last run's cursor value, like dlt.
//!
//! The start value is the saved `last_value` of the resource (else `initial_value`). Records
//! outside `[start, end)` are dropped; records at the saved boundary value whose key (primary
//! key, else a hash of the record) the last run kept in `unique_hashes` are dropped too, so
//! they are not loaded twice. With `row_order`, paging stops once records leave the range.

use serde_json::{Map, Value, json};

use crate::config::spec::{ObjSpec, Ty, key};
use crate::config::walk::{self, Obj};
use crate::placeholder::{lookup, valid_field};
use crate::protocol::Error;

pub(crate) mod compare;
mod lag;

pub use compare::compare;

/// The keys of `endpoint.incremental`, checked by the parser and emitted in the schema.
pub static INCREMENTAL_SPEC: ObjSpec = ObjSpec {
    name: "incremental",
    keys: &[
        key(
            "cursor_path",
            Ty::Str,
            "field of each record holding the cursor value",
        ),
        key("initial_value", Ty::Scalar, "start value of the first run"),
        key(
            "end_value",
            Ty::Scalar,
            "end of the range (a backfill): the state is not advanced",
        ),
        key(
            "last_value_func",
            Ty::Enum(&["max", "min"]),
            "how the last value advances (default max)",
        ),
        key(
            "row_order",
            Ty::Enum(&["asc", "desc"]),
            "order of records: paging stops once past the range",
        ),
        key(
            "start_param",
            Ty::Str,
            "query parameter that carries the start value",
        ),
        key(
            "end_param",
            Ty::Str,
            "query parameter that carries the end value",
        ),
        key(
            "on_cursor_value_missing",
            Ty::Enum(&["raise", "include", "exclude"]),
            "a record without a cursor value: raise (default), include or exclude",
        ),
        key(
            "range_start",
            Ty::Enum(&["closed", "open"]),
            "whether the start value is included (closed)",
        ),
        key(
            "range_end",
            Ty::Enum(&["closed", "open"]),
            "whether the end value is included (open)",
        ),
        key(
            "primary_key",
            Ty::StrOrStrs,
            "fields that tell records at the last value apart (default: the resource's primary key; []: none, no deduplication)",
        ),
        key(
            "lag",
            Ty::Number,
            "start each run this far before the last value (seconds; days for a date cursor)",
        ),
        key(
            "allow_external_schedulers",
            Ty::Bool,
            "dlt's Airflow hook: accepted, no effect (sluice takes no range from a scheduler)",
        ),
    ],
    required: &["cursor_path"],
};
/// The keys of the params form `{"type": "incremental", ...}`.
pub const PARAM_KEYS: &[&str] = &[
    "type",
    "cursor_path",
    "initial_value",
    "end_value",
    "last_value_func",
    "row_order",
    "on_cursor_value_missing",
    "range_start",
    "range_end",
    "primary_key",
    "lag",
    "allow_external_schedulers",
];

/// `incremental` as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct IncrementalConfig {
    pub cursor_path: String,
    pub initial_value: Option<Value>,
    pub end_value: Option<Value>,
    /// True for `max` (the default), false for `min`.
    pub max: bool,
    /// `Some(true)` for `asc`, `Some(false)` for `desc`.
    pub row_order_asc: Option<bool>,
    /// Query param that carries the start value (endpoint form).
    pub start_param: Option<String>,
    pub end_param: Option<String>,
    /// `raise` (default), `include` or `exclude`.
    pub on_missing: Missing,
    pub start_closed: bool,
    pub end_closed: bool,
    /// dlt's `incremental.primary_key`: the fields that tell apart the records at the last
    /// value (`None`: the resource's primary key; empty: no deduplication at all).
    pub primary_key: Option<Vec<String>>,
    /// dlt's `lag`: each run starts this far before the saved last value (see [`lag`]).
    pub lag: Option<f64>,
}

/// What to do with a record without a cursor value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Raise,
    Include,
    Exclude,
}

impl IncrementalConfig {
    /// Parses the endpoint form, or with `param_form` the params form (`type` and no
    /// `start_param`/`end_param`).
    pub(crate) fn parse(obj: Obj<'_>, param_form: bool) -> Result<IncrementalConfig, Error> {
        if param_form {
            obj.deny_unknown(PARAM_KEYS)?;
        } else {
            obj.check(&INCREMENTAL_SPEC)?;
        }
        let cursor_path = obj.str_req("cursor_path")?;
        if !valid_field(cursor_path.trim_start_matches("$.")) {
            return Err(Error::config(
                obj.at("cursor_path"),
                format!(
                    "\"{cursor_path}\" is not a valid field path (expected names joined by dots)"
                ),
            ));
        }
        let scalar = |key: &str| -> Result<Option<Value>, Error> {
            match obj.get(key) {
                None => Ok(None),
                Some(v @ (Value::String(_) | Value::Number(_))) => Ok(Some(v.clone())),
                Some(other) => Err(walk::wrong_type(
                    &obj.at(key),
                    "a string or a number",
                    other,
                )),
            }
        };
        let max = walk::choice(&obj, "last_value_func", &["max", "min"])? != Some("min");
        let closed = |key: &str, default: bool| -> Result<bool, Error> {
            Ok(match walk::choice(&obj, key, &["closed", "open"])? {
                None => default,
                Some(v) => v == "closed",
            })
        };
        let lag = match obj.get("lag") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_f64()
                    .filter(|n| *n >= 0.0)
                    .ok_or_else(|| walk::wrong_type(&obj.at("lag"), "a non-negative number", v))?,
            ),
        };
        let cfg = IncrementalConfig {
            cursor_path: cursor_path.trim_start_matches("$.").to_string(),
            initial_value: scalar("initial_value")?,
            end_value: scalar("end_value")?,
            max,
            row_order_asc: walk::choice(&obj, "row_order", &["asc", "desc"])?.map(|o| o == "asc"),
            start_param: obj.str_opt("start_param")?.map(str::to_string),
            end_param: obj.str_opt("end_param")?.map(str::to_string),
            on_missing: match walk::choice(
                &obj,
                "on_cursor_value_missing",
                &["raise", "include", "exclude"],
            )? {
                Some("include") => Missing::Include,
                Some("exclude") => Missing::Exclude,
                _ => Missing::Raise,
            },
            start_closed: closed("range_start", true)?,
            end_closed: closed("range_end", false)?,
            primary_key: match obj.get("primary_key") {
                None | Some(Value::Null) => None,
                Some(_) => Some(obj.strings("primary_key")?),
            },
            lag,
        };
        if param_form {
            // Checked by the spec in the endpoint form.
            obj.bool_opt("allow_external_schedulers")?;
        }
        if let (Some(s), Some(e)) = (&cfg.initial_value, &cfg.end_value) {
            compare(s, e).map_err(|m| Error::config(obj.at("end_value"), m))?;
        }
        Ok(cfg)
    }
}

/// The incremental progress of one resource over one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracker {
    cfg: IncrementalConfig,
    start: Option<Value>,
    /// Keys of the records at `start` loaded by the last run.
    seen_at_start: Vec<String>,
    last: Option<Value>,
    /// Keys of the records at `last` loaded so far.
    at_last: Vec<String>,
    /// The saved incremental state, kept as it is when `end_value` is set (a backfill).
    saved: Option<Value>,
}

/// The verdict on a page of records.
#[derive(Debug, Clone, PartialEq)]
pub struct Filtered {
    pub records: Vec<Value>,
    /// True when the `row_order` says no later page can hold a record in range.
    pub past_range: bool,
}

impl Tracker {
    /// Starts from the saved `incremental` state of the resource, if any.
    pub fn new(cfg: IncrementalConfig, saved: Option<&Value>) -> Result<Tracker, Error> {
        let (mut start, mut seen) = (cfg.initial_value.clone(), Vec::new());
        if let Some(s) = saved {
            let obj = s
                .as_object()
                .ok_or_else(|| Error::State("incremental: expected an object".into()))?;
            if let Some(v) = obj.get("last_value").filter(|v| !v.is_null()) {
                start = Some(v.clone());
            }
            if let Some(h) = obj.get("unique_hashes") {
                seen = h
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .ok_or_else(|| {
                        Error::State("incremental.unique_hashes: expected a list".into())
                    })?;
            }
        }
        let mut tracker = Tracker {
            last: start.clone(),
            at_last: seen.clone(),
            start,
            seen_at_start: seen,
            saved: saved.cloned(),
            cfg,
        };
        // A lagged run starts before the saved last value (which the state keeps); the keys
        // saved at that value tell nothing at the earlier start.
        if let (Some(lag), Some(last)) = (tracker.active_lag(), &tracker.last)
            && saved.is_some()
        {
            let initial = tracker.cfg.initial_value.as_ref();
            let start = lag::apply(lag, last, initial, tracker.cfg.max)
                .map_err(|m| Error::State(format!("incremental.lag: {m}")))?;
            tracker.start = Some(start);
            tracker.seen_at_start.clear();
        }
        Ok(tracker)
    }

    /// Where this run's range starts (the start value and the keys already loaded at it):
    /// written into a resume position, so a resumed load keeps the range its first pages
    /// were requested with.
    pub fn start_state(&self) -> Value {
        json!({"start": self.start, "seen": self.seen_at_start})
    }

    /// Starts the range where [`Tracker::start_state`] says an interrupted run started it.
    pub fn pin_start(&mut self, pinned: &Value) -> Result<(), Error> {
        let bad = || Error::State("resume.incremental_start: expected {start, seen}".into());
        let obj = pinned.as_object().ok_or_else(bad)?;
        self.start = obj.get("start").filter(|v| !v.is_null()).cloned();
        self.seen_at_start = obj
            .get("seen")
            .and_then(Value::as_array)
            .ok_or_else(bad)?
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect();
        Ok(())
    }

    pub fn config(&self) -> &IncrementalConfig {
        &self.cfg
    }

    /// The value a `{incremental.*}` placeholder names.
    pub fn value(&self, which: crate::placeholder::IncValue) -> Option<Value> {
        use crate::placeholder::IncValue;
        match which {
            IncValue::Start => self.start.clone(),
            IncValue::End => self.cfg.end_value.clone(),
            // dlt's `last_value` is lagged too.
            IncValue::Last => match (self.active_lag(), &self.last) {
                (Some(lag), Some(last)) => {
                    let lagged =
                        lag::apply(lag, last, self.cfg.initial_value.as_ref(), self.cfg.max);
                    Some(lagged.unwrap_or_else(|_| last.clone()))
                }
                _ => self.last.clone(),
            },
        }
    }

    /// The lag, unless an `end_value` turns it off (a backfill's range is exact, as in dlt).
    fn active_lag(&self) -> Option<f64> {
        self.cfg
            .lag
            .filter(|lag| *lag > 0.0 && self.cfg.end_value.is_none())
    }

    /// `a` is further along than `b` in the direction of `last_value_func`.
    fn ahead(&self, a: &Value, b: &Value) -> Result<bool, String> {
        let o = compare(a, b)?;
        Ok(if self.cfg.max { o.is_gt() } else { o.is_lt() })
    }

    /// The fields that tell records apart at the last value, when the config names them
    /// (`incremental.primary_key`); else the resource's primary key applies.
    pub fn primary_key(&self) -> Option<&[String]> {
        self.cfg.primary_key.as_deref()
    }

    /// Keeps the records in range, learning the new last value. `key` gives each record's
    /// dedup key (primary key or hash).
    pub fn filter(
        &mut self,
        status: u16,
        records: Vec<Value>,
        key: &dyn Fn(&Value) -> String,
    ) -> Result<Filtered, Error> {
        let forward = self.cfg.row_order_asc.map(|asc| asc == self.cfg.max);
        // `incremental.primary_key: []` turns deduplication off, as in dlt.
        let dedup = self.cfg.primary_key.as_ref().is_none_or(|k| !k.is_empty());
        let mut out = Vec::with_capacity(records.len());
        let mut past_range = false;
        let bad = |m: String| {
            Error::response(
                status,
                format!("incremental cursor \"{}\": {m}", self.cfg.cursor_path),
            )
        };
        for record in records {
            let Some(c) = lookup(&record, &self.cfg.cursor_path).cloned() else {
                match self.cfg.on_missing {
                    Missing::Raise => {
                        return Err(bad("a record has no value at this path (set on_cursor_value_missing to include or exclude)".into()));
                    }
                    Missing::Include => out.push(record),
                    Missing::Exclude => {}
                }
                continue;
            };
            if let Some(end) = &self.cfg.end_value {
                let beyond = self.ahead(&c, end).map_err(bad)?
                    || (!self.cfg.end_closed && compare(&c, end).map_err(bad)?.is_eq());
                if beyond {
                    past_range |= forward == Some(true);
                    continue;
                }
            }
            if let Some(start) = &self.start {
                let o = compare(&c, start).map_err(bad)?;
                let behind = self.ahead(start, &c).map_err(bad)?;
                if behind || (o.is_eq() && !self.cfg.start_closed) {
                    past_range |= forward == Some(false);
                    continue;
                }
                if dedup && o.is_eq() && self.seen_at_start.contains(&key(&record)) {
                    continue;
                }
            }
            match &self.last {
                Some(l) if compare(&c, l).map_err(bad)?.is_eq() => {
                    let k = key(&record);
                    if dedup && !self.at_last.contains(&k) {
                        self.at_last.push(k);
                    }
                }
                Some(l) if !self.ahead(&c, l).map_err(bad)? => {}
                _ => {
                    self.last = Some(c);
                    self.at_last = match dedup {
                        true => vec![key(&record)],
                        false => Vec::new(),
                    };
                }
            }
            out.push(record);
        }
        Ok(Filtered {
            records: out,
            past_range,
        })
    }

    /// The `incremental` entry of the resource's state. With `end_value` (a backfill) the
    /// saved state is kept as it was.
    pub fn state(&self) -> Option<Value> {
        if self.cfg.end_value.is_some() {
            return self.saved.clone();
        }
        self.last.as_ref()?;
        Some(json!({"last_value": self.last, "unique_hashes": self.at_last}))
    }
}

/// A stable 64-bit FNV-1a hash, hex: the dedup key of a record without a primary key.
pub fn fnv_hex(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The dedup key of `record`: its primary key values (as JSON), else a hash of the record.
pub fn record_key(record: &Value, primary_key: &[String]) -> String {
    if primary_key.is_empty() {
        return fnv_hex(&record.to_string());
    }
    let values: Vec<Value> = primary_key
        .iter()
        .map(|k| lookup(record, k).cloned().unwrap_or(Value::Null))
        .collect();
    Value::Array(values).to_string()
}

/// Reads the `incremental` entry of a saved resource state.
pub fn saved_entry(saved: Option<&Map<String, Value>>) -> Option<&Value> {
    saved?.get("incremental")
}

#[cfg(test)]
#[path = "incremental_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "incremental_run_tests.rs"]
mod run_tests;
