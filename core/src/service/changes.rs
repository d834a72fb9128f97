//! Edits, deletes and reactions (WebSocket actions `editMessage`,
//! `deleteMessage`, `react`), and the reading side: laying each message's
//! state over what history, sync, search and the room list answer.
//! [`crate::changes`] has the design of the change cursor.
//!
//! A change is: authorize → load the message → read the room's counter and
//! the message's state → apply the change to the state (bad input is
//! refused here, before anything is written) → commit it as the counter's
//! next number (retried when another change of the room won) → tell the
//! members' connections, and tidy what the message leaves behind (its
//! search entry, a deleted message's attachment objects).

use std::collections::BTreeMap;

use futures::stream::{self, StreamExt, TryStreamExt};
use tracing::{info, warn};

use super::{Caller, Chat};
use crate::attachments::stored_key;
use crate::authz::{authorize_in, Action};
use crate::changes::{ChangeKind, Emoji, MessageState, COMMIT_ATTEMPTS};
use crate::e2ee::Sealed;
use crate::error::ChatError;
use crate::ids::{MessageBody, RoomId, Seq, UserId};
use crate::model::{Job, Message, SeqFate};
use crate::ports::RangeQuery;
use crate::protocol::ws::{DeleteMessage, EditMessage, MessageView, React, ServerFrame};
use crate::search::IndexEntry;

/// What a change does to a message's state.
enum Op {
    Edit(MessageBody),
    /// An encrypted room's edit: the new content, sealed.
    EditSealed(Box<Sealed>),
    Delete,
    Toggle(Emoji),
}

/// How many rooms' states are read at once.
const STATE_CONCURRENCY: usize = 8;

impl Chat {
    pub async fn edit_message(&self, caller: &Caller, req: EditMessage) -> Result<(), ChatError> {
        tracing::Span::current().record("room_id", tracing::field::display(&req.room_id));
        if req.room_id.is_encrypted() {
            let sealed = Self::sealed_edit_shape(req.body, req.sealed)?;
            return self
                .change(caller, &req.room_id, req.seq, Op::EditSealed(sealed))
                .await;
        }
        if req.sealed.is_some() {
            return Err(ChatError::BadRequest(
                "sealed payloads are for end-to-end encrypted rooms only".into(),
            ));
        }
        let body = MessageBody::parse(
            &req.body,
            self.limits.max_body_bytes,
            self.limits.max_body_chars,
        )?;
        self.change(caller, &req.room_id, req.seq, Op::Edit(body))
            .await
    }

    pub async fn delete_message(
        &self,
        caller: &Caller,
        req: DeleteMessage,
    ) -> Result<(), ChatError> {
        tracing::Span::current().record("room_id", tracing::field::display(&req.room_id));
        self.change(caller, &req.room_id, req.seq, Op::Delete).await
    }

    pub async fn react(&self, caller: &Caller, req: React) -> Result<(), ChatError> {
        tracing::Span::current().record("room_id", tracing::field::display(&req.room_id));
        self.change(caller, &req.room_id, req.seq, Op::Toggle(req.emoji))
            .await
    }

