//! Changes to sent messages: edits, deletes (tombstones) and reactions, and
//! the per-room change cursor that lets a client that was away learn of them.
//!
//! # The change cursor
//!
//! Every room has a change counter (0 until something changes). Each edit,
//! delete or reaction toggle takes the next number `c` and stores, at once:
//!
//! - the counter, moved to `c` on condition that it was `c - 1`;
//! - the message's [`MessageState`] (keyed by its `seq`), with `change = c`;
//! - a log entry keyed by `c` holding the same state.
//!
//! The condition on the counter makes the room's changes commit one at a
//! time, in counter order, all or nothing: a change numbered `c` is never
//! visible before `c - 1` is, so a client that has seen change `n` has seen
//! every change up to `n`. Concurrent changers in one room retry (edits and
//! reactions are rare next to sends, and sends never touch the counter).
//!
//! `sync` takes the client's last change cursor (`afterChange`) beside its
//! `afterSeq` and answers the log entries after it (`changes`, the newest
//! state of each message they name) and the new cursor (`throughChange`).
//! A client without a cursor gets none and starts from the room's current
//! counter: the messages it fetches come with their current state.
//!
//! The stored message itself is never rewritten: history and sync read the
//! states of the seqs they answer and lay them over the messages. So a late
//! or redelivered persistence job (which writes the message as sent) can
//! never undo an edit or a delete.
//!
//! Reactions cost one write per toggle (the state and its log entry, in the
//! one transaction), never one per reader: readers get counts aggregated
//! from the state, with whether they reacted.

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

use crate::e2ee::Sealed;
use crate::error::ChatError;
use crate::ids::{MessageBody, MessageId, Millis, RoomId, Seq, UserId};
use crate::model::Message;

/// A room's change number: 0 before the first change, then 1, 2, 3…
pub type Change = u64;

/// Most distinct emoji on one message.
pub const MAX_DISTINCT_EMOJI: usize = 20;

/// Most reactions (user × emoji) on one message: keeps a message's state
/// item far below DynamoDB's 400 KB per item, whatever the room's size.
pub const MAX_REACTIONS: usize = 2_000;

/// Longest emoji accepted, in bytes (the longest ZWJ sequences of the
/// Unicode list, families with skin tones, are 35 bytes).
pub const MAX_EMOJI_BYTES: usize = 64;

/// How many times a change is retried when another change of the room
/// committed between its read and its write.
pub const COMMIT_ATTEMPTS: usize = 8;

/// One emoji of the Unicode emoji list (skin-tone variants included): a
/// single grapheme of at most [`MAX_EMOJI_BYTES`] bytes.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Emoji(String);

