//! `sluice check` and `sluice spec`: validating a config without loading anything, and the
//! JSON Schema of the config the connector accepts.
//!
//! `check` opens a session in the connector (which reports every config error with its key
//! path), resolves every secret the config references, and, with `connect`, fetches ONE page
//! of each resource through the real transport (retries, auth, allow-list). The columns a
//! page would load are found by loading it into an in-memory SQLite database: no file is
//! written.

use serde_json::Value;
use sluice_sink::{
    ColumnInfo, DataType, MergeStrategy, Sink, SinkError, SqliteSink, TableSpec, WriteDisposition,
};
use sluice_transport::{Auth, Credential, SecretError};

use crate::config::SourceConfig;
use crate::guest::{Guest, GuestError};
use crate::progress::Progress;
use crate::protocol::{Page, ResourceInfo};
use crate::run::{ResourceError, RunError, Runner, Stop};
use crate::runtime::Runtime;
use crate::sync::{SyncError, SyncOptions, fetcher};

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error("cannot read the connector's config schema")]
    Schema(#[source] GuestError),
    #[error("the connector's config schema is not JSON: {0}")]
    SchemaNotJson(String),
    #[error("resource `{resource}`: cannot infer the columns of its page")]
    Columns {
        resource: String,
        #[source]
        source: Box<SinkError>,
    },
}

impl CheckError {
    /// Whether the user's config (not the network or the data) is at fault.
    pub fn is_config_error(&self) -> bool {
        matches!(self, CheckError::Sync(e) if e.is_config_error())
    }
}

/// What one page of a resource held.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub records: u64,
    /// The table the records load into (the `table_name` hint or the resource name).
    pub table: String,
    /// The columns the page would load into, as `(name, type)`.
    pub columns: Vec<(String, DataType)>,
    /// The child tables its lists would fill.
    pub child_tables: Vec<String>,
}

/// One resource as checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceCheck {
    pub info: ResourceInfo,
    /// Marked `parallelized` in the config: loads beside the other resources.
    pub parallelized: bool,
    /// With `connect`: the first page, or `None` when the connector planned no request
    /// (a dependent resource whose parent's first page had no rows).
    pub sample: Option<Sample>,
}

/// What `check` found.
#[derive(Debug)]
pub struct CheckReport {
    pub resources: Vec<ResourceCheck>,
    /// Secrets the config references that cannot be resolved (nothing was fetched then).
    pub missing_secrets: Vec<SecretError>,
    /// Whether pages were fetched.
    pub connected: bool,
}

/// Validates `config`; with `connect`, fetches one page of each resource, writing nothing.
pub fn check(
    config: &SourceConfig,
    options: &SyncOptions,
    connect: bool,
    progress: &mut dyn Progress,
) -> Result<CheckReport, CheckError> {
    let runtime = Runtime::load(
        &options.connector,
        options.cache_dir.as_deref(),
        options.limits.clone(),
    )
    .map_err(SyncError::from)?;
    let mut guest =
        Guest::open(&runtime, &config.json, &[]).map_err(|e| SyncError::Run(RunError::Open(e)))?;
    let infos = guest
        .resources()
        .map_err(|e| SyncError::Run(RunError::Open(e)))?;
    let missing_secrets: Vec<SecretError> = config
        .secrets
        .iter()
        .filter_map(|name| options.resolver.resolve(name).err())
        .collect();
    let mut report = CheckReport {
        resources: infos
            .iter()
            .map(|info| ResourceCheck {
                info: info.clone(),
                parallelized: config.parallelized.contains(&info.name),
                sample: None,
            })
            .collect(),
        missing_secrets,
        connected: false,
    };
    if !connect || !report.missing_secrets.is_empty() {
        // Without pages the connector's own warning (it comes with the first page) is not
        // seen: warn from the first planned request's credentials instead.
        if let Some(info) = infos.first()
            && let Ok(planned) = guest.next_requests(&info.name)
            && let Some(key) = planned
                .first()
                .and_then(|p| p.request.auth.as_ref())
                .and_then(literal_secret)
        {
            let warning = crate::protocol::Notice {
                level: crate::protocol::Level::Warn,
                message: format!(
                    "client.auth.{key}: a secret is written literally in the config; write {{\"secret\": NAME}} so the host injects it"
                ),
            };
            progress.notice(&info.name, &warning);
        }
        return Ok(report);
    }
    let pages = first_pages(guest, config, options, &infos, progress)?;
    let mut scratch = SqliteSink::open_in_memory().map_err(|e| SyncError::Database {
        path: ":memory:".into(),
        source: Box::new(e),
    })?;
    for (entry, page) in report.resources.iter_mut().zip(pages) {
        if let Some(page) = page {
            let shape = columns_of(&mut scratch, &entry.info, &page).map_err(|source| {
                CheckError::Columns {
                    resource: entry.info.name.clone(),
                    source: Box::new(source),
                }
            })?;
            entry.sample = Some(Sample {
                records: u64::from(page.count),
                table: shape.table,
                columns: shape.columns,
                child_tables: shape.child_tables,
            });
        }
    }
    report.connected = true;
    Ok(report)
}

