//! The state checkpointed with each page, and resuming from it.

use serde_json::{Value, json};

use super::Run;
use crate::config::{Config, Resource};
use crate::incremental::Tracker;
use crate::paginator::Paginate;
use crate::protocol::{Error, Notice};
use crate::resume::{self, ChainPosition, Position};

/// The state checkpointed with a page: the paginator's progress and the incremental cursor.
/// While the resource is not done, the state also holds the [`Position`] to resume from.
pub(super) fn page_state(res: &Resource, run: &Run) -> String {
    let mut state = run.paginator.state();
    if let Some(inc) = run.inc.as_ref().and_then(Tracker::state) {
        state.insert("incremental".into(), inc);
    }
    // Pages of this load so far: a host compares it with the pages it committed to tell a
    // resumed load from one that started over.
    state.insert("pages".into(), Value::from(run.pages));
    // The records the API announced, for a host's progress bar.
    if res.parent.is_none()
        && let Some(total) = run.paginator.records_total()
    {
        state.insert("records_total".into(), Value::from(total));
    }
    if !run.done {
        state.insert(resume::KEY.into(), position(res, run).to_value());
    }
    if run.restarted && run.pages == 1 {
        state.insert("restarted".into(), Value::Bool(true));
    }
    Value::Object(state).to_string()
}

/// Where `run` stands after its last answered page.
pub(super) fn position(res: &Resource, run: &Run) -> Position {
    let dependent = res.parent.is_some();
    // The current chain stands somewhere once a page of it was answered; before that the
    // next run starts it at its first page.
    let in_chain = run
        .chains
        .answered
        .then_some(run.chains.current.as_ref())
        .flatten();
    Position {
        fingerprint: run.fingerprint.clone(),
        pages: run.pages,
        paginator: (!dependent || in_chain.is_some()).then(|| run.paginator.state()),
        chain: dependent.then(|| ChainPosition {
            done: run.chains.finished,
            current: in_chain.map(|r| json!(r.values)),
        }),
        incremental_start: run.inc.as_ref().map(Tracker::start_state),
    }
}

/// Applies the saved position of resource `i`, if its state has one: a plain resource
/// continues at the page after the last committed one; a dependent one once its parent's
/// records are in ([`resume_chains`]). Says what it did in a notice.
pub(super) fn resume_run(config: &Config, i: usize, run: &mut Run) -> Result<(), Error> {
    let res = &config.resources[i];
    let Some(saved) = run.saved.as_ref() else {
        return Ok(());
    };
    let Some(pos) = Position::from_state(&res.name, saved)? else {
        return Ok(());
    };
    if pos.fingerprint != run.fingerprint {
        run.pending.push(Notice::warn(
            "the endpoint (path, params, body or paginator) changed since the interrupted load: starting over from page 1",
        ));
        // Without an incremental range, on either side, it starts where the unfinished
        // load began: from nothing. (A range saved for another incremental config cannot
        // be pinned: the load starts from the state the unfinished one reached.)
        run.restarted = run.inc.is_none() && pos.incremental_start.is_none();
        return Ok(());
    }
    if let (Some(inc), Some(start)) = (run.inc.as_mut(), &pos.incremental_start) {
        inc.pin_start(start)
            .map_err(|e| Error::State(format!("resource \"{}\": {e}", res.name)))?;
    }
    let children: Vec<&str> = config
        .resources
        .iter()
        .filter(|r| r.parent.as_deref() == Some(res.name.as_str()))
        .map(|r| r.name.as_str())
        .collect();
    if !children.is_empty() {
        run.pending.push(Notice::info(format!(
            "the interrupted load feeds {}: loading from page 1 again so every parent record reaches them",
            children.join(", ")
        )));
        run.restarted = true;
        return Ok(());
    }
    if res.parent.is_some() {
        run.pages = pos.pages;
        run.resume = Some(pos);
        return Ok(());
    }
    let restored = pos
        .paginator
        .as_ref()
        .is_some_and(|p| run.paginator.restore(p));
    if !restored {
        run.pending.push(Notice::warn(
            "the interrupted load's paginator has no position to continue from (a detected paginator has none): starting over from page 1",
        ));
        run.restarted = true;
        return Ok(());
    }
    run.pages = pos.pages;
    run.guard.resume_at(pos.pages);
    run.pending.push(Notice::info(format!(
        "resuming the interrupted load at page {}",
        pos.pages + 1
    )));
    Ok(())
}

/// Applies a dependent resource's saved position once its parent's records are in: the
/// chains of the first `done` parent records are skipped and the chain in progress continues
/// at its next page, provided the parent still lists the same record there. False while the
/// parent's records are not all in yet.
pub(super) fn resume_chains(res: &Resource, run: &mut Run, parent_done: bool) -> bool {
    let Some(pos) = run.resume.as_ref() else {
        return true;
    };
    let chain = pos.chain.clone().unwrap_or(ChainPosition {
        done: 0,
        current: None,
    });
    let needed = chain.done + u64::from(chain.current.is_some());
    let queued = run.chains.queue.len() as u64;
    if queued < needed && !parent_done {
        return false;
    }
    let Some(pos) = run.resume.take() else {
        return true;
    };
    let done = usize::try_from(chain.done).unwrap_or(usize::MAX);
    let same = match (&chain.current, run.chains.queue.get(done)) {
        (None, _) => queued >= chain.done,
        (Some(saved), Some(row)) => *saved == json!(row.values),
        (Some(_), None) => false,
    };
    let mut paginator = res.endpoint.paginator.start();
    let continues =
        chain.current.is_some() && pos.paginator.as_ref().is_some_and(|p| paginator.restore(p));
    if !same || (chain.current.is_some() && !continues) {
        run.pages = 0;
        run.restarted = true;
        run.pending.push(Notice::warn(format!(
            "the parent no longer lists the same records as when the load was interrupted ({} chains were done): starting over from the first parent record",
            chain.done
        )));
        return true;
    }
    run.chains.queue.drain(..done);
    run.chains.finished = chain.done;
    run.pending.push(Notice::info(format!(
        "resuming the interrupted load at page {} (after {} complete parent chains)",
        pos.pages + 1,
        chain.done
    )));
    if continues {
        run.paginator = paginator;
        run.chains.continue_current = true;
    }
    true
}
