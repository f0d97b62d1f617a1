//! Measures how a page of records should cross the component boundary: as one JSON array
//! text (today's `page.records`) or as typed rows.
//!
//! The guest (`bench/guest`, world `sluice:bench/bench` in `bench/wit`) keeps a page of
//! `serde_json::Value`s, as the connector holds records after selection, and returns them
//! either way. This crate instantiates it under wasmtime configured as the sluice host
//! configures its engine, and turns what crosses into the `Vec<Value>` the sink takes
//! ([`json_to_values`], [`rows_to_values`]). `benches/boundary.rs` times every stage.

mod convert;
mod guest;
pub mod timing;

pub use convert::{ConvertError, cell_to_value, json_to_values, rows_to_values};
pub use guest::{BenchError, GUEST_COMPONENT, Guest, compile, engine};

wasmtime::component::bindgen!({
    world: "bench",
    path: "wit",
});

/// The typed forms a page crosses as in its `rows` form.
pub use exports::sluice::bench::page::{Cell, Rows};
