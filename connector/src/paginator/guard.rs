//! Guards of every paginator: a ceiling on pages per resource and loop detectors (a page
//! whose records repeat the previous page's, a next cursor or URL seen before). Each trips
//! a clear `Error::Response` naming the resource, never a silent stop or an endless loop.

use std::collections::HashSet;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use crate::protocol::Error;

/// Pages a resource may have before the connector gives up with an error: no ceiling of its
/// own. The host sets the one ceiling (`sluice run --max-pages`), which a component cannot
/// be told over `sluice:connector@0.1.0`; an embedder of [`crate::Session`] sets one with
/// `set_max_pages`.
pub const DEFAULT_MAX_PAGES: u64 = u64::MAX;

/// Counts a resource's pages and remembers the last one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    max_pages: u64,
    pages: u64,
    last: Option<u64>,
    /// The resource named in errors.
    resource: String,
    /// Next-page references (cursors, URLs) seen so far.
    seen: HashSet<String>,
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
            resource: String::new(),
            seen: HashSet::new(),
        }
    }

    /// This guard, naming `resource` in its errors.
    pub fn named(mut self, resource: &str) -> Self {
        self.resource = resource.to_string();
        self
    }

    /// Counts `pages` pages as already loaded (a resumed load), so the ceiling spans every
    /// run of one load and a next link back to the first page is not taken for a loop.
    pub fn resume_at(&mut self, pages: u64) {
        self.pages = pages;
    }

    /// Changes the ceiling on pages.
    pub fn set_max_pages(&mut self, max_pages: u64) {
        self.max_pages = max_pages;
    }

    fn who(&self) -> String {
        if self.resource.is_empty() {
            String::new()
        } else {
            format!("resource \"{}\": ", self.resource)
        }
    }

    /// Records the next page's `reference` (a cursor or URL from the server): errors when an
    /// earlier page already had it (the API loops).
    pub fn check_reference(&mut self, status: u16, reference: &str) -> Result<(), Error> {
        if self.seen.insert(reference.to_string()) {
            return Ok(());
        }
        let mut shown: String = reference.chars().take(200).collect();
        if reference.chars().nth(200).is_some() {
            shown.push('…');
        }
        Err(Error::response(
            status,
            format!(
                "{}page {} points to the next page \"{shown}\" again: the API repeats a cursor or next URL; stopping instead of looping",
                self.who(),
                self.pages
            ),
        ))
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
                    "{}page {} repeats the records of the previous page: the API seems to ignore the paginator's parameters",
                    self.who(),
                    self.pages
                ),
            ));
        }
        if more && self.pages >= self.max_pages {
            return Err(Error::response(
                status,
                format!(
                    "{}more than {} pages: stopping (page ceiling reached)",
                    self.who(),
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

    #[test]
    fn repeated_reference_names_resource_and_value() {
        let mut g = Guard::default().named("issues");
        assert!(g.check(200, "[1]", 1, true).is_ok());
        assert!(g.check_reference(200, "c1").is_ok());
        assert!(g.check(200, "[2]", 1, true).is_ok());
        assert!(g.check_reference(200, "c2").is_ok());
        assert!(g.check(200, "[3]", 1, true).is_ok());
        let err = g.check_reference(200, "c1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "resource \"issues\": page 3 points to the next page \"c1\" again: the API repeats a cursor or next URL; stopping instead of looping"
        );
        assert!(matches!(err, Error::Response { status: 200, .. }));
    }
}
