//! The connector's state machine, mirroring the `session` resource of `wit/source.wit`.
//!
//! Per resource: [`Session::next_requests`] plans the next page's request (one at a time:
//! one request in flight per chain), the host sends it and hands the final response to
//! [`Session::on_response`], which applies `response_actions`, selects the records (keeping
//! a detected `data_selector` for later pages), advances the paginator (detecting one from
//! the first response when none is configured) and checks the [`Guard`].

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::actions::{Action, action_for};
use crate::config::{Config, Resource};
use crate::extract::extract;
use crate::paginator::{Guard, PageView, Paginate, Paginator, RequestParts};
use crate::protocol::{Error, Method, Notice, Page, Request, ResourceInfo, Response};
use crate::selector::Selector;
use crate::url;

/// A request sent and not yet answered.
#[derive(Debug, Clone)]
struct InFlight {
    seq: u64,
    method: Method,
    url: String,
}

/// The progress of one resource.
#[derive(Debug, Clone)]
struct Run {
    paginator: Paginator,
    guard: Guard,
    next_seq: u64,
    in_flight: Option<InFlight>,
    done: bool,
    /// Set when a response could not be used: the resource sends nothing more.
    failed: Option<String>,
    /// Messages of notices already emitted (each is emitted once per resource).
    noted: HashSet<String>,
    /// The `data_selector` detected from the first response when none is configured.
    detected_selector: Option<Selector>,
    /// The saved state given to `open` (not resumed yet: every run is a full refresh).
    saved: Option<Map<String, Value>>,
}

/// A connector session over one config.
#[derive(Debug, Clone)]
pub struct Session {
    config: Config,
    runs: Vec<Run>,
    literal_warned: bool,
}

impl Session {
    /// Opens a session from a config (JSON text) and the saved state of each resource.
    pub fn open(config: &str, state: &[(String, String)]) -> Result<Session, Error> {
        let config = Config::parse(config)?;
        let mut runs: Vec<Run> = config
            .resources
            .iter()
            .map(|r| Run {
                paginator: r.endpoint.paginator.start(),
                guard: Guard::default().named(&r.name),
                next_seq: 0,
                in_flight: None,
                done: false,
                failed: None,
                noted: HashSet::new(),
                detected_selector: None,
                saved: None,
            })
            .collect();
        for (name, text) in state {
            let Some(i) = config.resources.iter().position(|r| &r.name == name) else {
                continue; // a resource no longer in the config
            };
            let parsed: Value = serde_json::from_str(text).map_err(|e| {
                Error::State(format!("resource \"{name}\": state is not valid JSON: {e}"))
            })?;
            match parsed {
                Value::Object(m) => runs[i].saved = Some(m),
                other => {
                    return Err(Error::State(format!(
                        "resource \"{name}\": expected a JSON object, found {}",
                        crate::config::walk::kind(&other)
                    )));
                }
            }
        }
        Ok(Session {
            config,
            runs,
            literal_warned: false,
        })
    }

    /// The parsed config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Sets the ceiling on pages per resource (default 100 000); past it `on_response` errors.
    pub fn set_max_pages(&mut self, max_pages: u64) {
        for run in &mut self.runs {
            run.guard.set_max_pages(max_pages);
        }
    }

    /// The saved state `open` was given for `resource`, if any.
    pub fn saved_state(&self, resource: &str) -> Option<&Map<String, Value>> {
        let i = self
            .config
            .resources
            .iter()
            .position(|r| r.name == resource)?;
        self.runs[i].saved.as_ref()
    }

    /// The resources to load, in config order.
    pub fn resources(&self) -> Vec<ResourceInfo> {
        self.config
            .resources
            .iter()
            .map(|r| ResourceInfo {
                name: r.name.clone(),
                primary_key: r.primary_key.clone(),
                write_disposition: r.write_disposition,
                parent: None,
                selected: true,
                max_table_nesting: None,
            })
            .collect()
    }

    fn find(&mut self, resource: &str) -> Result<(&Resource, &mut Run), Error> {
        let i = self
            .config
            .resources
            .iter()
            .position(|r| r.name == resource)
            .ok_or_else(|| Error::Protocol(format!("unknown resource \"{resource}\"")))?;
        Ok((&self.config.resources[i], &mut self.runs[i]))
    }

