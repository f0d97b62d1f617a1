//! Driving a connector: plan, send, select, load, checkpoint, one page at a time.

use std::collections::BTreeSet;
use std::time::Instant;

use serde_json::Value;
use sluice_sink::{LoadId, Outcome, Sink, SinkError, TableSpec};
use sluice_transport::{Auth, Client, Credential, Event, TransportError};

use crate::bindings::Planned;
use crate::guest::{Guest, GuestError};
use crate::progress::Progress;
use crate::protocol::{Page, ResourceInfo};
use crate::redact;

/// Why a resource failed.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    #[error(transparent)]
    Guest(#[from] GuestError),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("cannot load the page")]
    Sink(#[from] SinkError),
    #[error(
        "the connector returned records that are not a JSON array of {expected} items: {message}"
    )]
    Records { expected: u32, message: String },
    #[error("the connector asked for secret `{0}`, which the config does not reference")]
    UnreferencedSecret(String),
    #[error(
        "more than {max} pages: stopped by the host's page ceiling (raise it with --max-pages)"
    )]
    TooManyPages { max: u64 },
}

/// A failed run, naming the resource it failed in.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Open(GuestError),
    #[error(transparent)]
    Sink(SinkError),
    #[error("resource `{resource}` failed")]
    Resource {
        resource: String,
        #[source]
        source: Box<ResourceError>,
    },
}

/// Default of [`Runner::max_pages`].
pub const DEFAULT_MAX_PAGES: u64 = 1_000_000;

/// What one resource loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceSummary {
    pub name: String,
    /// The load in the ledger; `None` for a resource that is not selected (fetched only
    /// for its children, nothing written).
    pub load_id: Option<LoadId>,
    pub pages: u64,
    pub records: u64,
    pub rows_written: u64,
    pub requests: u64,
    pub retries: u64,
    pub seconds: f64,
}

/// Drives one open connector session into a sink.
pub struct Runner<'a> {
    pub guest: Guest,
    pub client: Client,
    pub sink: &'a mut dyn Sink,
    pub progress: &'a mut dyn Progress,
    /// Secrets the config references; the connector may ask for no other.
    pub secrets: BTreeSet<String>,
    /// Hard ceiling on the pages of one resource, enforced whatever the connector says.
    pub max_pages: u64,
}

impl std::fmt::Debug for Runner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner").finish_non_exhaustive()
    }
}

impl Runner<'_> {
    /// Loads every resource in order; stops at the first that fails.
    pub fn run(&mut self) -> Result<Vec<ResourceSummary>, RunError> {
        let resources = self.guest.resources().map_err(RunError::Open)?;
        let mut summaries = Vec::with_capacity(resources.len());
        for info in resources {
            summaries.push(self.run_resource(&info)?);
        }
        Ok(summaries)
    }

    fn run_resource(&mut self, info: &ResourceInfo) -> Result<ResourceSummary, RunError> {
        // An unselected resource is driven for its children but writes nothing: no table,
        // no ledger row, no state.
        let load_id = if info.selected {
            let spec = TableSpec {
                name: info.name.clone(),
                primary_key: info.primary_key.clone(),
                disposition: info.write_disposition,
                max_table_nesting: info.max_table_nesting,
            };
            Some(self.sink.begin(&spec).map_err(RunError::Sink)?)
        } else {
            None
        };
        self.progress.resource_started(&info.name);
        let mut summary = ResourceSummary {
            name: info.name.clone(),
            load_id,
            pages: 0,
            records: 0,
            rows_written: 0,
            requests: 0,
            retries: 0,
            seconds: 0.0,
        };
        let started = Instant::now();
        let result = self.load(&info.name, load_id, &mut summary);
        summary.seconds = started.elapsed().as_secs_f64();
        self.progress
            .resource_finished(&info.name, summary.pages, summary.records, result.is_ok());
        match (result, load_id) {
            (Ok(()), Some(load_id)) => {
                self.sink
                    .finish(load_id, Outcome::Completed)
                    .map_err(RunError::Sink)?;
                Ok(summary)
            }
            (Ok(()), None) => Ok(summary),
            (Err(source), load_id) => {
                if let Some(load_id) = load_id {
                    let error = redact::redact(&anyhow_like(&source).to_string());
                    // The run already failed; a ledger write error must not hide that cause.
                    let _ = self.sink.finish(load_id, Outcome::Failed { error: &error });
                }
                Err(RunError::Resource {
                    resource: info.name.clone(),
                    source: Box::new(source),
                })
            }
        }
    }

    fn load(
        &mut self,
        resource: &str,
        load: Option<LoadId>,
        summary: &mut ResourceSummary,
    ) -> Result<(), ResourceError> {
        loop {
            // Every request sent so far was answered, so an empty plan means the resource
            // is finished (e.g. a dependent resource whose parent yielded no records).
            let planned = self.guest.next_requests(resource)?;
            if planned.is_empty() {
                return Ok(());
            }
            for p in planned {
                if summary.pages >= self.max_pages {
                    return Err(ResourceError::TooManyPages {
                        max: self.max_pages,
                    });
                }
                let (page, records) = self.fetch(resource, p, summary)?;
                if let Some(load) = load {
                    summary.rows_written += self.sink.write_page(load, &records, &page.state)?;
                }
                summary.pages += 1;
                summary.records += records.len() as u64;
                self.progress.page(resource, summary.pages, summary.records);
                if page.done {
                    return Ok(());
                }
            }
        }
    }

    /// Sends one planned request of `resource` and hands the response to the connector:
    /// its page and the page's records, checked to be a JSON array of `count` items.
    pub(crate) fn fetch(
        &mut self,
        resource: &str,
        p: Planned,
        summary: &mut ResourceSummary,
    ) -> Result<(Page, Vec<Value>), ResourceError> {
        if let Some(auth) = &p.request.auth {
            self.check_secrets(auth)?;
            self.client.prepare(auth)?;
            redact::remember(self.client.redactor());
        }
        let progress = &mut *self.progress;
        let retries = &mut summary.retries;
        let sent = self.client.send(&p.request, &mut |event| match event {
            Event::Retry {
                attempt,
                reason,
                wait,
                url,
            } => {
                *retries += 1;
                progress.retry(resource, attempt, &reason, wait, url);
            }
        });
        // An OAuth2 token fetched while sending joins the process-wide redactor.
        redact::remember(self.client.redactor());
        let response = sent?;
        summary.requests += 1;
        let page = self.guest.on_response(resource, p.seq, response)?;
        for notice in &page.notices {
            self.progress.notice(resource, notice);
        }
        let records: Vec<Value> =
            serde_json::from_str(&page.records).map_err(|e| ResourceError::Records {
                expected: page.count,
                message: e.to_string(),
            })?;
        if records.len() != page.count as usize {
            return Err(ResourceError::Records {
                expected: page.count,
                message: format!("it holds {}", records.len()),
            });
        }
        Ok((page, records))
    }

    fn check_secrets(&self, auth: &Auth) -> Result<(), ResourceError> {
        for c in auth.credentials() {
            if let Credential::Secret(name) = c
                && !self.secrets.contains(name)
            {
                return Err(ResourceError::UnreferencedSecret(name.clone()));
            }
        }
        Ok(())
    }
}

/// Formats an error with its whole cause chain, `a: b: c`.
pub fn anyhow_like<'a>(e: &'a (dyn std::error::Error + 'static)) -> Chain<'a> {
    Chain(e)
}

/// Display of an error and its sources joined by `: `.
#[derive(Debug)]
pub struct Chain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}
