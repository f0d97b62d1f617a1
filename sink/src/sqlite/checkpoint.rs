//! WAL checkpoints on their own thread and connection: copying committed pages from the WAL
//! into the database file (and syncing it) would otherwise stop the writer every thousand
//! pages. The writer keeps a (larger) automatic checkpoint of its own, which finds the WAL
//! mostly copied already and lets SQLite start the WAL over, so the file stays bounded.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// How often the thread looks for new commits to copy.
const INTERVAL: Duration = Duration::from_millis(50);

/// WAL pages after which the writer checkpoints itself (SQLite's default is 1000).
pub(super) const WRITER_PAGES: u32 = 4000;

/// The checkpoint thread of one database.
#[derive(Debug)]
pub(super) struct Checkpointer {
    /// Set by each commit, taken by the thread: a commit does not wake the thread (that
    /// cost a context switch a commit), the thread looks every [`INTERVAL`].
    committed: Arc<AtomicBool>,
    /// Dropped to stop the thread, which notices at once.
    stop: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread with its own connection to `path`; `None` if either fails (the
    /// writer's own checkpoints then do the work).
    pub(super) fn start(path: &Path) -> Option<Checkpointer> {
        let conn = Connection::open(path).ok()?;
        conn.pragma_update(None, "synchronous", "NORMAL").ok()?;
        let (stop, stopped) = sync_channel::<()>(0);
        let committed = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&committed);
        let thread = std::thread::Builder::new()
            .name("sluice-checkpoint".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    if seen.swap(false, Ordering::AcqRel) {
                        // PASSIVE: copies what no reader needs, never waits for the writer.
                        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    }
                }
            })
            .ok()?;
        Some(Checkpointer {
            committed,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Tells the thread that a transaction committed.
    pub(super) fn poke(&self) {
        self.committed.store(true, Ordering::Release);
    }
}

impl Drop for Checkpointer {
    /// Stops the thread (its connection closes), so that the writer's connection is the last
    /// one and copies the rest of the WAL into the database when it closes.
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of the database file (not its WAL).
    fn size(path: &Path) -> u64 {
        std::fs::metadata(path).map_or(0, |m| m.len())
    }

    /// Waits up to 5 s for the file to grow past `than`.
    fn grows(path: &Path, than: u64) -> bool {
        (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(50));
            size(path) > than
        })
    }

    #[test]
    fn commits_are_copied_into_the_database_once_poked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let writer = Connection::open(&path).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        let checkpointer = Checkpointer::start(&path).unwrap();
        writer
            .execute_batch(
                "CREATE TABLE t (x TEXT);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
                 INSERT INTO t SELECT printf('%0100d', i) FROM n;",
            )
            .unwrap();
        let before = size(&path);
        // Not told of the commit: the pages stay in the WAL.
        std::thread::sleep(INTERVAL * 4);
        assert_eq!(size(&path), before, "nothing copied without a commit");
        checkpointer.poke();
        assert!(grows(&path, before), "the commit was copied by the thread");
        drop(checkpointer);
        let n: i64 = writer
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2000);
    }
}
