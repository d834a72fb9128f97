//! Every fault the lab stages, one scenario, through real sockets: whatever
//! fails on the send, persist or sync path, every acked message ends in
//! history exactly once, and every member ends with every message, once, in
//! `seq` order. One test per fault (the table below), so each fails alone
//! under its own name and the cases run in parallel.

use std::collections::BTreeMap;
use std::time::Duration;

use chat_client::{Ack, ChatClient, ClientError, Timeline};
use serde_json::{json, Value};

use crate::watch::in_process_only;
use crate::{spawn, Env};

const FAULTS: &str = "stages faults in front of the platform's own ports, \
                      which functions in other processes do not use";

/// What a client with an outbox does: every message keeps its
/// `clientMsgId` until acked; a send answered `internal`, or whose ack never
/// came, is resent later with the same id.
pub struct Outbox {
    room: String,
    /// clientMsgId → body, in the order written.
    written: Vec<(String, String)>,
    acked: BTreeMap<String, Ack>,
}

impl Outbox {
    pub fn new(room: &str) -> Self {
        Self {
            room: room.to_owned(),
            written: Vec::new(),
            acked: BTreeMap::new(),
        }
    }

    /// Sends `body` once; answers whether it was acked.
    pub async fn send(&mut self, client: &ChatClient, body: &str) -> bool {
        let id = uuid::Uuid::now_v7().to_string();
        self.written.push((id.clone(), body.to_owned()));
        self.try_send(client, &id, body).await
    }

    async fn try_send(&mut self, client: &ChatClient, id: &str, body: &str) -> bool {
        match client.send_with_id(&self.room, id, body).await {
            Ok(ack) => {
                self.acked.insert(id.to_owned(), ack);
                true
            }
            Err(ClientError::Frame { code, .. }) if code == "internal" => false,
            Err(ClientError::Timeout(_)) => false,
            Err(e) => panic!("sending {body:?}: {e}"),
        }
    }

    /// Resends every message not acked yet, until each is.
    pub async fn resend_until_acked(&mut self, client: &ChatClient) {
        for _ in 0..5 {
            let unacked: Vec<(String, String)> = self
                .written
                .iter()
                .filter(|(id, _)| !self.acked.contains_key(id))
                .cloned()
                .collect();
            if unacked.is_empty() {
                return;
            }
            for (id, body) in unacked {
                self.try_send(client, &id, &body).await;
            }
        }
        panic!(
            "still not acked after 5 resends: {:?}",
            self.written.len() - self.acked.len()
        );
    }

    /// The acked messages' ids, in `seq` order.
    pub fn acked_ids(&self) -> Vec<String> {
        let mut acks: Vec<&Ack> = self.acked.values().collect();
        acks.sort_by_key(|a| a.seq);
        acks.into_iter().map(|a| a.message_id.clone()).collect()
    }

    pub fn last_seq(&self) -> u64 {
        self.acked.values().map(|a| a.seq).max().unwrap_or(0)
    }
}

/// Reads `client`'s frames into `timeline` until it holds `room` through
/// `seq` with nothing outstanding: sends the syncs it asks for, and asks
/// again for a sync answered `internal` or whose answer is overdue.
pub async fn follow_patiently(
    client: &mut ChatClient,
    timeline: &mut Timeline,
    room: &str,
    seq: u64,
) {
    client.set_timeout(Duration::from_secs(2));
    let mut overdue = 0;
    while timeline.through(room) < seq || !timeline.is_settled(room) {
        let again = match client.next().await {
            Some(f) if f["type"] == "error" => {
                assert_eq!(f["code"], "internal", "{f}");
                timeline.retry()
            }
            Some(f) => timeline.apply(&f).into_iter().collect(),
            None => {
                overdue += 1;
                assert!(
                    overdue < 10,
                    "{room} is held through {} of {seq}",
                    timeline.through(room)
                );
                timeline.retry()
            }
        };
        for sync in again {
            client.send_json(&sync).unwrap();
        }
    }
}

