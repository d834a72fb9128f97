//! A circuit breaker in front of Redis: after `threshold` consecutive failed
//! calls it opens and every call skips Redis for `cool_down`; then one call is
//! let through as a probe. The probe's success closes the breaker, its
//! failure opens it for another cool-down. A probe that never reports (its
//! future was dropped) is replaced after one cool-down.
//!
//! Time is `tokio::time::Instant`, so the tests run on paused time.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { since: Instant },
}

/// What the breaker says about one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead.
    Call,
    /// Go ahead: this call is the probe after a cool-down.
    Probe,
    /// Skip Redis.
    Skip,
}

#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    cool_down: Duration,
    state: Mutex<State>,
}

impl Breaker {
    pub fn new(threshold: u32, cool_down: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cool_down,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn check(&self) -> Verdict {
        let now = Instant::now();
        let mut s = self.lock();
        match *s {
            State::Closed { .. } => Verdict::Call,
            State::Open { until } if now >= until => {
                *s = State::HalfOpen { since: now };
                Verdict::Probe
            }
            State::HalfOpen { since } if now >= since + self.cool_down => {
                *s = State::HalfOpen { since: now };
                Verdict::Probe
            }
            State::Open { .. } | State::HalfOpen { .. } => Verdict::Skip,
        }
    }

    pub fn success(&self) {
        *self.lock() = State::Closed { failures: 0 };
    }

    pub fn failure(&self) {
        let now = Instant::now();
        let mut s = self.lock();
        *s = match *s {
            State::Closed { failures } if failures + 1 < self.threshold => State::Closed {
                failures: failures + 1,
            },
            State::Closed { .. } | State::HalfOpen { .. } => State::Open {
                until: now + self.cool_down,
            },
            // A call let through before the breaker opened, failing late.
            open @ State::Open { .. } => open,
        };
    }

    /// Is the breaker letting calls through right now (closed)?
    pub fn is_closed(&self) -> bool {
        matches!(*self.lock(), State::Closed { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn opens_after_consecutive_failures_then_probes_after_the_cool_down() {
        let b = Breaker::new(3, Duration::from_secs(5));
        b.failure();
        b.failure();
        assert_eq!(b.check(), Verdict::Call);
        b.success(); // resets the count: failures must be consecutive
        for _ in 0..3 {
            assert_eq!(b.check(), Verdict::Call);
            b.failure();
        }
        assert_eq!(b.check(), Verdict::Skip);
        tokio::time::advance(Duration::from_millis(4_999)).await;
        assert_eq!(b.check(), Verdict::Skip);
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(b.check(), Verdict::Probe);
        // One probe at a time.
        assert_eq!(b.check(), Verdict::Skip);
        b.failure();
        assert_eq!(b.check(), Verdict::Skip);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(b.check(), Verdict::Probe);
        b.success();
        assert!(b.is_closed());
        assert_eq!(b.check(), Verdict::Call);
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_that_never_reports_is_replaced_after_a_cool_down() {
        let b = Breaker::new(1, Duration::from_secs(5));
        b.failure();
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(b.check(), Verdict::Probe);
        tokio::time::advance(Duration::from_secs(4)).await;
        assert_eq!(b.check(), Verdict::Skip);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(b.check(), Verdict::Probe);
    }
}
