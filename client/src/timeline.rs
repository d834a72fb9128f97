//! Gap-free recovery of each room's messages, as docs/PROTOCOL.md
//! ("Recovering missed messages") asks of a client.
//!
//! A [`Timeline`] keeps, per room, `through`: every seq up to it is held or
//! known to be burned. Messages above it are held until the hole below them
//! is filled, so they are released in `seq` order, each once (de-duplicated
//! by seq, which names one message for good). A live message above
//! `through + 1` reveals a hole: [`Timeline::apply`] answers the `sync` frame
//! to send. After every reconnect, send [`Timeline::resync`].
//!
//! Edits, deletes and reactions (docs/PROTOCOL.md, "Edits, deletes and
//! reactions") are laid over the held messages, each message's changes in
//! `change` order (a repeat or an older change is dropped), and the room's
//! change cursor rides along in every `sync` as `afterChange`, so a client
//! that was away gets the changes to messages it already holds.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

#[derive(Debug, Default)]
struct RoomLog {
    /// Every seq up to this one is in `released` or was burned.
    through: u64,
    /// Messages held above `through + 1`, by seq.
    ahead: BTreeMap<u64, Value>,
    /// Messages in `seq` order, each once.
    released: Vec<Value>,
    /// A `sync` of this room is outstanding.
    syncing: bool,
    /// The room's change cursor: every change up to it is applied (`None`
    /// until a `syncResult` gave one).
    through_change: Option<u64>,
    /// The last change applied to each message, by seq.
    changed: HashMap<u64, u64>,
}

impl RoomLog {
    fn hold(&mut self, seq: u64, m: Value) {
        if seq > self.through {
            self.ahead.entry(seq).or_insert(m);
        }
    }

    /// Releases what became contiguous.
    fn release(&mut self) {
        while let Some(m) = self.ahead.remove(&(self.through + 1)) {
            self.through += 1;
            self.released.push(m);
        }
    }

    fn has_hole(&self) -> bool {
        !self.ahead.is_empty()
    }

    /// The held message at `seq`, released or ahead.
    fn held_mut(&mut self, seq: u64) -> Option<&mut Value> {
        if let Some(m) = self.ahead.get_mut(&seq) {
            return Some(m);
        }
        self.released
            .iter_mut()
            .rev()
            .find(|m| m["seq"].as_u64() == Some(seq))
    }

    /// Whether change `change` of `seq` is newer than what was applied (and
    /// notes it as applied).
    fn newer(&mut self, seq: u64, change: u64) -> bool {
        let last = self.changed.entry(seq).or_insert(0);
        if change <= *last {
            return false;
        }
        *last = change;
        true
    }

    fn entry(&self, room: &str) -> Value {
        match self.through_change {
            Some(c) => json!({"roomId": room, "afterSeq": self.through, "afterChange": c}),
            None => json!({"roomId": room, "afterSeq": self.through}),
        }
    }
}

/// Lays a live change frame over the message it names.
fn apply_change(m: &mut Value, frame: &Value, me: Option<&str>) {
    let Some(o) = m.as_object_mut() else {
        return;
    };
    match frame["type"].as_str() {
        Some("messageEdited") => {
            o.insert("body".into(), frame["body"].clone());
            o.insert("editedAt".into(), frame["editedAt"].clone());
        }
        Some("messageDeleted") => {
            o.insert("body".into(), json!(""));
            o.insert("deletedAt".into(), frame["deletedAt"].clone());
            o.remove("attachments");
            o.remove("reactions");
        }
        Some("reaction") => {
            let added = frame["added"].as_bool() == Some(true);
            let mine = me.is_some() && frame["userId"].as_str() == me;
            let reactions = o.entry("reactions").or_insert_with(|| json!([]));
            let Some(list) = reactions.as_array_mut() else {
                return;
            };
            let at = list.iter().position(|r| r["emoji"] == frame["emoji"]);
            match (at, added) {
                (Some(i), _) => {
                    let r = &mut list[i];
                    let count = r["count"].as_i64().unwrap_or(0) + if added { 1 } else { -1 };
                    if count <= 0 {
                        list.remove(i);
                    } else {
                        r["count"] = json!(count);
                        if mine {
                            r["me"] = json!(added);
                        }
                    }
                }
                (None, true) => list.push(json!({"emoji": frame["emoji"], "count": 1, "me": mine})),
                (None, false) => {}
            }
        }
        _ => {}
    }
}

