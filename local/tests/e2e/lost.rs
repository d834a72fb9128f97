//! Nothing lost, ever: faults staged through `POST /dev/faults` while
//! clients talk over real sockets, and what each member ends up with.

use chat_client::{ChatClient, Timeline};
use serde_json::{json, Value};

use crate::fault_table::{history_ids, still_staged};
use crate::watch::in_process_only;
use crate::{eventually, spawn, spawn_with, Env};

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

/// What every client does on (re)connecting: sends the timeline's resync
/// frames, then [`follow`]s `room` through `seq`.
pub async fn catch_up(client: &mut ChatClient, timeline: &mut Timeline, room: &str, seq: u64) {
    for sync in timeline.resync() {
        client.send_json(&sync).unwrap();
    }
    follow(client, timeline, room, seq).await;
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
    catch_up(&mut bob, &mut timeline, &room, ack.seq).await;
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
    catch_up(&mut laptop, &mut timeline, &room, ack.seq).await;
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
    catch_up(&mut bob, &mut timeline, &room, 3).await;
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

#[tokio::test]
async fn a_record_the_worker_fails_past_max_receive_count_is_dead_lettered_and_sync_recovers_it() {
    // Under watch too: the fault is the event source's, in this process.
    let e = spawn_with(|o| o.queue.max_receive_count = 2).await;
    let alice = e.connect("alice").await;
    let room = e.room("alice", "group", &["bob"]).await;
    let first = alice.send(&room, "stored").await.unwrap();
    e.persisted().await;
    // Every receive of the next record fails: it is redelivered once, then
    // dead-lettered (bob is offline: no receipt record shares the fault).
    e.stage_faults(json!({"failRecords": 2})).await;
    let doomed = alice.send(&room, "dead-lettered").await.unwrap();
    // Two failed receives (under watch 20 s apart, the visibility timeout
    // there), then the redrive: up to 2 minutes, done as soon as it moves.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while e.p.queue.depth().await.unwrap().dead_letter != 1 && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    e.persisted().await;
    let d = e.p.queue.depth().await.unwrap();
    assert_eq!(d.dead_letter, 1, "{d:?}");
    assert_eq!(
        history_ids(&e, "alice", &room).await,
        vec![first.message_id.clone()],
        "the worker never stored it"
    );
    // bob comes online and syncs: the acked message is there, and stored.
    let mut bob = e.connect("bob").await;
    let mut timeline = Timeline::new();
    timeline.track(&room, 0);
    catch_up(&mut bob, &mut timeline, &room, doomed.seq).await;
    assert_eq!(bodies(&timeline, &room), vec!["stored", "dead-lettered"]);
    assert_eq!(
        history_ids(&e, "alice", &room).await,
        vec![first.message_id, doomed.message_id],
        "history holds it once"
    );
}

#[tokio::test]
async fn a_burned_seq_shows_as_a_live_gap_that_one_sync_settles_and_the_next_messages_arrive() {
    if in_process_only("a_burned_seq_shows_as_a_live_gap…", FAULTS) {
        return;
    }
    let e = spawn().await;
    let (alice, mut bob) = (e.connect("alice").await, e.connect("bob").await);
    let room = e.room("alice", "group", &["bob"]).await;
    let mut timeline = Timeline::new();
    alice.send(&room, "one").await.unwrap();
    follow(&mut bob, &mut timeline, &room, 1).await;
    // The next reservation counts seq 2 and fails before claiming it; the
    // sender's app dies and never resends.
    e.stage_faults(json!({"failClaims": 1})).await;
    let err = alice.send(&room, "never claimed").await.unwrap_err();
    assert!(
        matches!(err, chat_client::ClientError::Frame { ref code, .. } if code == "internal"),
        "{err}"
    );
    let three = alice.send(&room, "three").await.unwrap();
    assert_eq!(three.seq, 3, "seq 2 is burned, never reused");
    // bob sees 3 after 1: a live gap, one sync.
    let live = bob.next_of("message").await.unwrap();
    assert_eq!(live["seq"], 3);
    let sync = timeline.apply(&live).expect("the gap asks for a sync");
    assert_eq!(sync["rooms"][0]["afterSeq"], 1);
    bob.send_json(&sync).unwrap();
    let answer = bob.next_of("syncResult").await.unwrap();
    assert_eq!(
        (&answer["burned"], &answer["throughSeq"], &answer["hasMore"]),
        (&json!([2]), &json!(3), &json!(false)),
        "{answer}"
    );
    assert_eq!(timeline.apply(&answer), None, "settled: no further sync");
    assert!(timeline.is_settled(&room));
    // The next message arrives live and asks nothing.
    alice.send(&room, "four").await.unwrap();
    let four = bob.next_of("message").await.unwrap();
    assert_eq!(timeline.apply(&four), None);
    assert_eq!(bodies(&timeline, &room), vec!["one", "three", "four"]);
    e.persisted().await;
    assert_eq!(
        crate::seqs(&e.history("bob", &room, "").await),
        vec![1, 3, 4]
    );
    // A later sync over the burned seq answers the same.
    bob.send_json(&json!({"action":"sync","rooms":[{"roomId": room, "afterSeq": 1}]}))
        .unwrap();
    let again = bob.next_of("syncResult").await.unwrap();
    assert_eq!(
        (&again["burned"], &again["throughSeq"]),
        (&json!([2]), &json!(4))
    );
}

#[tokio::test]
async fn a_send_the_queue_refused_and_nobody_resent_is_recovered_by_sync_not_burned() {
    if in_process_only("a_send_the_queue_refused_and_nobody_resent…", FAULTS) {
        return;
    }
    let e = spawn().await;
    let (alice, mut bob) = (e.connect("alice").await, e.connect("bob").await);
    let room = e.room("alice", "group", &["bob"]).await;
    let mut timeline = Timeline::new();
    alice.send(&room, "one").await.unwrap();
    follow(&mut bob, &mut timeline, &room, 1).await;
    // Reserved at seq 2, refused by the queue; the sender never resends.
    // Its push to bob (sent while the queue is asked) fails, every try.
    let attempts = e.p.chat.limits.push_retries + 1;
    e.stage_faults(json!({"refuseEnqueues": 1, "failPushes": {"userId": "bob", "n": attempts}}))
        .await;
    alice
        .send_with_id(&room, "refused", "reserved, never queued")
        .await
        .unwrap_err();
    e.push_faults_spent().await;
    alice.send(&room, "three").await.unwrap();
    e.persisted().await;
    assert_eq!(crate::seqs(&e.history("bob", &room, "").await), vec![1, 3]);
    // bob's sync finds seq 2 reserved: it is answered, and stored, even
    // though this very write fails once (the next one stores it).
    e.stage_faults(json!({"failNextPuts": 1})).await;
    let live = bob.next_of("message").await.unwrap();
    let sync = timeline.apply(&live).expect("the gap asks for a sync");
    bob.send_json(&sync).unwrap();
    let answer = bob.next_of("syncResult").await.unwrap();
    assert_eq!(answer["burned"], json!([]), "{answer}");
    timeline.apply(&answer);
    assert_eq!(
        bodies(&timeline, &room),
        vec!["one", "reserved, never queued", "three"]
    );
    assert_eq!(
        crate::seqs(&e.history("bob", &room, "").await),
        vec![1, 3],
        "the sync's write failed"
    );
    assert_eq!(still_staged(&e).await, json!({}));
    // carol's sync stores it; a resend, much later, acks the same message.
    let mut carol = e.connect("carol").await;
    let (s, _) = e
        .rest("alice")
        .post(
            &format!("/rooms/{room}/members"),
            &json!({"userId": "carol"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    let mut carol_sees = Timeline::new();
    carol_sees.track(&room, 0);
    catch_up(&mut carol, &mut carol_sees, &room, 3).await;
    assert_eq!(bodies(&carol_sees, &room), bodies(&timeline, &room));
    assert_eq!(
        crate::seqs(&e.history("bob", &room, "").await),
        vec![1, 2, 3]
    );
    let ack = alice
        .send_with_id(&room, "refused", "reserved, never queued")
        .await
        .unwrap();
    assert_eq!(ack.seq, 2);
    e.persisted().await;
    assert_eq!(
        crate::seqs(&e.history("bob", &room, "").await),
        vec![1, 2, 3]
    );
}

#[tokio::test]
async fn a_sync_of_thirty_rooms_answers_every_room_in_request_order() {
    let e = spawn().await;
    // Four connections of two users: each stays within its burst.
    let mut senders = Vec::new();
    for user in ["alice", "alice", "carol", "carol"] {
        senders.push(e.connect(user).await);
    }
    let mut rooms = Vec::new();
    for i in 0..30 {
        let room = e.room("alice", "group", &["bob", "carol"]).await;
        let n = 1 + i % 2;
        for k in 0..n {
            let body = format!("room {i} message {k}");
            senders[(i + k) % 4].send(&room, &body).await.unwrap();
        }
        rooms.push((room, n));
    }
    // Asked in an order that is neither creation nor id order.
    let mut asked = rooms.clone();
    asked.sort_by_key(|(room, _)| room.chars().rev().collect::<String>());
    let mut bob = e.connect("bob").await;
    let entries: Vec<Value> = asked
        .iter()
        .map(|(room, _)| json!({"roomId": room, "afterSeq": 0}))
        .collect();
    bob.send_json(&json!({"action": "sync", "rooms": entries}))
        .unwrap();
    for (room, n) in &asked {
        let answer = bob.next_of("syncResult").await.unwrap();
        assert_eq!(answer["roomId"].as_str(), Some(room.as_str()));
        let seqs: Vec<u64> = answer["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_u64().unwrap())
            .collect();
        assert_eq!(seqs, (1..=*n as u64).collect::<Vec<_>>(), "{answer}");
        assert_eq!(answer["throughSeq"], *n);
        assert_eq!(answer["burned"], json!([]));
    }
}

#[tokio::test]
async fn a_receipt_job_for_a_big_room_that_partly_fails_moves_each_cursor_and_tells_each_receipt_once(
) {
    if in_process_only("a_receipt_job_for_a_big_room…", FAULTS) {
        return;
    }
    let e = spawn().await;
    let members: Vec<String> = (0..40).map(|i| format!("member{i}")).collect();
    let names: Vec<&str> = members.iter().map(String::as_str).collect();
    let room = e.room("alice", "group", &names).await;
    let mut alice = e.connect("alice").await;
    let mut online = Vec::new();
    for m in &members {
        online.push(e.connect(m).await);
    }
    // Two cursor writes in the middle of the receipt record fail (the
    // first write is the sender's read cursor): the record is retried
    // after the visibility timeout; its writes run concurrently each time.
    e.stage_faults(json!({"failStore": {"op": "rooms.advanceCursor", "n": 2, "after": 21}}))
        .await;
    alice.send(&room, "to everyone").await.unwrap();
    e.persisted().await;
    assert_eq!(still_staged(&e).await, json!({}));
    // The next message's receipts come after every one of the first's.
    alice.send(&room, "again").await.unwrap();
    let mut told = std::collections::BTreeMap::<String, u32>::new();
    let mut second = 0;
    while second < members.len() {
        let r = alice.next_of("receipt").await.unwrap();
        assert_eq!(r["status"], "delivered", "{r}");
        let named = r["userIds"].as_array().unwrap();
        match r["seq"].as_u64() {
            Some(1) => {
                for u in named {
                    *told.entry(u.as_str().unwrap().to_owned()).or_default() += 1;
                }
            }
            _ => second += named.len(),
        }
    }
    let want: std::collections::BTreeMap<String, u32> =
        members.iter().map(|m| (m.clone(), 1)).collect();
    assert_eq!(
        told, want,
        "each member's delivered receipt for seq 1, once"
    );
    let (_, detail) = e
        .rest("alice")
        .get(&format!("/rooms/{room}"))
        .await
        .unwrap();
    for m in detail["members"].as_array().unwrap() {
        if m["userId"] != "alice" {
            assert_eq!(m["deliveredSeq"], 2, "{m}");
        }
    }
}
