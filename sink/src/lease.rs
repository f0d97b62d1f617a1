//! One writer per database: the sink holds an exclusive `flock` on the database file while
//! it lives, and writes who holds it into `_sluice_lease`.
//!
//! The operating system releases the lock when the holding process ends, however it ends
//! (`kill -9` included), so a lease left by a dead process is simply taken over. `flock`
//! locks do not interact with SQLite's own POSIX record locks on Linux, and the file handle
//! stays open for the sink's whole life (closing any handle of a file would drop SQLite's
//! POSIX locks on it).

use std::fs::{File, TryLockError};
use std::io;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

/// An exclusive lock on a database file, released when dropped.
#[derive(Debug)]
pub(crate) struct Lease {
    _file: File,
}

impl Lease {
    /// Locks `path` (creating the file when missing); `None` when another process holds it.
    pub(crate) fn acquire(path: &Path) -> io::Result<Option<Lease>> {
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Lease { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }
}

/// This process as `_sluice_lease` records it: `(pid, host)`.
pub(crate) fn this_process() -> (u32, String) {
    let host = ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_string());
    (std::process::id(), host)
}

/// Who holds the database at `path`, as written in its `_sluice_lease` row.
pub(crate) fn holder(path: &Path) -> String {
    let read = || -> rusqlite::Result<String> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.query_row(
            r#"SELECT pid, host, started_at FROM "_sluice_lease" WHERE id = 1"#,
            [],
            |r| {
                Ok(format!(
                    "pid {} on host {}, started {}",
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?
                ))
            },
        )
    };
    read().unwrap_or_else(|_| "a process that is still creating it".to_string())
}