    async fn change(
        &self,
        caller: &Caller,
        room_id: &RoomId,
        seq: Seq,
        op: Op,
    ) -> Result<(), ChatError> {
        let (room, members, message) = tokio::try_join!(
            async { Ok::<_, ChatError>(self.rooms.get(room_id).await?) },
            async { Ok::<_, ChatError>(self.rooms.members(room_id).await?) },
            self.sent_message(room_id, seq)
        )?;
        let room = room.ok_or(ChatError::NotFound("room"))?;
        let membership = members.iter().find(|m| m.user_id == caller.user_id);
        let action = match &op {
            Op::Edit(_) | Op::EditSealed(_) => Action::EditMessage {
                sender: message.as_ref().map(|m| &m.sender_id),
            },
            Op::Delete => Action::DeleteMessage {
                sender: message.as_ref().map(|m| &m.sender_id),
            },
            Op::Toggle(_) => Action::React,
        };
        let peer = self.peer_in(&caller.user_id, &room).await?;
        authorize_in(&caller.user_id, action, &room, membership, peer)?;
        let message = message.ok_or(ChatError::NotFound("message"))?;
        if let Op::EditSealed(sealed) = &op {
            // Authorized (the sender's own message): now the envelopes and
            // the replay guard, before anything is written.
            let member_ids: Vec<UserId> = members.iter().map(|m| m.user_id.clone()).collect();
            self.check_sealed_edit(room_id, &caller.user_id, &member_ids, sealed)
                .await?;
        }

        let mut committed = None;
        for _ in 0..COMMIT_ATTEMPTS {
            let (counter, state) = tokio::try_join!(
                self.changes.last_change(room_id),
                self.changes.state(room_id, seq)
            )?;
            let mut state = state.unwrap_or_else(|| MessageState::initial(&message));
            let kind = match &op {
                Op::Edit(body) => state.edit(body.clone(), self.clock.now())?,
                Op::EditSealed(sealed) => state.edit_sealed(sealed.clone(), self.clock.now())?,
                Op::Delete => state.delete(self.clock.now())?,
                Op::Toggle(emoji) => state.toggle(emoji.clone(), &caller.user_id)?,
            };
            state.change = counter + 1;
            if self.changes.commit(&state).await? {
                committed = Some((state, kind));
                break;
            }
        }
        let (state, kind) = committed.ok_or_else(|| {
            ChatError::Conflict("the room's messages are changing fast; try again".into())
        })?;
        info!(seq, change = state.change, kind = ?kind, "message changed");

        let frame = match kind {
            ChangeKind::Edited => {
                self.reindex(&message, &state).await;
                ServerFrame::MessageEdited {
                    room_id: room_id.clone(),
                    seq,
                    message_id: message.message_id.clone(),
                    body: state.body.as_ref().map_or("", |b| b.as_str()).to_owned(),
                    edited_at: state.edited_at.unwrap_or_default(),
                    change: state.change,
                    sealed: state.sealed.clone(),
                }
            }
            ChangeKind::Deleted => {
                self.tidy_deleted(&message).await;
                ServerFrame::MessageDeleted {
                    room_id: room_id.clone(),
                    seq,
                    message_id: message.message_id.clone(),
                    deleted_at: state.deleted_at.unwrap_or_default(),
                    deleted_by: caller.user_id.clone(),
                    change: state.change,
                }
            }
            ChangeKind::Reacted { emoji, user, added } => ServerFrame::Reaction {
                room_id: room_id.clone(),
                seq,
                message_id: message.message_id.clone(),
                emoji,
                user_id: user,
                added,
                change: state.change,
            },
        };
        let users: Vec<UserId> = members.into_iter().map(|m| m.user_id).collect();
        if users.len() > self.limits.fanout_inline_max {
            // A big room: the persist workers push it in shards, as they
            // push its messages; if the queue refuses, this pushes it.
            let jobs = Job::broadcast(&frame, &users, self.limits.fanout_shard_size);
            match self.queue.enqueue(&jobs).await {
                Ok(()) => return Ok(()),
                Err(e) => {
                    warn!(error = %crate::error::chain(&e), "could not queue a change's fan-out; pushing it here")
                }
            }
        }
        self.deliver_to_users(&users, None, &frame).await;
        Ok(())
    }

    /// The message sent at `seq`, as sent: from history, or, when its
    /// persistence job has not stored it yet, from its reservation (stored
    /// here, as `sync` does). `None` when no message has that seq.
    async fn sent_message(&self, room: &RoomId, seq: Seq) -> Result<Option<Message>, ChatError> {
        if seq == 0 {
            return Ok(None);
        }
        let range = RangeQuery {
            after: Some(seq - 1),
            before: seq.checked_add(1),
            limit: 1,
            newest_first: false,
        };
        let (found, last) = tokio::try_join!(
            self.messages.range(room, range),
            self.messages.last_seq(room)
        )?;
        if let Some(m) = found.into_iter().find(|m| m.seq == seq) {
            return Ok(Some(m));
        }
        if seq > last {
            return Ok(None);
        }
        match self.messages.settle(room, seq).await? {
            SeqFate::Burned => Ok(None),
            SeqFate::Reserved(m) => {
                for r in self.messages.put_batch(std::slice::from_ref(&m)).await {
                    r?;
                }
                Ok(Some(m))
            }
        }
    }

