//! Compiling and instantiating connector components.
//!
//! The engine caches compiled code on disk (a second run of the same component does not
//! recompile), interrupts a guest call that runs past its deadline, and caps guest memory.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use wasmtime::component::Component;
use wasmtime::{Cache, CacheConfig, Config, Engine};

/// The connector built from `connector/` and embedded in this binary.
pub const BUILTIN_CONNECTOR: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/sluice_connector.wasm"));

/// How often the epoch ticks; guest call deadlines are counted in ticks.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(50);

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot set up the WebAssembly engine")]
    Engine(#[source] wasmtime::Error),
    #[error("cannot read connector component {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin} is not a WebAssembly component: it does not start with the `\\0asm` header")]
    NotWasm { origin: String },
    #[error("{origin} is not a valid connector component")]
    Compile {
        origin: String,
        source: wasmtime::Error,
    },
}

/// Limits a connector runs under.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Most linear memory a connector instance may grow to.
    pub max_memory_bytes: usize,
    /// Longest a single call into the connector may run.
    pub call_timeout: Duration,
    /// Core instances, tables and memories a component may create.
    pub max_instances: usize,
    pub max_tables: usize,
    pub max_memories: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_memory_bytes: 512 << 20,
            call_timeout: Duration::from_secs(30),
            max_instances: crate::guest::MAX_INSTANCES,
            max_tables: crate::guest::MAX_TABLES,
            max_memories: crate::guest::MAX_MEMORIES,
        }
    }
}

/// A compiled connector, ready to instantiate.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) engine: Engine,
    pub(crate) component: Component,
    pub(crate) limits: Limits,
    /// Whether the component came from the on-disk cache.
    pub from_cache: bool,
    _ticker: Arc<Ticker>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("from_cache", &self.from_cache)
            .finish_non_exhaustive()
    }
}

/// Where the connector comes from.
#[derive(Debug, Clone)]
pub enum Source {
    Builtin,
    File(PathBuf),
}

impl Runtime {
    /// Compiles (or loads from the cache in `cache_dir`) the connector component.
    pub fn load(
        source: &Source,
        cache_dir: Option<&Path>,
        limits: Limits,
    ) -> Result<Runtime, RuntimeError> {
        let (bytes, origin) = match source {
            Source::Builtin => (
                BUILTIN_CONNECTOR.to_vec(),
                "the built-in connector".to_string(),
            ),
            Source::File(path) => (
                std::fs::read(path).map_err(|source| RuntimeError::Read {
                    path: path.clone(),
                    source,
                })?,
                path.display().to_string(),
            ),
        };
        let mut config = Config::new();
        config.wasm_component_model(true).epoch_interruption(true);
        let cache = cache_dir.and_then(open_cache);
        config.cache(cache.clone());
        if !bytes.starts_with(b"\0asm") {
            return Err(RuntimeError::NotWasm { origin });
        }
        let engine = Engine::new(&config).map_err(RuntimeError::Engine)?;
        let component = Component::new(&engine, &bytes)
            .map_err(|source| RuntimeError::Compile { origin, source })?;
        let from_cache = cache.is_some_and(|c| c.cache_hits() > 0);
        let ticker = Ticker::start(engine.clone());
        Ok(Runtime {
            engine,
            component,
            limits,
            from_cache,
            _ticker: Arc::new(ticker),
        })
    }
}

fn open_cache(dir: &Path) -> Option<Cache> {
    let mut cfg = CacheConfig::new();
    cfg.with_directory(dir);
    // A broken cache must never fail a run: compile without it instead.
    Cache::new(cfg).ok()
}

/// The default cache directory: `$SLUICE_CACHE_DIR`, else `$XDG_CACHE_HOME/sluice`, else `~/.cache/sluice`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("SLUICE_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("sluice"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache").join("sluice"))
}

/// Advances the engine's epoch so that guest calls past their deadline trap. Dropping it
/// stops the thread at once (a sleep would hold the process's exit for up to a tick).
struct Ticker {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    fn start(engine: Engine) -> Ticker {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sluice-epoch".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EPOCH_TICK) {
                    engine.increment_epoch();
                }
            })
            .ok();
        Ticker {
            stop: Some(stop),
            thread,
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.take()); // disconnects: the thread's wait ends now
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
