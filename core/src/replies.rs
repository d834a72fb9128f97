//! Replies: a message may answer another message of the same room.
//!
//! The reply carries a [`ReplyPreview`] of its target, built by the server
//! when the reply is accepted (never taken from the client): the target's
//! `seq` and `messageId`, its sender, the first [`EXCERPT_CHARS`] characters
//! of its body and how many attachments it has. So a reader can show the
//! quote without loading the target.
//!
//! # A target deleted later
//!
//! The preview is a snapshot, so it would go on quoting a message its sender
//! deleted. It is resolved again whenever messages are *read* (history,
//! threads, `sync`): the target is looked up ([`crate::ports::MessageStore::get`],
//! one read per distinct target outside the page, only for replies), and a
//! target that is a tombstone (see [`is_tombstone`]) or gone turns the
//! preview into [`ReplyPreview::deleted`]: no excerpt, no attachment count,
//! `deleted: true`. Live, a client that gets a `messageDeleted` frame
//! updates the quotes of the target's seq it shows. Resolving on write (a
//! delete rewriting every reply) was the alternative: it costs a write per
//! reply at every delete and needs a reverse index the delete path would
//! have to read; reads of replies are cheaper to correct.
//!
//! # Sealed targets
//!
//! In an end-to-end encrypted room the server holds no text to quote: the
//! preview of a sealed target has an empty excerpt and `sealed: true`, and
//! copies none of the target's ciphertext; clients quote their own opened
//! copy. A sealed message is no tombstone ([`is_tombstone`]): its body is
//! empty, its seal is there until it is deleted.
//!
//! # Threads
//!
//! The replies to a message are listed by `seq`, paged
//! (`GET /rooms/{roomId}/messages/{seq}/replies`). The store keeps them
//! findable by target ([`crate::ports::MessageStore::replies`]). A reply
//! count per message is not stored: counting on every reply would need an
//! idempotent counter per target (persistence is at least once), and a
//! history page would read one counter per message. Clients count the
//! replies they hold and ask for the thread when they want all of it.

use serde::{Deserialize, Serialize};

use crate::error::ChatError;
use crate::ids::{MessageId, Seq, UserId};
use crate::model::Message;

/// How many characters of the target's body a preview quotes.
pub const EXCERPT_CHARS: usize = 100;

/// The quote a reply carries of its target.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyPreview {
    /// The target's seq in the same room.
    pub seq: Seq,
    pub message_id: MessageId,
    pub sender_id: UserId,
    /// The first characters of its body (at most [`EXCERPT_CHARS`]); empty
    /// when it had only attachments, or was deleted.
    pub excerpt: String,
    /// Whether the excerpt stops short of the whole body.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    #[serde(default)]
    pub attachment_count: u32,
    /// The target was deleted: render "deleted" instead of a quote.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// The target is sealed (an end-to-end encrypted room): the server
    /// has no text to quote, so `excerpt` is empty; clients quote their
    /// own opened copy of message `seq`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sealed: bool,
}

/// A message's seq as a path names it: a positive integer.
pub fn parse_seq(s: &str) -> Result<Seq, ChatError> {
    s.parse::<Seq>()
        .ok()
        .filter(|&s| s >= 1)
        .ok_or_else(|| ChatError::BadRequest("seq must be a positive integer".into()))
}

/// A message that a delete left behind: no body, no attachments and no
/// sealed content (a live message always has one of them).
pub fn is_tombstone(m: &Message) -> bool {
    m.body.as_str().is_empty() && m.attachments.is_empty() && m.sealed.is_none()
}

