//! API Gateway's stage throttling: a token bucket per route, as a stage's
//! `DefaultRouteSettings` (each route its own bucket with those limits) and
//! `RouteSettings` (one route's own limits) set them with
//! `ThrottlingBurstLimit` (the bucket's size) and `ThrottlingRateLimit`
//! (its refill, requests per second). A request that finds its route's
//! bucket empty is refused before any authorizer or integration runs: the
//! HTTP API answers 429 `{"message":"Too Many Requests"}`, the WebSocket
//! API the frame [`ws_throttled_frame`] (see [`crate::gateway`]).
//!
//! Time is the platform's [`Clock`], so tests advance it instead of
//! sleeping. The account-level limit (10,000 requests/s per Region) is not
//! modeled.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use chat_core::ports::Clock;
use serde_json::{json, Value};

/// One route's limits; a limit the template leaves out is no limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limit {
    pub burst: Option<u64>,
    /// Requests per second.
    pub rate: Option<f64>,
}

impl Limit {
    /// `ThrottlingBurstLimit` and `ThrottlingRateLimit` of a route settings
    /// object; `None` when it sets neither.
    pub fn from_settings(v: &Value) -> Option<Self> {
        let burst = v["ThrottlingBurstLimit"].as_u64();
        let rate = v["ThrottlingRateLimit"].as_f64();
        (burst.is_some() || rate.is_some()).then_some(Self { burst, rate })
    }
}

/// A stage's throttling settings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StageLimits {
    /// `DefaultRouteSettings`: every route's, unless it has its own.
    pub default: Option<Limit>,
    /// `RouteSettings`, by route key.
    pub routes: BTreeMap<String, Limit>,
}

impl StageLimits {
    /// The throttling of a stage's `DefaultRouteSettings` and `RouteSettings`.
    pub fn from_stage(properties: &Value) -> Self {
        Self {
            default: Limit::from_settings(&properties["DefaultRouteSettings"]),
            routes: properties["RouteSettings"]
                .as_object()
                .map(|o| {
                    o.iter()
                        .filter_map(|(k, v)| Some((k.clone(), Limit::from_settings(v)?)))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    fn limit(&self, route: &str) -> Option<Limit> {
        self.routes.get(route).copied().or(self.default)
    }
}

struct Bucket {
    tokens: f64,
    at: i64,
}

/// The buckets of one stage.
pub struct Throttle {
    limits: StageLimits,
    clock: Arc<dyn Clock>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Throttle {
    pub fn new(limits: StageLimits, clock: Arc<dyn Clock>) -> Self {
        Self {
            limits,
            clock,
            buckets: Mutex::default(),
        }
    }

    /// Takes a token from `route`'s bucket: `false` when the request is to
    /// be throttled.
    pub fn admit(&self, route: &str) -> bool {
        let Some(Limit {
            burst: Some(burst),
            rate: Some(rate),
        }) = self.limits.limit(route)
        else {
            return true;
        };
        let now = self.clock.now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = buckets.entry(route.to_owned()).or_insert(Bucket {
            tokens: burst as f64,
            at: now,
        });
        let elapsed = (now - b.at).max(0) as f64 / 1000.0;
        b.tokens = (b.tokens + elapsed * rate).min(burst as f64);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            tracing::info!(
                route,
                burst,
                rate,
                "throttled: the route's token bucket is empty"
            );
            false
        }
    }
}

/// What the HTTP API answers a throttled request.
pub const HTTP_THROTTLED: &str = r#"{"message":"Too Many Requests"}"#;

/// What the WebSocket API sends a client whose message was throttled (the
/// shape of its other gateway error frames, `Forbidden` and `Internal server
/// error`); the connection stays open.
pub fn ws_throttled_frame(connection_id: &str, request_id: Option<&str>) -> Value {
    json!({"message": "Too Many Requests", "connectionId": connection_id, "requestId": request_id})
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_core::memory::ManualClock;

    fn throttle(limits: StageLimits) -> (Throttle, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(1_000_000));
        (Throttle::new(limits, clock.clone()), clock)
    }

    #[test]
    fn a_route_gets_its_burst_then_its_rate() {
        let limits = StageLimits {
            default: Some(Limit {
                burst: Some(3),
                rate: Some(2.0),
            }),
            routes: BTreeMap::new(),
        };
        let (t, clock) = throttle(limits);
        assert_eq!(
            (0..4).map(|_| t.admit("r")).collect::<Vec<_>>(),
            [true, true, true, false]
        );
        // Each route has its own bucket.
        assert!(t.admit("other"));
        // 2 per second: half a second brings one token back, not two.
        clock.advance(500);
        assert!(t.admit("r"));
        assert!(!t.admit("r"));
        // Never more than the burst, however long it waited.
        clock.advance(60_000);
        assert_eq!((0..4).filter(|_| t.admit("r")).count(), 3);
    }

    #[test]
    fn route_settings_override_the_default_and_no_setting_is_no_limit() {
        let stage = json!({
            "DefaultRouteSettings": {"ThrottlingBurstLimit": 1, "ThrottlingRateLimit": 1},
            "RouteSettings": {"sendMessage": {"ThrottlingBurstLimit": 2, "ThrottlingRateLimit": 1}}
        });
        let (t, _) = throttle(StageLimits::from_stage(&stage));
        assert_eq!((0..3).filter(|_| t.admit("$default")).count(), 1);
        assert_eq!((0..3).filter(|_| t.admit("sendMessage")).count(), 2);
        let (t, _) = throttle(StageLimits::from_stage(&json!({"StageName": "dev"})));
        assert!((0..10_000).all(|_| t.admit("$default")));
        let zero =
            json!({"DefaultRouteSettings": {"ThrottlingBurstLimit": 0, "ThrottlingRateLimit": 0}});
        let (t, _) = throttle(StageLimits::from_stage(&zero));
        assert!(!t.admit("$connect"), "a limit of 0 refuses everything");
    }
}
