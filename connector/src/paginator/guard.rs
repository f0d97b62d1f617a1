//! Guards of every paginator: a ceiling on pages per resource and a loop detector.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use crate::protocol::Error;

/// Pages a resource may have before the connector gives up with an error.
pub const DEFAULT_MAX_PAGES: u64 = 100_000;

/// Counts a resource's pages and remembers the last one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    max_pages: u64,
    pages: u64,
    last: Option<u64>,
}

impl Default for Guard {
    fn default() -> Self {
        Guard::new(DEFAULT_MAX_PAGES)
    }
}

impl Guard {
    pub fn new(max_pages: u64) -> Self {
        Guard {
            max_pages,
            pages: 0,
            last: None,
        }
    }

    /// Pages seen so far.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// Checks a page (its records as JSON text) that the paginator wants to follow with
    /// another one: errors past the ceiling, or when the records repeat the previous page's
    /// (the API ignores the paginator's parameters).
    pub fn check(
        &mut self,
        status: u16,
        records: &str,
        count: usize,
        more: bool,
    ) -> Result<(), Error> {
        self.pages += 1;
        let mut h = DefaultHasher::new();
        records.hash(&mut h);
        let hash = h.finish();
        let repeated = count > 0 && self.last == Some(hash);
        self.last = Some(hash);
        if repeated {
            return Err(Error::response(
                status,
                format!(
                    "page {} repeats the records of the previous page: the API seems to ignore the paginator's parameters",
                    self.pages
                ),
            ));
        }
        if more && self.pages >= self.max_pages {
            return Err(Error::response(
                status,
                format!(
                    "more than {} pages: stopping (page ceiling reached)",
                    self.max_pages
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_is_an_error_not_a_silent_stop() {
        let mut g = Guard::new(3);
        assert!(g.check(200, "[1]", 1, true).is_ok());
        assert!(g.check(200, "[2]", 1, true).is_ok());
        let err = g.check(200, "[3]", 1, true).unwrap_err();
        assert_eq!(
            err.to_string(),
            "more than 3 pages: stopping (page ceiling reached)"
        );
        let mut g = Guard::new(2);
        assert!(g.check(200, "[1]", 1, true).is_ok());
        assert!(
            g.check(200, "[2]", 1, false).is_ok(),
            "the last page may hit the ceiling"
        );
    }

    #[test]
    fn repeated_page_is_an_error() {
        let mut g = Guard::default();
        assert!(g.check(200, "[]", 0, true).is_ok());
        assert!(
            g.check(200, "[]", 0, true).is_ok(),
            "empty pages are not a loop"
        );
        assert!(g.check(200, "[{\"id\":1}]", 1, true).is_ok());
        let err = g.check(200, "[{\"id\":1}]", 1, true).unwrap_err();
        assert!(
            err.to_string().starts_with("page 4 repeats the records"),
            "{err}"
        );
    }
}