impl ReplyPreview {
    /// The preview of `target` as it is now.
    pub fn of(target: &Message) -> Self {
        if is_tombstone(target) {
            return Self::deleted(
                target.seq,
                target.message_id.clone(),
                target.sender_id.clone(),
            );
        }
        if target.sealed.is_some() {
            // Nothing the server could quote: the ciphertext stays with
            // the target, never copied into the reply.
            return Self {
                seq: target.seq,
                message_id: target.message_id.clone(),
                sender_id: target.sender_id.clone(),
                excerpt: String::new(),
                truncated: false,
                attachment_count: u32::try_from(target.attachments.len()).unwrap_or(u32::MAX),
                deleted: false,
                sealed: true,
            };
        }
        let body = target.body.as_str();
        let excerpt: String = body.chars().take(EXCERPT_CHARS).collect();
        Self {
            seq: target.seq,
            message_id: target.message_id.clone(),
            sender_id: target.sender_id.clone(),
            truncated: excerpt.len() < body.len(),
            excerpt,
            attachment_count: u32::try_from(target.attachments.len()).unwrap_or(u32::MAX),
            deleted: false,
            sealed: false,
        }
    }

    /// The preview of a deleted target.
    pub fn deleted(seq: Seq, message_id: MessageId, sender_id: UserId) -> Self {
        Self {
            seq,
            message_id,
            sender_id,
            excerpt: String::new(),
            truncated: false,
            attachment_count: 0,
            deleted: true,
            sealed: false,
        }
    }

    /// This preview corrected against its target as stored now: deleted when
    /// the target is a tombstone or no longer there, else unchanged (an edit
    /// of the target is shown by the target, not re-quoted).
    pub fn resolve(self, current: Option<&Message>) -> Self {
        match current {
            Some(t) if t.message_id == self.message_id && !is_tombstone(t) => self,
            _ => Self::deleted(self.seq, self.message_id, self.sender_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ClientMsgId, MessageBody, RoomId};

    fn msg(body: &str) -> Message {
        Message {
            sealed: None,
            room_id: RoomId::parse("r1").unwrap(),
            message_id: MessageId::generate(),
            seq: 3,
            sender_id: UserId::parse("alice").unwrap(),
            body: if body.is_empty() {
                MessageBody::empty()
            } else {
                MessageBody::parse(body, 4096, 4096).unwrap()
            },
            sent_at: 1,
            client_msg_id: ClientMsgId::parse("c1").unwrap(),
            attachments: Vec::new(),
            reply_to: None,
        }
    }

    #[test]
    fn the_excerpt_is_the_first_characters_counted_as_characters_not_bytes() {
        let long = "é".repeat(EXCERPT_CHARS + 5);
        let p = ReplyPreview::of(&msg(&long));
        assert_eq!(p.excerpt.chars().count(), EXCERPT_CHARS);
        assert!(p.truncated);
        let short = ReplyPreview::of(&msg("hi there"));
        assert_eq!(short.excerpt, "hi there");
        assert!(!short.truncated && !short.deleted);
    }

    #[test]
    fn a_target_of_files_only_is_quoted_by_its_count_of_attachments() {
        let mut target = msg("");
        target.attachments = vec![
            crate::contract::attachment("a.png", "image/png", 10),
            crate::contract::attachment("b.pdf", "application/pdf", 20),
        ];
        let p = ReplyPreview::of(&target);
        assert_eq!(
            (p.excerpt.as_str(), p.attachment_count, p.deleted),
            ("", 2, false)
        );
    }

    #[test]
    fn a_tombstoned_or_missing_target_resolves_to_deleted_and_quotes_nothing() {
        let target = msg("secret plans");
        let p = ReplyPreview::of(&target);
        assert_eq!(p.clone().resolve(Some(&target)), p);
        let gone = p.clone().resolve(None);
        assert!(gone.deleted && gone.excerpt.is_empty());
        let mut tomb = target.clone();
        tomb.body = MessageBody::empty();
        let dead = p.resolve(Some(&tomb));
        assert!(dead.deleted && dead.excerpt.is_empty() && dead.attachment_count == 0);
        assert_eq!(dead.seq, 3);
        assert!(ReplyPreview::of(&tomb).deleted);
    }
}
