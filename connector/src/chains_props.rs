//! Property: whatever the parents, the lengths of their chains, the page size and the
//! window, a dependent resource asks no page twice, loads every child record once in parent
//! order, and a load cut after any page resumes exactly where it stopped.

use proptest::prelude::*;

use crate::chains_api::{Api, Driven, ids, number};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn chains_load_every_record_once_in_order_and_resume_from_any_page(
        children in prop::collection::vec(0u64..12, 0..30),
        per_page in 1u64..5,
        with_total in any::<bool>(),
        // Up to past the pages chains ahead may hold (`MAX_HELD`).
        window in 1usize..40,
        cut in any::<prop::sample::Index>(),
    ) {
        let api = Api { children, per_page, with_total };
        let want = api.expected();
        let Driven { pages, urls, .. } = api.run(&[], window, usize::MAX);
        prop_assert_eq!(ids(&pages), want.clone());
        let mut unique = urls.clone();
        unique.sort();
        unique.dedup();
        prop_assert_eq!(unique.len(), urls.len(), "a page asked twice");
        if pages.is_empty() {
            // No parent records: the connector plans nothing and the host ends the resource.
            prop_assert!(api.children.is_empty() && urls.is_empty());
            return Ok(());
        }
        prop_assert!(pages.last().unwrap().done, "the resource ends");
        prop_assert_eq!(pages.iter().filter(|p| p.done).count(), 1);
        // What one chain at a time asks, the window asks too (it may ask more past the end).
        let one_by_one = api.run(&[], 1, usize::MAX).urls;
        for url in &one_by_one {
            prop_assert!(urls.contains(url), "not asked with a window: {}", url);
        }
        // The chains done only move forward (the last page's state is the completed one).
        let positions = &pages[..pages.len() - 1];
        let done: Vec<u64> = positions.iter().map(|p| number(p, "/resume/chain/done")).collect();
        prop_assert!(done.windows(2).all(|w| w[0] <= w[1]), "{:?}", done);

        // Cut after page k (not the last), resume from its state.
        if pages.len() > 1 {
            let k = 1 + cut.index(pages.len() - 1);
            let first = api.run(&[], window, k).pages;
            let state = first.last().unwrap().state.clone();
            let rest = api.run(&[("children".into(), state)], window, usize::MAX).pages;
            let mut all = ids(&first);
            all.extend(ids(&rest));
            prop_assert_eq!(all, want, "cut after {} pages", k);
            prop_assert_eq!(number(&rest[0], "/pages"), k as u64 + 1, "the page count goes on");
        }
    }
}
