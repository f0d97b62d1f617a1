//! A deterministic fake inventory API served on 127.0.0.1, used by `sluice demo`,
//! `sluice mock-api` and the end-to-end tests.
//!
//! `GET /v1/inventory?api_key=..&offset=..&limit=..` answers `{"data": [...], "total": N}`,
//! and `GET /v1/inventory/{id}/movements?api_key=..&page=..` an item's stock movements
//! (a dependent resource), five a page, `{"data": [...], "page": n, "total_pages": m}`.
//! Items and movements are pure functions of their id (items also of the server's
//! *generation*, see [`item`]), so tests can compare loaded rows with the source. Faults (`503x2`, `429x1@500:retry-after=1`, ...) can be injected, and every
//! request is recorded with the status it was answered.
//!
//! The server logs nothing.
//!
//! ```
//! use sluice_mock_api::{Fault, MockConfig, MockServer, item};
//!
//! let server = MockServer::start(MockConfig {
//!     items: 250,
//!     faults: vec!["503x2".parse::<Fault>()?],
//!     ..MockConfig::default()
//! })?;
//! let url = format!("{}/v1/inventory?api_key=demo-secret-key&offset=0&limit=50", server.base_url());
//! assert!(url.starts_with("http://127.0.0.1:"));
//! assert_eq!(item(1, 0)["sku"], "SKU-00001");
//! server.set_generation(1); // items with id % 10 == 1 change "upstream"
//! assert!(server.requests().is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod fault;
mod handler;
pub mod http;
mod items;
mod query;
mod server;

use std::fmt;

pub use fault::{Fault, FaultParseError};
pub use http::{HttpReply, HttpRequest, HttpServer};
pub use items::{CHANGE_MODULUS, MOVEMENTS_PER_PAGE, changed_in_generation, item, movements};
pub use server::{MockServer, RecordedRequest};

/// The path of the single endpoint.
pub const INVENTORY_PATH: &str = "/v1/inventory";
/// The api key [`MockConfig::default`] requires.
pub const DEFAULT_API_KEY: &str = "demo-secret-key";
/// The number of items [`MockConfig::default`] serves.
pub const DEFAULT_ITEMS: usize = 2500;
/// The page size used when a request has no `limit`.
pub const DEFAULT_LIMIT: usize = 100;

/// How a [`MockServer`] behaves. `Debug` redacts the api key.
#[derive(Clone)]
pub struct MockConfig {
    /// Number of items; ids are `1..=items`.
    pub items: usize,
    /// The key required in the `api_key` query parameter or the `X-API-Key` header.
    pub api_key: String,
    /// Port on 127.0.0.1; 0 picks any free port.
    pub port: u16,
    /// 0 = original data; >0 = some items changed (see [`item`]).
    pub generation: u64,
    /// The server caps `limit` to this.
    pub max_page_size: Option<usize>,
    /// Whether responses carry `"total"`.
    pub include_total: bool,
    /// Faults to inject, consumed in order.
    pub faults: Vec<Fault>,
    /// How long the server takes to answer each request (a slow API).
    pub latency: std::time::Duration,
    /// Share of inventory requests (0 to 1) answered 429, 500, 502, 503 or 504 at random
    /// (a seeded sequence: the same on every start).
    pub fault_rate: f64,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            items: DEFAULT_ITEMS,
            api_key: DEFAULT_API_KEY.to_string(),
            port: 0,
            generation: 0,
            max_page_size: None,
            include_total: true,
            latency: std::time::Duration::ZERO,
            fault_rate: 0.0,
            faults: Vec::new(),
        }
    }
}

impl fmt::Debug for MockConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockConfig")
            .field("items", &self.items)
            .field("api_key", &"<redacted>")
            .field("port", &self.port)
            .field("generation", &self.generation)
            .field("max_page_size", &self.max_page_size)
            .field("include_total", &self.include_total)
            .field("faults", &self.faults)
            .field("latency", &self.latency)
            .field("fault_rate", &self.fault_rate)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_matches_brief() {
        let c = MockConfig::default();
        assert_eq!(c.items, 2500);
        assert_eq!(c.api_key, "demo-secret-key");
        assert_eq!(c.port, 0);
        assert_eq!(c.generation, 0);
        assert_eq!(c.max_page_size, None);
        assert!(c.include_total);
        assert!(c.faults.is_empty());
    }

    #[test]
    fn config_debug_redacts_the_key() {
        let c = MockConfig {
            api_key: "hunter2-very-secret".into(),
            ..MockConfig::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
