//! The connector's state machine, mirroring the `session` resource of `wit/source.wit`.
//!
//! Per resource: [`Session::next_requests`] plans the next page's request, and while the
//! paginator can predict the page after it ([`Paginate::skip_ahead`]: offset and page
//! numbers once a response told the page size or the total), one more on each call, up to
//! [`MAX_AHEAD`] in flight. A dependent resource instead starts the chains of the next
//! parent records while one is in flight ([`crate::chains`]). The host sends the requests
//! and hands the final responses, in the order planned, to [`Session::on_response`], which
//! applies `response_actions`, selects the records (keeping a detected `data_selector` for
//! later pages), advances the paginator (detecting one from the first response when none
//! is configured) and checks the [`Guard`].

use std::collections::{HashSet, VecDeque};

use serde_json::{Map, Value};

use crate::chains::{Chains, Records};
use crate::config::{Config, Resource};
use crate::dependent;
use crate::incremental::{self, Tracker};
use crate::paginator::{DEFAULT_MAX_PAGES, Guard, Paginate, Paginator, RequestParts};
use crate::protocol::{Error, Method, Notice, Page, Request, ResourceInfo, Response};
use crate::resume::{self, Position};
use crate::selector::Selector;
use crate::url;

mod plan;
mod position;
mod select;

use plan::{Planner, end_chain, next_chain};
use position::{page_state, resume_chains, resume_run};
use select::{Chain, select};

/// Requests of one resource planned and not answered at most.
pub const MAX_AHEAD: usize = 64;

/// A request sent and not yet answered.
#[derive(Debug, Clone)]
struct InFlight {
    seq: u64,
    method: Method,
    url: String,
    /// The parent row of the chain it belongs to (dependent resources).
    row: Option<dependent::Row>,
}

/// The progress of one resource.
#[derive(Debug, Clone)]
struct Run {
    paginator: Paginator,
    guard: Guard,
    next_seq: u64,
    /// Sent and not answered, in the order planned (and answered).
    in_flight: VecDeque<InFlight>,
    /// The paginator as it prepared the last planned request, while requests are in flight.
    ahead: Option<Paginator>,
    done: bool,
    /// Set when a response could not be used: the resource sends nothing more.
    failed: Option<String>,
    /// Messages of notices already emitted (each is emitted once per resource).
    noted: HashSet<String>,
    /// The `data_selector` detected from the first response when none is configured.
    detected_selector: Option<Selector>,
    /// The saved state given to `open` (not resumed yet: every run is a full refresh).
    saved: Option<Map<String, Value>>,
    /// Parent rows and the current request chain of a dependent resource.
    chains: Chains,
    /// Incremental progress, when the endpoint is incremental.
    inc: Option<Tracker>,
    /// [`resume::fingerprint`] of the resource's endpoint.
    fingerprint: String,
    /// Pages answered in this load, over every run of it (a resumed load counts on).
    pages: u64,
    /// A dependent resource's saved position, applied when its parent's records are in.
    resume: Option<Position>,
    /// Notices to emit with the next page (e.g. where a resumed load continues).
    pending: Vec<Notice>,
    /// The load starts an unfinished one over, from where that one began (its incremental
    /// start), because it cannot continue it: its first page's state says so
    /// (`"restarted": true`), and a host deletes what the unfinished load inserted.
    restarted: bool,
    /// A dependent resource may start the chains of later parent records while one is in
    /// flight ([`crate::chains`]).
    chains_ahead: bool,
}

