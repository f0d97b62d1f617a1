//! The declarative REST API connector of sluice.
//!
//! A sans-I/O state machine: it reads a dlt `rest_api` config (JSON text), plans HTTP
//! requests (naming the credentials the host must inject), takes the host's responses,
//! selects their records and paginates. It performs no I/O of its own.
//!
//! Stages, one module each:
//! - [`config`]: parses and validates the config, every error naming its key path;
//! - [`url`]: percent-encoding and URL building;
//! - [`selector`]: the `data_selector` JSONPath subset, applied to responses by `extract`
//!   (a key path ending at a list is found in the raw body, without building the records);
//! - [`paginator`]: the paginators (`single_page`, `offset`, `page_number`, `cursor`,
//!   `header_cursor`, `json_link`, `header_link`) and their detection;
//! - [`actions`]: `response_actions` (ignore responses by status and/or content);
//! - [`schema`]: the config's JSON Schema, generated from the parser's key tables;
//! - [`placeholder`], [`dependent`], [`chains`], [`incremental`]: placeholders, dependent
//!   resources (one request chain per parent record, several at once) and incremental
//!   loading;
//! - [`session`]: the state machine mirroring `wit/source.wit`;
//! - [`protocol`]: the crate's own mirror of the WIT types.
//!
//! On `wasm32` the crate also exports the `sluice:connector/source` interface as a component.

pub mod actions;
#[cfg(target_arch = "wasm32")]
mod bindings;
pub mod chains;
pub mod config;
pub mod dependent;
mod extract;
pub mod form;
pub mod incremental;
pub mod paginator;
pub mod placeholder;
pub mod protocol;
mod raw;
mod records;
pub mod resume;
pub mod schema;
pub mod selector;
pub mod session;
pub mod url;

pub use protocol::{
    Auth, BasicCredentials, Credential, Error, Level, Method, NamedCredential, Notice, Page,
    Request, ResourceInfo, Response, WriteDisposition,
};
pub use session::Session;

#[cfg(test)]
mod chains_api;
#[cfg(test)]
mod chains_props;
#[cfg(test)]
mod paging_props;
#[cfg(test)]
mod paging_tests;
