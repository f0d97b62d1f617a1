//! The sluice host: runs sluice connector components under wasmtime, performs the HTTP they
//! plan (with retries, an allow-list and injected secrets) and loads their records into a
//! database through a [`sluice_sink::Sink`].
//!
//! Stages, one module each: [`config`] reads the user's file, [`runtime`] compiles the
//! component, [`guest`] runs it sandboxed, [`run`] drives pages from the guest through
//! `sluice_transport` into the sink, [`sync`] wires them for the CLI, [`check`] validates a
//! config (and fetches one page of each resource) without loading anything.

mod bindings;
pub mod check;
pub mod config;
pub mod demo;
pub mod guest;
pub mod progress;
pub mod protocol;
pub mod redact;
pub mod run;
pub mod runtime;
pub mod sync;
