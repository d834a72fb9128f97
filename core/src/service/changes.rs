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
use crate::authz::{authorize, Action};
use crate::changes::{ChangeKind, Emoji, MessageState, COMMIT_ATTEMPTS};
use crate::error::ChatError;
use crate::ids::{MessageBody, RoomId, Seq, UserId};
use crate::model::{Message, SeqFate};
use crate::ports::RangeQuery;
use crate::protocol::ws::{DeleteMessage, EditMessage, MessageView, React, ServerFrame};
use crate::search::IndexEntry;

/// What a change does to a message's state.
enum Op {
    Edit(MessageBody),
    Delete,
    Toggle(Emoji),
}

/// How many rooms' states are read at once.
const STATE_CONCURRENCY: usize = 8;

impl Chat {
    pub async fn edit_message(&self, caller: &Caller, req: EditMessage) -> Result<(), ChatError> {
        tracing::Span::current().record("room_id", tracing::field::display(&req.room_id));
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
        self.change(caller, &req.room_id, req.seq, Op::Delete)
            .await
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
            Op::Edit(_) => Action::EditMessage {
                sender: message.as_ref().map(|m| &m.sender_id),
            },
            Op::Delete => Action::DeleteMessage {
                sender: message.as_ref().map(|m| &m.sender_id),
            },
            Op::Toggle(_) => Action::React,
        };
        authorize(&caller.user_id, action, &room, membership)?;
        let message = message.ok_or(ChatError::NotFound("message"))?;

        let mut committed = None;
        for _ in 0..COMMIT_ATTEMPTS {
            let (counter, state) = tokio::try_join!(
                self.changes.last_change(room_id),
                self.changes.state(room_id, seq)
            )?;
            let mut state = state.unwrap_or_else(|| MessageState::initial(&message));
            let kind = match &op {
                Op::Edit(body) => state.edit(body.clone(), self.clock.now())?,
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
        let mut spans: BTreeMap<&RoomId, (Seq, Seq)> = BTreeMap::new();
        for m in messages {
            let e = spans.entry(&m.room_id).or_insert((m.seq, m.seq));
            e.0 = e.0.min(m.seq);
            e.1 = e.1.max(m.seq);
        }
        let read: Vec<Vec<MessageState>> = stream::iter(spans)
            .map(|(room, (lo, hi))| async move { self.changes.states(room, lo, hi).await })
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
    /// bodies, tombstones, reaction counts.
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
            .views(&current)
            .await
            .into_iter()
            .map(|v| match states.get(&(v.room_id.clone(), v.seq)) {
                Some(s) => v.with_state(s, reader),
                None => v,
            })
            .collect())
    }
}
