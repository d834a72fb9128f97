//! What a load run reports, how deliveries are checked, and the tables.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

use crate::stats::Percentiles;

/// The outcome of one load run against one target.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadReport {
    /// `platform` or `baseline`.
    pub target: String,
    pub connections: usize,
    pub connected: usize,
    pub connect_errors: usize,
    pub room_size: usize,
    pub rooms: usize,
    pub target_rate: f64,
    pub warmup_secs: f64,
    pub duration_secs: f64,
    pub body_bytes: usize,
    /// Handshake time, including the authorizer and `$connect` on the platform.
    pub connect: Percentiles,
    /// Send → `ack` on the sending connection (messages sent in the window).
    pub ack: Percentiles,
    /// Send → `message` frame on each receiving connection (sent in the window).
    pub deliver: Percentiles,
    /// Over the whole run (warm-up and drain included).
    pub sent: u64,
    pub acked: u64,
    pub send_errors: BTreeMap<String, u64>,
    /// Sent, and neither acked nor refused by the end of the drain.
    pub unacked: u64,
    /// In the measurement window.
    pub sent_per_sec: f64,
    pub delivered_per_sec: f64,
    pub delivered_in_window: u64,
    pub delivery: DeliveryCheck,
    /// Frames of other types received, by type (presence, receipt, …).
    pub other_frames: BTreeMap<String, u64>,
    /// Connections the server closed before the end.
    pub closed_early: usize,
}

/// Every acked message must reach every other online member of its room
/// exactly once; counted per (message, receiver).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryCheck {
    pub expected: u64,
    pub delivered: u64,
    pub missing: u64,
    pub duplicates: u64,
    /// Received message ids no member of the room was acked for (a message
    /// whose ack never came, or one the server made up).
    pub unexpected: u64,
}

/// What one connection saw, for [`check_deliveries`].
#[derive(Clone, Debug, Default)]
pub struct Seen {
    pub room: usize,
    /// Message ids of this connection's acked sends.
    pub acked: Vec<String>,
    /// Message id → times received as a `message` frame.
    pub received: HashMap<String, u32>,
}

/// Checks exactly-once delivery: for each room, every message acked to one
/// member must be received once by each other member that stayed connected.
pub fn check_deliveries(conns: &[Seen]) -> DeliveryCheck {
    let mut by_room: BTreeMap<usize, Vec<&Seen>> = BTreeMap::new();
    for c in conns {
        by_room.entry(c.room).or_default().push(c);
    }
    let mut out = DeliveryCheck::default();
    for members in by_room.values() {
        for (i, receiver) in members.iter().enumerate() {
            let mut expected_here = 0u64;
            for (j, sender) in members.iter().enumerate() {
                if i == j {
                    continue;
                }
                for id in &sender.acked {
                    expected_here += 1;
                    match receiver.received.get(id).copied().unwrap_or(0) {
                        0 => out.missing += 1,
                        n => out.duplicates += u64::from(n - 1),
                    }
                }
            }
            out.expected += expected_here;
            let room_acked: std::collections::HashSet<&str> = members
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .flat_map(|(_, s)| s.acked.iter().map(String::as_str))
                .collect();
            for (id, n) in &receiver.received {
                out.delivered += u64::from(*n);
                if !room_acked.contains(id.as_str()) {
                    out.unexpected += 1;
                }
            }
        }
    }
    out
}

impl LoadReport {
    /// `true` when nothing was lost, duplicated or left unanswered.
    pub fn is_clean(&self) -> bool {
        self.delivery.missing == 0
            && self.delivery.duplicates == 0
            && self.unacked == 0
            && self.send_errors.is_empty()
            && self.connect_errors == 0
    }

    /// The human-readable summary.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} — {} connections ({} connected) in {} rooms of {}, target {:.0} msg/s, {}-byte bodies, {:.0} s warm-up + {:.0} s measured",
            self.target,
            self.connections,
            self.connected,
            self.rooms,
            self.room_size,
            self.target_rate,
            self.body_bytes,
            self.warmup_secs,
            self.duration_secs
        );
        let _ = writeln!(
            s,
            "  {:<16} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "latency (ms)", "count", "mean", "p50", "p90", "p99", "max"
        );
        for (name, p) in [
            ("connect", &self.connect),
            ("send→ack", &self.ack),
            ("send→deliver", &self.deliver),
        ] {
            let _ = writeln!(
                s,
                "  {:<16} {:>9} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                name, p.count, p.mean_ms, p.p50_ms, p.p90_ms, p.p99_ms, p.max_ms
            );
        }
        let _ = writeln!(
            s,
            "  throughput       sent {:.0} msg/s, delivered {:.0} msg/s (window)",
            self.sent_per_sec, self.delivered_per_sec
        );
        let d = &self.delivery;
        let _ = writeln!(
            s,
            "  correctness      sent {} acked {} unacked {} errors {} | deliveries expected {} received {} missing {} duplicated {} unexpected {}",
            self.sent,
            self.acked,
            self.unacked,
            self.send_errors.values().sum::<u64>(),
            d.expected,
            d.delivered,
            d.missing,
            d.duplicates,
            d.unexpected
        );
        if !self.send_errors.is_empty() {
            let _ = writeln!(s, "  send errors      {:?}", self.send_errors);
        }
        if self.connect_errors > 0 || self.closed_early > 0 {
            let _ = writeln!(
                s,
                "  connections      {} failed to connect, {} closed early",
                self.connect_errors, self.closed_early
            );
        }
        if !self.other_frames.is_empty() {
            let _ = writeln!(s, "  other frames     {:?}", self.other_frames);
        }
        s
    }
}

