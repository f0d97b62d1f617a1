//! One sync: config + connector + HTTP client + sink, wired together.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sluice_sink::{SavedState, SinkError, SqliteSink};
use sluice_transport::{
    Client, ClientConfig, RetryPolicy, SecretError, SecretResolver, TransportError, TrustedCerts,
};

use crate::config::SourceConfig;
use crate::fetch::Fetcher;
use crate::guest::{Guest, GuestError};
use crate::progress::Progress;
use crate::protocol::ConnectorError;
use crate::run::{ResourceSummary, RunError, Runner, Stop};
use crate::runtime::{Limits, Runtime, RuntimeError, Source};
use crate::write::{Start, Writer};

/// Everything a sync needs besides the config.
#[derive(Debug)]
pub struct SyncOptions {
    pub db: PathBuf,
    pub connector: Source,
    pub cache_dir: Option<PathBuf>,
    pub limits: Limits,
    pub retry: RetryPolicy,
    pub timeout: Duration,
    /// Hosts allowed besides the origin of `client.base_url`.
    pub extra_hosts: Vec<String>,
    /// Connect to private, loopback and link-local addresses a hostname resolves to.
    pub allow_private_network: bool,
    /// Fixed addresses for hostnames (`--resolve HOST=ADDR`).
    pub resolve: Vec<(String, std::net::IpAddr)>,
    pub resolver: SecretResolver,
    /// Hard ceiling on the pages of one resource ([`crate::run::DEFAULT_MAX_PAGES`]).
    pub max_pages: u64,
    /// Ignore unfinished loads: every resource starts from its first page (or its last
    /// completed incremental cursor).
    pub restart: bool,
    /// Requests of a resource in flight at most ([`DEFAULT_CONCURRENCY`]).
    pub concurrency: usize,
    /// Asks the run to stop after the pages in flight (Ctrl-C).
    pub stop: Stop,
    /// Largest response body a request may have (`--max-response-mb`).
    pub max_response_bytes: u64,
    /// Largest page of records a connector may return (`--max-page-mb`).
    pub max_page_bytes: usize,
    /// Groups of resources (a resource and those made from its records) loaded at once
    /// (`--parallel-resources`; 1: one resource after the other). `None`: as the config
    /// marks its resources `parallelized` (see [`crate::parallel::lanes`]).
    pub parallel: Option<usize>,
    /// Certificate authorities trusted besides the built-in roots (`--ca-cert`).
    pub trusted: TrustedCerts,
}

