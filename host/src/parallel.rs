//! Resources loaded side by side (`--parallel-resources N`): the config's resources fall into
//! groups (a resource with the resources made from its records, at any depth), and up to N
//! groups load at once, each on a thread of its own with its own connector session and fetch
//! stage, all sending through one HTTP client and writing through the one write stage. Within a group resources load in order,
//! as without the flag; a group's failures stay in it. Their progress reaches the run's
//! display through a [`Relay`], and the summaries come back in the config's order.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};

use sluice_sink::Unfinished;
use sluice_transport::Client;

use crate::config::SourceConfig;
use crate::fetch::Fetcher;
use crate::guest::Guest;
use crate::progress::Progress;
use crate::protocol::ResourceInfo;
use crate::relay::{Event, Relay};
use crate::run::{ResourceSummary, RunError, Runner};
use crate::runtime::Runtime;
use crate::sync::{SyncError, SyncOptions, http_client};
use crate::write::Writer;

/// The resources' groups, in the config's order: each root resource with those made from
/// its records (and theirs). A resource whose parent is not listed starts a group.
pub fn groups(resources: &[ResourceInfo]) -> Vec<Vec<String>> {
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    let mut groups: Vec<Vec<String>> = Vec::new();
    for r in resources {
        let parent = r.parent.as_deref().and_then(|p| group_of.get(p).copied());
        let g = parent.unwrap_or_else(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(r.name.clone());
        group_of.insert(&r.name, g);
    }
    groups
}

/// How one group ended: its resources' summaries, or why it could not run.
type GroupResult = Result<Vec<ResourceSummary>, SyncError>;

/// What every group's thread shares.
pub struct Shared<'a> {
    pub config: &'a SourceConfig,
    pub options: &'a SyncOptions,
    pub runtime: &'a Runtime,
    /// The saved state each session opens with.
    pub state: &'a [(String, String)],
    pub writer: &'a Writer,
    pub unfinished: &'a HashMap<String, Unfinished>,
}

/// Loads `groups`, up to `parallel` at once, and returns every resource's summary in the
/// order of `order` (the connector's list). The first group that could not run at all (its
/// session or HTTP client did not start, or the database failed) fails the sync.
pub fn run(
    shared: &Shared<'_>,
    groups: &[Vec<String>],
    parallel: usize,
    order: &[ResourceInfo],
    progress: &mut dyn Progress,
) -> Result<Vec<ResourceSummary>, SyncError> {
    // One client for every group: one connection pool, one OAuth2 token (an API that
    // revokes a token when it issues the next would otherwise see the groups take turns).
    let client = Arc::new(http_client(shared.config, shared.options)?);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, GroupResult)>> = Mutex::new(Vec::new());
    let (events, received) = mpsc::channel::<Event>();
    std::thread::scope(|scope| {
        for _ in 0..parallel.min(groups.len()) {
            let relay = Relay(events.clone());
            let (next, results, client) = (&next, &results, &client);
            scope.spawn(move || {
                loop {
                    let g = next.fetch_add(1, Ordering::SeqCst);
                    let Some(names) = groups.get(g) else { break };
                    let result = run_group(shared, names, client, relay.clone());
                    results
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push((g, result));
                }
            });
        }
        // The display is this thread's: it shows what the groups report until all are done.
        drop(events);
        for event in received {
            event.apply(progress);
        }
    });
    let mut results = results.into_inner().unwrap_or_else(PoisonError::into_inner);
    results.sort_by_key(|(g, _)| *g);
    let mut summaries = Vec::new();
    for (_, result) in results {
        summaries.extend(result?);
    }
    let position = |name: &str| order.iter().position(|r| r.name == name);
    summaries.sort_by_key(|s| position(&s.name));
    Ok(summaries)
}

/// One group on this thread: its own connector session and fetch stage.
fn run_group(
    shared: &Shared<'_>,
    names: &[String],
    client: &Arc<Client>,
    mut relay: Relay,
) -> GroupResult {
    let options = shared.options;
    let guest =
        Guest::open(shared.runtime, &shared.config.json, shared.state).map_err(RunError::Open)?;
    let secrets = shared.config.secrets.clone();
    let fetcher = Fetcher::start(Arc::clone(client), secrets, options.concurrency)
        .map_err(SyncError::Thread)?;
    let mut runner = Runner {
        guest,
        fetcher,
        progress: &mut relay,
        max_pages: options.max_pages,
        max_page_bytes: options.max_page_bytes,
        stop: options.stop.clone(),
    };
    Ok(runner.run_only(shared.writer, shared.unfinished, Some(names))?)
}
