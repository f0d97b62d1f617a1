//! End-to-end tests: the real connector component, the real `sluice` binary, real HTTP on
//! 127.0.0.1 and real SQLite files.

mod component;
mod errors;
mod inventory;
mod retries;
mod support;