impl Emoji {
    pub fn parse(raw: &str) -> Result<Self, ChatError> {
        if raw.is_empty() || raw.len() > MAX_EMOJI_BYTES {
            return Err(ChatError::BadRequest(format!(
                "emoji must be 1 to {MAX_EMOJI_BYTES} bytes"
            )));
        }
        if raw.graphemes(true).count() != 1 {
            return Err(ChatError::BadRequest("emoji must be one emoji".into()));
        }
        if emojis::get(raw).is_none() {
            return Err(ChatError::BadRequest(
                "emoji is not an emoji of the Unicode list".into(),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Emoji {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Emoji::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Display for Emoji {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who reacted to a message with one emoji, in the order they did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reaction {
    pub emoji: Emoji,
    pub user_ids: Vec<UserId>,
}

/// Everything that changed about a message since it was sent, as of the
/// room's change `change`. Stored per `(room, seq)` and in the room's change
/// log; laid over the message wherever it is read ([`MessageState::apply`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageState {
    pub room_id: RoomId,
    pub seq: Seq,
    pub message_id: MessageId,
    pub sender_id: UserId,
    /// The room's change number that produced this state.
    pub change: Change,
    /// The body since the last edit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<MessageBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<Millis>,
    /// Set once: the message is a tombstone from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<Millis>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// In an end-to-end encrypted room: the content since the last edit,
    /// sealed (the server cannot read it; `body` stays `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Box<Sealed>>,
}

/// What one change did, for the live frame members get.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Edited,
    Deleted,
    /// `user` toggled `emoji`: `added` or removed.
    Reacted {
        emoji: Emoji,
        user: UserId,
        added: bool,
    },
}

impl MessageState {
    /// The state of `m` before any change.
    pub fn initial(m: &Message) -> Self {
        Self {
            room_id: m.room_id.clone(),
            seq: m.seq,
            message_id: m.message_id.clone(),
            sender_id: m.sender_id.clone(),
            change: 0,
            body: None,
            edited_at: None,
            deleted_at: None,
            reactions: Vec::new(),
            sealed: None,
        }
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// `m` as it reads now: the edited body, or a tombstone (no body, no
    /// attachments).
    pub fn apply(&self, m: &mut Message) {
        if self.is_deleted() {
            m.body = MessageBody::empty();
            m.attachments.clear();
            m.sealed = None;
        } else {
            if let Some(body) = &self.body {
                m.body = body.clone();
            }
            if let Some(sealed) = &self.sealed {
                m.sealed = Some(sealed.clone());
            }
        }
    }

    fn refuse_tombstone(&self) -> Result<(), ChatError> {
        if self.is_deleted() {
            return Err(ChatError::Conflict("the message was deleted".into()));
        }
        Ok(())
    }

    /// The new body `body` at `now`. Refuses a tombstone.
    pub fn edit(&mut self, body: MessageBody, now: Millis) -> Result<ChangeKind, ChatError> {
        self.refuse_tombstone()?;
        self.body = Some(body);
        self.edited_at = Some(now);
        Ok(ChangeKind::Edited)
    }

    /// The new sealed content `sealed` at `now` (an encrypted room's edit;
    /// the server checked its envelopes and claimed its ciphertext).
    /// Refuses a tombstone.
    pub fn edit_sealed(
        &mut self,
        sealed: Box<Sealed>,
        now: Millis,
    ) -> Result<ChangeKind, ChatError> {
        self.refuse_tombstone()?;
        self.sealed = Some(sealed);
        self.edited_at = Some(now);
        Ok(ChangeKind::Edited)
    }

    /// Makes it a tombstone: no body, no reactions. Refuses a tombstone
    /// (deleting twice is a conflict, so only one delete tells members).
    pub fn delete(&mut self, now: Millis) -> Result<ChangeKind, ChatError> {
        self.refuse_tombstone()?;
        self.body = None;
        self.sealed = None;
        self.reactions.clear();
        self.deleted_at = Some(now);
        Ok(ChangeKind::Deleted)
    }

    /// Adds `user`'s `emoji`, or removes it when they had reacted so.
    /// Refuses a tombstone, a new emoji past [`MAX_DISTINCT_EMOJI`] and a
    /// reaction past [`MAX_REACTIONS`].
    pub fn toggle(&mut self, emoji: Emoji, user: &UserId) -> Result<ChangeKind, ChatError> {
        self.refuse_tombstone()?;
        if let Some(i) = self.reactions.iter().position(|r| r.emoji == emoji) {
            let r = &mut self.reactions[i];
            if let Some(j) = r.user_ids.iter().position(|u| u == user) {
                r.user_ids.remove(j);
                if r.user_ids.is_empty() {
                    self.reactions.remove(i);
                }
                return Ok(ChangeKind::Reacted {
                    emoji,
                    user: user.clone(),
                    added: false,
                });
            }
        } else if self.reactions.len() >= MAX_DISTINCT_EMOJI {
            return Err(ChatError::TooLarge(format!(
                "a message carries at most {MAX_DISTINCT_EMOJI} distinct emoji"
            )));
        }
        let total: usize = self.reactions.iter().map(|r| r.user_ids.len()).sum();
        if total >= MAX_REACTIONS {
            return Err(ChatError::TooLarge(format!(
                "a message carries at most {MAX_REACTIONS} reactions"
            )));
        }
        match self.reactions.iter_mut().find(|r| r.emoji == emoji) {
            Some(r) => r.user_ids.push(user.clone()),
            None => self.reactions.push(Reaction {
                emoji: emoji.clone(),
                user_ids: vec![user.clone()],
            }),
        }
        Ok(ChangeKind::Reacted {
            emoji,
            user: user.clone(),
            added: true,
        })
    }
}

/// Of log entries (ascending by change), the newest state of each message,
/// ascending by seq.
pub fn newest_per_message(entries: Vec<MessageState>) -> Vec<MessageState> {
    let mut by_seq = std::collections::BTreeMap::new();
    for e in entries {
        by_seq.insert(e.seq, e);
    }
    by_seq.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ClientMsgId;

    fn state() -> MessageState {
        MessageState::initial(&Message {
            sealed: None,
            room_id: RoomId::parse("r_1").unwrap(),
            message_id: MessageId::generate(),
            seq: 3,
            sender_id: UserId::parse("alice").unwrap(),
            body: MessageBody::parse("hi", 100, 100).unwrap(),
            sent_at: 1,
            client_msg_id: ClientMsgId::parse("c1").unwrap(),
            attachments: Vec::new(),
            reply_to: None,
        })
    }

    #[test]
    fn emoji_are_single_graphemes_of_the_unicode_list() {
        for ok in ["👍", "❤️", "😂", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷"] {
            assert!(Emoji::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "👍👍",
            ":+1:",
            "<script>",
            "👍 ",
            &"👍".repeat(20),
            "\u{200d}",
        ] {
            let e = Emoji::parse(bad).unwrap_err();
            assert_eq!(e.code(), crate::error::ErrorCode::BadRequest, "{bad}");
        }
    }

    #[test]
    fn a_toggle_adds_then_removes_and_the_last_removal_drops_the_emoji() {
        let mut s = state();
        let (a, b) = (UserId::parse("a").unwrap(), UserId::parse("b").unwrap());
        let up = Emoji::parse("👍").unwrap();
        s.toggle(up.clone(), &a).unwrap();
        s.toggle(up.clone(), &b).unwrap();
        assert_eq!(s.reactions[0].user_ids, vec![a.clone(), b.clone()]);
        let k = s.toggle(up.clone(), &a).unwrap();
        assert!(matches!(k, ChangeKind::Reacted { added: false, .. }));
        s.toggle(up, &b).unwrap();
        assert!(s.reactions.is_empty());
    }

    #[test]
    fn distinct_emoji_are_bounded_and_the_refusal_changes_nothing() {
        let mut s = state();
        let u = UserId::parse("a").unwrap();
        let all: Vec<Emoji> = [
            "😀", "😃", "😄", "😁", "😆", "😅", "🤣", "😂", "🙂", "🙃", "😉", "😊", "😇", "🥰",
            "😍", "🤩", "😘", "😗", "😚", "😙", "😋",
        ]
        .iter()
        .map(|e| Emoji::parse(e).unwrap())
        .collect();
        for e in &all[..MAX_DISTINCT_EMOJI] {
            s.toggle(e.clone(), &u).unwrap();
        }
        let before = s.clone();
        let e = s.toggle(all[MAX_DISTINCT_EMOJI].clone(), &u).unwrap_err();
        assert_eq!(e.code(), crate::error::ErrorCode::TooLarge);
        assert_eq!(s, before);
        // One already there may still be toggled.
        s.toggle(all[0].clone(), &UserId::parse("b").unwrap())
            .unwrap();
    }

    #[test]
    fn a_tombstone_has_no_body_attachments_or_reactions_and_refuses_changes() {
        let mut s = state();
        let u = UserId::parse("a").unwrap();
        s.toggle(Emoji::parse("👍").unwrap(), &u).unwrap();
        s.edit(MessageBody::parse("new", 100, 100).unwrap(), 5)
            .unwrap();
        s.delete(6).unwrap();
        assert!(s.reactions.is_empty() && s.body.is_none());
        let before = s.clone();
        assert!(s
            .edit(MessageBody::parse("again", 100, 100).unwrap(), 7)
            .is_err());
        assert!(s.delete(8).is_err());
        assert!(s.toggle(Emoji::parse("👍").unwrap(), &u).is_err());
        assert_eq!(s, before);
        let mut m = Message {
            sealed: None,
            room_id: s.room_id.clone(),
            message_id: s.message_id.clone(),
            seq: s.seq,
            sender_id: s.sender_id.clone(),
            body: MessageBody::parse("secret", 100, 100).unwrap(),
            sent_at: 1,
            client_msg_id: ClientMsgId::parse("c1").unwrap(),
            attachments: vec![crate::contract::attachment("a.png", "image/png", 10)],
            reply_to: None,
        };
        s.apply(&mut m);
        assert_eq!(m.body.as_str(), "");
        assert!(m.attachments.is_empty());
    }

    #[test]
    fn newest_per_message_keeps_the_last_state_of_each_seq() {
        let mut a = state();
        let mut b = state();
        b.seq = 1;
        a.change = 1;
        b.change = 2;
        let mut a2 = a.clone();
        a2.change = 3;
        let got = newest_per_message(vec![a, b, a2]);
        assert_eq!(
            got.iter().map(|s| (s.seq, s.change)).collect::<Vec<_>>(),
            [(1, 2), (3, 3)]
        );
    }
}
