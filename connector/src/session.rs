//! The connector's state machine, mirroring the `session` resource of `wit/source.wit`.
//!
//! Per resource: [`Session::next_requests`] plans the next page's request, and while the
//! paginator can predict the page after it ([`Paginate::skip_ahead`]: offset and page
//! numbers once a response told the page size or the total), one more on each call, up to
//! [`MAX_AHEAD`] in flight. The host sends them and hands the final responses, in the
//! order planned, to
//! [`Session::on_response`], which applies `response_actions`, selects the records (keeping
//! a detected `data_selector` for later pages), advances the paginator (detecting one from
//! the first response when none is configured) and checks the [`Guard`].

use std::collections::{HashSet, VecDeque};

use serde_json::{Map, Value, json};

use crate::actions::{Action, action_for};
use crate::config::{Config, Resource};
use crate::dependent::{self, Chains};
use crate::extract::extract;
use crate::incremental::{self, Tracker};
use crate::paginator::{
    DEFAULT_MAX_PAGES, Guard, PageView, Paginate, Paginator, PaginatorConfig, RequestParts,
};
use crate::protocol::{Error, Method, Notice, Page, Request, ResourceInfo, Response};
use crate::resume::{self, ChainPosition, Position};
use crate::selector::Selector;
use crate::url;

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
                parent: r.parent.clone(),
                selected: r.selected,
                max_table_nesting: r.max_table_nesting,
                table_name: r.hints.table_name.clone(),
                columns: r.hints.columns.clone(),
                merge_key: r.hints.merge_key.clone(),
                schema_contract: r.hints.schema_contract,
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
    /// in flight, the page after them when the paginator can predict it, else nothing;
    /// nothing when the resource is done.
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
        if run.done {
            return Ok(Vec::new());
        }
        // Chains of one request each (a `single_page` endpoint) are independent: the next
        // parent rows' requests may go out while earlier ones are in flight.
        let one_page_chains = res.parent.is_some()
            && res.endpoint.paginator == PaginatorConfig::SinglePage
            && run.resume.is_none();
        if !run.in_flight.is_empty() {
            if run.in_flight.len() >= MAX_AHEAD {
                return Ok(Vec::new());
            }
            if one_page_chains {
                let Some(row) = run.chains.queue.pop_front() else {
                    return Ok(Vec::new());
                };
                run.chains.current = Some(row);
            } else {
                let Some(ahead) = run.ahead.as_mut() else {
                    return Ok(Vec::new());
                };
                // A dependent resource's longer chains stay sequential.
                if res.parent.is_some() || !ahead.skip_ahead() {
                    return Ok(Vec::new());
                }
            }
        } else if res.parent.is_some() && run.chains.current.is_none() {
            // A new chain per parent row, with a fresh paginator; none while the parent
            // has not given a row.
            if run.resume.is_some() && !resume_chains(res, run, parent_done) {
                return Ok(Vec::new());
            }
            let restored = run.paginator.clone();
            let Some(row) = run.chains.queue.pop_front() else {
                return Ok(Vec::new());
            };
            run.chains.started = row.number;
            run.chains.current = Some(row);
            run.paginator = res.endpoint.paginator.start();
            run.guard = Guard::new(max_pages).named(&res.name);
            if std::mem::take(&mut run.chains.continue_current) {
                run.paginator = restored;
            }
        }
        let ep = &res.endpoint;
        let rendered = dependent::render(res, run.chains.current.as_ref(), run.inc.as_ref())
            .inspect_err(|e| run.failed = Some(e.to_string()))?;
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
        let planner = match &run.ahead {
            Some(ahead) if !run.in_flight.is_empty() => ahead,
            _ => &run.paginator,
        };
        planner.prepare(&mut parts);
        let url = match parts.url.take() {
            Some(next) => url::build(&next, "", &parts.query),
            None => url::build(&base_url, &rendered.path, &parts.query),
        };
        let body = parts.body.map(|v| v.to_string());
        let mut headers = merge_headers(client_headers, &rendered.headers);
        if body.is_some()
            && !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        let seq = run.next_seq;
        run.next_seq += 1;
        if run.in_flight.is_empty() {
            run.ahead = Some(run.paginator.clone());
        }
        run.in_flight.push_back(InFlight {
            seq,
            method: ep.method,
            url: url.clone(),
            row: run.chains.current.clone(),
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
        let max_pages = self.max_pages;
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
        if let Some(row) = &flight.row
            && run
                .chains
                .current
                .as_ref()
                .is_none_or(|c| c.number != row.number)
        {
            // The chain this response belongs to (later chains may have been planned since),
            // with a guard of its own.
            run.chains.started = row.number;
            run.chains.current = Some(row.clone());
            run.guard = Guard::new(max_pages).named(&res.name);
        }
        let result = page_of(res, run, &flight, &response, parent_done);
        let mut page = match result {
            Ok(page) => page,
            Err(e) => {
                run.failed = Some(e.to_string());
                return Err(e);
            }
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

/// The page of one response, advancing the resource's paginator.
fn page_of(
    res: &Resource,
    run: &mut Run,
    flight: &InFlight,
    response: &Response,
    parent_done: bool,
) -> Result<Page, Error> {
    let ep = &res.endpoint;
    if let Some(Action::Ignore) = action_for(&ep.response_actions, response) {
        end_chain(res, run, true, parent_done);
        return Ok(Page {
            records: "[]".into(),
            count: 0,
            state: page_state(res, run),
            done: run.done,
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
    let processed = crate::records::process(
        res,
        &run.chains,
        run.inc.as_mut(),
        response.status,
        ex.records,
        ex.count,
    )?;
    // A chain ends with its paginator or when the incremental range is left behind; a
    // dependent resource is done with its last chain after its parent is done.
    end_chain(res, run, advance.done || processed.past_range, parent_done);
    let count = u32::try_from(processed.count).map_err(|_| {
        Error::response(
            response.status,
            format!("too many records in one page: {}", processed.count),
        )
    })?;
    let pending = std::mem::take(&mut run.pending);
    let notices = pending
        .into_iter()
        .chain(ex.notices)
        .chain(advance.notices)
        .filter(|n| run.noted.insert(n.message.clone()))
        .collect();
    Ok(Page {
        records: processed.text,
        count,
        state: page_state(res, run),
        done: run.done,
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

/// The state checkpointed with a page: the paginator's progress and the incremental cursor.
/// While the resource is not done, the state also holds the [`Position`] to resume from.
fn page_state(res: &Resource, run: &Run) -> String {
    let mut state = run.paginator.state();
    if let Some(inc) = run.inc.as_ref().and_then(Tracker::state) {
        state.insert("incremental".into(), inc);
    }
    // Pages of this load so far: a host compares it with the pages it committed to tell a
    // resumed load from one that started over.
    state.insert("pages".into(), Value::from(run.pages));
    // The records the API announced, for a host's progress bar.
    if res.parent.is_none()
        && let Some(total) = run.paginator.records_total()
    {
        state.insert("records_total".into(), Value::from(total));
    }
    if !run.done {
        state.insert(resume::KEY.into(), position(res, run).to_value());
    }
    Value::Object(state).to_string()
}

/// Where `run` stands after its last answered page.
fn position(res: &Resource, run: &Run) -> Position {
    let dependent = res.parent.is_some();
    let in_chain = run.chains.current.is_some();
    Position {
        fingerprint: run.fingerprint.clone(),
        pages: run.pages,
        paginator: (!dependent || in_chain).then(|| run.paginator.state()),
        chain: dependent.then(|| ChainPosition {
            done: run.chains.started - u64::from(in_chain),
            current: run.chains.current.as_ref().map(|r| json!(r.values)),
        }),
        incremental_start: run.inc.as_ref().map(Tracker::start_state),
    }
}

/// Applies the saved position of resource `i`, if its state has one: a plain resource
/// continues at the page after the last committed one; a dependent one once its parent's
/// records are in ([`resume_chains`]). Says what it did in a notice.
fn resume_run(config: &Config, i: usize, run: &mut Run) -> Result<(), Error> {
    let res = &config.resources[i];
    let Some(saved) = run.saved.as_ref() else {
        return Ok(());
    };
    let Some(pos) = Position::from_state(&res.name, saved)? else {
        return Ok(());
    };
    if pos.fingerprint != run.fingerprint {
        run.pending.push(Notice::warn(
            "the endpoint (path, params, body or paginator) changed since the interrupted load: starting over from page 1",
        ));
        return Ok(());
    }
    if let (Some(inc), Some(start)) = (run.inc.as_mut(), &pos.incremental_start) {
        inc.pin_start(start)
            .map_err(|e| Error::State(format!("resource \"{}\": {e}", res.name)))?;
    }
    let children: Vec<&str> = config
        .resources
        .iter()
        .filter(|r| r.parent.as_deref() == Some(res.name.as_str()))
        .map(|r| r.name.as_str())
        .collect();
    if !children.is_empty() {
        run.pending.push(Notice::info(format!(
            "the interrupted load feeds {}: loading from page 1 again so every parent record reaches them",
            children.join(", ")
        )));
        return Ok(());
    }
    if res.parent.is_some() {
        run.pages = pos.pages;
        run.resume = Some(pos);
        return Ok(());
    }
    let restored = pos
        .paginator
        .as_ref()
        .is_some_and(|p| run.paginator.restore(p));
    if !restored {
        run.pending.push(Notice::warn(
            "the interrupted load's paginator has no position to continue from (a detected paginator has none): starting over from page 1",
        ));
        return Ok(());
    }
    run.pages = pos.pages;
    run.guard.resume_at(pos.pages);
    run.pending.push(Notice::info(format!(
        "resuming the interrupted load at page {}",
        pos.pages + 1
    )));
    Ok(())
}

/// Applies a dependent resource's saved position once its parent's records are in: the
/// chains of the first `done` parent records are skipped and the chain in progress continues
/// at its next page, provided the parent still lists the same record there. False while the
/// parent's records are not all in yet.
fn resume_chains(res: &Resource, run: &mut Run, parent_done: bool) -> bool {
    let Some(pos) = run.resume.as_ref() else {
        return true;
    };
    let chain = pos.chain.clone().unwrap_or(ChainPosition {
        done: 0,
        current: None,
    });
    let needed = chain.done + u64::from(chain.current.is_some());
    let queued = run.chains.queue.len() as u64;
    if queued < needed && !parent_done {
        return false;
    }
    let Some(pos) = run.resume.take() else {
        return true;
    };
    let done = usize::try_from(chain.done).unwrap_or(usize::MAX);
    let same = match (&chain.current, run.chains.queue.get(done)) {
        (None, _) => queued >= chain.done,
        (Some(saved), Some(row)) => *saved == json!(row.values),
        (Some(_), None) => false,
    };
    let mut paginator = res.endpoint.paginator.start();
    let continues =
        chain.current.is_some() && pos.paginator.as_ref().is_some_and(|p| paginator.restore(p));
    if !same || (chain.current.is_some() && !continues) {
        run.pages = 0;
        run.pending.push(Notice::warn(format!(
            "the parent no longer lists the same records as when the load was interrupted ({} chains were done): starting over from the first parent record",
            chain.done
        )));
        return true;
    }
    run.chains.queue.drain(..done);
    run.pending.push(Notice::info(format!(
        "resuming the interrupted load at page {} (after {} complete parent chains)",
        pos.pages + 1,
        chain.done
    )));
    if continues {
        run.paginator = paginator;
        run.chains.continue_current = true;
    }
    true
}

/// Records the end (or not) of the current request chain: a plain resource is done with its
/// only chain; a dependent one once its parent is done and no parent row waits.
fn end_chain(res: &Resource, run: &mut Run, chain_done: bool, parent_done: bool) {
    if chain_done && res.parent.is_some() {
        run.chains.current = None;
        run.done = parent_done && run.chains.queue.is_empty() && run.in_flight.is_empty();
    } else {
        run.done = chain_done;
    }
}
