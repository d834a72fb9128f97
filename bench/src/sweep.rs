//! `chat-bench load --sweep`: the highest rate a target sustains.
//!
//! The load runs again and again at rising rates (geometric steps). A step
//! holds when nothing was lost, duplicated, refused or left unacked, the
//! sender kept up (at least [`KEPT_UP`] of the asked rate was sent in the
//! window), and p99 send→deliver stayed within the target. The **knee** is
//! the highest rate that held. After the first step that fails, one more
//! step probes halfway back between it and the last that held, and two
//! failures in a row end the sweep.

use std::future::Future;

use serde::Serialize;

use crate::report::LoadReport;

/// The share of the asked rate the generator must actually send.
pub const KEPT_UP: f64 = 0.95;

/// How a sweep climbs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepConfig {
    /// The first rate tried, messages per second.
    pub from: f64,
    /// Each step's rate is the previous one times this.
    pub factor: f64,
    /// No step goes above this rate.
    pub max: f64,
    /// The p99 send→deliver a step must stay within, ms.
    pub p99_target_ms: f64,
}

impl Default for SweepConfig {
    fn default() -> Self {
        Self {
            from: 1000.0,
            factor: 1.5,
            max: 50_000.0,
            p99_target_ms: 25.0,
        }
    }
}

impl SweepConfig {
    /// Refuses a sweep that could not climb or never ends.
    pub fn check(&self) -> Result<(), String> {
        if !(self.from > 0.0 && self.from.is_finite()) {
            return Err("--sweep-from must be a positive rate".into());
        }
        if !(self.factor > 1.0 && self.factor.is_finite()) {
            return Err("--sweep-factor must be above 1".into());
        }
        if self.max.is_nan() || self.max < self.from {
            return Err("--sweep-max must be at least --sweep-from".into());
        }
        if self.p99_target_ms.is_nan() || self.p99_target_ms <= 0.0 {
            return Err("--p99-target-ms must be positive".into());
        }
        Ok(())
    }
}

/// One rate of a sweep.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub rate: f64,
    pub sent_per_sec: f64,
    pub delivered_per_sec: f64,
    pub deliver_p50_ms: f64,
    pub deliver_p99_ms: f64,
    /// Nothing lost, duplicated, refused or left unacked.
    pub clean: bool,
    pub held: bool,
}

/// A target's sweep.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sweep {
    pub target: String,
    pub config: SweepConfig,
    pub steps: Vec<Step>,
    /// The highest rate that held, if any did.
    pub knee: Option<f64>,
}

impl Step {
    fn of(rate: f64, r: &LoadReport, p99_target_ms: f64) -> Self {
        let clean = r.is_clean();
        Step {
            rate,
            sent_per_sec: r.sent_per_sec,
            delivered_per_sec: r.delivered_per_sec,
            deliver_p50_ms: r.deliver.p50_ms,
            deliver_p99_ms: r.deliver.p99_ms,
            clean,
            held: clean
                && r.sent_per_sec >= KEPT_UP * rate
                && r.deliver.count > 0
                && r.deliver.p99_ms <= p99_target_ms,
        }
    }
}

/// Runs `load` at the rates `cfg` climbs through; `load(rate)` is one load
/// run at that rate.
pub async fn run<F, Fut, E>(target: &str, cfg: SweepConfig, mut load: F) -> Result<Sweep, E>
where
    F: FnMut(f64) -> Fut,
    Fut: Future<Output = Result<LoadReport, E>>,
{
    let mut steps: Vec<Step> = Vec::new();
    let mut rate = cfg.from;
    let mut last_held: Option<f64> = None;
    let mut probed = false;
    loop {
        let step = Step::of(rate, &load(rate).await?, cfg.p99_target_ms);
        let held = step.held;
        steps.push(step);
        if held {
            last_held = Some(last_held.map_or(rate, |h: f64| h.max(rate)));
            if probed {
                break;
            }
            let next = (rate * cfg.factor).min(cfg.max);
            if next <= rate {
                break;
            }
            rate = next;
            continue;
        }
        // The first failure: probe halfway back to the last rate that held
        // (if the step was not already that probe, and there is room).
        match last_held {
            Some(h) if !probed && rate - h > 0.02 * h => {
                probed = true;
                rate = (h + rate) / 2.0;
            }
            _ => break,
        }
    }
    let knee = last_held;
    Ok(Sweep {
        target: target.to_owned(),
        config: cfg,
        steps,
        knee,
    })
}

