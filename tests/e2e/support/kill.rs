//! Killing runs with `kill -9` at random moments, reproducibly.

use std::process::Child;
use std::time::{Duration, Instant};

/// Sends `child` SIGINT (what Ctrl-C sends) and waits for it to end.
pub fn interrupt(mut child: Child) -> std::process::ExitStatus {
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "SIGINT sent");
    child.wait().expect("the run ends")
}

/// Starts `times` runs with `spawn` and kills each (SIGKILL) at a random moment: after 1 to
/// `max_more` more requests reached the server (`requests` counts them), plus 0-9 ms. The
/// moments come from a xorshift stream seeded by the process id, printed to reproduce a
/// failure. Returns how many runs were killed before they ended on their own.
pub fn kill_at_random_moments(
    times: usize,
    max_more: u64,
    spawn: impl Fn() -> Child,
    requests: impl Fn() -> u64,
) -> usize {
    let mut seed = u64::from(std::process::id()) | 1;
    eprintln!("kill seed {seed}");
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut killed = 0;
    for _ in 0..times {
        let seen = requests();
        let more = 1 + next() % max_more;
        let extra = Duration::from_millis(next() % 10);
        let mut child = spawn();
        let started = Instant::now();
        while requests() < seen + more
            && child.try_wait().unwrap().is_none()
            && started.elapsed() < Duration::from_secs(30)
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(extra);
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
    }
    killed
}
