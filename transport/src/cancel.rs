//! Stopping a client's retries from outside (Ctrl-C): a wait between attempts ends at once
//! and no further attempt starts. An attempt already on the wire is not cut off: it ends
//! with its answer or its timeout.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A flag shared by whoever may cancel and the clients that obey it. Cloning shares it.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    cancelled: Mutex<bool>,
    woken: Condvar,
}

impl Cancel {
    /// Cancels: every wait ends now, and later ones do not start.
    pub fn cancel(&self) {
        *self
            .0
            .cancelled
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
        self.0.woken.notify_all();
    }

    pub fn is_cancelled(&self) -> bool {
        *self
            .0
            .cancelled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Sleeps `wait`, or less if cancelled meanwhile. Returns whether it was cancelled.
    pub fn sleep(&self, wait: Duration) -> bool {
        let end = Instant::now() + wait;
        let mut cancelled = self
            .0
            .cancelled
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while !*cancelled {
            let now = Instant::now();
            if now >= end {
                return false;
            }
            cancelled = self
                .0
                .woken
                .wait_timeout(cancelled, end - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sleep_ends_when_cancelled_and_later_ones_do_not_start() {
        let cancel = Cancel::default();
        assert!(!cancel.sleep(Duration::from_millis(1)), "not cancelled");
        let other = cancel.clone();
        let waker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            other.cancel();
        });
        let started = Instant::now();
        assert!(cancel.sleep(Duration::from_secs(600)));
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "woken, not timed out"
        );
        waker.join().unwrap();
        assert!(cancel.is_cancelled());
        assert!(cancel.sleep(Duration::from_secs(600)), "returns at once");
    }
}
