//! Which request of a resource goes out next, and where a dependent resource's chains end.

use super::{Run, resume_chains};
use crate::chains::{Lane, Records};
use crate::config::Resource;
use crate::paginator::Guard;

/// Which paginator plans a request.
#[derive(Debug, Clone, Copy)]
pub(super) enum Planner {
    /// The resource's own, or its current chain's.
    Current,
    /// The one predicting pages past those in flight ([`crate::paginator::Paginate::skip_ahead`]).
    Ahead,
    /// That of the chain running ahead at this index of [`crate::chains::Chains::lanes`].
    Lane(usize),
}

/// The chain of a dependent resource that may send a request now: the current chain when
/// it has none in flight (starting the next parent record's chain when none is current),
/// else a chain ahead, else a new chain ahead while the held pages allow.
pub(super) fn next_chain(
    res: &Resource,
    run: &mut Run,
    max_pages: u64,
    parent_done: bool,
) -> Option<Planner> {
    if run.resume.is_some() && !resume_chains(res, run, parent_done) {
        return None;
    }
    let in_flight = &run.in_flight;
    let waiting = |number: u64| {
        in_flight
            .iter()
            .any(|f| f.row.as_ref().is_some_and(|r| r.number == number))
    };
    match &run.chains.current {
        Some(row) if !waiting(row.number) => return Some(Planner::Current),
        Some(_) => {}
        None if run.chains.lanes.is_empty() => {
            // A new chain with a fresh paginator; none while the parent has not given a row.
            let row = run.chains.queue.pop_front()?;
            run.chains.current = Some(row);
            run.chains.answered = false;
            run.guard = Guard::new(max_pages).named(&res.name);
            if std::mem::take(&mut run.chains.continue_current) {
                run.chains.answered = true; // the resumed chain's restored paginator
            } else {
                run.paginator = res.endpoint.paginator.start();
            }
            return Some(Planner::Current);
        }
        None => {}
    }
    if !run.chains_ahead || !run.chains.may_hold_more(waiting) {
        return None;
    }
    if let Some(k) = run.chains.ready_lane(waiting) {
        return Some(Planner::Lane(k));
    }
    let row = run.chains.queue.pop_front()?;
    let paginator = res.endpoint.paginator.start();
    let guard = Guard::new(max_pages).named(&res.name);
    run.chains.lanes.push_back(Lane::new(row, paginator, guard));
    Some(Planner::Lane(run.chains.lanes.len() - 1))
}

/// Records the end (or not) of the current request chain: a plain resource is done with its
/// only chain; a dependent one hands over the records the chains after it hold when they
/// are complete ([`crate::chains::Chains::complete_current`]), and is done once its parent is done and no
/// chain is left.
pub(super) fn end_chain(
    res: &Resource,
    run: &mut Run,
    chain_done: bool,
    parent_done: bool,
    out: &mut Records,
) {
    if res.parent.is_none() {
        run.done = chain_done;
        return;
    }
    if chain_done {
        run.chains
            .complete_current(&mut run.paginator, &mut run.guard, out);
    } else {
        run.chains.answered = true;
    }
    run.done = parent_done
        && run.chains.current.is_none()
        && run.chains.queue.is_empty()
        && run.in_flight.is_empty();
}