/// The platform against the bare broadcast server on the same machine.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    /// Platform ÷ baseline delivered messages/s.
    pub throughput_ratio: f64,
    /// Platform ÷ baseline p99 send→deliver.
    pub p99_deliver_ratio: f64,
    pub p50_deliver_ratio: f64,
}

pub fn compare(platform: &LoadReport, baseline: &LoadReport) -> Comparison {
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    Comparison {
        throughput_ratio: ratio(platform.delivered_per_sec, baseline.delivered_per_sec),
        p99_deliver_ratio: ratio(platform.deliver.p99_ms, baseline.deliver.p99_ms),
        p50_deliver_ratio: ratio(platform.deliver.p50_ms, baseline.deliver.p50_ms),
    }
}

impl Comparison {
    pub fn table(&self) -> String {
        format!(
            "platform ÷ bare broadcast server: delivered/s ×{:.2}, p50 send→deliver ×{:.2}, p99 send→deliver ×{:.2}\n",
            self.throughput_ratio, self.p50_deliver_ratio, self.p99_deliver_ratio
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(room: usize, acked: &[&str], received: &[(&str, u32)]) -> Seen {
        Seen {
            room,
            acked: acked.iter().map(|s| s.to_string()).collect(),
            received: received.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
        }
    }

    #[test]
    fn every_other_member_must_receive_each_acked_message_once() {
        let conns = vec![
            seen(0, &["a1", "a2"], &[("b1", 1)]),
            seen(0, &["b1"], &[("a1", 1), ("a2", 1)]),
            seen(0, &[], &[("a1", 1), ("a2", 1), ("b1", 1)]),
            seen(1, &["c1"], &[]),
            seen(1, &[], &[("c1", 1)]),
        ];
        let d = check_deliveries(&conns);
        assert_eq!(
            d,
            DeliveryCheck {
                expected: 1 + 2 + 3 + 1,
                delivered: 7,
                missing: 0,
                duplicates: 0,
                unexpected: 0
            }
        );
    }

    #[test]
    fn losses_duplicates_and_strangers_are_counted() {
        let conns = vec![
            seen(0, &["a1", "a2"], &[("a1", 1)]), // its own message echoed: unexpected
            seen(0, &[], &[("a1", 3)]),           // a2 missing, a1 twice too many
            seen(1, &[], &[("a2", 1)]),           // another room's message
        ];
        let d = check_deliveries(&conns);
        assert_eq!(d.expected, 2);
        assert_eq!(d.missing, 1);
        assert_eq!(d.duplicates, 2);
        assert_eq!(d.unexpected, 2);
        assert_eq!(d.delivered, 5);
    }

    #[test]
    fn the_comparison_divides_platform_by_baseline() {
        let mut p = LoadReport {
            delivered_per_sec: 10_000.0,
            ..Default::default()
        };
        p.deliver.p99_ms = 20.0;
        p.deliver.p50_ms = 4.0;
        let mut b = LoadReport {
            delivered_per_sec: 40_000.0,
            ..Default::default()
        };
        b.deliver.p99_ms = 5.0;
        b.deliver.p50_ms = 1.0;
        let c = compare(&p, &b);
        assert_eq!(c.throughput_ratio, 0.25);
        assert_eq!(c.p99_deliver_ratio, 4.0);
        assert_eq!(c.p50_deliver_ratio, 4.0);
        assert!(compare(&p, &LoadReport::default())
            .throughput_ratio
            .is_nan());
    }

    #[test]
    fn a_clean_report_has_no_loss_error_or_leftover() {
        let mut r = LoadReport::default();
        assert!(r.is_clean());
        r.delivery.missing = 1;
        assert!(!r.is_clean());
        r.delivery.missing = 0;
        r.send_errors.insert("rate_limited".into(), 1);
        assert!(!r.is_clean());
    }

    #[test]
    fn the_table_names_every_latency_row() {
        let t = LoadReport {
            target: "platform".into(),
            ..Default::default()
        }
        .table();
        for row in [
            "connect",
            "send→ack",
            "send→deliver",
            "throughput",
            "correctness",
        ] {
            assert!(t.contains(row), "{row} missing from:\n{t}");
        }
    }
}
