//! When and how long the HTTP clients (summarizer, embedder) wait before asking again
//! (feature `http`).

use std::time::Duration;

/// Bounded retries with exponential backoff, honouring the server's `Retry-After`.
///
/// A request is retried after HTTP 429 (rate limited), any 5xx, or a connection error or
/// timeout; other failures are final. The wait before retry `n` (0-based) is the response's
/// `Retry-After` seconds when it gives them, else `backoff × 2ⁿ`, never more than `max_delay`.
///
/// ```
/// use std::time::Duration;
/// use chatctx::openai_compat::Retry;
///
/// let retry = Retry::default().with_attempts(3).with_backoff(Duration::from_millis(100));
/// assert_eq!(retry.delay(0, None), Duration::from_millis(100));
/// assert_eq!(retry.delay(2, None), Duration::from_millis(400));
/// assert_eq!(retry.delay(0, Some(Duration::from_secs(2))), Duration::from_secs(2));
/// assert_eq!(Retry::none().attempts(), 1);
/// ```
///
/// # Default
///
/// - `attempts`: 4 (the first request and up to three retries)
/// - `backoff`: 500 ms
/// - `max_delay`: 30 seconds (also caps a longer `Retry-After`)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    attempts: u32,
    backoff: Duration,
    max_delay: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 4,
            backoff: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl Retry {
    /// One attempt, no retry.
    pub fn none() -> Self {
        Retry::default().with_attempts(1)
    }

    /// Make at most `attempts` requests in all (0 is taken as 1).
    pub const fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = if attempts == 0 { 1 } else { attempts };
        self
    }

    /// The first wait when the server gives no `Retry-After`; doubled after each failure.
    pub const fn with_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    /// The longest wait, whatever `Retry-After` asks for.
    pub const fn with_max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// The most requests made for one summary or one batch of embeddings.
    pub const fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The wait after failure `failure` (0-based), given the response's `Retry-After`.
    pub fn delay(&self, failure: u32, retry_after: Option<Duration>) -> Duration {
        let backoff = || {
            let factor = 2u32.checked_pow(failure).unwrap_or(u32::MAX);
            self.backoff.checked_mul(factor).unwrap_or(self.max_delay)
        };
        retry_after.unwrap_or_else(backoff).min(self.max_delay)
    }
}

/// Whether a response with this status is worth retrying: 429 and every 5xx.
pub(crate) fn retryable_status(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

/// A `Retry-After` value in seconds (`"1"`, `"2.5"`); `None` for an HTTP date or garbage, which
/// then falls back to the backoff.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds: f64 = value.trim().parse().ok()?;
    if seconds.is_finite() && seconds >= 0.0 {
        Duration::try_from_secs_f64(seconds).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RETRY: Retry = Retry {
        attempts: 5,
        backoff: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
    };

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let delays: Vec<u128> = (0..6).map(|n| RETRY.delay(n, None).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(RETRY.delay(40, None), Duration::from_secs(1));
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let after = Some(Duration::from_millis(700));
        assert_eq!(RETRY.delay(3, after), Duration::from_millis(700));
        assert_eq!(
            RETRY.delay(0, Some(Duration::from_secs(90))),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn retry_after_values() {
        assert_eq!(parse_retry_after(" 1 "), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after("2.5"), Some(Duration::from_millis(2500)));
        for bad in [
            "",
            "-1",
            "NaN",
            "inf",
            "1e400",
            "Wed, 21 Oct 2015 07:28:00 GMT",
        ] {
            assert_eq!(parse_retry_after(bad), None, "{bad}");
        }
    }

    #[test]
    fn retryable_statuses() {
        assert!(retryable_status(429) && retryable_status(500) && retryable_status(503));
        assert!(!retryable_status(400) && !retryable_status(401) && !retryable_status(404));
        assert_eq!(Retry::default().with_attempts(0).attempts(), 1);
    }
}
