//! Backoff between retries of the parts of a batch a service did not
//! process (DynamoDB `UnprocessedItems`/`UnprocessedKeys`, failed SQS batch
//! entries). The SDK retries whole failed requests by itself; these are the
//! partial successes it cannot see.

use std::time::Duration;

/// How many times the unprocessed part of a batch is retried.
pub(crate) const BATCH_RETRIES: u32 = 8;

/// Delay before retry `attempt` (1-based): exponential from 25 ms, capped at
/// 1 s, with "equal jitter" (half fixed, half random) so the Lambdas that were
/// throttled together do not come back together.
pub(crate) fn delay(attempt: u32) -> Duration {
    let exp = 25u64
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(16))
        .min(1_000);
    let half = exp / 2;
    Duration::from_millis(half + jitter(half + 1))
}

/// A cheap pseudo-random number below `bound` (no `rand` dependency: the
/// quality needed is "not in lockstep with another process").
fn jitter(bound: u64) -> u64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.finish() % bound.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_bounded() {
        for attempt in 1..=BATCH_RETRIES + 20 {
            let d = delay(attempt).as_millis() as u64;
            let exp = (25u64 << (attempt - 1).min(16)).min(1_000);
            assert!(d >= exp / 2 && d <= exp, "attempt {attempt}: {d} ms");
        }
    }
}
