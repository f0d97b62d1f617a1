//! Resources loaded side by side: the config's resources fall into groups (a resource with
//! the resources made from its records, at any depth, and the resources that load into its
//! table), and the groups go into [`lanes`]: with `--parallel-resources N`, up to N groups
//! load at once; without it, the groups the config marks `parallelized` (dlt's hint) load
//! up to [`DLT_WORKERS`] at once, and the others one after the other beside them. Each
//! group runs on a thread of its own with its own connector session and fetch stage; all
//! send through one HTTP client and write through the one write stage. Within a group
//! resources load in order; a group's failures stay in it. Their progress reaches the run's
//! display through a [`Relay`], and the summaries come back in the config's order.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};

use sluice_sink::normalize_identifier;
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
use crate::write::{Start, Writer};

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

/// dlt's default number of extract workers (`extract.workers`): without
/// `--parallel-resources`, the groups marked `parallelized` load this many at once.
pub const DLT_WORKERS: usize = 5;

/// Groups (by their index in [`groups`]' list) and how many of them load at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lane {
    pub groups: Vec<usize>,
    pub width: usize,
}

impl Lane {
    /// The threads the lane needs: one a group, at most `width`.
    fn threads(&self) -> usize {
        self.width.min(self.groups.len())
    }
}

/// Where the groups load. `parallel` (`--parallel-resources N`): all groups, up to N at
/// once. Without it, as dlt runs its resources: those marked `parallelized` in its pool of
/// workers ([`DLT_WORKERS`] at once), the others one after the other beside them. A group
/// follows its first resource's mark (its resources load in order anyway). Lanes without
/// groups are left out.
pub fn lanes(
    groups: &[Vec<String>],
    parallel: Option<usize>,
    marked: &BTreeSet<String>,
) -> Vec<Lane> {
    let all = 0..groups.len();
    let lanes = match parallel {
        Some(width) => vec![Lane {
            groups: all.collect(),
            width,
        }],
        None => {
            let (pool, rest): (Vec<usize>, Vec<usize>) =
                all.partition(|&g| groups[g].first().is_some_and(|r| marked.contains(r)));
            vec![
                Lane {
                    groups: pool,
                    width: DLT_WORKERS,
                },
                Lane {
                    groups: rest,
                    width: 1,
                },
            ]
        }
    };
    lanes.into_iter().filter(|l| !l.groups.is_empty()).collect()
}

/// Whether `lanes` load more than one group at a time.
pub fn side_by_side(lanes: &[Lane]) -> bool {
    lanes.iter().map(Lane::threads).sum::<usize>() > 1
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
    pub unfinished: &'a HashMap<String, Start>,
}

/// Loads `groups` in their `lanes` and returns every resource's summary in the order of
/// `order` (the connector's list). The first group that could not run at all (its session
/// or HTTP client did not start, or the database failed) fails the sync.
pub fn run(
    shared: &Shared<'_>,
    groups: &[Vec<String>],
    lanes: &[Lane],
    order: &[ResourceInfo],
    progress: &mut dyn Progress,
) -> Result<Vec<ResourceSummary>, SyncError> {
    // One client for every group: one connection pool, one OAuth2 token (an API that
    // revokes a token when it issues the next would otherwise see the groups take turns).
    let client = Arc::new(http_client(shared.config, shared.options)?);
    let results: Mutex<Vec<(usize, GroupResult)>> = Mutex::new(Vec::new());
    let (events, received) = mpsc::channel::<Event>();
    // Each lane's threads take its groups in turn.
    let taken: Vec<AtomicUsize> = lanes.iter().map(|_| AtomicUsize::new(0)).collect();
    std::thread::scope(|scope| {
        for (lane, next) in lanes.iter().zip(&taken) {
            for _ in 0..lane.threads() {
                let relay = Relay(events.clone());
                let (results, client) = (&results, &client);
                scope.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(&g) = lane.groups.get(i) else { break };
                        let result = run_group(shared, &groups[g], client, relay.clone());
                        results
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push((g, result));
                    }
                });
            }
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
    fn lanes_follow_the_flag_or_else_the_parallelized_marks() {
        let names = |g: &[&str]| g.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let groups = [
            names(&["items", "details"]),
            names(&["users"]),
            names(&["tags"]),
            names(&["notes"]),
        ];
        let marked: BTreeSet<String> = ["items", "tags", "details"].map(Into::into).into();
        let lane = |groups: &[usize], width| Lane {
            groups: groups.to_vec(),
            width,
        };
        assert_eq!(
            lanes(&groups, None, &marked),
            [lane(&[0, 2], DLT_WORKERS), lane(&[1, 3], 1)]
        );
        // The flag overrides the marks: 1 turns side by side off.
        assert_eq!(lanes(&groups, Some(1), &marked), [lane(&[0, 1, 2, 3], 1)]);
        assert!(!side_by_side(&lanes(&groups, Some(1), &marked)));
        assert_eq!(lanes(&groups, Some(3), &marked), [lane(&[0, 1, 2, 3], 3)]);
        // Nothing marked: one after the other, as before.
        let none = lanes(&groups, None, &BTreeSet::new());
        assert_eq!(none, [lane(&[0, 1, 2, 3], 1)]);
        assert!(!side_by_side(&none));
        // A child's mark alone does not move its group.
        let child: BTreeSet<String> = ["details".to_string()].into();
        assert!(!side_by_side(&lanes(&groups, None, &child)));
        // One marked group beside the unmarked ones: two at a time.
        let one: BTreeSet<String> = ["users".to_string()].into();
        let two = lanes(&groups, None, &one);
        assert_eq!(two, [lane(&[1], DLT_WORKERS), lane(&[0, 2, 3], 1)]);
        assert!(side_by_side(&two));
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
