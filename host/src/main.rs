//! The `sluice` command line.

mod cli;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use cli::{Cli, Command, EngineArgs, RuntimeArgs};
use sluice::check::{CheckError, check, render};
use sluice::config::{ConfigFileError, SourceConfig};
use sluice::redact;
use sluice::run::{ResourceSummary, RunError, Status, Stop};
use sluice::runtime::Runtime;
use sluice::sync::{SyncError, SyncReport, sync};
use sluice_mock_api::{Fault, MockConfig, MockServer};
use sluice_transport::SecretResolver;

/// Writes to stdout; a closed pipe (`sluice spec | head`) ends the process quietly, like a
/// well-behaved Unix tool, instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = write!(std::io::stdout(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}

/// [`out!`] with a newline.
macro_rules! outln {
    ($($arg:tt)*) => {{
        out!($($arg)*);
        out!("\n");
    }};
}

/// Exit code of a run that failed for a reason other than the config.
const EXIT_FAILED: u8 = 1;
/// Exit code of an invalid config or command line.
const EXIT_CONFIG: u8 = 2;
/// Exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
const EXIT_INTERRUPTED: u8 = 130;

/// A run stopped by Ctrl-C after finishing the pages in flight.
#[derive(Debug, thiserror::Error)]
#[error("interrupted: the pages loaded so far are kept; rerun to continue where it stopped")]
struct Interrupted;

fn main() -> ExitCode {
    redact::install_panic_hook();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { config, db, engine } => run(&config, db, engine),
        Command::Check {
            config,
            connect,
            db: _,
            engine,
        } => check_config(&config, connect, engine),
        Command::Spec { runtime } => spec(&runtime),
        Command::MockApi {
            items,
            port,
            api_key,
            generation,
            faults,
            max_page_size,
            no_total,
            latency_ms,
            fault_rate,
        } => {
            let config = MockConfig {
                items,
                api_key,
                port,
                generation,
                max_page_size,
                include_total: !no_total,
                latency: std::time::Duration::from_millis(latency_ms),
                fault_rate,
                faults,
            };
            mock_api(config)
        }
        Command::Demo { db, items, engine } => demo(db, items, engine),
    };
    let verbose = std::env::args().any(|a| a == "-v" || a == "--verbose");
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The whole cause chain, each cause once (`{e:#}` would repeat SQLite's).
            let chain = sluice::run::anyhow_like(e.as_ref()).to_string();
            eprintln!("error: {}", redact::redact(&chain));
            let detail = match e.downcast_ref::<SyncError>() {
                Some(SyncError::Run(RunError::Open(guest))) => guest.detail(),
                _ => None,
            };
            if let Some(detail) = detail.filter(|_| verbose) {
                eprintln!("the connector's error in full:\n{detail}");
            }
            // A config file that is missing, unreadable or not an object is a config error
            // like any other (exit 2), as is one the connector rejects.
            let config = e.is::<ConfigFileError>()
                || e.downcast_ref::<SyncError>()
                    .is_some_and(SyncError::is_config_error)
                || e.downcast_ref::<CheckError>()
                    .is_some_and(CheckError::is_config_error);
            let code = match () {
                _ if config => EXIT_CONFIG,
                _ if e.is::<Interrupted>() => EXIT_INTERRUPTED,
                _ => EXIT_FAILED,
            };
            ExitCode::from(code)
        }
    }
}

fn run(config_path: &Path, db: PathBuf, engine: EngineArgs) -> anyhow::Result<()> {
    let config = SourceConfig::load(config_path)?;
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let resolver = SecretResolver::new(config.dir.clone(), cwd);
    let mut progress = engine.progress();
    let options = engine.options(db.clone(), resolver);
    let stop = options.stop.clone();
    stop_on_ctrl_c(&stop);
    let report = sync(&config, options, &mut progress)?;
    report_outcome(&report, &db, engine.json, stop.requested())
}

