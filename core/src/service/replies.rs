//! Replies ([`crate::replies`]): the quote a reply takes of its target when
//! it is sent, the thread of replies to a message, and the correction of
//! quotes whose target was deleted, whenever messages are read.

use std::collections::{BTreeSet, HashMap};

use futures::stream::{self, StreamExt, TryStreamExt};

use super::Chat;
use crate::auth::Identity;
use crate::authz::Action;
use crate::error::ChatError;
use crate::ids::{RoomId, Seq};
use crate::model::{Message, SeqFate};
use crate::protocol::cursor::Cursor;
use crate::protocol::rest::ThreadPage;
use crate::protocol::ws::MessageView;
use crate::replies::{is_tombstone, ReplyPreview};

/// How many targets a read looks up at once.
const LOOKUP_CONCURRENCY: usize = 8;

/// `GET /rooms/{roomId}/messages/{seq}/replies?after=&limit=`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThreadQuery {
    pub after: Option<Cursor>,
    pub limit: Option<usize>,
}

impl ThreadQuery {
    /// Parses the query string values.
    pub fn parse(after: Option<&str>, limit: Option<&str>) -> Result<Self, ChatError> {
        let limit = limit
            .map(|l| {
                l.parse::<usize>()
                    .map_err(|_| ChatError::BadRequest("limit must be a positive integer".into()))
            })
            .transpose()?;
        Ok(Self {
            after: after.map(Cursor::parse).transpose()?,
            limit,
        })
    }
}

impl Chat {
    /// The quote of the message at `seq` in `room`, for a reply being sent
    /// (the caller is authorized already). The target is the stored message
    /// or, when it is not stored yet (persistence is asynchronous: a reply
    /// can follow its target within milliseconds), the one reserved at its
    /// seq. A seq past the room's last is refused before anything is asked
    /// of `settle`, so a bad seq changes nothing; one at or below it with no
    /// reservation is burned, which `sync` would do the same.
    pub(crate) async fn quote(&self, room: &RoomId, seq: Seq) -> Result<ReplyPreview, ChatError> {
        const MISSING: ChatError = ChatError::NotFound("message to reply to");
        if seq == 0 {
            return Err(MISSING);
        }
        let target = match self.messages.get(room, seq).await? {
            Some(m) => m,
            None => {
                if seq > self.messages.last_seq(room).await? {
                    return Err(MISSING);
                }
                match self.messages.settle(room, seq).await? {
                    SeqFate::Reserved(m) => m,
                    SeqFate::Burned => return Err(MISSING),
                }
            }
        };
        // A delete or an edit is kept beside the stored message
        // (`crate::changes`): quote the message as it reads now.
        let mut target = target;
        if let Some(state) = self.changes.state(room, seq).await? {
            state.apply(&mut target);
        }
        if is_tombstone(&target) {
            return Err(ChatError::Conflict(
                "the message to reply to was deleted".into(),
            ));
        }
        Ok(ReplyPreview::of(&target))
    }

    /// The views of `messages` as a reader gets them: each reply's quote
    /// resolved against its target as stored now (`deleted` when it was
    /// deleted). Targets in `messages` cost nothing; each other distinct
    /// target costs two reads (the message and its changes).
    pub(crate) async fn read_views(&self, messages: &[Message]) -> Vec<MessageView> {
        let mut views = self.views(messages).await;
        let held: HashMap<(&RoomId, Seq), &Message> =
            messages.iter().map(|m| ((&m.room_id, m.seq), m)).collect();
        let wanted: BTreeSet<(RoomId, Seq)> = messages
            .iter()
            .filter_map(|m| m.reply_to.as_ref().map(|r| (m.room_id.clone(), r.seq)))
            .filter(|(room, seq)| !held.contains_key(&(room, *seq)))
            .collect();
        type Target = ((RoomId, Seq), Option<Message>);
        // Targets as they read now: `messages` come with their changes
        // applied by the caller (`Chat::views_for`); a fetched one gets its
        // own (`crate::changes` keeps edits and deletes beside the message).
        let fetched: Result<Vec<Target>, ChatError> = stream::iter(wanted)
            .map(|(room, seq)| async move {
                let (m, state) = tokio::try_join!(
                    self.messages.get(&room, seq),
                    self.changes.state(&room, seq)
                )?;
                let m = m.map(|mut m| {
                    if let Some(s) = state {
                        s.apply(&mut m);
                    }
                    m
                });
                Ok::<_, ChatError>(((room, seq), m))
            })
            .buffer_unordered(LOOKUP_CONCURRENCY)
            .try_collect()
            .await;
        let fetched: HashMap<(RoomId, Seq), Option<Message>> = match fetched {
            Ok(f) => f.into_iter().collect(),
            Err(e) => {
                // The quotes stay as sent: better than failing the read.
                tracing::warn!(error = %crate::error::chain(&e), "could not look up reply targets; their quotes go as sent");
                return views;
            }
        };
        for v in &mut views {
            let Some(preview) = v.reply_to.take() else {
                continue;
            };
            let key = (v.room_id.clone(), preview.seq);
            let current = match held.get(&(&v.room_id, preview.seq)) {
                Some(m) => Some(*m),
                None => fetched.get(&key).and_then(Option::as_ref),
            };
            v.reply_to = Some(preview.resolve(current));
        }
        views
    }

    /// A page of the replies to the message at `seq`, oldest first, and a
    /// cursor to the next page when there may be more.
    pub async fn thread(
        &self,
        actor: &Identity,
        room_id: &RoomId,
        seq: Seq,
        q: ThreadQuery,
    ) -> Result<ThreadPage, ChatError> {
        let max = self.limits.history_page_max;
        let limit = q.limit.unwrap_or(self.limits.history_page_default.min(max));
        if limit == 0 || limit > max {
            return Err(ChatError::BadRequest(format!(
                "limit must be between 1 and {max}"
            )));
        }
        self.authorized_room(&actor.user_id, room_id, Action::ReadThread)
            .await?;
        let (target, mut replies) = tokio::try_join!(
            self.messages.get(room_id, seq),
            self.messages
                .replies(room_id, seq, q.after.map(Cursor::seq), limit + 1)
        )?;
        if target.is_none() && replies.is_empty() && q.after.is_none() {
            return Err(ChatError::NotFound("message"));
        }
        let more = replies.len() > limit;
        replies.truncate(limit);
        let next_cursor = replies
            .last()
            .filter(|_| more)
            .map(|m| Cursor::at(m.seq).encode());
        let mut with_target = replies.clone();
        with_target.extend(target.iter().cloned());
        let mut views = self.views_for(&actor.user_id, &with_target).await?;
        let target = target.is_some().then(|| views.pop()).flatten();
        Ok(ThreadPage {
            target,
            replies: views,
            next_cursor,
        })
    }
}
