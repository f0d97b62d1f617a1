//! Resources loaded side by side (`--parallel-resources N`): the config's resources fall into
//! groups (a resource with the resources made from its records, at any depth, and the
//! resources that load into its table), and up to N groups load at once. Each group runs on
//! a thread of its own with its own connector session and fetch stage; all send through one
//! HTTP client and write through the one write stage. Within a group resources load in
//! order, as without the flag; a group's failures stay in it. Their progress reaches the
//! run's display through a [`Relay`], and the summaries come back in the config's order.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};

use sluice_sink::{Unfinished, normalize_identifier};
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
/// its records (and theirs), and resources that load into one table together (two loads of
/// one table side by side would share its staging table). A resource whose parent is not
/// listed starts a group.
pub fn groups(resources: &[ResourceInfo]) -> Vec<Vec<String>> {
    // Union-find over the resources' positions: a parent, or a table, joins two.
    let mut root: Vec<usize> = (0..resources.len()).collect();
    fn find(root: &mut [usize], mut i: usize) -> usize {
        while root[i] != i {
            root[i] = root[root[i]];
            i = root[i];
        }
        i
    }
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    let mut by_table: HashMap<String, usize> = HashMap::new();
    for (i, r) in resources.iter().enumerate() {
        let parent = r.parent.as_deref().and_then(|p| by_name.get(p).copied());
        let table = normalize_identifier(r.hints.table_name.as_deref().unwrap_or(&r.name));
        let same_table = by_table.insert(table, i);
        for j in parent.into_iter().chain(same_table) {
            let (a, b) = (find(&mut root, i), find(&mut root, j));
            // The earlier resource stays the group's root: groups keep the config's order.
            root[a.max(b)] = a.min(b);
        }
        by_name.insert(&r.name, i);
    }
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut index: HashMap<usize, usize> = HashMap::new();
    for (i, r) in resources.iter().enumerate() {
        let g = find(&mut root, i);
        let n = *index.entry(g).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[n].push(r.name.clone());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, parent: Option<&str>, table: Option<&str>) -> ResourceInfo {
        ResourceInfo {
            name: name.into(),
            primary_key: Vec::new(),
            write_disposition: sluice_sink::WriteDisposition::Append,
            parent: parent.map(Into::into),
            selected: true,
            max_table_nesting: None,
            hints: sluice_sink::TableHints {
                table_name: table.map(Into::into),
                ..Default::default()
            },
        }
    }

    #[test]
    fn a_group_is_a_resource_with_its_children_and_the_resources_of_its_table() {
        let resources = [
            info("items", None, None),
            info("users", None, None),
            info("details", Some("items"), None),
            info("notes", Some("details"), None),
            info("archive", None, Some("Users")),
            info("orphan", Some("nowhere"), None),
            info("tags", None, None),
        ];
        let names = |g: &[&str]| g.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            groups(&resources),
            [
                names(&["items", "details", "notes"]),
                names(&["users", "archive"]),
                names(&["orphan"]),
                names(&["tags"]),
            ]
        );
    }
}