/// The first Ctrl-C (or SIGTERM) asks the run to stop after the pages in flight, so the load
/// ends `interrupted` with every fetched page committed (a request waiting to retry is not
/// tried again); a second one ends the process at once (the next run then marks the load
/// `interrupted`).
fn stop_on_ctrl_c(stop: &Stop) {
    let stop = stop.clone();
    let installed = ctrlc::set_handler(move || {
        if stop.requested() {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
        stop.request();
        eprintln!(
            "interrupted: finishing the pages in flight, without retries (Ctrl-C again to quit at once)"
        );
    });
    if let Err(e) = installed {
        eprintln!("warning: cannot catch Ctrl-C ({e}); it will end the run at once");
    }
}

/// Prints the summary (text or JSON) on stdout and each failed resource's cause on stderr;
/// an error when any resource failed, or when the run was `stopped` before every resource
/// completed (one ended `interrupted`, or was not started: `skipped`).
fn report_outcome(report: &SyncReport, db: &Path, json: bool, stopped: bool) -> anyhow::Result<()> {
    if json {
        outln!("{}", redact::redact(&summary_json(report, db).to_string()));
    } else {
        print_summary(report, db);
    }
    let failed: Vec<_> = report
        .resources
        .iter()
        .filter_map(|r| match &r.status {
            Status::Failed(e) => Some((r.name.as_str(), e)),
            _ => None,
        })
        .collect();
    for (name, error) in &failed {
        eprintln!("error: resource `{name}` failed: {}", redact::redact(error));
    }
    let cut_short = |r: &ResourceSummary| match r.status {
        Status::Interrupted => true,
        Status::Skipped(_) => stopped,
        _ => false,
    };
    if report.resources.iter().any(cut_short) {
        return Err(Interrupted.into());
    }
    if failed.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "{} of {} resources failed; rerun to resume them where they stopped",
        failed.len(),
        report.resources.len()
    )
}

/// The summary as one JSON object, for scripts.
fn summary_json(report: &SyncReport, db: &Path) -> serde_json::Value {
    let resources: Vec<serde_json::Value> = report
        .resources
        .iter()
        .map(|r| {
            let (error, reason) = match &r.status {
                Status::Failed(e) => (Some(e.as_str()), None),
                Status::Skipped(why) => (None, Some(why.as_str())),
                Status::Completed | Status::Interrupted => (None, None),
            };
            serde_json::json!({
                "name": r.name,
                "status": r.status.name(),
                "error": error,
                "reason": reason,
                "load_id": r.load_id.map(|l| l.0),
                "resumed_at_page": r.resumed_at,
                "discarded_records": r.discarded,
                "pages": r.pages,
                "records": r.records,
                "rows_written": r.rows_written,
                "tables": r.tables.iter().map(|(t, n)| (t.clone(), serde_json::json!(n))).collect::<serde_json::Map<_, _>>(),
                "requests": r.requests,
                "retries": r.retries,
                "seconds": r.seconds,
            })
        })
        .collect();
    serde_json::json!({
        "database": db.display().to_string(),
        "ok": report.ok(),
        "interrupted_loads_reclaimed": report.reclaimed,
        "resources": resources,
    })
}

fn check_config(config_path: &Path, connect: bool, engine: EngineArgs) -> anyhow::Result<()> {
    let config = SourceConfig::load(config_path)?;
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let resolver = SecretResolver::new(config.dir.clone(), cwd);
    let mut progress = engine.progress();
    // `check` writes no database: the path is never opened.
    let options = engine.options(PathBuf::new(), resolver);
    let report = check(&config, &options, connect, &mut progress)?;
    out!("{}", redact::redact(&render(&report)));
    if report.missing_secrets.is_empty() {
        return Ok(());
    }
    let missing: Vec<String> = report
        .missing_secrets
        .iter()
        .map(|e| format!("  {e}"))
        .collect();
    anyhow::bail!(
        "{} secret(s) the config references cannot be resolved:\n{}",
        missing.len(),
        missing.join("\n")
    )
}