/// Lays a `syncResult` change (a message's whole state) over the message.
fn apply_state(m: &mut Value, state: &Value) {
    let Some(o) = m.as_object_mut() else {
        return;
    };
    o.insert("body".into(), state["body"].clone());
    for field in ["editedAt", "deletedAt"] {
        match state.get(field) {
            Some(v) if !v.is_null() => {
                o.insert(field.into(), v.clone());
            }
            _ => {
                o.remove(field);
            }
        }
    }
    if state.get("deletedAt").is_some_and(|v| !v.is_null()) {
        o.remove("attachments");
    }
    o.insert("reactions".into(), state["reactions"].clone());
}

/// Every room's messages, recovered without holes.
#[derive(Debug, Default)]
pub struct Timeline {
    rooms: HashMap<String, RoomLog>,
    /// Whose timeline this is (for `me` of reactions).
    me: Option<String>,
}

fn sync_frame(room: &str, log: &RoomLog) -> Value {
    json!({"action": "sync", "rooms": [log.entry(room)]})
}

impl Timeline {
    pub fn new() -> Self {
        Self::default()
    }

    /// The timeline of `user`: their own reactions count as `me`.
    pub fn of_user(user: &str) -> Self {
        Self {
            me: Some(user.to_owned()),
            ..Self::default()
        }
    }

    /// Follows `room` from `through` on (its messages up to it are already
    /// held, e.g. from history; 0 for all of them).
    pub fn track(&mut self, room: &str, through: u64) {
        let log = self.rooms.entry(room.to_owned()).or_default();
        log.through = log.through.max(through);
        log.release();
    }

    /// Applies a server frame; answers the `sync` frame to send when the
    /// frame revealed a hole (or a synced page asks for the next one).
    pub fn apply(&mut self, frame: &Value) -> Option<Value> {
        let room = frame["roomId"].as_str()?;
        match frame["type"].as_str()? {
            "message" => {
                let seq = frame["seq"].as_u64()?;
                let log = self.rooms.entry(room.to_owned()).or_default();
                log.hold(seq, frame.clone());
                log.release();
                if log.has_hole() && !log.syncing {
                    log.syncing = true;
                    return Some(sync_frame(room, log));
                }
                None
            }
            "messageEdited" | "messageDeleted" | "reaction" => {
                let seq = frame["seq"].as_u64()?;
                let change = frame["change"].as_u64()?;
                let me = self.me.clone();
                let log = self.rooms.entry(room.to_owned()).or_default();
                if log.newer(seq, change) {
                    if let Some(m) = log.held_mut(seq) {
                        apply_change(m, frame, me.as_deref());
                    }
                }
                match log.through_change {
                    Some(c) if change == c + 1 => log.through_change = Some(change),
                    // A change was missed: sync gets it (and moves the cursor).
                    Some(c) if change > c + 1 && !log.syncing => {
                        log.syncing = true;
                        return Some(sync_frame(room, log));
                    }
                    _ => {}
                }
                None
            }
            "syncResult" => {
                let log = self.rooms.entry(room.to_owned()).or_default();
                for m in frame["messages"].as_array().into_iter().flatten() {
                    if let Some(seq) = m["seq"].as_u64() {
                        let mut m = m.clone();
                        if let Some(o) = m.as_object_mut() {
                            o.insert("type".into(), json!("message"));
                            o.insert("roomId".into(), json!(room));
                        }
                        log.hold(seq, m);
                    }
                }
                // Up to throughSeq nothing is missing any more: what is not
                // held there was burned.
                let through = frame["throughSeq"].as_u64().unwrap_or(0);
                while log.through < through {
                    log.through += 1;
                    if let Some(m) = log.ahead.remove(&log.through) {
                        log.released.push(m);
                    }
                }
                log.release();
                for state in frame["changes"].as_array().into_iter().flatten() {
                    let (Some(seq), Some(change)) =
                        (state["seq"].as_u64(), state["change"].as_u64())
                    else {
                        continue;
                    };
                    if log.newer(seq, change) {
                        if let Some(m) = log.held_mut(seq) {
                            apply_state(m, state);
                        }
                    }
                }
                let through_change = frame["throughChange"].as_u64().unwrap_or(0);
                log.through_change = Some(log.through_change.unwrap_or(0).max(through_change));
                if frame["hasMore"].as_bool() == Some(true) || log.has_hole() {
                    log.syncing = true;
                    return Some(sync_frame(room, log));
                }
                log.syncing = false;
                None
            }
            _ => None,
        }
    }

