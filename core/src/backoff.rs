//! The one retry backoff of the codebase: between retries of a push that
//! failed transiently (`service::fanout`) and of the parts of a batch a
//! service did not process (the adapters: DynamoDB `UnprocessedItems`/
//! `UnprocessedKeys`, failed SQS batch entries; the SDK retries whole failed
//! requests by itself). Each caller bounds its own number of attempts.

use std::time::Duration;

/// Delay before retry `attempt` (1-based): exponential from 25 ms, capped at
/// 1 s, with "equal jitter" (half fixed, half random) so the Lambdas that were
/// throttled together do not come back together.
pub fn delay(attempt: u32) -> Duration {
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
        for attempt in 1..=30 {
            let d = delay(attempt).as_millis() as u64;
            let exp = (25u64 << (attempt - 1).min(16)).min(1_000);
            assert!(d >= exp / 2 && d <= exp, "attempt {attempt}: {d} ms");
        }
    }

    #[test]
    fn two_retriers_of_one_attempt_do_not_wait_in_lockstep() {
        // The jitter spans 500 ms at the cap: 20 draws all equal would mean
        // no jitter at all.
        let draws: std::collections::HashSet<Duration> = (0..20).map(|_| delay(10)).collect();
        assert!(draws.len() > 1, "{draws:?}");
    }
}