    /// The search entry of an edited message: the old terms out, the new in.
    async fn reindex(&self, message: &Message, state: &MessageState) {
        if !self.limits.search_index {
            return;
        }
        let mut edited = message.clone();
        state.apply(&mut edited);
        let result = async {
            self.search.remove(&message.room_id, message.seq).await?;
            if let Some(entry) = IndexEntry::of(&edited) {
                for r in self.search.index(&[entry]).await {
                    r?;
                }
            }
            Ok::<_, crate::error::StoreError>(())
        }
        .await;
        if let Err(e) = result {
            warn!(seq = message.seq, error = %crate::error::chain(&e), "could not re-index an edited message; search may find it by its old words");
        }
    }

    /// A deleted message's search entry and attachment objects go.
    async fn tidy_deleted(&self, message: &Message) {
        if self.limits.search_index {
            if let Err(e) = self.search.remove(&message.room_id, message.seq).await {
                warn!(seq = message.seq, error = %crate::error::chain(&e), "could not remove a deleted message from the search index; search skips tombstones");
            }
        }
        for a in &message.attachments {
            let key = stored_key(&message.room_id, &a.attachment_id);
            if let Err(e) = self.blobs.delete(&key).await {
                warn!(attachment_id = %a.attachment_id, error = %crate::error::chain(&e), "could not delete a deleted message's attachment object");
            }
        }
    }

