//! Why a resource or a run failed, and the cause chain printed whole.

use sluice_transport::TransportError;

use crate::guest::GuestError;
use crate::write::WriteError;

/// Why a resource failed.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    #[error(transparent)]
    Guest(#[from] GuestError),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("the connector asked for secret `{0}`, which the config does not reference")]
    UnreferencedSecret(String),
    #[error(
        "more than {max} pages: stopped by the host's page ceiling (raise it with --max-pages)"
    )]
    TooManyPages { max: u64 },
    #[error("the fetch stage stopped")]
    FetchStopped,
    #[error(
        "the connector returned a page of {size:.1} MiB of records, more than {max} MiB (--max-page-mb)"
    )]
    PageTooLarge { size: f64, max: usize },
    #[error("interrupted")]
    Interrupted,
    #[error(
        "the state to checkpoint after this page holds a secret value (the API echoed a credential, e.g. as a cursor or next-page token); it is not stored"
    )]
    SecretInState,
}

/// A failure that stops the whole run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Open(GuestError),
    #[error("the database failed")]
    Write(#[source] WriteError),
    #[error("resource `{resource}` failed")]
    Resource {
        resource: String,
        #[source]
        source: Box<ResourceError>,
    },
}

/// Formats an error with its whole cause chain, `a: b: c`.
pub fn anyhow_like<'a>(e: &'a (dyn std::error::Error + 'static)) -> Chain<'a> {
    Chain(e)
}

/// Display of an error and its sources joined by `: `.
#[derive(Debug)]
pub struct Chain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}