    /// The `sync` frames to send after (re)connecting: every followed room
    /// from its `through`, 100 rooms a frame (the protocol's most).
    pub fn resync(&mut self) -> Vec<Value> {
        let mut rooms: Vec<(&String, &mut RoomLog)> = self.rooms.iter_mut().collect();
        rooms.sort_by(|a, b| a.0.cmp(b.0));
        let entries: Vec<Value> = rooms
            .into_iter()
            .map(|(id, log)| {
                log.syncing = true;
                log.entry(id)
            })
            .collect();
        entries
            .chunks(100)
            .map(|c| json!({"action": "sync", "rooms": c}))
            .collect()
    }

    /// The `sync` frames to send again for every room whose sync is
    /// outstanding: after an `internal` error frame (a sync that failed is
    /// answered with one, naming no room), or when its answer is overdue (the
    /// push of the answer can fail like any other). Asking again is harmless:
    /// a repeated answer changes nothing.
    pub fn retry(&self) -> Vec<Value> {
        let mut rooms: Vec<&String> = self
            .rooms
            .iter()
            .filter(|(_, l)| l.syncing)
            .map(|(id, _)| id)
            .collect();
        rooms.sort();
        let entries: Vec<Value> = rooms
            .into_iter()
            .map(|id| self.rooms[id].entry(id))
            .collect();
        entries
            .chunks(100)
            .map(|c| json!({"action": "sync", "rooms": c}))
            .collect()
    }

    /// The room's messages in `seq` order, each once, without holes.
    pub fn messages(&self, room: &str) -> &[Value] {
        self.rooms.get(room).map_or(&[], |l| l.released.as_slice())
    }

    /// Every seq of `room` up to this one is held or burned.
    pub fn through(&self, room: &str) -> u64 {
        self.rooms.get(room).map_or(0, |l| l.through)
    }