fn spec(runtime: &RuntimeArgs) -> anyhow::Result<()> {
    let runtime = Runtime::load(
        &runtime.source(),
        runtime.cache_dir().as_deref(),
        runtime.limits(),
    )?;
    outln!("{}", sluice::check::spec(&runtime)?);
    Ok(())
}

/// The summary, printed through [`redact::redact`] as every text of a connector's (its
/// resources' names, why one was skipped).
fn print_summary(report: &SyncReport, db: &Path) {
    use std::fmt::Write as _;
    let mut text = String::new();
    let _ = writeln!(text, "sluice: loaded into {}", db.display());
    if report.reclaimed > 0 {
        let _ = writeln!(
            text,
            "  {} load(s) left running by a process that ended were marked interrupted",
            report.reclaimed
        );
    }
    for r in &report.resources {
        let mut notes = vec![r.load_id.map_or_else(
            || "not selected: nothing written".to_string(),
            |l| format!("load {}", l.0),
        )];
        if let Some(page) = r.resumed_at {
            notes.push(format!("resumed at page {page}"));
        }
        if r.discarded > 0 {
            notes.push(format!(
                "started over: the unfinished load's {} records deleted first",
                r.discarded
            ));
        }
        if let Status::Skipped(why) = &r.status {
            notes.push(why.clone());
        }
        let _ = writeln!(
            text,
            "  {:<24} {:<9} {:>8} records  {:>5} pages  {:>5} requests  {:>3} retries  {:>6.2}s  ({})",
            r.name,
            r.status.name(),
            r.records,
            r.pages,
            r.requests,
            r.retries,
            r.seconds,
            notes.join(", ")
        );
        if r.tables.len() > 1 {
            for (table, rows) in &r.tables {
                let _ = writeln!(text, "    {table:<22} {rows:>8} rows");
            }
        }
    }
    if report.component_from_cache {
        let _ = writeln!(text, "  connector: compiled code loaded from cache");
    }
    out!("{}", redact::redact(&text));
}

fn mock_api(config: MockConfig) -> anyhow::Result<()> {
    let server = MockServer::start(config).context("cannot start the mock API")?;
    outln!("mock inventory API listening on {}", server.base_url());
    outln!(
        "  GET {}/v1/inventory?api_key=...&offset=0&limit=100",
        server.base_url()
    );
    outln!(
        "  GET {}/v1/inventory/1/movements?api_key=...&page=1",
        server.base_url()
    );
    server.wait();
    Ok(())
}

fn demo(db: PathBuf, items: usize, engine: EngineArgs) -> anyhow::Result<()> {
    // A 429 with Retry-After and a 503 along the way show the retry policy at work.
    let faults = ["429x1@500:retry-after=1", "503x1@1500"]
        .iter()
        .map(|f| f.parse::<Fault>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("bad demo fault: {e}"))?;
    let server = MockServer::start(MockConfig {
        items,
        faults,
        ..MockConfig::default()
    })
    .context("cannot start the mock API")?;
    outln!(
        "sluice demo: mock inventory API on {} ({items} items)",
        server.base_url()
    );
    let config = SourceConfig::from_value(sluice::demo::seed_config(&server.base_url()), None);
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let key = sluice::demo::DEMO_API_KEY.to_string();
    let resolver =
        SecretResolver::new(None, cwd).with_env(move |var| (var == "API_KEY").then(|| key.clone()));
    let mut progress = engine.progress();
    let report = sync(&config, engine.options(db.clone(), resolver), &mut progress)?;
    report_outcome(&report, &db, engine.json, false)?;
    let rows = sluice::demo::sample_rows(
        &db,
        "inventory_items",
        &[
            "id",
            "sku",
            "name",
            "quantity",
            "price",
            "category",
            "warehouse__code",
            "updated_at",
        ],
        5,
    )
    .context("cannot read back the loaded rows")?;
    outln!("\nfirst rows of inventory_items:\n{rows}");
    outln!(
        "query it: sqlite3 {} 'SELECT count(*) FROM inventory_items'",
        db.display()
    );
    Ok(())
}
