//! WAL checkpoints on their own thread and connection: copying committed pages from the WAL
//! into the database file (and syncing it) would otherwise stop the writer every thousand
//! pages. The writer keeps a (larger) automatic checkpoint of its own, which finds the WAL
//! mostly copied already and lets SQLite start the WAL over, so the file stays bounded.

use std::path::Path;
use std::sync::mpsc::{RecvTimeoutError, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// Least time between two checkpoints of the thread.
const INTERVAL: Duration = Duration::from_millis(50);

/// WAL pages after which the writer checkpoints itself (SQLite's default is 1000).
pub(super) const WRITER_PAGES: u32 = 4000;

/// The checkpoint thread of one database.
#[derive(Debug)]
pub(super) struct Checkpointer {
    poke: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread with its own connection to `path`; `None` if either fails (the
    /// writer's own checkpoints then do the work).
    pub(super) fn start(path: &Path) -> Option<Checkpointer> {
        let conn = Connection::open(path).ok()?;
        conn.pragma_update(None, "synchronous", "NORMAL").ok()?;
        let (poke, poked) = sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("sluice-checkpoint".into())
            .spawn(move || {
                let mut last: Option<Instant> = None;
                while poked.recv().is_ok() {
                    // At most one checkpoint an interval; pokes meanwhile are taken in.
                    let wait =
                        last.map_or(Duration::ZERO, |t| INTERVAL.saturating_sub(t.elapsed()));
                    let deadline = Instant::now() + wait;
                    loop {
                        let left = deadline.saturating_duration_since(Instant::now());
                        if left.is_zero() {
                            break;
                        }
                        match poked.recv_timeout(left) {
                            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                            Err(RecvTimeoutError::Disconnected) => return,
                        }
                    }
                    // PASSIVE: copies what no reader needs, never waits for the writer.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    last = Some(Instant::now());
                }
            })
            .ok()?;
        Some(Checkpointer {
            poke: Some(poke),
            thread: Some(thread),
        })
    }

    /// Tells the thread that a transaction committed.
    pub(super) fn poke(&self) {
        if let Some(p) = &self.poke {
            let _ = p.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    /// Stops the thread (its connection closes), so that the writer's connection is the last
    /// one and copies the rest of the WAL into the database when it closes.
    fn drop(&mut self) {
        drop(self.poke.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
