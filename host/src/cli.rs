//! The command line's types: subcommands and their flags.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use sluice::run::DEFAULT_MAX_PAGES;
use sluice::run::Stop;
use sluice::runtime::{Limits, Source, default_cache_dir};
use sluice::sync::DEFAULT_CONCURRENCY;
use sluice::sync::SyncOptions;
use sluice_mock_api::Fault;
use sluice_transport::{RetryPolicy, SecretResolver, TrustedCerts};

#[derive(Parser, Debug)]
#[command(
    name = "sluice",
    version,
    about = "Run declarative REST API connectors safely and fast"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
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
    /// Validate a config without loading anything: config errors with their key paths (exit
    /// 2), secrets that do not resolve (exit 1), the resources it defines. With `--connect`,
    /// fetch one page of each resource and show its record count and columns.
    Check {
        /// The config file.
        #[arg(long, short)]
        config: PathBuf,
        /// Fetch one page of each resource (real requests, nothing written).
        #[arg(long)]
        connect: bool,
        /// Ignored: `check` never writes a database (accepted so `run`'s flags can be reused).
        #[arg(long, hide = true)]
        db: Option<PathBuf>,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Print the JSON Schema of the config the connector accepts.
    Spec {
        #[command(flatten)]
        runtime: RuntimeArgs,
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
        /// Answer each request after this many milliseconds (a slow API).
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Answer this share of requests (0 to 1) with 429, 500, 502, 503 or 504 at random.
        #[arg(long, default_value_t = 0.0)]
        fault_rate: f64,
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

/// Where the connector comes from and how it is sandboxed.
#[derive(Args, Debug)]
pub struct RuntimeArgs {
    /// A connector component to run instead of the built-in one.
    #[arg(long)]
    connector: Option<PathBuf>,
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
}

#[derive(Args, Debug)]
pub struct EngineArgs {
    #[command(flatten)]
    runtime: RuntimeArgs,
    /// Attempts per request (first try included) on 429, 500, 502, 503, 504 and connection errors.
    #[arg(long, default_value_t = 3, value_parser = at_least_one::<u32>)]
    max_attempts: u32,
    /// Largest response body, in MiB: a longer one fails its request while it is read.
    #[arg(long, default_value_t = sluice_transport::MAX_BODY >> 20, value_parser = at_least_one::<u64>)]
    max_response_mb: u64,
    /// Largest page of records a connector may return, in MiB (as JSON text).
    #[arg(long, default_value_t = 64, value_parser = at_least_one::<usize>)]
    max_page_mb: usize,
    /// Exponential backoff factor between attempts.
    #[arg(long, default_value_t = 2.0)]
    backoff_factor: f64,
    /// Wait before the first retry, in seconds (then times the factor each retry).
    #[arg(long, default_value_t = 1.0)]
    retry_initial_delay: f64,
    /// Longest wait between attempts, `Retry-After` included, in seconds.
    #[arg(long, default_value_t = 60.0)]
    max_retry_delay: f64,
    /// Seconds a request may wait for the answer, and then for each part of its body (as
    /// dlt's `request_timeout`: a long body that keeps coming is not cut off).
    #[arg(long, default_value_t = 60.0)]
    request_timeout: f64,
    /// Another host (`host` or `host:port`) requests may go to, besides `client.base_url`'s.
    #[arg(long = "allow-host")]
    allow_hosts: Vec<String>,
    /// Let hostnames resolve to private, loopback, link-local or metadata addresses (refused
    /// unless the config names the address itself, e.g. an IP `base_url`).
    #[arg(long)]
    allow_private_network: bool,
    /// Resolve HOST to ADDR instead of asking DNS (`--resolve api.example.com=10.0.0.5`,
    /// repeatable); the address is checked like a resolved one.
    #[arg(long, value_name = "HOST=ADDR", value_parser = host_addr)]
    resolve: Vec<(String, std::net::IpAddr)>,
    /// A PEM file of certificate authorities to trust besides the built-in (Mozilla) ones,
    /// e.g. a company's own or a TLS-inspecting proxy's (repeatable; without it, the file
    /// `SSL_CERT_FILE` names, as curl and OpenSSL read it).
    #[arg(long = "ca-cert", value_name = "FILE", value_parser = ca_cert, env = "SSL_CERT_FILE")]
    ca_certs: Vec<TrustedCerts>,
    /// Hard ceiling on the pages of one resource; past it the resource fails.
    #[arg(long, default_value_t = DEFAULT_MAX_PAGES, value_parser = at_least_one::<u64>)]
    max_pages: u64,
    /// Requests of a resource in flight at once, at most (halved on each retry: a 429, 5xx
    /// or timeout; grown back slowly). Pages that can be predicted (offset, page numbers)
    /// are fetched ahead; every page is still loaded in order.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY as u16, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// Resources loaded at once: up to N groups of a resource and those made from its
    /// records, each with its own `--concurrency` requests in flight (1: one after the other).
    /// Without it, as dlt does: the resources the config marks `parallelized` load 5 at once,
    /// the others one after the other beside them.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    parallel_resources: Option<u16>,
    /// Print only the summary and problems.
    #[arg(long, short, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print details too: debug notices, and a failed connector's wasm backtrace.
    #[arg(long, short)]
    pub verbose: bool,
    /// Ignore unfinished loads: start every resource from its first page (or its last
    /// completed incremental cursor) instead of resuming where a failed or killed run stopped.
    #[arg(long)]
    pub restart: bool,
    /// Print the summary on stdout as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// When stderr is not a terminal (a pipe, a CI log): seconds between the plain progress
    /// lines of a resource (records, pages, records/s). 0 prints none.
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    progress_every: f64,
}

/// A count that makes sense only from 1 (pages, attempts).
fn at_least_one<T: std::str::FromStr + PartialEq + From<u8>>(text: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    let n: T = text.trim().parse().map_err(|e| format!("{e}"))?;
    if n == T::from(0) {
        return Err("must be at least 1".into());
    }
    Ok(n)
}

fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::MAX)
}

