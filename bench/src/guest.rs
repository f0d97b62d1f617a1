//! One instance of the bench guest, in a store that records its peak linear memory.

use serde_json::Value;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, ResourceLimiter, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::{Bench, Rows};

/// The guest component built from `bench/guest` by `build.rs`.
pub const GUEST_COMPONENT: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/sluice_bench_guest.wasm"));

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("wasmtime failed: {0}")]
    Wasm(String),
    #[error("the guest kept {kept} of {given} records")]
    Load { kept: u32, given: usize },
}

fn wasm(e: wasmtime::Error) -> BenchError {
    BenchError::Wasm(format!("{e:#}"))
}

/// An engine configured as the sluice host's (`host/src/runtime.rs`): component model and
/// epoch interruption, whose checks the compiled guest code then carries.
pub fn engine() -> Result<Engine, BenchError> {
    let mut config = Config::new();
    config.wasm_component_model(true).epoch_interruption(true);
    Engine::new(&config).map_err(wasm)
}

/// Compiles the guest component.
pub fn compile(engine: &Engine) -> Result<Component, BenchError> {
    Component::new(engine, GUEST_COMPONENT).map_err(wasm)
}

/// Records the largest size the guest's linear memory grew to.
#[derive(Debug, Default)]
struct PeakMemory {
    bytes: usize,
}

impl ResourceLimiter for PeakMemory {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.bytes = self.bytes.max(current).max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    peak: PeakMemory,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// An instance of the bench guest. The WASI context grants nothing, as the host's.
pub struct Guest {
    store: Store<State>,
    world: Bench,
}

impl std::fmt::Debug for Guest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guest")
            .field("peak_memory", &self.store.data().peak.bytes)
            .finish_non_exhaustive()
    }
}

impl Guest {
    pub fn new(engine: &Engine, component: &Component) -> Result<Guest, BenchError> {
        let mut linker: Linker<State> = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(wasm)?;
        let state = State {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            peak: PeakMemory::default(),
        };
        let mut store = Store::new(engine, state);
        store.limiter(|s| &mut s.peak);
        // Epoch checks are compiled in, as in the host; no ticker here, so never due.
        store.set_epoch_deadline(u64::MAX);
        let world = Bench::instantiate(&mut store, component, &linker).map_err(wasm)?;
        Ok(Guest { store, world })
    }

    /// Hands `records` to the guest, which parses and keeps them (not measured).
    pub fn load(&mut self, records: &[Value]) -> Result<u32, BenchError> {
        let text = serde_json::to_string(records).map_err(|e| BenchError::Wasm(e.to_string()))?;
        let kept = self
            .world
            .sluice_bench_page()
            .call_load(&mut self.store, &text)
            .map_err(wasm)?;
        if kept as usize != records.len() {
            return Err(BenchError::Load {
                kept,
                given: records.len(),
            });
        }
        Ok(kept)
    }

    /// The first `n` kept records as one JSON array text.
    pub fn page_json(&mut self, n: u32) -> Result<String, BenchError> {
        self.world
            .sluice_bench_page()
            .call_page_json(&mut self.store, n)
            .map_err(wasm)
    }

    /// The first `n` kept records as typed rows.
    pub fn page_rows(&mut self, n: u32) -> Result<Rows, BenchError> {
        self.world
            .sluice_bench_page()
            .call_page_rows(&mut self.store, n)
            .map_err(wasm)
    }

    /// The guest builds and drops the JSON text of `n` records; returns its byte length.
    pub fn json_only(&mut self, n: u32) -> Result<u32, BenchError> {
        self.world
            .sluice_bench_page()
            .call_json_only(&mut self.store, n)
            .map_err(wasm)
    }

    /// The guest builds and drops the rows of `n` records; returns their cell count.
    pub fn rows_only(&mut self, n: u32) -> Result<u32, BenchError> {
        self.world
            .sluice_bench_page()
            .call_rows_only(&mut self.store, n)
            .map_err(wasm)
    }

    /// Heap bytes the guest has in use now and their high-water mark since [`Guest::heap_reset`].
    pub fn heap(&mut self) -> Result<(u64, u64), BenchError> {
        self.world
            .sluice_bench_page()
            .call_heap(&mut self.store)
            .map_err(wasm)
    }

    /// Starts a new heap high-water mark in the guest at its current use.
    pub fn heap_reset(&mut self) -> Result<(), BenchError> {
        self.world
            .sluice_bench_page()
            .call_heap_reset(&mut self.store)
            .map_err(wasm)
    }

    /// The largest size, in bytes, the guest's linear memory has grown to.
    pub fn peak_memory(&self) -> usize {
        self.store.data().peak.bytes
    }
}