/// A connector session over one config.
#[derive(Debug, Clone)]
pub struct Session {
    config: Config,
    runs: Vec<Run>,
    literal_warned: bool,
    max_pages: u64,
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
                in_flight: VecDeque::new(),
                ahead: None,
                done: false,
                failed: None,
                noted: HashSet::new(),
                detected_selector: None,
                saved: None,
                chains: Chains::default(),
                inc: None,
                fingerprint: resume::fingerprint(&config, r),
                pages: 0,
                resume: None,
                pending: Vec::new(),
                restarted: false,
                chains_ahead: !dependent::renders_last_value(r),
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
        for (r, run) in config.resources.iter().zip(runs.iter_mut()) {
            if let Some(cfg) = &r.endpoint.incremental {
                let saved = incremental::saved_entry(run.saved.as_ref());
                run.inc = Some(Tracker::new(cfg.clone(), saved).map_err(|e| match e {
                    Error::State(m) => Error::State(format!("resource \"{}\": {m}", r.name)),
                    other => other,
                })?);
            }
        }
        for (i, run) in runs.iter_mut().enumerate() {
            resume_run(&config, i, run)?;
        }
        Ok(Session {
            config,
            runs,
            literal_warned: false,
            max_pages: DEFAULT_MAX_PAGES,
        })
    }

    /// The parsed config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Sets a ceiling on pages per resource (none by default); past it `on_response` errors.
    pub fn set_max_pages(&mut self, max_pages: u64) {
        self.max_pages = max_pages;
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

    /// The resources to load, parents before their children.
    pub fn resources(&self) -> Vec<ResourceInfo> {
        self.config
            .resources
            .iter()
            .map(|r| ResourceInfo {
                name: r.name.clone(),
                primary_key: r.primary_key.clone(),
                write_disposition: r.write_disposition,
                merge_strategy: r.merge_strategy.clone(),
                parent: r.parent.clone(),
                selected: r.selected,
                max_table_nesting: r.max_table_nesting,
                table_name: r.hints.table_name.clone(),
                columns: r.hints.columns.clone(),
                merge_key: r.hints.merge_key.clone(),
                schema_contract: r.hints.schema_contract,
                nested_hints: r.hints.nested.clone(),
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

    /// True when `resource` has no parent or its parent is done.
    fn parent_done(&self, resource: &str) -> bool {
        let parent = self
            .config
            .resource(resource)
            .and_then(|r| r.parent.as_ref());
        parent.is_none_or(|p| {
            self.config
                .resources
                .iter()
                .position(|r| &r.name == p)
                .is_some_and(|i| self.runs[i].done)
        })
    }

    /// The requests of `resource` the host may send now: the next page; while requests are
    /// in flight, the page after them when the paginator can predict it, or (a dependent
    /// resource) the next page of another parent record's chain; else nothing. Nothing when
    /// the resource is done.
    pub fn next_requests(&mut self, resource: &str) -> Result<Vec<Request>, Error> {
        let client_headers = self.config.client.headers.clone();
        let base_url = self.config.client.base_url.clone();
        let max_pages = self.max_pages;
        let parent_done = self.parent_done(resource);
        let (res, run) = self.find(resource)?;
        let auth = res.endpoint.auth.clone();
        if let Some(why) = &run.failed {
            return Err(Error::Protocol(format!(
                "resource \"{resource}\" failed earlier: {why}"
            )));
        }
        if run.done || run.in_flight.len() >= MAX_AHEAD {
            return Ok(Vec::new());
        }
        let planner = if res.parent.is_some() {
            next_chain(res, run, max_pages, parent_done)
        } else if run.in_flight.is_empty() {
            run.ahead = Some(run.paginator.clone());
            Some(Planner::Current)
        } else {
            run.ahead
                .as_mut()
                .is_some_and(Paginator::skip_ahead)
                .then_some(Planner::Ahead)
        };
        let Some(planner) = planner else {
            return Ok(Vec::new());
        };
        let (row, paginator) = match planner {
            Planner::Current => (run.chains.current.as_ref(), &run.paginator),
            Planner::Ahead => (None, run.ahead.as_ref().unwrap_or(&run.paginator)),
            Planner::Lane(k) => {
                let lane = &run.chains.lanes[k];
                (Some(&lane.row), &lane.paginator)
            }
        };
        let ep = &res.endpoint;
        let rendered = dependent::render(res, row, run.inc.as_ref());
        let rendered = rendered.inspect_err(|e| run.failed = Some(e.to_string()))?;
        let body = match &rendered.json {
            None => None,
            Some(text) => Some(
                serde_json::from_str(text)
                    .map_err(|e| Error::Protocol(format!("endpoint json: {e}")))?,
            ),
        };
        let mut parts = RequestParts {
            query: rendered.params,
            url: None,
            body,
        };
        paginator.prepare(&mut parts);
        let url = match parts.url.take() {
            Some(next) => url::build(&next, "", &parts.query),
            None => url::build(&base_url, &rendered.path, &parts.query),
        };
        let (body, content_type) = match rendered.data {
            Some(data) => (Some(data.text), data.content_type),
            None => (parts.body.map(|v| v.to_string()), Some("application/json")),
        };
        let mut headers = merge_headers(client_headers, &rendered.headers);
        if let Some(content_type) = content_type.filter(|_| body.is_some())
            && !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type".into(), content_type.into()));
        }
        let seq = run.next_seq;
        run.next_seq += 1;
        let row = row.cloned();
        run.in_flight.push_back(InFlight {
            seq,
            method: ep.method,
            url: url.clone(),
            row,
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
        let literal = self
            .config
            .literal_secret()
            .filter(|_| !self.literal_warned);
        let parent_done = self.parent_done(resource);
        let (res, run) = self.find(resource)?;
        // Responses come in the order the requests were planned.
        let flight = match run.in_flight.front() {
            Some(f) if f.seq == response.seq => run.in_flight.pop_front(),
            _ => None,
        }
        .ok_or_else(|| {
            let expected = run.in_flight.front().map(|f| f.seq);
            Error::Protocol(match expected {
                Some(e) => format!(
                    "resource \"{resource}\": response to request seq {} while seq {e} is unanswered (responses go in the order the requests were planned)",
                    response.seq
                ),
                None => format!(
                    "unknown request seq {} for resource \"{resource}\"",
                    response.seq
                ),
            })
        })?;
        run.pages += 1;
        // A dependent resource's response belongs to the current chain or to one ahead.
        let lane = flight
            .row
            .as_ref()
            .and_then(|row| run.chains.lane_of(row.number));
        let (paginator, guard, row) = match lane {
            Some(k) => {
                let lane = &mut run.chains.lanes[k];
                (&mut lane.paginator, &mut lane.guard, Some(&lane.row))
            }
            None => (
                &mut run.paginator,
                &mut run.guard,
                run.chains.current.as_ref(),
            ),
        };
        let chain = Chain {
            paginator,
            guard,
            row,
        };
        let selected = select(
            res,
            chain,
            &mut run.detected_selector,
            run.inc.as_mut(),
            &flight,
            &response,
        );
        let selected = selected.inspect_err(|e| run.failed = Some(e.to_string()))?;
        run.chains.answered_page(selected.records.len());
        let mut records = Records {
            text: selected.records,
            count: selected.count,
        };
        match lane {
            // Held until the chains before it are complete: the page carries no records
            // and the position stays where it was.
            Some(k) => {
                let held = std::mem::take(&mut records);
                run.chains.lanes[k].hold(held, selected.chain_done);
            }
            None => end_chain(res, run, selected.chain_done, parent_done, &mut records),
        }
        let count = u32::try_from(records.count).map_err(|_| {
            let e = Error::response(
                response.status,
                format!("too many records in one page: {}", records.count),
            );
            run.failed = Some(e.to_string());
            e
        })?;
        let pending = std::mem::take(&mut run.pending);
        let notices = pending
            .into_iter()
            .chain(selected.notices)
            .filter(|n| run.noted.insert(n.message.clone()))
            .collect();
        let mut page = Page {
            records: records.text,
            count,
            state: page_state(res, run),
            done: run.done,
            notices,
        };
        self.feed_children(resource, &page, response.status)?;
        if let Some(key) = literal {
            self.literal_warned = true;
            page.notices.insert(
                0,
                Notice::warn(format!(
                    "{key}: a secret is written literally in the config; write {{\"secret\": NAME}} so the host injects it"
                )),
            );
        }
        Ok(page)
    }

    /// Gives the children of `resource` the parent fields they need from its page.
    fn feed_children(&mut self, resource: &str, page: &Page, status: u16) -> Result<(), Error> {
        let children: Vec<usize> = (0..self.runs.len())
            .filter(|&i| self.config.resources[i].parent.as_deref() == Some(resource))
            .collect();
        if children.is_empty() || page.count == 0 {
            return Ok(());
        }
        let records: Vec<Value> = serde_json::from_str(&page.records)
            .map_err(|e| Error::response(status, format!("cannot read records: {e}")))?;
        for i in children {
            let fields = &self.config.resources[i].parent_fields;
            self.runs[i].chains.feed(&records, fields, status);
        }
        Ok(())
    }
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
mod tests;
