//! Nothing lost, ever: faults staged through `POST /dev/faults` while
//! clients talk over real sockets, and what each member ends up with.

use chat_client::{ChatClient, Timeline};
use serde_json::{json, Value};

use crate::watch::in_process_only;
use crate::{eventually, spawn, Env};

const FAULTS: &str = "stages faults in front of the platform's own ports, \
                      which functions in other processes do not use";

impl Env {
    /// Stages faults through the development endpoint, as a developer would.
    pub async fn stage_faults(&self, faults: Value) -> Value {
        let (s, r) = chat_client::Rest::new(&self.p.http_url(), None)
            .post("/dev/faults", &faults)
            .await
            .unwrap();
        assert_eq!(s, 200, "{r}");
        r
    }

    /// Waits until every staged push failure has happened.
    pub async fn push_faults_spent(&self) {
        let lab = self.p.faults.lab.clone();
        eventually("the staged push failures to happen", || {
            lab.pushes_pending() == 0
        })
        .await;
    }
}

/// Reads `client`'s frames into `timeline`, sending the syncs it asks for,
/// until it holds `room` through `seq` with nothing outstanding.
pub async fn follow(client: &mut ChatClient, timeline: &mut Timeline, room: &str, seq: u64) {
    while timeline.through(room) < seq || !timeline.is_settled(room) {
        let frame = client.next().await.unwrap_or_else(|| {
            panic!(
                "no frame while {room} is held through {} of {seq}",
                timeline.through(room)
            )
        });
        if let Some(sync) = timeline.apply(&frame) {
            client.send_json(&sync).unwrap();
        }
    }
}