impl Sweep {
    /// The human-readable steps and knee.
    pub fn table(&self) -> String {
        use std::fmt::Write as _;
        let mut out = format!(
            "{} sweep (a step holds: clean, ≥{:.0}% of the rate sent, p99 send→deliver ≤ {} ms)\n",
            self.target,
            KEPT_UP * 100.0,
            self.config.p99_target_ms
        );
        let _ = writeln!(
            out,
            "  {:>10} {:>10} {:>12} {:>10} {:>10} {:>6} {:>5}",
            "rate", "sent/s", "delivered/s", "dlv p50", "dlv p99", "clean", "held"
        );
        for s in &self.steps {
            let _ = writeln!(
                out,
                "  {:>10.0} {:>10.0} {:>12.0} {:>10.2} {:>10.2} {:>6} {:>5}",
                s.rate,
                s.sent_per_sec,
                s.delivered_per_sec,
                s.deliver_p50_ms,
                s.deliver_p99_ms,
                if s.clean { "yes" } else { "NO" },
                if s.held { "yes" } else { "no" }
            );
        }
        let _ = match self.knee {
            Some(k) => writeln!(out, "  knee: {k:.0} msg/s"),
            None => writeln!(
                out,
                "  knee: none (not even {:.0} msg/s held)",
                self.config.from
            ),
        };
        out
    }
}

/// The platform's knee as a share of the bare server's.
pub fn knee_ratio(platform: &Sweep, baseline: &Sweep) -> Option<f64> {
    match (platform.knee, baseline.knee) {
        (Some(p), Some(b)) if b > 0.0 => Some(p / b),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Percentiles;

    /// A target that keeps up, clean, with p99 rising with the rate.
    fn report(rate: f64, p99: f64, clean: bool) -> LoadReport {
        LoadReport {
            sent_per_sec: rate,
            delivered_per_sec: rate * 9.0,
            deliver: Percentiles {
                count: 100,
                p50_ms: p99 / 3.0,
                p99_ms: p99,
                ..Percentiles::default()
            },
            unacked: if clean { 0 } else { 1 },
            ..LoadReport::default()
        }
    }

    async fn sweep_of(knee: f64, cfg: SweepConfig) -> Sweep {
        run("t", cfg, |rate| async move {
            let p99 = if rate <= knee { 5.0 } else { 80.0 };
            Ok::<_, ()>(report(rate, p99, true))
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn the_knee_is_the_highest_rate_that_held_with_one_probe_back() {
        let cfg = SweepConfig {
            from: 1000.0,
            factor: 2.0,
            max: 100_000.0,
            p99_target_ms: 25.0,
        };
        let s = sweep_of(5000.0, cfg).await;
        let rates: Vec<f64> = s.steps.iter().map(|s| s.rate).collect();
        // 1000, 2000, 4000 hold; 8000 fails; 6000 (halfway) fails: stop.
        assert_eq!(rates, vec![1000.0, 2000.0, 4000.0, 8000.0, 6000.0]);
        assert_eq!(s.knee, Some(4000.0));
        let s = sweep_of(6500.0, cfg).await;
        assert_eq!(s.knee, Some(6000.0), "the probe held");
        assert_eq!(s.steps.len(), 5);
    }

    #[tokio::test]
    async fn a_step_that_loses_a_message_or_falls_behind_does_not_hold() {
        let cfg = SweepConfig::default();
        let lossy = run("t", cfg, |rate| async move {
            Ok::<_, ()>(report(rate, 1.0, rate < 2000.0))
        })
        .await
        .unwrap();
        // 1000 and 1500 hold, 2250 loses, the probe at 1875 holds.
        assert_eq!(lossy.knee, Some(1875.0));
        let slow = run("t", cfg, |rate| async move {
            let mut r = report(rate, 1.0, true);
            r.sent_per_sec = rate.min(1800.0);
            Ok::<_, ()>(r)
        })
        .await
        .unwrap();
        assert_eq!(slow.knee, Some(1875.0), "1800 of 1875 is within 95%");
        let never = sweep_of(10.0, cfg).await;
        assert_eq!((never.knee, never.steps.len()), (None, 1));
    }

    #[tokio::test]
    async fn the_sweep_stops_at_its_maximum() {
        let cfg = SweepConfig {
            from: 1000.0,
            factor: 3.0,
            max: 5000.0,
            p99_target_ms: 25.0,
        };
        let s = sweep_of(1e9, cfg).await;
        let rates: Vec<f64> = s.steps.iter().map(|s| s.rate).collect();
        assert_eq!(rates, vec![1000.0, 3000.0, 5000.0]);
        assert_eq!(s.knee, Some(5000.0));
    }

    #[test]
    fn a_sweep_that_cannot_climb_is_refused() {
        let bad = SweepConfig {
            factor: 1.0,
            ..SweepConfig::default()
        };
        assert!(bad.check().is_err());
        assert!(SweepConfig::default().check().is_ok());
    }
}
