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
    #[error("the connector planned request {0} twice (its seq names one request in flight)")]
    SeqTwice(u64),
    #[error("the fetch stage stopped")]
    FetchStopped,
    #[error(
        "the connector returned a page of {size:.1} MiB of records, more than {max} MiB (--max-page-mb)"
    )]
    PageTooLarge { size: f64, max: usize },
    #[error(
        "the connector returned a state of {size:.1} MiB to checkpoint with its page, more than {max} MiB (--max-page-mb)"
    )]
    StateTooLarge { size: f64, max: usize },
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

/// Display of an error and its sources joined by `: `. A source that only repeats the one
/// before it is left out (rusqlite's `database or disk is full` has the source `Error code
/// 13: database or disk is full`).
#[derive(Debug)]
pub struct Chain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut last = self.0.to_string();
        f.write_str(&last)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            let text = s.to_string();
            if !text.is_empty() && !last.ends_with(&text) && !text.ends_with(&last) {
                write!(f, ": {text}")?;
            }
            last = text;
            source = s.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::anyhow_like;

    /// An error with a message and an optional source.
    #[derive(Debug, thiserror::Error)]
    #[error("{text}")]
    struct E {
        text: &'static str,
        #[source]
        source: Option<Box<E>>,
    }

    fn chain(texts: &[&'static str]) -> E {
        texts
            .iter()
            .rev()
            .fold(None, |source, text| {
                Some(E {
                    text,
                    source: source.map(Box::new),
                })
            })
            .expect("one error at least")
    }

    #[test]
    fn the_chain_prints_every_cause_once() {
        let shown = |texts: &[&'static str]| anyhow_like(&chain(texts)).to_string();
        assert_eq!(shown(&["a", "b", "c"]), "a: b: c");
        // rusqlite's failure and its source say the same thing.
        assert_eq!(
            shown(&[
                "cannot load the page",
                "database or disk is full",
                "Error code 13: database or disk is full"
            ]),
            "cannot load the page: database or disk is full"
        );
        assert_eq!(
            shown(&["x: timed out", "timed out", "io"]),
            "x: timed out: io"
        );
    }
}