/// The first page of each resource, in order (`None`: no request planned).
fn first_pages(
    guest: Guest,
    config: &SourceConfig,
    options: &SyncOptions,
    infos: &[ResourceInfo],
    progress: &mut dyn Progress,
) -> Result<Vec<Option<Page>>, CheckError> {
    // Pages are only fetched, never written.
    let mut runner = Runner {
        guest,
        fetcher: fetcher(config, options, 1)?,
        progress,
        max_pages: 1,
        max_page_bytes: options.max_page_bytes,
        stop: Stop::default(),
    };
    let mut pages = Vec::with_capacity(infos.len());
    for info in infos {
        let failed = |source: ResourceError| {
            CheckError::Sync(SyncError::Run(RunError::Resource {
                resource: info.name.clone(),
                source: Box::new(source),
            }))
        };
        let planned = runner
            .guest
            .next_requests(&info.name)
            .map_err(|e| failed(e.into()))?;
        let Some(first) = planned.into_iter().next() else {
            pages.push(None);
            continue;
        };
        pages.push(Some(runner.fetch(&info.name, first).map_err(failed)?));
    }
    Ok(pages)
}

/// The tables and columns a page loads into.
struct Shape {
    table: String,
    columns: Vec<(String, DataType)>,
    child_tables: Vec<String>,
}

/// The tables and columns the records of `page` load into, found by loading them into the
/// in-memory `scratch`.
fn columns_of(
    scratch: &mut SqliteSink,
    info: &ResourceInfo,
    page: &Page,
) -> Result<Shape, SinkError> {
    // Append with no key (scd2 aside): only the shape matters here, not the key constraints.
    // The hinted types and table name shape the table; constraints and contracts do not.
    let mut hints = info.hints.clone();
    hints.schema_contract = Default::default();
    hints.merge_key.clear();
    // Under scd2 the table has its validity columns: loaded as scd2 (versions told apart by
    // their hash, so a sample without a row version column passes).
    hints.merge_strategy = match hints.merge_strategy.take() {
        Some(MergeStrategy::Scd2(options)) => Some(MergeStrategy::Scd2(sluice_sink::Scd2 {
            row_version_column: None,
            ..options
        })),
        _ => None,
    };
    let nested = hints.nested.iter_mut().flat_map(|n| {
        n.schema_contract = None;
        n.columns.iter_mut()
    });
    for c in hints.columns.iter_mut().chain(nested) {
        (c.nullable, c.primary_key, c.merge_key, c.unique) = (None, false, false, false);
        (c.hard_delete, c.dedup_sort) = (false, None);
    }
    let spec = TableSpec {
        name: info.name.clone(),
        primary_key: Vec::new(),
        disposition: if hints.merge_strategy.is_some() {
            WriteDisposition::Merge
        } else {
            WriteDisposition::Append
        },
        max_table_nesting: info.max_table_nesting,
        hints,
    };
    let load = scratch.begin(&spec)?;
    scratch.write_page_text(load, &page.records, page.count, "{}")?;
    let summary = scratch.finish(load, sluice_sink::Outcome::Completed)?;
    let table = spec.table();
    let columns = if page.count == 0 {
        Vec::new()
    } else {
        scratch.columns(&table)?
    };
    Ok(Shape {
        columns: columns
            .into_iter()
            .map(
                |ColumnInfo {
                     name, data_type, ..
                 }| (name, data_type),
            )
            .collect(),
        child_tables: summary
            .tables
            .into_iter()
            .map(|(t, _)| t)
            .filter(|t| *t != table)
            .collect(),
        table,
    })
}

