//! One running connector instance: a sandboxed store and an open session.
//!
//! The WASI context grants nothing: no preopened directories, no environment, no sockets,
//! no inherited stdio (the guest's stderr is kept in memory, its last 16 KiB, for error
//! messages). A guest that traps, runs past its deadline or grows past its memory limit
//! fails the call with an error that names the cause first (the limit and its flag, or the
//! panic's message); the host process is unaffected.

use wasmtime::component::{Linker, ResourceAny, ResourceTable};
use wasmtime::{ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::{ConnectorWorld, Planned};
use crate::protocol::{ConnectorError, Page, ResourceInfo};
use crate::runtime::{EPOCH_TICK, Runtime};
use crate::stderr::StderrTail;

/// Instances, tables and memories a component may create by default: enough for the
/// components the standard toolchains make (Rust with wit-bindgen; Python with componentize-py, which
/// nests CPython and its adapters in several core instances; JavaScript with jco).
pub const MAX_INSTANCES: usize = 64;
pub const MAX_TABLES: usize = 64;
pub const MAX_MEMORIES: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum GuestError {
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    /// `message` names the cause; `detail` is wasmtime's whole error (the wasm backtrace),
    /// for `--verbose`.
    #[error("{message} (in `{call}`)")]
    Trap {
        call: &'static str,
        message: String,
        detail: String,
    },
    #[error("cannot instantiate the connector: {0}")]
    Instantiate(String),
}

struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: Limiter,
    stderr: StderrTail,
}

/// The store's limits, remembering a memory growth it refused (to name it in the error).
struct Limiter {
    inner: StoreLimits,
    max_memory_bytes: usize,
    refused_memory: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.inner.memory_growing(current, desired, maximum)?;
        self.refused_memory |= !allowed;
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// An open connector session.
pub struct Guest {
    store: Store<HostState>,
    world: ConnectorWorld,
    session: ResourceAny,
    deadline_ticks: u64,
}

impl std::fmt::Debug for Guest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guest").finish_non_exhaustive()
    }
}

impl Guest {
    /// Instantiates the connector and opens a session with `config` (JSON text) and saved state.
    pub fn open(
        runtime: &Runtime,
        config: &str,
        state: &[(String, String)],
    ) -> Result<Guest, GuestError> {
        let (mut store, world, deadline_ticks) = instantiate(runtime)?;
        let session = world
            .open(&mut store, config, state)
            .map_err(|e| trap("open", &e, store.data()))??;
        Ok(Guest {
            store,
            world,
            session,
            deadline_ticks,
        })
    }

    /// The JSON Schema of the config the connector accepts, from a fresh instance (no
    /// session, no config needed).
    pub fn schema_of(runtime: &Runtime) -> Result<String, GuestError> {
        let (mut store, world, _) = instantiate(runtime)?;
        world
            .config_schema(&mut store)
            .map_err(|e| trap("config-schema", &e, store.data()))
    }

    fn arm(&mut self) {
        self.store.set_epoch_deadline(self.deadline_ticks);
    }

    /// The JSON Schema of the config the connector accepts.
    pub fn config_schema(&mut self) -> Result<String, GuestError> {
        self.arm();
        self.world
            .config_schema(&mut self.store)
            .map_err(|e| trap("config-schema", &e, self.store.data()))
    }

    pub fn resources(&mut self) -> Result<Vec<ResourceInfo>, GuestError> {
        self.arm();
        self.world
            .resources(&mut self.store, self.session)
            .map_err(|e| trap("resources", &e, self.store.data()))
    }

    pub(crate) fn next_requests(&mut self, resource: &str) -> Result<Vec<Planned>, GuestError> {
        self.arm();
        Ok(self
            .world
            .next_requests(&mut self.store, self.session, resource)
            .map_err(|e| trap("next-requests", &e, self.store.data()))??)
    }

    pub(crate) fn on_response(
        &mut self,
        resource: &str,
        seq: u64,
        response: sluice_transport::Response,
    ) -> Result<Page, GuestError> {
        self.arm();
        Ok(self
            .world
            .on_response(&mut self.store, self.session, resource, seq, response)
            .map_err(|e| trap("on-response", &e, self.store.data()))??)
    }
}