impl EngineArgs {
    /// The progress display these flags ask for.
    pub fn progress(&self) -> sluice::progress::TerminalProgress {
        sluice::progress::TerminalProgress::new(self.quiet, self.verbose)
            .plain_every(seconds(self.progress_every))
    }
}

impl RuntimeArgs {
    pub fn source(&self) -> Source {
        self.connector.clone().map_or(Source::Builtin, Source::File)
    }

    pub fn cache_dir(&self) -> Option<PathBuf> {
        if self.no_cache {
            None
        } else {
            self.cache_dir.clone().or_else(default_cache_dir)
        }
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_memory_bytes: self.connector_memory_mb.saturating_mul(1 << 20),
            call_timeout: seconds(self.connector_call_timeout),
            ..Limits::default()
        }
    }
}

impl EngineArgs {
    pub fn options(&self, db: PathBuf, resolver: SecretResolver) -> SyncOptions {
        SyncOptions {
            db,
            connector: self.runtime.source(),
            cache_dir: self.runtime.cache_dir(),
            limits: self.runtime.limits(),
            retry: RetryPolicy {
                max_attempts: self.max_attempts,
                backoff_factor: self.backoff_factor,
                base_delay: seconds(self.retry_initial_delay),
                max_delay: seconds(self.max_retry_delay),
                ..RetryPolicy::default()
            },
            timeout: seconds(self.request_timeout),
            extra_hosts: self.allow_hosts.clone(),
            allow_private_network: self.allow_private_network,
            resolve: self.resolve.clone(),
            resolver,
            max_pages: self.max_pages,
            restart: self.restart,
            concurrency: usize::from(self.concurrency),
            stop: Stop::default(),
            max_response_bytes: self.max_response_mb.saturating_mul(1 << 20),
            max_page_bytes: self.max_page_mb.saturating_mul(1 << 20),
            parallel: self.parallel_resources.map(usize::from),
            trusted: self
                .ca_certs
                .iter()
                .fold(TrustedCerts::default(), TrustedCerts::with),
        }
    }
}

/// The certificates of a `--ca-cert` file.
fn ca_cert(path: &str) -> Result<TrustedCerts, String> {
    // The value may come from the environment, unasked: say so.
    let from = match std::env::var("SSL_CERT_FILE") {
        Ok(v) if v == path => " (named by SSL_CERT_FILE)",
        _ => "",
    };
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {path}{from}: {e}"))?;
    let mut certs = TrustedCerts::default();
    certs
        .add_pem(&pem)
        .map_err(|e| format!("{path}{from}: {e}"))?;
    Ok(certs)
}

/// `HOST=ADDR` of `--resolve`.
fn host_addr(s: &str) -> Result<(String, std::net::IpAddr), String> {
    let (host, addr) = s
        .split_once('=')
        .ok_or_else(|| format!("expected HOST=ADDR, got \"{s}\""))?;
    let addr = addr
        .trim_matches(['[', ']'])
        .parse()
        .map_err(|_| format!("\"{addr}\" is not an IP address"))?;
    if host.is_empty() {
        return Err("the host is empty".into());
    }
    Ok((host.to_string(), addr))
}