/// Default of [`SyncOptions::concurrency`].
pub const DEFAULT_CONCURRENCY: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("cannot set up the HTTP client")]
    Client(#[source] Box<TransportError>),
    #[error("cannot open the database {path}")]
    Database {
        path: PathBuf,
        source: Box<SinkError>,
    },
    /// The database could not be opened; the sink's error names the file itself.
    #[error(transparent)]
    Open(Box<SinkError>),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("cannot start a thread of the engine")]
    Thread(#[source] std::io::Error),
    /// A secret the config references is missing: nothing was opened or sent.
    #[error(transparent)]
    Secret(#[from] SecretError),
}

impl SyncError {
    /// Whether the user's config (not the network or the data) is at fault.
    pub fn is_config_error(&self) -> bool {
        matches!(
            self,
            SyncError::Run(RunError::Open(GuestError::Connector(
                ConnectorError::Config { .. }
            )))
        )
    }
}

/// What a sync did.
#[derive(Debug, Clone)]
pub struct SyncReport {
    pub resources: Vec<ResourceSummary>,
    pub component_from_cache: bool,
    /// Loads a dead process had left running, marked `interrupted` at the start.
    pub reclaimed: u64,
}

impl SyncReport {
    /// True when every resource completed.
    pub fn ok(&self) -> bool {
        self.resources
            .iter()
            .all(|r| r.status == crate::run::Status::Completed)
    }
}

/// The fetch stage of a run: `workers` threads sharing an HTTP client with the options'
/// retry policy and timeout and the config's allow-list, sending only the secrets the config
/// references.
pub(crate) fn fetcher(
    config: &SourceConfig,
    options: &SyncOptions,
    workers: usize,
) -> Result<Fetcher, SyncError> {
    Fetcher::start(
        Arc::new(http_client(config, options)?),
        config.secrets.clone(),
        workers,
    )
    .map_err(SyncError::Thread)
}

pub(crate) fn http_client(
    config: &SourceConfig,
    options: &SyncOptions,
) -> Result<Client, SyncError> {
    let client_config = ClientConfig {
        policy: options.retry.clone(),
        timeout: options.timeout,
        allowed_hosts: config.allow_list(&options.extra_hosts),
        user_agent: format!("sluice/{}", env!("CARGO_PKG_VERSION")),
        max_body: options.max_response_bytes,
        network: config.network_policy(
            &options.extra_hosts,
            options.allow_private_network,
            &options.resolve,
        ),
        cancel: options.stop.cancel(),
        trusted: options.trusted.clone(),
        env_proxy: true,
    };
    Client::new(client_config, options.resolver.clone()).map_err(|e| SyncError::Client(Box::new(e)))
}

/// Runs every resource of `config` into the SQLite database `options.db`. A resource that
/// fails does not stop the others: the report says how each ended.
pub fn sync(
    config: &SourceConfig,
    options: SyncOptions,
    progress: &mut dyn Progress,
) -> Result<SyncReport, SyncError> {
    // Every secret the config references, before the database or the network is touched.
    for name in &config.secrets {
        options.resolver.resolve(name)?;
    }
    let runtime = Runtime::load(
        &options.connector,
        options.cache_dir.as_deref(),
        options.limits.clone(),
    )?;
    let db_error = |source: SinkError| match source.names_database() {
        true => SyncError::Open(Box::new(source)),
        false => SyncError::Database {
            path: options.db.clone(),
            source: Box::new(source),
        },
    };
    // An existing database is taken (its lease held) before the connector sees the config
    // or any request goes out; a new one is created only once the session opened, so a
    // bad config writes nothing.
    let existing = if options.db.exists() {
        Some(SqliteSink::open(&options.db).map_err(db_error)?)
    } else {
        None
    };
    let reclaimed = existing.as_ref().map_or(0, SqliteSink::reclaimed);
    let writer = existing
        .map(|sink| Writer::start(Box::new(sink)).map_err(SyncError::Thread))
        .transpose()?;
    let saved = match &writer {
        Some(w) => w.states().map_err(|e| SyncError::Run(RunError::Write(e)))?,
        None => Vec::new(),
    };
    let (state, unfinished) = starting_points(saved, options.restart);
    let guest = Guest::open(&runtime, &config.json, &state).map_err(RunError::Open)?;
    let writer = match writer {
        Some(w) => w,
        None => {
            let sink = SqliteSink::open(&options.db).map_err(db_error)?;
            Writer::start(Box::new(sink)).map_err(SyncError::Thread)?
        }
    };
    let mut guest = guest;
    // Groups matter only side by side; one after the other, the runner lists the resources.
    let maybe_side_by_side = match options.parallel {
        Some(n) => n > 1,
        None => !config.parallelized.is_empty(),
    };
    let listed = match maybe_side_by_side {
        true => guest.resources().map_err(RunError::Open)?,
        false => Vec::new(),
    };
    let groups = crate::parallel::groups(&listed);
    let lanes = crate::parallel::lanes(&groups, options.parallel, &config.parallelized);
    let resources = if crate::parallel::side_by_side(&lanes) {
        // Each group opens a session of its own.
        drop(guest);
        let shared = crate::parallel::Shared {
            config,
            options: &options,
            runtime: &runtime,
            state: &state,
            writer: &writer,
            unfinished: &unfinished,
        };
        crate::parallel::run(&shared, &groups, &lanes, &listed, progress)?
    } else {
        let mut runner = Runner {
            guest,
            fetcher: fetcher(config, &options, options.concurrency)?,
            progress,
            max_pages: options.max_pages,
            max_page_bytes: options.max_page_bytes,
            stop: options.stop.clone(),
        };
        runner.run(&writer, &unfinished)?
    };
    Ok(SyncReport {
        resources,
        component_from_cache: runtime.from_cache,
        reclaimed,
    })
}

/// The state each resource's connector session opens with, and the unfinished loads: the
/// latest checkpoint and the loads to continue (if the connector does), or with `restart`
/// the last completed one and the loads to start over.
fn starting_points(
    saved: Vec<SavedState>,
    restart: bool,
) -> (Vec<(String, String)>, HashMap<String, Start>) {
    let mut state = Vec::with_capacity(saved.len());
    let mut unfinished = HashMap::new();
    for s in saved {
        if restart {
            // Started over from where the unfinished load began: what it wrote goes.
            if let Some(u) = s.unfinished {
                unfinished.insert(s.resource.clone(), Start::Over(u));
            }
            if let Some(completed) = s.completed {
                state.push((s.resource, completed));
            }
            continue;
        }
        if let Some(u) = s.unfinished {
            unfinished.insert(s.resource.clone(), Start::Continue(u));
        }
        state.push((s.resource, s.latest));
    }
    (state, unfinished)
}
