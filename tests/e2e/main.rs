//! End-to-end tests: the real connector component, the real `sluice` binary, real HTTP on
//! 127.0.0.1 and real SQLite files.

mod auth;
mod bounded;
mod cli;
mod component;
mod compression;
mod concurrency;
mod dependent;
mod dlt_compat;
mod dlt_hints;
mod dlt_schema;
mod egress;
mod errors;
mod incremental;
mod inventory;
mod jco;
mod kill9;
mod large_pages;

mod paginator_servers;
mod paginators;
mod parallel;
mod proxy;
mod restart;
mod resume;
mod resume_paginators;
mod retries;
mod sandbox;
mod scd2;
mod support;
mod tls;
