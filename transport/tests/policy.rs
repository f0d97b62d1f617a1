//! The pure retry policy and Retry-After parsing.

use std::time::{Duration, SystemTime};

use rand::SeedableRng;
use rand::rngs::StdRng;
use sluice_transport::{Attempt, Decision, RetryPolicy, parse_retry_after};

fn no_jitter() -> RetryPolicy {
    RetryPolicy {
        jitter: 0.0,
        max_attempts: 10,
        ..RetryPolicy::default()
    }
}

fn status(status: u16) -> Attempt<'static> {
    Attempt::Status {
        status,
        retry_after: None,
    }
}

fn rng() -> StdRng {
    StdRng::seed_from_u64(7)
}

#[test]
fn defaults_match_the_brief() {
    let p = RetryPolicy::default();
    assert_eq!(p.max_attempts, 3);
    assert_eq!(p.backoff_factor, 2.0);
    assert_eq!(p.base_delay, Duration::from_secs(1));
    assert_eq!(p.max_delay, Duration::from_secs(60));
    assert_eq!(p.jitter, 0.1);
    assert_eq!(p.retry_statuses, vec![429, 500, 502, 503, 504]);
}

#[test]
fn delays_double_from_the_base() {
    let p = no_jitter();
    let now = SystemTime::now();
    let delays: Vec<Decision> = (1..=4)
        .map(|n| p.decide(n, &status(503), now, &mut rng()))
        .collect();
    let secs = |s| Decision::RetryAfter(Duration::from_secs(s));
    assert_eq!(delays, vec![secs(1), secs(2), secs(4), secs(8)]);

    let scaled = RetryPolicy {
        base_delay: Duration::from_millis(10),
        backoff_factor: 3.0,
        ..no_jitter()
    };
    assert_eq!(
        scaled.decide(3, &Attempt::Timeout, now, &mut rng()),
        Decision::RetryAfter(Duration::from_millis(90))
    );
}

#[test]
fn jitter_stays_within_bounds_and_varies() {
    let p = RetryPolicy {
        max_attempts: 10,
        ..RetryPolicy::default()
    };
    let mut r = rng();
    let mut seen = Vec::new();
    for _ in 0..200 {
        let Decision::RetryAfter(d) =
            p.decide(2, &Attempt::ConnectError, SystemTime::now(), &mut r)
        else {
            panic!("expected a retry")
        };
        assert!(
            d >= Duration::from_millis(1800) && d <= Duration::from_millis(2200),
            "{d:?}"
        );
        seen.push(d);
    }
    seen.sort();
    seen.dedup();
    assert!(seen.len() > 100, "jitter should spread delays");
    // Same seed, same delays.
    let a = p.backoff(3, &mut rng());
    assert_eq!(a, p.backoff(3, &mut rng()));
}

#[test]
fn backoff_is_capped() {
    let p = RetryPolicy {
        max_delay: Duration::from_secs(5),
        ..no_jitter()
    };
    assert_eq!(
        p.decide(9, &status(500), SystemTime::now(), &mut rng()),
        Decision::RetryAfter(Duration::from_secs(5))
    );
    let huge = RetryPolicy {
        backoff_factor: 1e300,
        ..no_jitter()
    };
    assert_eq!(
        huge.decide(5, &status(500), SystemTime::now(), &mut rng()),
        Decision::RetryAfter(huge.max_delay)
    );
}

#[test]
fn retry_after_seconds_overrides_and_is_capped() {
    let p = no_jitter();
    let now = SystemTime::now();
    let after = |v| Attempt::Status {
        status: 429,
        retry_after: Some(v),
    };
    assert_eq!(
        p.decide(1, &after("7"), now, &mut rng()),
        Decision::RetryAfter(Duration::from_secs(7))
    );
    assert_eq!(
        p.decide(1, &after("3600"), now, &mut rng()),
        Decision::RetryAfter(Duration::from_secs(60))
    );
    // Unparseable: fall back to backoff.
    assert_eq!(
        p.decide(2, &after("soon"), now, &mut rng()),
        Decision::RetryAfter(Duration::from_secs(2))
    );
}

#[test]
fn retry_after_http_date_overrides() {
    let p = no_jitter();
    let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
    let a = Attempt::Status {
        status: 503,
        retry_after: Some("Sun, 06 Nov 1994 08:50:07 GMT"),
    };
    assert_eq!(
        p.decide(1, &a, now, &mut rng()),
        Decision::RetryAfter(Duration::from_secs(30))
    );
}

#[test]
fn only_retry_statuses_retry() {
    let p = no_jitter();
    let now = SystemTime::now();
    for s in [429, 500, 502, 503, 504] {
        assert!(
            matches!(
                p.decide(1, &status(s), now, &mut rng()),
                Decision::RetryAfter(_)
            ),
            "{s}"
        );
    }
    for s in [200, 201, 301, 400, 401, 403, 404, 422, 501] {
        assert_eq!(
            p.decide(1, &status(s), now, &mut rng()),
            Decision::Done,
            "{s}"
        );
    }
    // A non-retryable status is final even with Retry-After, and even after the last attempt.
    let a = Attempt::Status {
        status: 404,
        retry_after: Some("5"),
    };
    assert_eq!(p.decide(10, &a, now, &mut rng()), Decision::Done);
    let custom = RetryPolicy {
        retry_statuses: vec![418],
        ..no_jitter()
    };
    assert!(matches!(
        custom.decide(1, &status(418), now, &mut rng()),
        Decision::RetryAfter(_)
    ));
    assert_eq!(
        custom.decide(1, &status(503), now, &mut rng()),
        Decision::Done
    );
}

#[test]
fn attempts_are_exhausted() {
    let p = RetryPolicy::default();
    let now = SystemTime::now();
    assert!(matches!(
        p.decide(2, &status(503), now, &mut rng()),
        Decision::RetryAfter(_)
    ));
    assert_eq!(p.decide(3, &status(503), now, &mut rng()), Decision::GiveUp);
    assert_eq!(
        p.decide(3, &Attempt::ConnectError, now, &mut rng()),
        Decision::GiveUp
    );
    assert_eq!(
        p.decide(4, &Attempt::Timeout, now, &mut rng()),
        Decision::GiveUp
    );
    let once = RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    };
    assert_eq!(
        once.decide(1, &status(429), now, &mut rng()),
        Decision::GiveUp
    );
}

#[test]
fn parse_retry_after_forms() {
    let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
    assert_eq!(
        parse_retry_after("120", now),
        Some(Duration::from_secs(120))
    );
    assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
    assert_eq!(
        parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
        Some(Duration::from_secs(10))
    );
    // A date in the past means "now".
    assert_eq!(
        parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
        Some(Duration::ZERO)
    );
    assert_eq!(parse_retry_after("-5", now), None);
    assert_eq!(parse_retry_after("1.5", now), None);
    assert_eq!(parse_retry_after("", now), None);
    assert_eq!(parse_retry_after("tomorrow", now), None);
    assert_eq!(
        parse_retry_after("99999999999999999999999", now),
        Some(Duration::MAX)
    );
}