    /// The requests of `resource` the host may send now: the next page, or nothing while a
    /// request is in flight or when the resource is done.
    pub fn next_requests(&mut self, resource: &str) -> Result<Vec<Request>, Error> {
        let client_headers = self.config.client.headers.clone();
        let base_url = self.config.client.base_url.clone();
        let auth = self.config.client.auth.clone();
        let (res, run) = self.find(resource)?;
        if let Some(why) = &run.failed {
            return Err(Error::Protocol(format!(
                "resource \"{resource}\" failed earlier: {why}"
            )));
        }
        if run.done || run.in_flight.is_some() {
            return Ok(Vec::new());
        }
        let ep = &res.endpoint;
        let body = match &ep.json {
            None => None,
            Some(text) => Some(
                serde_json::from_str(text)
                    .map_err(|e| Error::Protocol(format!("endpoint json: {e}")))?,
            ),
        };
        let mut parts = RequestParts {
            query: ep.params.clone(),
            url: None,
            body,
        };
        run.paginator.prepare(&mut parts);
        let url = match parts.url.take() {
            Some(next) => url::build(&next, "", &parts.query),
            None => url::build(&base_url, &ep.path, &parts.query),
        };
        let body = parts.body.map(|v| v.to_string());
        let mut headers = merge_headers(client_headers, &ep.headers);
        if body.is_some()
            && !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        let seq = run.next_seq;
        run.next_seq += 1;
        run.in_flight = Some(InFlight {
            seq,
            method: ep.method,
            url: url.clone(),
        });
        Ok(vec![Request {
            seq,
            method: ep.method,
            url,
            headers,
            body,
            auth,
        }])
    }

    /// Takes the final response to request `response.seq` of `resource` and returns its page.
    /// After an error the resource sends no further request.
    pub fn on_response(&mut self, resource: &str, response: Response) -> Result<Page, Error> {
        let literal = self.config.has_literal_secret() && !self.literal_warned;
        let (res, run) = self.find(resource)?;
        let flight = match &run.in_flight {
            Some(f) if f.seq == response.seq => run.in_flight.take(),
            _ => None,
        }
        .ok_or_else(|| {
            Error::Protocol(format!(
                "unknown request seq {} for resource \"{resource}\"",
                response.seq
            ))
        })?;
        let result = page_of(res, run, &flight, &response);
        let mut page = match result {
            Ok(page) => page,
            Err(e) => {
                run.failed = Some(e.to_string());
                return Err(e);
            }
        };
        if literal {
            self.literal_warned = true;
            page.notices.insert(
                0,
                Notice::warn(
                    "client.auth: a credential is written literally in the config; write {\"secret\": NAME} so the host injects it",
                ),
            );
        }
        Ok(page)
    }
}

/// The page of one response, advancing the resource's paginator.
fn page_of(
    res: &Resource,
    run: &mut Run,
    flight: &InFlight,
    response: &Response,
) -> Result<Page, Error> {
    let ep = &res.endpoint;
    if let Some(Action::Ignore) = action_for(&ep.response_actions, response) {
        run.done = true;
        return Ok(Page {
            records: "[]".into(),
            count: 0,
            state: Value::Object(run.paginator.state()).to_string(),
            done: true,
            notices: vec![Notice::info(format!(
                "HTTP {} from {} {} matched response_actions: ignored, no records",
                response.status, flight.method, flight.url
            ))],
        });
    }
    let selector = ep.data_selector.as_ref().or(run.detected_selector.as_ref());
    let ex = extract(flight.method, &flight.url, response, selector)?;
    if run.detected_selector.is_none() {
        run.detected_selector = ex.detected.clone();
    }
    let view = PageView {
        status: response.status,
        url: &flight.url,
        body: &ex.body,
        headers: &response.headers,
        count: ex.count,
    };
    if run.guard.pages() == 0 {
        // A next link back to the first page is a loop too.
        run.guard.check_reference(response.status, &flight.url)?;
    }
    let advance = run.paginator.advance(&view)?;
    run.guard
        .check(response.status, &ex.records, ex.count, !advance.done)?;
    if let (false, Some(reference)) = (advance.done, &advance.reference) {
        run.guard.check_reference(response.status, reference)?;
    }
    run.done = advance.done;
    let count = u32::try_from(ex.count).map_err(|_| {
        Error::response(
            response.status,
            format!("too many records in one page: {}", ex.count),
        )
    })?;
    let notices = ex
        .notices
        .into_iter()
        .chain(advance.notices)
        .filter(|n| run.noted.insert(n.message.clone()))
        .collect();
    Ok(Page {
        records: ex.records,
        count,
        state: Value::Object(run.paginator.state()).to_string(),
        done: advance.done,
        notices,
    })
}

/// Client headers, then endpoint headers; an endpoint header replaces a client header of the
/// same name (case-insensitive) in place.
fn merge_headers(
    mut headers: Vec<(String, String)>,
    endpoint: &[(String, String)],
) -> Vec<(String, String)> {
    for (name, value) in endpoint {
        match headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = value.clone(),
            None => headers.push((name.clone(), value.clone())),
        }
    }
    headers
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
