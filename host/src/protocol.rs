//! The host's own view of what a connector says, free of generated types.

use sluice_sink::WriteDisposition;

/// A resource as the connector describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceInfo {
    pub name: String,
    pub primary_key: Vec<String>,
    pub write_disposition: WriteDisposition,
    /// The resource whose records this one's requests are made from.
    pub parent: Option<String>,
    /// False when the resource only feeds its children and is not loaded.
    pub selected: bool,
    /// Depth below which nested objects are flattened; deeper values stay JSON.
    pub max_table_nesting: Option<u32>,
    /// dlt's table hints (none from a 0.1.0 component).
    pub hints: sluice_sink::TableHints,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub level: Level,
    pub message: String,
}

/// One response's worth of records, as JSON array text.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub records: String,
    pub count: u32,
    pub state: String,
    pub done: bool,
    pub notices: Vec<Notice>,
}

/// An error the connector returned (as opposed to a trap).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConnectorError {
    #[error("invalid config: {path}: {message}")]
    Config { path: String, message: String },
    /// A response the connector could not use; with a 2xx status the data was the problem
    /// (a paging loop, a parent record without a field), not the status.
    #[error("{}", response_text(*status, message))]
    Response { status: u16, message: String },
    #[error("unreadable saved state: {0}")]
    State(String),
    #[error("connector protocol error: {0}")]
    Protocol(String),
}

/// The message, with the status when it is not a 2xx one and the message does not say it
/// already (the built-in connector writes `HTTP 404 from GET ...`).
fn response_text(status: u16, message: &str) -> String {
    if (200..300).contains(&status) || message.contains(&format!("HTTP {status}")) {
        message.to_string()
    } else {
        format!("bad response (HTTP {status}): {message}")
    }
}

#[cfg(test)]
mod tests {
    use super::ConnectorError;

    #[test]
    fn a_response_error_states_its_status_once() {
        let text = |status, message: &str| {
            ConnectorError::Response {
                status,
                message: message.into(),
            }
            .to_string()
        };
        assert_eq!(
            text(404, "HTTP 404 from GET http://127.0.0.1/x: not found"),
            "HTTP 404 from GET http://127.0.0.1/x: not found"
        );
        assert_eq!(
            text(418, "the teapot refused"),
            "bad response (HTTP 418): the teapot refused"
        );
        assert_eq!(
            text(200, "the next link points back to page 1"),
            "the next link points back to page 1"
        );
    }
}