/// The connector's config JSON Schema, pretty-printed.
pub fn spec(runtime: &Runtime) -> Result<String, CheckError> {
    let schema = Guest::schema_of(runtime).map_err(CheckError::Schema)?;
    let value: Value =
        serde_json::from_str(&schema).map_err(|e| CheckError::SchemaNotJson(e.to_string()))?;
    serde_json::to_string_pretty(&value).map_err(|e| CheckError::SchemaNotJson(e.to_string()))
}

/// `check`'s report as the lines `sluice check` prints.
pub fn render(report: &CheckReport) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "config OK: {} resource(s)\n",
        report.resources.len()
    ));
    for r in &report.resources {
        let i = &r.info;
        let key = if i.primary_key.is_empty() {
            "-".to_string()
        } else {
            i.primary_key.join(", ")
        };
        let disposition = match (i.write_disposition, &i.hints.merge_strategy) {
            (WriteDisposition::Append, _) => "append",
            (WriteDisposition::Replace, _) => "replace",
            (WriteDisposition::Merge, None | Some(MergeStrategy::DeleteInsert)) => "merge",
            (WriteDisposition::Merge, Some(MergeStrategy::Upsert)) => "merge (upsert)",
            (WriteDisposition::Merge, Some(MergeStrategy::InsertOnly)) => "merge (insert-only)",
            (WriteDisposition::Merge, Some(MergeStrategy::Scd2(_))) => "merge (scd2)",
        };
        out.push_str(&format!(
            "  {}  primary key: {key}  disposition: {disposition}  parent: {}{}{}\n",
            i.name,
            i.parent.as_deref().unwrap_or("-"),
            if r.parallelized { "  parallelized" } else { "" },
            if i.selected { "" } else { "  (not selected)" }
        ));
        if !report.connected {
            continue;
        }
        match &r.sample {
            Some(s) => {
                let columns: Vec<String> =
                    s.columns.iter().map(|(n, t)| format!("{n} {t}")).collect();
                out.push_str(&format!(
                    "    first page: {} records into table {}; columns: {}\n",
                    s.records,
                    s.table,
                    if columns.is_empty() {
                        "none".to_string()
                    } else {
                        columns.join(", ")
                    }
                ));
                if !s.child_tables.is_empty() {
                    out.push_str(&format!(
                        "    child tables: {}\n",
                        s.child_tables.join(", ")
                    ));
                }
            }
            None => out.push_str("    first page: no request (no parent rows yet)\n"),
        }
    }
    out
}

/// The config key of a secret the planned `auth` carries as a literal, if any (a user name or
/// an OAuth2 client id is no secret).
fn literal_secret(auth: &Auth) -> Option<&'static str> {
    let literal = |c: &Credential| matches!(c, Credential::Literal(_));
    match auth {
        Auth::Query { value, .. } | Auth::Header { value, .. } | Auth::Cookie { value, .. }
            if literal(value) =>
        {
            Some("api_key")
        }
        Auth::Bearer(c) if literal(c) => Some("token"),
        Auth::Basic { password, .. } if literal(password) => Some("password"),
        Auth::OAuth2(o) if literal(&o.client_secret) => Some("client_secret"),
        _ => None,
    }
}
