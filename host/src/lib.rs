//! The sluice host: runs sluice connector components under wasmtime, performs the HTTP they
//! plan (with retries, an allow-list and injected secrets) and loads their records into a
//! database through a [`sluice_sink::Sink`].
//!
//! Stages, one module each: [`config`] reads the user's file, [`runtime`] compiles the
//! component, [`guest`] runs it sandboxed (it plans requests and selects records),
//! [`fetch`] sends the requests through `sluice_transport` on worker threads, [`flight`]
//! bounds the requests in flight and puts their answers back in order, `normalize` flattens
//! each page into rows on its own thread, [`write`] loads the rows into the sink on another,
//! each behind a bounded channel, [`progress`] reports; [`run`] drives them resource by
//! resource (`parallel`: groups of resources side by side, their progress relayed to one
//! display by `relay`), [`sync`] wires them for the CLI, [`check`] validates a config (and
//! fetches one page of each resource) without loading anything.

mod bindings;
pub mod check;
pub mod config;
pub mod demo;
mod echo;
pub mod fetch;
pub mod flight;
pub mod guest;
mod normalize;
mod parallel;
pub mod progress;
pub mod protocol;
pub mod redact;
mod relay;
pub mod run;
pub mod runtime;
mod stderr;
pub mod sync;
pub mod write;
