//! One sync: config + connector + HTTP client + sink, wired together.

use std::path::PathBuf;
use std::time::Duration;

use sluice_sink::{SinkError, SqliteSink};
use sluice_transport::{Client, ClientConfig, RetryPolicy, SecretResolver, TransportError};

use crate::config::SourceConfig;
use crate::guest::{Guest, GuestError};
use crate::progress::Progress;
use crate::protocol::ConnectorError;
use crate::run::{ResourceSummary, RunError, Runner};
use crate::runtime::{Limits, Runtime, RuntimeError, Source};

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
    pub resolver: SecretResolver,
    /// Hard ceiling on the pages of one resource ([`crate::run::DEFAULT_MAX_PAGES`]).
    pub max_pages: u64,
}

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
    #[error(transparent)]
    Run(#[from] RunError),
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
}

/// The HTTP client of a run: the options' retry policy and timeout, the config's allow-list.
pub(crate) fn http_client(
    config: &SourceConfig,
    options: &SyncOptions,
) -> Result<Client, SyncError> {
    let client_config = ClientConfig {
        policy: options.retry.clone(),
        timeout: options.timeout,
        allowed_hosts: config.allow_list(&options.extra_hosts),
        user_agent: format!("sluice/{}", env!("CARGO_PKG_VERSION")),
    };
    Client::new(client_config, options.resolver.clone()).map_err(|e| SyncError::Client(Box::new(e)))
}

/// Runs every resource of `config` into the SQLite database `options.db`.
pub fn sync(
    config: &SourceConfig,
    options: SyncOptions,
    progress: &mut dyn Progress,
) -> Result<SyncReport, SyncError> {
    let runtime = Runtime::load(
        &options.connector,
        options.cache_dir.as_deref(),
        options.limits.clone(),
    )?;
    // A bad config must write nothing: a new database is created only once the session opened.
    let db_error = |source| SyncError::Database {
        path: options.db.clone(),
        source: Box::new(source),
    };
    let mut existing = if options.db.exists() {
        Some(SqliteSink::open(&options.db).map_err(db_error)?)
    } else {
        None
    };
    let state = match existing.as_mut() {
        Some(sink) => sluice_sink::Sink::states(sink).map_err(db_error)?,
        None => Vec::new(),
    };
    let guest = Guest::open(&runtime, &config.json, &state).map_err(RunError::Open)?;
    let mut sink = match existing {
        Some(sink) => sink,
        None => SqliteSink::open(&options.db).map_err(db_error)?,
    };
    let client = http_client(config, &options)?;
    let mut runner = Runner {
        guest,
        client,
        sink: &mut sink,
        progress,
        secrets: config.secrets.clone(),
        max_pages: options.max_pages,
    };
    let resources = runner.run()?;
    Ok(SyncReport {
        resources,
        component_from_cache: runtime.from_cache,
    })
}
