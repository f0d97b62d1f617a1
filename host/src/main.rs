//! The `sluice` command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use sluice::config::SourceConfig;
use sluice::progress::TerminalProgress;
use sluice::redact;
use sluice::runtime::{Limits, Source, default_cache_dir};
use sluice::sync::{SyncError, SyncOptions, SyncReport, sync};
use sluice_mock_api::{Fault, MockConfig, MockServer};
use sluice_transport::{RetryPolicy, SecretResolver};

/// Exit code of a run that failed for a reason other than the config.
const EXIT_FAILED: u8 = 1;
/// Exit code of an invalid config or command line.
const EXIT_CONFIG: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "sluice",
    version,
    about = "Run declarative REST API connectors safely and fast"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Sync a dlt `rest_api` config (JSON, TOML or YAML) into a database.
    Run {
        /// The config file.
        #[arg(long, short)]
        config: PathBuf,
        /// The SQLite database file.
        #[arg(long, default_value = "sluice.db")]
        db: PathBuf,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Serve the fake inventory API on 127.0.0.1 until interrupted.
    MockApi {
        #[arg(long, default_value_t = 2500)]
        items: usize,
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// The API key the server requires.
        #[arg(long, default_value = sluice::demo::DEMO_API_KEY)]
        api_key: String,
        /// Change ~10% of the items, as if edited upstream (0 = original data).
        #[arg(long, default_value_t = 0)]
        generation: u64,
        /// Inject a fault: STATUS[xTIMES][@OFFSET][:retry-after=VALUE], e.g. 429x2:retry-after=1.
        #[arg(long = "fault")]
        faults: Vec<Fault>,
        /// Answer at most this many items per page, whatever `limit` asks.
        #[arg(long)]
        max_page_size: Option<usize>,
        /// Leave `total` out of responses.
        #[arg(long)]
        no_total: bool,
    },
    /// Run the seed inventory config against the bundled mock API into SQLite.
    Demo {
        #[arg(long, default_value = "sluice-demo.db")]
        db: PathBuf,
        #[arg(long, default_value_t = 2500)]
        items: usize,
        #[command(flatten)]
        engine: EngineArgs,
    },
}

#[derive(Args, Debug)]
struct EngineArgs {
    /// A connector component to run instead of the built-in one.
    #[arg(long)]
    connector: Option<PathBuf>,
    /// Attempts per request (first try included) on 429, 500, 502, 503, 504 and connection errors.
    #[arg(long, default_value_t = 3)]
    max_attempts: u32,
    /// Exponential backoff factor between attempts.
    #[arg(long, default_value_t = 2.0)]
    backoff_factor: f64,
    /// Wait before the first retry, in seconds (then times the factor each retry).
    #[arg(long, default_value_t = 1.0)]
    retry_initial_delay: f64,
    /// Longest wait between attempts, `Retry-After` included, in seconds.
    #[arg(long, default_value_t = 60.0)]
    max_retry_delay: f64,
    /// Timeout of one HTTP request, in seconds.
    #[arg(long, default_value_t = 30.0)]
    request_timeout: f64,
    /// Another host (`host` or `host:port`) requests may go to, besides `client.base_url`'s.
    #[arg(long = "allow-host")]
    allow_hosts: Vec<String>,
    /// Where compiled components are cached [default: $SLUICE_CACHE_DIR, $XDG_CACHE_HOME/sluice, ~/.cache/sluice].
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Compile the component without the on-disk cache.
    #[arg(long)]
    no_cache: bool,
    /// Most memory the connector may use, in MiB.
    #[arg(long, default_value_t = 512)]
    connector_memory_mb: usize,
    /// Longest one call into the connector may run, in seconds.
    #[arg(long, default_value_t = 30.0)]
    connector_call_timeout: f64,
    /// Print only the summary and problems.
    #[arg(long, short)]
    quiet: bool,
}

fn main() -> ExitCode {
    redact::install_panic_hook();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { config, db, engine } => run(&config, db, engine),
        Command::MockApi {
            items,
            port,
            api_key,
            generation,
            faults,
            max_page_size,
            no_total,
        } => {
            let config = MockConfig {
                items,
                api_key,
                port,
                generation,
                max_page_size,
                include_total: !no_total,
                faults,
            };
            mock_api(config)
        }
        Command::Demo { db, items, engine } => demo(db, items, engine),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", redact::redact(&format!("{e:#}")));
            let config = e
                .downcast_ref::<SyncError>()
                .is_some_and(SyncError::is_config_error);
            ExitCode::from(if config { EXIT_CONFIG } else { EXIT_FAILED })
        }
    }
}

fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::MAX)
}

impl EngineArgs {
    fn options(&self, db: PathBuf, resolver: SecretResolver) -> SyncOptions {
        SyncOptions {
            db,
            connector: self.connector.clone().map_or(Source::Builtin, Source::File),
            cache_dir: if self.no_cache {
                None
            } else {
                self.cache_dir.clone().or_else(default_cache_dir)
            },
            limits: Limits {
                max_memory_bytes: self.connector_memory_mb.saturating_mul(1 << 20),
                call_timeout: seconds(self.connector_call_timeout),
            },
            retry: RetryPolicy {
                max_attempts: self.max_attempts.max(1),
                backoff_factor: self.backoff_factor,
                base_delay: seconds(self.retry_initial_delay),
                max_delay: seconds(self.max_retry_delay),
                ..RetryPolicy::default()
            },
            timeout: seconds(self.request_timeout),
            extra_hosts: self.allow_hosts.clone(),
            resolver,
        }
    }
}

fn run(config_path: &Path, db: PathBuf, engine: EngineArgs) -> anyhow::Result<()> {
    let config = SourceConfig::load(config_path)?;
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let resolver = SecretResolver::new(config.dir.clone(), cwd);
    let mut progress = TerminalProgress::new(engine.quiet);
    let report = sync(&config, engine.options(db.clone(), resolver), &mut progress)?;
    print_summary(&report, &db);
    Ok(())
}

fn print_summary(report: &SyncReport, db: &Path) {
    println!("sluice: loaded into {}", db.display());
    for r in &report.resources {
        println!(
            "  {:<24} {:>8} records  {:>5} pages  {:>5} requests  {:>3} retries  {:>6.2}s  (load {})",
            r.name, r.records, r.pages, r.requests, r.retries, r.seconds, r.load_id.0
        );
    }
    if report.component_from_cache {
        println!("  connector: compiled code loaded from cache");
    }
}

fn mock_api(config: MockConfig) -> anyhow::Result<()> {
    let server = MockServer::start(config).context("cannot start the mock API")?;
    println!("mock inventory API listening on {}", server.base_url());
    println!(
        "  GET {}/v1/inventory?api_key=...&offset=0&limit=100",
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
    println!(
        "sluice demo: mock inventory API on {} ({items} items)",
        server.base_url()
    );
    let config = SourceConfig::from_value(sluice::demo::seed_config(&server.base_url()), None);
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let key = sluice::demo::DEMO_API_KEY.to_string();
    let resolver =
        SecretResolver::new(None, cwd).with_env(move |var| (var == "API_KEY").then(|| key.clone()));
    let mut progress = TerminalProgress::new(engine.quiet);
    let report = sync(&config, engine.options(db.clone(), resolver), &mut progress)?;
    print_summary(&report, &db);
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
    println!("\nfirst rows of inventory_items:\n{rows}");
    println!(
        "query it: sqlite3 {} 'SELECT count(*) FROM inventory_items'",
        db.display()
    );
    Ok(())
}