/// The ids of a timeline's messages of `room`, in the order it shows them.
pub fn timeline_ids(t: &Timeline, room: &str) -> Vec<String> {
    t.messages(room)
        .iter()
        .map(|m| m["messageId"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The ids of `room`'s history, oldest first.
pub async fn history_ids(e: &Env, user: &str, room: &str) -> Vec<String> {
    e.history(user, room, "?limit=100").await["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["messageId"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// What the lab still has staged, with every count at zero removed: an
/// empty object when every staged fault happened.
pub async fn still_staged(e: &Env) -> Value {
    let (_, pending) = chat_client::Rest::new(&e.p.http_url(), None)
        .get("/dev/faults")
        .await
        .unwrap();
    let mut left = serde_json::Map::new();
    for (k, v) in pending.as_object().unwrap() {
        let spent = v == &json!(0) || v.as_object().is_some_and(|o| o.is_empty());
        if !spent {
            left.insert(k.clone(), v.clone());
        }
    }
    Value::Object(left)
}

/// alice sends with `on_send` staged; once the queue has drained (and
/// history is checked, before any sync could store what the worker did
/// not), `on_sync` is staged; then bob, online throughout, catches up on
/// what was pushed and syncs as after a reconnect, and carol, offline
/// throughout, syncs from the start.
async fn nothing_lost_under(case: &str, on_send: Value, on_sync: Value) {
    let e = spawn().await;
    let (mut alice, mut bob) = (e.connect("alice").await, e.connect("bob").await);
    // An ack whose push failed is not waited for long: the message is resent.
    alice.set_timeout(Duration::from_secs(2));
    let room = e.room("alice", "group", &["bob", "carol"]).await;
    let mut outbox = Outbox::new(&room);
    let mut bob_sees = Timeline::new();
    assert!(outbox.send(&alice, "m0").await, "{case}: before the fault");
    follow_patiently(&mut bob, &mut bob_sees, &room, 1).await;

    if on_send != json!({}) {
        e.stage_faults(on_send).await;
    }
    for i in 1..=6 {
        outbox.send(&alice, &format!("m{i}")).await;
    }
    outbox.resend_until_acked(&alice).await;
    let want = outbox.acked_ids();
    assert_eq!(want.len(), 7, "{case}: every message acked");
    e.persisted().await;
    assert_eq!(
        history_ids(&e, "alice", &room).await,
        want,
        "{case}: history holds every acked message once, in seq order"
    );

    if on_sync != json!({}) {
        e.stage_faults(on_sync).await;
    }
    let last = outbox.last_seq();
    for f in bob.drain() {
        if let Some(sync) = bob_sees.apply(&f) {
            bob.send_json(&sync).unwrap();
        }
    }
    for sync in bob_sees.resync() {
        bob.send_json(&sync).unwrap();
    }
    follow_patiently(&mut bob, &mut bob_sees, &room, last).await;
    let mut carol = e.connect("carol").await;
    let mut carol_sees = Timeline::new();
    carol_sees.track(&room, 0);
    for sync in carol_sees.resync() {
        carol.send_json(&sync).unwrap();
    }
    follow_patiently(&mut carol, &mut carol_sees, &room, last).await;
    assert_eq!(
        timeline_ids(&bob_sees, &room),
        want,
        "{case}: bob, online throughout"
    );
    assert_eq!(
        timeline_ids(&carol_sees, &room),
        want,
        "{case}: carol, offline throughout"
    );
    e.persisted().await;
    assert_eq!(
        history_ids(&e, "alice", &room).await,
        want,
        "{case}: and history still does"
    );
    assert_eq!(
        still_staged(&e).await,
        json!({}),
        "{case}: every staged fault happened"
    );
    assert_eq!(e.p.queue.depth().await.unwrap().dead_letter, 0, "{case}");
    // The cursors the worker writes: sending reads up to one's own message,
    // and carol's sync delivered her everything.
    let (_, detail) = e
        .rest("alice")
        .get(&format!("/rooms/{room}"))
        .await
        .unwrap();
    let cursor = |user: &str, which: &str| {
        detail["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["userId"] == user)
            .map(|m| m[which].clone())
    };
    assert_eq!(
        (cursor("alice", "readSeq"), cursor("carol", "deliveredSeq")),
        (Some(json!(last)), Some(json!(last))),
        "{case}: {detail}"
    );
}

/// One test per row: its name, the faults staged before the sends, and
/// those staged before the syncs (`POST /dev/faults` bodies).
macro_rules! fault_table {
    ($($name:ident: $on_send:expr, $on_sync:expr;)*) => {$(
        #[tokio::test]
        async fn $name() {
            if in_process_only(stringify!($name), FAULTS) {
                return;
            }
            nothing_lost_under(stringify!($name), $on_send, $on_sync).await;
        }
    )*};
}

fault_table! {
    // Pushes: the members', the acks and the sync answers alike.
    pushes_to_any_connection_fail_for_a_stretch:
        json!({"failPushes": {"n": 9}}), json!({});
    sync_answers_fail_to_push:
        json!({}), json!({"failPushes": {"n": 3}});
    // The send path.
    the_reservation_fails:
        json!({"failStore": {"op": "messages.reserve", "n": 2}}), json!({});
    the_reservation_counts_a_seq_and_fails_before_its_claim:
        json!({"failClaims": 2}), json!({});
    the_queue_refuses_sends:
        json!({"refuseEnqueues": 2}), json!({});
    the_lookup_of_the_members_connections_fails:
        json!({"failStore": {"op": "connections.forUsers", "n": 2}}), json!({});
    // The persist path.
    the_persist_worker_fails_records:
        json!({"failRecords": 4}), json!({});
    the_message_writes_fail:
        json!({"failNextPuts": 3}), json!({});
    // The sender's read cursors, then carol's delivered cursor after her sync.
    the_cursor_advances_fail:
        json!({"failStore": {"op": "rooms.advanceCursor", "n": 3}}),
        json!({"failStore": {"op": "rooms.advanceCursor", "n": 1}});
    // The sync path.
    the_sync_reads_of_the_last_seq_fail:
        json!({}), json!({"failStore": {"op": "messages.lastSeq", "n": 2}});
    the_sync_reads_of_the_history_fail:
        json!({}), json!({"failStore": {"op": "messages.range", "n": 2}});
    // A settle runs for each seq no stored message has: burned ones here.
    the_settle_of_a_burned_seq_fails:
        json!({"failClaims": 1}), json!({"failStore": {"op": "messages.settle", "n": 2}});
}
