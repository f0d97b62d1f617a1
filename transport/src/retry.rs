//! The retry policy, as a pure function of the attempt's outcome, the clock and a random source.

use std::time::{Duration, SystemTime};

/// When and how often to retry.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Total attempts including the first.
    pub max_attempts: u32,
    pub backoff_factor: f64,
    /// Delay before the first retry.
    pub base_delay: Duration,
    /// Caps both the computed backoff and `Retry-After`.
    pub max_delay: Duration,
    /// Relative jitter: 0.1 spreads each computed delay over ±10%.
    pub jitter: f64,
    pub retry_statuses: Vec<u16>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            backoff_factor: 2.0,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            jitter: 0.1,
            retry_statuses: vec![429, 500, 502, 503, 504],
        }
    }
}

/// How one attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt<'a> {
    Status {
        status: u16,
        retry_after: Option<&'a str>,
    },
    ConnectError,
    Timeout,
}

/// What to do after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The outcome is final (any status that is not retryable).
    Done,
    /// Retry after waiting this long.
    RetryAfter(Duration),
    /// Retryable, but the attempts ran out.
    GiveUp,
}

impl RetryPolicy {
    /// Decides after attempt `attempt_no` (1-based).
    pub fn decide(
        &self,
        attempt_no: u32,
        outcome: &Attempt<'_>,
        now: SystemTime,
        rng: &mut impl rand::Rng,
    ) -> Decision {
        let retry_after = match outcome {
            Attempt::Status {
                status,
                retry_after,
            } => {
                if !self.retry_statuses.contains(status) {
                    return Decision::Done;
                }
                retry_after.and_then(|v| parse_retry_after(v, now))
            }
            Attempt::ConnectError | Attempt::Timeout => None,
        };
        if attempt_no >= self.max_attempts {
            return Decision::GiveUp;
        }
        match retry_after {
            Some(wait) => Decision::RetryAfter(wait.min(self.max_delay)),
            None => Decision::RetryAfter(self.backoff(attempt_no, rng)),
        }
    }

    /// `base_delay * factor^(n-1)`, ±jitter, capped at `max_delay`.
    pub fn backoff(&self, attempt_no: u32, rng: &mut impl rand::Rng) -> Duration {
        let exponent = i32::try_from(attempt_no.saturating_sub(1)).unwrap_or(i32::MAX);
        let mut secs = self.base_delay.as_secs_f64() * self.backoff_factor.powi(exponent);
        if self.jitter > 0.0 && self.jitter.is_finite() {
            let j = self.jitter.min(1.0);
            secs *= 1.0 + rng.random_range(-j..=j);
        }
        match Duration::try_from_secs_f64(secs) {
            Ok(d) => d.min(self.max_delay),
            Err(_) if secs.is_finite() && secs < 0.0 => Duration::ZERO,
            Err(_) => self.max_delay,
        }
    }
}

/// Parses a `Retry-After` value: delta-seconds or an HTTP-date (a date in the past means now).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(
            value
                .parse::<u64>()
                .map_or(Duration::MAX, Duration::from_secs),
        );
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}