/// A sandboxed store with the connector instantiated in it, and its call deadline in ticks.
fn instantiate(runtime: &Runtime) -> Result<(Store<HostState>, ConnectorWorld, u64), GuestError> {
    let limits = &runtime.limits;
    let instantiate = |e: wasmtime::Error| GuestError::Instantiate(instantiate_error(&e, limits));
    let mut linker: Linker<HostState> = Linker::new(&runtime.engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(instantiate)?;
    let limits = Limiter {
        inner: StoreLimitsBuilder::new()
            .memory_size(runtime.limits.max_memory_bytes)
            .instances(runtime.limits.max_instances)
            .tables(runtime.limits.max_tables)
            .memories(runtime.limits.max_memories)
            .build(),
        max_memory_bytes: runtime.limits.max_memory_bytes,
        refused_memory: false,
    };
    let stderr = StderrTail::default();
    let state = HostState {
        wasi: WasiCtx::builder().stderr(stderr.clone()).build(),
        table: ResourceTable::new(),
        limits,
        stderr,
    };
    let mut store = Store::new(&runtime.engine, state);
    store.limiter(|s| &mut s.limits);
    let ticks = runtime.limits.call_timeout.as_millis() / EPOCH_TICK.as_millis().max(1);
    let deadline_ticks = u64::try_from(ticks).unwrap_or(u64::MAX).max(1);
    store.set_epoch_deadline(deadline_ticks);
    let world = ConnectorWorld::instantiate(&mut store, &runtime.component, &linker)
        .map_err(instantiate)?;
    Ok((store, world, deadline_ticks))
}

impl GuestError {
    /// wasmtime's whole error (the wasm backtrace) behind a trap, for `--verbose`.
    pub fn detail(&self) -> Option<&str> {
        match self {
            GuestError::Trap { detail, .. } => Some(detail),
            _ => None,
        }
    }
}

/// The error of a failed call, its cause first: the memory limit, the deadline, the panic's
/// message, or the trap.
fn trap(call: &'static str, e: &wasmtime::Error, state: &HostState) -> GuestError {
    let detail = crate::redact::redact(&format!("{e:?}"));
    let message = if state.limits.refused_memory {
        format!(
            "the connector exceeded its memory limit of {} MiB (--connector-memory-mb)",
            state.limits.max_memory_bytes >> 20
        )
    } else if let Some(wasmtime::Trap::Interrupt) = e.downcast_ref::<wasmtime::Trap>() {
        "the connector ran past its time limit and was stopped (--connector-call-timeout)"
            .to_string()
    } else if let Some(panic) = state.stderr.panic_message() {
        format!("the connector panicked: {panic}")
    } else {
        let first = e.to_string();
        let first = first.lines().next().unwrap_or("trapped").to_string();
        format!("the connector failed: {}", crate::redact::redact(&first))
    };
    GuestError::Trap {
        call,
        message,
        detail,
    }
}

/// Why a component could not be instantiated, naming the store limit it hit.
fn instantiate_error(e: &wasmtime::Error, limits: &crate::runtime::Limits) -> String {
    let text = format!("{e:#}");
    let limit = [
        ("instance count too high", "instances", limits.max_instances),
        ("table count too high", "tables", limits.max_tables),
        ("memory count too high", "memories", limits.max_memories),
    ]
    .into_iter()
    .find(|(needle, _, _)| text.contains(needle));
    match limit {
        Some((_, what, max)) => format!(
            "the component needs more than the {max} {what} a connector may create ({text})"
        ),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{Limits, Source};

    /// A component that needs more than the store allows is refused naming the limit.
    #[test]
    fn a_component_past_a_count_limit_is_refused_naming_it() {
        for (limits, what) in [
            (
                Limits {
                    max_instances: 1,
                    ..Limits::default()
                },
                "more than the 1 instances a connector may create",
            ),
            (
                Limits {
                    max_memories: 0,
                    ..Limits::default()
                },
                "more than the 0 memories a connector may create",
            ),
        ] {
            let runtime = Runtime::load(&Source::Builtin, None, limits).unwrap();
            let err = Guest::open(&runtime, "{}", &[]).unwrap_err().to_string();
            assert!(
                err.starts_with("cannot instantiate the connector: the component needs")
                    && err.contains(what),
                "{err}"
            );
        }
    }
}
