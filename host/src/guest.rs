//! One running connector instance: a sandboxed store and an open session.
//!
//! The WASI context grants nothing: no preopened directories, no environment, no sockets,
//! no inherited stdio. A guest that traps, runs past its deadline or grows past its memory
//! limit fails the call with an error; the host process is unaffected.

use wasmtime::component::{Linker, ResourceAny, ResourceTable};
use wasmtime::{Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::{self, ConnectorWorld, Planned};
use crate::protocol::{ConnectorError, Page, ResourceInfo};
use crate::runtime::{EPOCH_TICK, Runtime};

#[derive(Debug, thiserror::Error)]
pub enum GuestError {
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    #[error("the connector failed in `{call}`: {message}")]
    Trap { call: &'static str, message: String },
    #[error("cannot instantiate the connector: {0}")]
    Instantiate(String),
}

struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
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
            .sluice_connector_source()
            .session()
            .call_open(&mut store, config, state)
            .map_err(|e| trap("open", &e))??;
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
            .sluice_connector_source()
            .call_config_schema(&mut store)
            .map_err(|e| trap("config-schema", &e))
    }

    fn arm(&mut self) {
        self.store.set_epoch_deadline(self.deadline_ticks);
    }

    /// The JSON Schema of the config the connector accepts.
    pub fn config_schema(&mut self) -> Result<String, GuestError> {
        self.arm();
        self.world
            .sluice_connector_source()
            .call_config_schema(&mut self.store)
            .map_err(|e| trap("config-schema", &e))
    }

    pub fn resources(&mut self) -> Result<Vec<ResourceInfo>, GuestError> {
        self.arm();
        let source = self.world.sluice_connector_source().session();
        let list = source
            .call_resources(&mut self.store, self.session)
            .map_err(|e| trap("resources", &e))?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    pub(crate) fn next_requests(&mut self, resource: &str) -> Result<Vec<Planned>, GuestError> {
        self.arm();
        let source = self.world.sluice_connector_source().session();
        let list = source
            .call_next_requests(&mut self.store, self.session, resource)
            .map_err(|e| trap("next-requests", &e))??;
        Ok(list.into_iter().map(Into::into).collect())
    }

    pub(crate) fn on_response(
        &mut self,
        resource: &str,
        seq: u64,
        response: sluice_transport::Response,
    ) -> Result<Page, GuestError> {
        self.arm();
        let source = self.world.sluice_connector_source().session();
        let page = source
            .call_on_response(
                &mut self.store,
                self.session,
                resource,
                &bindings::response(seq, response),
            )
            .map_err(|e| trap("on-response", &e))??;
        Ok(page.into())
    }
}

/// A sandboxed store with the connector instantiated in it, and its call deadline in ticks.
fn instantiate(runtime: &Runtime) -> Result<(Store<HostState>, ConnectorWorld, u64), GuestError> {
    let instantiate = |e: wasmtime::Error| GuestError::Instantiate(format!("{e:#}"));
    let mut linker: Linker<HostState> = Linker::new(&runtime.engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(instantiate)?;
    let limits = StoreLimitsBuilder::new()
        .memory_size(runtime.limits.max_memory_bytes)
        .instances(4)
        .tables(16)
        .memories(4)
        .build();
    let state = HostState {
        wasi: WasiCtx::builder().build(),
        table: ResourceTable::new(),
        limits,
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

impl From<bindings::sluice::connector::types::Error> for GuestError {
    fn from(e: bindings::sluice::connector::types::Error) -> Self {
        GuestError::Connector(e.into())
    }
}

fn trap(call: &'static str, e: &wasmtime::Error) -> GuestError {
    let message = match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => "it ran past its time limit and was stopped".to_string(),
        _ => format!("{e:#}"),
    };
    GuestError::Trap { call, message }
}