    /// The states of `messages` (of any rooms), by `(room, seq)`: one read
    /// per room, over the seqs it answers.
    pub(crate) async fn states_of(
        &self,
        messages: &[Message],
    ) -> Result<BTreeMap<(RoomId, Seq), MessageState>, ChatError> {
        let mut spans: BTreeMap<RoomId, (Seq, Seq)> = BTreeMap::new();
        for m in messages {
            let e = spans.entry(m.room_id.clone()).or_insert((m.seq, m.seq));
            e.0 = e.0.min(m.seq);
            e.1 = e.1.max(m.seq);
        }
        let changes = self.changes.clone();
        let read: Vec<Vec<MessageState>> = stream::iter(spans)
            .map(move |(room, (lo, hi))| {
                let changes = changes.clone();
                async move { changes.states(&room, lo, hi).await }
            })
            .buffer_unordered(STATE_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(read
            .into_iter()
            .flatten()
            .map(|s| ((s.room_id.clone(), s.seq), s))
            .collect())
    }

    /// [`Chat::views`] of stored messages as `reader` reads them now: edited
    /// bodies, tombstones, reaction counts, and replies' quotes of their
    /// targets as they are now ([`Chat::read_views`]).
    pub async fn views_for(
        &self,
        reader: &UserId,
        messages: &[Message],
    ) -> Result<Vec<MessageView>, ChatError> {
        let states = self.states_of(messages).await?;
        let current: Vec<Message> = messages
            .iter()
            .map(|m| {
                let mut m = m.clone();
                if let Some(s) = states.get(&(m.room_id.clone(), m.seq)) {
                    s.apply(&mut m);
                }
                m
            })
            .collect();
        Ok(self
            .read_views(&current)
            .await
            .into_iter()
            .map(|v| match states.get(&(v.room_id.clone(), v.seq)) {
                Some(s) => v.with_state(s, reader),
                None => v,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Identity;
    use crate::config::Limits;
    use crate::error::ErrorCode;
    use crate::ids::{ClientMsgId, ConnectionId};
    use crate::model::{ConnectionRecord, RoomKind};
    use crate::protocol::rest::CreateRoomRequest;
    use crate::protocol::ws::{SendMessage, SyncRequest, SyncRoom};
    use crate::search::SearchQuery;
    use crate::service::{HistoryQuery, MemoryBackends};
    use tokio::sync::mpsc::UnboundedReceiver;

    struct User {
        id: Identity,
        caller: Caller,
        rx: UnboundedReceiver<String>,
    }

    impl User {
        /// The frames pushed to this user since the last look.
        fn frames(&mut self) -> Vec<serde_json::Value> {
            let mut out = Vec::new();
            while let Ok(f) = self.rx.try_recv() {
                out.push(serde_json::from_str(&f).unwrap());
            }
            out
        }
    }

    async fn user(chat: &Chat, mem: &MemoryBackends, name: &str) -> User {
        let conn = ConnectionId::parse(&format!("{name}=")).unwrap();
        let rx = mem.pusher.open(&conn);
        let user_id = UserId::parse(name).unwrap();
        chat.connections
            .put(&ConnectionRecord {
                connection_id: conn.clone(),
                user_id: user_id.clone(),
                connected_at: 0,
                expires_at: i64::MAX,
            })
            .await
            .unwrap();
        User {
            id: Identity {
                user_id: user_id.clone(),
                name: None,
            },
            caller: Caller {
                user_id,
                connection_id: conn,
                expires_at: 0,
            },
            rx,
        }
    }

    async fn room(chat: &Chat, kind: RoomKind, owner: &User, others: &[&User]) -> RoomId {
        let (_, r) = chat
            .create_room(
                &owner.id,
                CreateRoomRequest {
                    encrypted: false,
                    name: (kind != RoomKind::Direct).then(|| "r".into()),
                    kind,
                    members: others.iter().map(|u| u.id.user_id.clone()).collect(),
                },
            )
            .await
            .unwrap();
        r.room.room_id
    }

    /// Sends and stores (the persist worker's run) one message; its seq.
    async fn send(
        chat: &Chat,
        mem: &MemoryBackends,
        from: &User,
        room: &RoomId,
        body: &str,
    ) -> Seq {
        let req = SendMessage {
            sealed: None,
            room_id: room.clone(),
            client_msg_id: ClientMsgId::parse(&crate::contract::unique()).unwrap(),
            body: body.into(),
            attachments: Vec::new(),
            reply_to: None,
        };
        chat.send_message(&from.caller, req).await.unwrap();
        let records: Vec<_> = mem
            .queue
            .take(100)
            .into_iter()
            .map(|j| (j.id, j.body))
            .collect();
        chat.persist_batch(&records).await;
        chat.messages.last_seq(room).await.unwrap()
    }

    fn edit(room: &RoomId, seq: Seq, body: &str) -> EditMessage {
        EditMessage {
            room_id: room.clone(),
            seq,
            body: body.into(),
            sealed: None,
        }
    }

    fn del(room: &RoomId, seq: Seq) -> DeleteMessage {
        DeleteMessage {
            room_id: room.clone(),
            seq,
        }
    }

    fn react(room: &RoomId, seq: Seq, emoji: &str) -> React {
        React {
            room_id: room.clone(),
            seq,
            emoji: Emoji::parse(emoji).unwrap(),
        }
    }

    async fn history(chat: &Chat, who: &User, room: &RoomId) -> Vec<MessageView> {
        chat.history(&who.id, room, HistoryQuery::default())
            .await
            .unwrap()
            .messages
    }

    fn setup() -> (Chat, MemoryBackends) {
        Chat::in_memory(Limits::default())
    }

    #[tokio::test]
    async fn an_edit_keeps_seq_and_id_records_edited_at_and_reaches_members_live() {
        let (chat, mem) = setup();
        let (alice, mut bob) = (
            user(&chat, &mem, "alice").await,
            user(&chat, &mem, "bob").await,
        );
        let r = room(&chat, RoomKind::Group, &alice, &[&bob]).await;
        let seq = send(&chat, &mem, &alice, &r, "helo wrld").await;
        let before = history(&chat, &bob, &r).await.remove(0);
        bob.frames();
        chat.edit_message(&alice.caller, edit(&r, seq, "hello world"))
            .await
            .unwrap();
        let after = history(&chat, &bob, &r).await.remove(0);
        assert_eq!((after.seq, &after.message_id), (seq, &before.message_id));
        assert_eq!(after.body, "hello world");
        assert!(after.edited_at.is_some());
        let f = bob.frames();
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0]["type"], "messageEdited");
        assert_eq!(f[0]["body"], "hello world");
        assert_eq!(f[0]["change"], 1);
        // Search finds the new words, not the old.
        let q = |t: &str| SearchQuery::parse(t).unwrap();
        let found = chat.search.search(&r, &q("world"), None, 10).await.unwrap();
        assert_eq!(found.hits.len(), 1);
        let found = chat.search.search(&r, &q("wrld"), None, 10).await.unwrap();
        assert!(found.hits.is_empty());
    }

    #[tokio::test]
    async fn a_delete_leaves_a_tombstone_drops_it_from_search_and_tells_members() {
        let (chat, mem) = setup();
        let (alice, mut bob) = (
            user(&chat, &mem, "alice").await,
            user(&chat, &mem, "bob").await,
        );
        let r = room(&chat, RoomKind::Group, &alice, &[&bob]).await;
        let seq = send(&chat, &mem, &bob, &r, "oops secret").await;
        send(&chat, &mem, &alice, &r, "after").await;
        bob.frames();
        chat.react(&alice.caller, react(&r, seq, "👍"))
            .await
            .unwrap();
        chat.delete_message(&bob.caller, del(&r, seq))
            .await
            .unwrap();
        let h = history(&chat, &alice, &r).await;
        assert_eq!(h.len(), 2, "history keeps the seq");
        assert_eq!(h[0].body, "");
        assert!(h[0].deleted_at.is_some() && h[0].reactions.is_empty());
        let f = bob.frames();
        assert_eq!(f.last().unwrap()["type"], "messageDeleted");
        let q = SearchQuery::parse("secret").unwrap();
        assert!(chat
            .search
            .search(&r, &q, None, 10)
            .await
            .unwrap()
            .hits
            .is_empty());
    }

    #[tokio::test]
    async fn the_owner_deletes_others_messages_in_groups_but_nobody_in_direct_rooms() {
        let (chat, mem) = setup();
        let (alice, bob) = (
            user(&chat, &mem, "alice").await,
            user(&chat, &mem, "bob").await,
        );
        let g = room(&chat, RoomKind::Group, &alice, &[&bob]).await;
        let seq = send(&chat, &mem, &bob, &g, "bob's").await;
        chat.delete_message(&alice.caller, del(&g, seq))
            .await
            .unwrap();
        assert!(history(&chat, &bob, &g).await[0].deleted_at.is_some());

        let d = room(&chat, RoomKind::Direct, &alice, &[&bob]).await;
        let seq = send(&chat, &mem, &bob, &d, "mine").await;
        let e = chat
            .delete_message(&alice.caller, del(&d, seq))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Forbidden);
        let h = history(&chat, &bob, &d).await;
        assert_eq!((h[0].body.as_str(), h[0].deleted_at), ("mine", None));
        assert_eq!(chat.changes.last_change(&d).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn bad_changes_are_refused_and_change_nothing() {
        let (chat, mem) = setup();
        let (alice, bob, carol) = (
            user(&chat, &mem, "alice").await,
            user(&chat, &mem, "bob").await,
            user(&chat, &mem, "carol").await,
        );
        let r = room(&chat, RoomKind::Group, &alice, &[&bob, &carol]).await;
        let seq = send(&chat, &mem, &alice, &r, "original").await;
        let gone = send(&chat, &mem, &alice, &r, "to delete").await;
        chat.delete_message(&alice.caller, del(&r, gone))
            .await
            .unwrap();
        let snapshot = || async {
            (
                history(&chat, &alice, &r).await,
                chat.changes.last_change(&r).await.unwrap(),
                chat.changes.changes_after(&r, 0, 100).await.unwrap(),
            )
        };
        let before = snapshot().await;

        // Someone else's message.
        let e = chat
            .edit_message(&bob.caller, edit(&r, seq, "hijack"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Forbidden);
        let e = chat
            .delete_message(&bob.caller, del(&r, seq))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Forbidden);
        // Oversize and blank edits.
        let long = "x".repeat(Limits::default().max_body_bytes + 1);
        let e = chat
            .edit_message(&alice.caller, edit(&r, seq, &long))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::TooLarge);
        let e = chat
            .edit_message(&alice.caller, edit(&r, seq, "  "))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::BadRequest);
        // A tombstone is not edited, deleted again or reacted to.
        let e = chat
            .edit_message(&alice.caller, edit(&r, gone, "back"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Conflict);
        let e = chat
            .delete_message(&alice.caller, del(&r, gone))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Conflict);
        let e = chat
            .react(&bob.caller, react(&r, gone, "👍"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Conflict);
        // No such message.
        for missing in [0, 99] {
            let e = chat
                .edit_message(&alice.caller, edit(&r, missing, "x"))
                .await
                .unwrap_err();
            assert_eq!(e.code(), ErrorCode::NotFound, "{missing}");
        }
        // Reacting in a room you left.
        chat.remove_member(&carol.id, &r, &carol.id.user_id)
            .await
            .unwrap();
        let e = chat
            .react(&carol.caller, react(&r, seq, "👍"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Forbidden);
        // Invalid emoji never decode.
        for bad in ["x", "👍👍", ""] {
            let text =
                serde_json::json!({"action": "react", "roomId": r, "seq": seq, "emoji": bad});
            let e = crate::protocol::ws::ClientFrame::decode(&text.to_string()).unwrap_err();
            assert_eq!(e.code(), ErrorCode::BadRequest, "{bad}");
            let e = chat
                .handle_text(
                    &bob.caller.connection_id,
                    Some(&bob.caller.user_id),
                    &text.to_string(),
                )
                .await
                .unwrap_err();
            assert_eq!(e.code(), ErrorCode::BadRequest, "{bad}");
        }
        assert_eq!(snapshot().await, before);
    }

    #[tokio::test]
    async fn reactions_toggle_aggregate_per_reader_and_are_bounded() {
        let (chat, mem) = setup();
        let (alice, mut bob) = (
            user(&chat, &mem, "alice").await,
            user(&chat, &mem, "bob").await,
        );
        let r = room(&chat, RoomKind::Channel, &alice, &[&bob]).await;
        let seq = send(&chat, &mem, &alice, &r, "react to me").await;
        bob.frames();
        chat.react(&alice.caller, react(&r, seq, "👍"))
            .await
            .unwrap();
        chat.react(&bob.caller, react(&r, seq, "👍")).await.unwrap();
        chat.react(&bob.caller, react(&r, seq, "🎉")).await.unwrap();
        let f = bob.frames();
        assert_eq!(f.len(), 3);
        assert_eq!(
            (&f[0]["type"], &f[0]["emoji"], &f[0]["added"]),
            (&"reaction".into(), &"👍".into(), &true.into())
        );
        let seen = |v: &MessageView| {
            v.reactions
                .iter()
                .map(|c| (c.emoji.as_str().to_owned(), c.count, c.me))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            seen(&history(&chat, &alice, &r).await[0]),
            [("👍".into(), 2, true), ("🎉".into(), 1, false)]
        );
        assert_eq!(
            seen(&history(&chat, &bob, &r).await[0]),
            [("👍".into(), 2, true), ("🎉".into(), 1, true)]
        );
        // Toggling again removes it.
        chat.react(&bob.caller, react(&r, seq, "🎉")).await.unwrap();
        assert_eq!(
            seen(&history(&chat, &bob, &r).await[0]),
            [("👍".into(), 2, true)]
        );
        assert_eq!(bob.frames()[0]["added"], false);
        // Too many distinct emoji: refused, nothing changes.
        let many = [
            "😀", "😃", "😄", "😁", "😆", "😅", "🤣", "😂", "🙂", "🙃", "😉", "😊", "😇", "🥰",
            "😍", "🤩", "😘", "😗", "😚",
        ];
        for e in many {
            chat.react(&alice.caller, react(&r, seq, e)).await.unwrap();
        }
        let before = (
            history(&chat, &bob, &r).await,
            chat.changes.last_change(&r).await.unwrap(),
        );
        let e = chat
            .react(&bob.caller, react(&r, seq, "😋"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::TooLarge);
        assert_eq!(
            (
                history(&chat, &bob, &r).await,
                chat.changes.last_change(&r).await.unwrap()
            ),
            before
        );
    }

    #[tokio::test]
    async fn sync_with_a_change_cursor_returns_changes_to_messages_already_held() {
        let (chat, mem) = setup();
        let (alice, mut bob) = (
            user(&chat, &mem, "alice").await,
            user(&chat, &mem, "bob").await,
        );
        let r = room(&chat, RoomKind::Group, &alice, &[&bob]).await;
        let s1 = send(&chat, &mem, &alice, &r, "one").await;
        let s2 = send(&chat, &mem, &alice, &r, "two").await;
        let sync = |after_seq, after_change| SyncRequest {
            rooms: vec![SyncRoom {
                room_id: r.clone(),
                after_seq,
                after_change,
            }],
        };
        bob.frames();
        chat.sync(&bob.caller, sync(0, None)).await.unwrap();
        let first = bob.frames().pop().unwrap();
        assert!(first.get("throughChange").is_none(), "0 is left out");
        assert_eq!(first["throughSeq"], s2);
        // While bob is away: an edit, a delete, a reaction and a new message.
        chat.edit_message(&alice.caller, edit(&r, s1, "one, edited"))
            .await
            .unwrap();
        chat.react(&alice.caller, react(&r, s1, "❤️"))
            .await
            .unwrap();
        chat.delete_message(&alice.caller, del(&r, s2))
            .await
            .unwrap();
        let s3 = send(&chat, &mem, &alice, &r, "three").await;
        chat.react(&alice.caller, react(&r, s3, "👍"))
            .await
            .unwrap();
        bob.frames();
        chat.sync(&bob.caller, sync(s2, Some(0))).await.unwrap();
        let f = bob.frames().pop().unwrap();
        assert_eq!(f["type"], "syncResult");
        assert_eq!(f["throughChange"], 4);
        let changes = f["changes"].as_array().unwrap();
        assert_eq!(changes.len(), 2, "{f}");
        assert_eq!(
            (&changes[0]["seq"], &changes[0]["body"]),
            (&s1.into(), &"one, edited".into())
        );
        assert_eq!(changes[0]["reactions"][0]["emoji"], "❤️");
        assert_eq!(changes[0]["reactions"][0]["me"], false);
        assert!(changes[1]["deletedAt"].is_number());
        assert_eq!(changes[1]["body"], "");
        // The new message comes whole, with its reaction.
        let msgs = f["messages"].as_array().unwrap();
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0]["reactions"][0]["count"], 1);
        // Nothing new since: no changes, same cursor.
        chat.sync(&bob.caller, sync(s3, Some(4))).await.unwrap();
        let f = bob.frames().pop().unwrap();
        assert_eq!(
            (f["changes"].as_array().map(Vec::len), &f["throughChange"]),
            (None, &4.into())
        );
    }

    #[tokio::test]
    async fn a_big_room_gets_its_change_frames_from_the_persist_workers() {
        let limits = Limits {
            fanout_inline_max: 1,
            fanout_shard_size: 1,
            ..Limits::default()
        };
        let (chat, mem) = Chat::in_memory(limits);
        let (alice, mut bob) = (
            user(&chat, &mem, "alice").await,
            user(&chat, &mem, "bob").await,
        );
        let r = room(&chat, RoomKind::Channel, &alice, &[&bob]).await;
        let seq = send(&chat, &mem, &alice, &r, "big news").await;
        bob.frames();
        chat.react(&alice.caller, react(&r, seq, "🎉"))
            .await
            .unwrap();
        assert!(
            bob.frames().is_empty(),
            "not pushed by the message function"
        );
        let jobs: Vec<_> = mem
            .queue
            .take(100)
            .into_iter()
            .map(|j| (j.id, j.body))
            .collect();
        assert_eq!(jobs.len(), 2, "one shard per member");
        chat.persist_batch(&jobs).await;
        let f = bob.frames();
        assert_eq!(
            (f.len(), &f[0]["type"]),
            (1, &serde_json::json!("reaction"))
        );
    }

    #[tokio::test]
    async fn a_message_not_yet_stored_can_be_changed() {
        let (chat, mem) = setup();
        let alice = user(&chat, &mem, "alice").await;
        let r = room(&chat, RoomKind::Group, &alice, &[]).await;
        let req = SendMessage {
            sealed: None,
            room_id: r.clone(),
            client_msg_id: ClientMsgId::parse("c1").unwrap(),
            body: "quick".into(),
            attachments: Vec::new(),
            reply_to: None,
        };
        chat.send_message(&alice.caller, req).await.unwrap();
        // The persistence job is still queued.
        chat.edit_message(&alice.caller, edit(&r, 1, "quick fix"))
            .await
            .unwrap();
        let records: Vec<_> = mem
            .queue
            .take(100)
            .into_iter()
            .map(|j| (j.id, j.body))
            .collect();
        chat.persist_batch(&records).await;
        // The late job stores the message as sent; the edit still shows.
        assert_eq!(history(&chat, &alice, &r).await[0].body, "quick fix");
    }
}