fn bodies(timeline: &Timeline, room: &str) -> Vec<String> {
    timeline
        .messages(room)
        .iter()
        .map(|m| m["body"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_resend_after_the_queue_refused_the_first_attempt_reaches_the_other_member() {
    if in_process_only("a_resend_after_the_queue_refused…", FAULTS) {
        return;
    }
    let e = spawn().await;
    let (alice, mut bob) = (e.connect("alice").await, e.connect("bob").await);
    let room = e.room("alice", "group", &["bob"]).await;
    e.stage_faults(json!({"refuseEnqueues": 1})).await;
    let err = alice
        .send_with_id(&room, "retry-me", "second time lucky")
        .await
        .unwrap_err();
    assert!(
        matches!(err, chat_client::ClientError::Frame { ref code, .. } if code == "internal"),
        "{err}"
    );
    let ack = alice
        .send_with_id(&room, "retry-me", "second time lucky")
        .await
        .unwrap();
    let m = bob.next_of("message").await.unwrap();
    assert_eq!(
        (m["messageId"].as_str(), m["body"].as_str()),
        (Some(ack.message_id.as_str()), Some("second time lucky"))
    );
    e.persisted().await;
    assert_eq!(crate::seqs(&e.history("bob", &room, "").await), vec![1]);
}

#[tokio::test]
async fn a_fan_out_failure_after_the_enqueue_is_acked_and_the_member_syncs_it() {
    if in_process_only("a_fan_out_failure_after_the_enqueue…", FAULTS) {
        return;
    }
    let e = spawn().await;
    let (alice, mut bob) = (e.connect("alice").await, e.connect("bob").await);
    let room = e.room("alice", "group", &["bob"]).await;
    e.stage_faults(json!({"failStore": {"op": "connections.forUsers", "n": 1}}))
        .await;
    let ack = alice
        .send(&room, "durable")
        .await
        .expect("acked, not internal");
    let mut timeline = Timeline::new();
    timeline.track(&room, 0);
    for sync in timeline.resync() {
        bob.send_json(&sync).unwrap();
    }
    follow(&mut bob, &mut timeline, &room, ack.seq).await;
    assert_eq!(bodies(&timeline, &room), vec!["durable"]);
}

#[tokio::test]
async fn a_member_whose_pushes_fail_for_a_stretch_ends_with_every_message_once_in_order() {
    if in_process_only("a_member_whose_pushes_fail…", FAULTS) {
        return;
    }
    let e = spawn().await;
    let (alice, mut bob) = (e.connect("alice").await, e.connect("bob").await);
    let room = e.room("alice", "group", &["bob"]).await;
    let mut timeline = Timeline::new();
    alice.send(&room, "m0").await.unwrap();
    follow(&mut bob, &mut timeline, &room, 1).await;
    // Every push to bob fails for a stretch: each message's first try and
    // its retries, for several messages in a row.
    let staged = e
        .stage_faults(json!({"failPushes": {"userId": "bob", "n": 12, "as": "transient"}}))
        .await;
    assert_eq!(
        staged["failPushes"]["connections"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    for i in 1..=8 {
        alice.send(&room, &format!("m{i}")).await.unwrap();
    }
    e.push_faults_spent().await;
    // Pushes work again: the next message shows bob the hole below it.
    let last = alice.send(&room, "m9").await.unwrap();
    follow(&mut bob, &mut timeline, &room, last.seq).await;
    let want: Vec<String> = (0..=9).map(|i| format!("m{i}")).collect();
    assert_eq!(bodies(&timeline, &room), want);
    let ids: std::collections::BTreeSet<&str> = timeline
        .messages(&room)
        .iter()
        .filter_map(|m| m["messageId"].as_str())
        .collect();
    assert_eq!(ids.len(), 10, "each message once");
}

#[tokio::test]
async fn after_a_reconnect_a_hole_below_a_later_message_is_recovered() {
    if in_process_only("after_a_reconnect_a_hole…", FAULTS) {
        return;
    }
    let e = spawn().await;
    let (alice, mut bob) = (e.connect("alice").await, e.connect("bob").await);
    let room = e.room("alice", "group", &["bob"]).await;
    let mut timeline = Timeline::new();
    alice.send(&room, "one").await.unwrap();
    follow(&mut bob, &mut timeline, &room, 1).await;
    // Every attempt to push "two" to bob fails.
    let attempts = e.p.chat.limits.push_retries + 1;
    e.stage_faults(json!({"failPushes": {"userId": "bob", "n": attempts}}))
        .await;
    alice.send(&room, "two").await.unwrap();
    e.push_faults_spent().await;
    alice.send(&room, "three").await.unwrap();
    // "three" arrives; the phone loses its network before it can sync.
    let three = bob.next_of("message").await.unwrap();
    assert_eq!(three["seq"], 3);
    assert!(timeline.apply(&three).is_some(), "the hole is seen");
    drop(bob);
    e.wait_disconnected("bob").await;
    // Back online: the sync starts below the hole, not at the highest seq.
    let mut bob = e.connect("bob").await;
    let frames = timeline.resync();
    assert_eq!(frames[0]["rooms"][0]["afterSeq"], 1);
    for sync in frames {
        bob.send_json(&sync).unwrap();
    }
    follow(&mut bob, &mut timeline, &room, 3).await;
    assert_eq!(bodies(&timeline, &room), vec!["one", "two", "three"]);
}

#[tokio::test]
async fn a_device_the_lagging_index_hides_recovers_the_message_with_sync() {
    if in_process_only("a_device_the_lagging_index_hides…", FAULTS) {
        return;
    }
    let e = spawn().await;
    let (alice, mut bob) = (e.connect("alice").await, e.connect("bob").await);
    let room = e.room("alice", "group", &["bob"]).await;
    // The index shows nothing new for a minute: bob's second device is
    // not among his connections for a fan-out.
    e.stage_faults(json!({"indexLagMs": 60_000})).await;
    let mut laptop = e.connect("bob").await;
    let ack = alice.send(&room, "while the index lags").await.unwrap();
    let pushed = bob.next_of("message").await.unwrap();
    assert_eq!(pushed["messageId"].as_str(), Some(ack.message_id.as_str()));
    // The laptop syncs when it comes online, as every client must.
    let mut timeline = Timeline::new();
    timeline.track(&room, 0);
    for sync in timeline.resync() {
        laptop.send_json(&sync).unwrap();
    }
    follow(&mut laptop, &mut timeline, &room, ack.seq).await;
    assert_eq!(bodies(&timeline, &room), vec!["while the index lags"]);
}

#[tokio::test]
async fn a_connection_api_gateway_calls_gone_reconnects_and_misses_nothing() {
    if in_process_only("a_connection_api_gateway_calls_gone…", FAULTS) {
        return;
    }
    let e = spawn().await;
    let (alice, mut bob) = (e.connect("alice").await, e.connect("bob").await);
    let room = e.room("alice", "group", &["bob"]).await;
    let mut timeline = Timeline::new();
    alice.send(&room, "before").await.unwrap();
    follow(&mut bob, &mut timeline, &room, 1).await;
    // The next push to bob answers 410: the platform forgets his connection.
    e.stage_faults(json!({"failPushes": {"userId": "bob", "n": 1, "as": "gone"}}))
        .await;
    alice.send(&room, "into the void").await.unwrap();
    e.wait_connections("bob", 0).await;
    alice.send(&room, "after").await.unwrap();
    // bob's client finds its connection dead and reconnects.
    drop(bob);
    let mut bob = e.connect("bob").await;
    for sync in timeline.resync() {
        bob.send_json(&sync).unwrap();
    }
    follow(&mut bob, &mut timeline, &room, 3).await;
    assert_eq!(
        bodies(&timeline, &room),
        vec!["before", "into the void", "after"]
    );
}

#[tokio::test]
async fn a_new_device_gets_pushes_as_soon_as_the_lagging_index_shows_it() {
    if in_process_only("a_new_device_gets_pushes_as_soon_as…", FAULTS) {
        return;
    }
    let e = spawn().await;
    let (alice, mut phone) = (e.connect("alice").await, e.connect("bob").await);
    let room = e.room("alice", "group", &["bob"]).await;
    alice.send(&room, "warm").await.unwrap();
    phone.next_of("message").await.unwrap();
    // The index (beneath the cache on the aws backend) shows writes 300 ms
    // late: a fan-out right after the laptop connects does not see it.
    e.stage_faults(json!({"indexLagMs": 300})).await;
    let mut laptop = e.connect("bob").await;
    alice.send(&room, "too early").await.unwrap();
    assert_eq!(phone.next_of("message").await.unwrap()["body"], "too early");
    // Once the index shows the laptop, so must the cache: the next message
    // reaches it live (a cache refilled from the lagging index would hide
    // it for the cache's whole TTL).
    let rest = chat_client::Rest::new(&e.p.http_url(), None);
    for i in 0.. {
        let (_, pending) = rest.get("/dev/faults").await.unwrap();
        if pending["indexPending"] == 0 {
            break;
        }
        assert!(i < 300, "the index never caught up: {pending}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    alice.send(&room, "caught up").await.unwrap();
    assert_eq!(
        laptop.next_of("message").await.unwrap()["body"],
        "caught up"
    );
}