    /// No hole is known in `room` and no `sync` of it is outstanding.
    pub fn is_settled(&self, room: &str) -> bool {
        self.rooms
            .get(room)
            .is_none_or(|l| !l.syncing && !l.has_hole())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(room: &str, seq: u64) -> Value {
        json!({"type":"message","roomId":room,"seq":seq,"messageId":format!("m{seq}"),"body":format!("b{seq}")})
    }

    fn seqs(t: &Timeline, room: &str) -> Vec<u64> {
        t.messages(room)
            .iter()
            .map(|m| m["seq"].as_u64().unwrap())
            .collect()
    }

    #[test]
    fn a_hole_in_live_seqs_asks_one_sync_and_the_answer_fills_it_in_order() {
        let mut t = Timeline::new();
        assert_eq!(t.apply(&msg("r", 1)), None);
        let ask = t.apply(&msg("r", 4)).expect("a hole asks for a sync");
        assert_eq!(ask["rooms"][0]["afterSeq"], 1);
        // Another live message while the sync is out asks nothing more.
        assert_eq!(t.apply(&msg("r", 5)), None);
        assert_eq!(seqs(&t, "r"), vec![1]);
        let r = json!({"type":"syncResult","roomId":"r","messages":[msg("r",2),msg("r",4)],"burned":[3],"throughSeq":4,"hasMore":false});
        assert_eq!(t.apply(&r), None);
        assert_eq!(seqs(&t, "r"), vec![1, 2, 4, 5]);
        assert!(t.is_settled("r"));
        // A late repeat push of a held message changes nothing.
        assert_eq!(t.apply(&msg("r", 2)), None);
        assert_eq!(seqs(&t, "r"), vec![1, 2, 4, 5]);
    }

    #[test]
    fn pages_are_followed_and_resync_starts_below_the_first_hole() {
        let mut t = Timeline::new();
        t.apply(&msg("r", 1));
        t.apply(&msg("r", 3));
        // Reconnected: the sync starts at the hole, not at the highest seq.
        let frames = t.resync();
        assert_eq!(frames[0]["rooms"][0]["afterSeq"], 1);
        let page = json!({"type":"syncResult","roomId":"r","messages":[msg("r",2)],"throughSeq":2,"hasMore":true});
        // 2 fills the hole: the held 3 follows, and the next page starts there.
        let next = t.apply(&page).expect("hasMore asks the next page");
        assert_eq!(next["rooms"][0]["afterSeq"], 3);
        let last = json!({"type":"syncResult","roomId":"r","messages":[msg("r",4)],"throughSeq":4,"hasMore":false});
        assert_eq!(t.apply(&last), None);
        assert_eq!(seqs(&t, "r"), vec![1, 2, 3, 4]);
        assert!(t.is_settled("r"));
    }

    #[test]
    fn changes_apply_in_order_and_the_cursor_rides_in_every_sync() {
        let mut t = Timeline::of_user("bob");
        t.apply(&msg("r", 1));
        t.apply(&msg("r", 2));
        // The first sync gives the cursor.
        let r = json!({"type":"syncResult","roomId":"r","messages":[],"throughSeq":2,"hasMore":false,"throughChange":4});
        assert_eq!(t.apply(&r), None);
        let edit = json!({"type":"messageEdited","roomId":"r","seq":1,"messageId":"m1","body":"new","editedAt":9,"change":5});
        assert_eq!(t.apply(&edit), None);
        assert_eq!(t.messages("r")[0]["body"], "new");
        let react = |change: u64, user: &str, added: bool| json!({"type":"reaction","roomId":"r","seq":2,"messageId":"m2","emoji":"👍","userId":user,"added":added,"change":change});
        t.apply(&react(6, "bob", true));
        t.apply(&react(7, "alice", true));
        assert_eq!(
            t.messages("r")[1]["reactions"],
            json!([{"emoji":"👍","count":2,"me":true}])
        );
        // A repeat changes nothing.
        t.apply(&react(7, "alice", true));
        assert_eq!(t.messages("r")[1]["reactions"][0]["count"], 2);
        // A skipped change number asks a sync from both cursors.
        let del = json!({"type":"messageDeleted","roomId":"r","seq":1,"messageId":"m1","deletedAt":10,"deletedBy":"alice","change":9});
        let ask = t.apply(&del).expect("change 8 was missed");
        assert_eq!(
            ask["rooms"][0],
            json!({"roomId":"r","afterSeq":2,"afterChange":7})
        );
        assert_eq!(t.messages("r")[0]["body"], "");
        let answer = json!({"type":"syncResult","roomId":"r","messages":[],"throughSeq":2,"hasMore":false,"throughChange":9,
            "changes":[{"seq":2,"messageId":"m2","change":8,"body":"b2, edited","editedAt":11,"reactions":[{"emoji":"👍","count":2,"me":true}]}]});
        assert_eq!(t.apply(&answer), None);
        assert_eq!(t.messages("r")[1]["body"], "b2, edited");
        assert_eq!(t.resync()[0]["rooms"][0]["afterChange"], 9);
    }

    #[test]
    fn a_sync_that_failed_is_asked_again_from_where_the_room_stands() {
        let mut t = Timeline::new();
        t.apply(&msg("a", 1));
        t.apply(&msg("b", 1));
        assert_eq!(t.retry(), Vec::<Value>::new(), "nothing outstanding");
        t.apply(&msg("a", 3));
        // The sync failed (an `internal` error frame): only "a" is asked again.
        let again = t.retry();
        assert_eq!(
            again,
            vec![json!({"action":"sync","rooms":[{"roomId":"a","afterSeq":1}]})]
        );
        let r = json!({"type":"syncResult","roomId":"a","messages":[msg("a",2)],"throughSeq":3,"hasMore":false});
        assert_eq!(t.apply(&r), None);
        // A repeated answer (the first one came late) changes nothing.
        assert_eq!(t.apply(&r), None);
        assert_eq!(seqs(&t, "a"), vec![1, 2, 3]);
        assert_eq!(t.retry(), Vec::<Value>::new());
    }
}
