//! Edits in end-to-end encrypted direct rooms: the checks of a sealed
//! `editMessage` (docs/PROTOCOL.md, "End-to-end encrypted direct rooms").
//! The edit itself goes through the one change path
//! ([`super::changes`]); what differs is what it carries: no body, a
//! [`Sealed`] payload whose ciphertext is bound to the room, the sender and
//! the message's `seq` ([`crate::e2ee::edit_aad`]), checked like a send's
//! (shape, envelopes for exactly the members' current devices, and the
//! replay guard), after the caller is authorized.

use super::Chat;
use crate::e2ee::Sealed;
use crate::error::ChatError;
use crate::ids::{ClientMsgId, MessageId, RoomId, UserId};

impl Chat {
    /// The shape of an encrypted room's edit: `"body": ""` and a
    /// well-formed `sealed`. Nothing is read or written.
    pub(crate) fn sealed_edit_shape(
        body: String,
        sealed: Option<Box<Sealed>>,
    ) -> Result<Box<Sealed>, ChatError> {
        let Some(sealed) = sealed else {
            return Err(ChatError::BadRequest(
                "an end-to-end encrypted room takes sealed edits only".into(),
            ));
        };
        if !body.is_empty() {
            return Err(ChatError::BadRequest(
                "an end-to-end encrypted room takes no plaintext body: edit with \"body\":\"\" and the content sealed".into(),
            ));
        }
        sealed.check_shape()?;
        Ok(sealed)
    }

    /// The envelopes and the replay guard of a sealed edit by `sender` in
    /// `room` to `members`. An edit has no `clientMsgId`: its ciphertext is
    /// claimed under a fresh token, so the same nonce and ciphertext can
    /// never be accepted twice in the room (as a send, or as any edit,
    /// this one resent included).
    pub(crate) async fn check_sealed_edit(
        &self,
        room: &RoomId,
        sender: &UserId,
        members: &[UserId],
        sealed: &Sealed,
    ) -> Result<(), ChatError> {
        self.check_sealed(members, sealed).await?;
        let token = ClientMsgId::parse(&format!("edit:{}", MessageId::generate()))?;
        self.claim_sealed(room, sender, &token, sealed).await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::config::Limits;
    use crate::e2ee::tests::G;
    use crate::protocol::ws::{DeleteMessage, EditMessage, SyncRequest, SyncRoom};
    use crate::service::keys::tests::{
        conflict_naming, dev, direct, person, publish, sealed, send, Person, G2,
    };
    use crate::service::{HistoryQuery, MemoryBackends};

    const ALL: [(&str, &str); 3] = [("alice", "a1"), ("alice", "a2"), ("bob", "b1")];

    fn edit(room: &RoomId, seq: u64, body: &str, s: Option<Box<Sealed>>) -> EditMessage {
        EditMessage {
            room_id: room.clone(),
            seq,
            body: body.into(),
            sealed: s,
        }
    }

    /// Alice (two devices) and Bob (one), their encrypted and plain direct
    /// rooms, and Alice's first sealed message (seq 1) of the encrypted one,
    /// stored.
    async fn setup() -> (Chat, MemoryBackends, Person, Person, RoomId, RoomId) {
        let (chat, mem) = Chat::in_memory(Limits::default());
        let mut alice = person(&chat, &mem, "alice").await;
        let mut bob = person(&chat, &mem, "bob").await;
        let plain = direct(&chat, &alice, &bob, false).await;
        let dm = direct(&chat, &alice, &bob, true).await;
        for (p, d, k) in [(&alice, "a1", G), (&alice, "a2", G2), (&bob, "b1", G)] {
            chat.publish_key(&p.id, &dev(d), publish(p.id.user_id.as_str(), k))
                .await
                .unwrap();
        }
        chat.send_message(&alice.caller, send(&dm, "c1", "", Some(sealed(1, &ALL))))
            .await
            .unwrap();
        persist(&chat, &mem).await;
        alice.frames();
        bob.frames();
        (chat, mem, alice, bob, dm, plain)
    }

    async fn persist(chat: &Chat, mem: &MemoryBackends) {
        let jobs: Vec<(String, String)> = mem
            .queue
            .take(100)
            .into_iter()
            .map(|j| (j.id, j.body))
            .collect();
        chat.persist_batch(&jobs).await;
    }

    /// A sync of `room` past its first message, from change 0.
    fn since_change_0(room: &RoomId) -> SyncRequest {
        SyncRequest {
            rooms: vec![SyncRoom {
                room_id: room.clone(),
                after_seq: 1,
                after_change: Some(0),
            }],
        }
    }

    fn of_type(frames: Vec<Value>, ty: &str) -> Vec<Value> {
        frames.into_iter().filter(|f| f["type"] == ty).collect()
    }

    /// Message `seq` of `room` as `p` reads it in history.
    async fn read(chat: &Chat, p: &Person, room: &RoomId, seq: u64) -> Value {
        let page = chat
            .history(&p.id, room, HistoryQuery::default())
            .await
            .unwrap();
        let m = page.messages.into_iter().find(|m| m.seq == seq).unwrap();
        serde_json::to_value(m).unwrap()
    }

    #[tokio::test]
    async fn every_bad_edit_is_refused_and_changes_nothing() {
        let (chat, mem, alice, mut bob, dm, plain) = setup().await;
        let claimed = mem.keys.seal_count();
        let before = read(&chat, &bob, &dm, 1).await;

        // Plaintext in the encrypted room: alone, or beside a seal.
        let r = chat
            .edit_message(&alice.caller, edit(&dm, 1, "new words", None))
            .await;
        assert!(
            matches!(&r, Err(ChatError::BadRequest(m)) if m.contains("sealed")),
            "{r:?}"
        );
        let r = chat
            .edit_message(
                &alice.caller,
                edit(&dm, 1, "new words", Some(sealed(3, &ALL))),
            )
            .await;
        assert!(
            matches!(&r, Err(ChatError::BadRequest(m)) if m.contains("plaintext")),
            "{r:?}"
        );
        // A seal in a plain room.
        chat.send_message(&alice.caller, send(&plain, "p1", "plain words", None))
            .await
            .unwrap();
        persist(&chat, &mem).await;
        let r = chat
            .edit_message(&alice.caller, edit(&plain, 1, "", Some(sealed(3, &ALL))))
            .await;
        assert!(
            matches!(&r, Err(ChatError::BadRequest(m)) if m.contains("encrypted rooms only")),
            "{r:?}"
        );
        assert_eq!(read(&chat, &alice, &plain, 1).await["body"], "plain words");
        // Someone else's message.
        let r = chat
            .edit_message(&bob.caller, edit(&dm, 1, "", Some(sealed(3, &ALL))))
            .await;
        assert!(matches!(r, Err(ChatError::Forbidden(_))), "{r:?}");
        // Stale envelopes: a device gone, a device left out.
        conflict_naming(
            chat.edit_message(
                &alice.caller,
                edit(
                    &dm,
                    1,
                    "",
                    Some(sealed(3, &[("alice", "a1"), ("bob", "b1"), ("bob", "b9")])),
                ),
            )
            .await,
            "bob/b9",
        );
        conflict_naming(
            chat.edit_message(
                &alice.caller,
                edit(
                    &dm,
                    1,
                    "",
                    Some(sealed(3, &[("alice", "a1"), ("bob", "b1")])),
                ),
            )
            .await,
            "alice/a2",
        );
        // The ciphertext of the send, replayed as an edit.
        conflict_naming(
            chat.edit_message(&alice.caller, edit(&dm, 1, "", Some(sealed(1, &ALL))))
                .await,
            "replayed",
        );
        // A malformed seal.
        let r = chat
            .edit_message(&alice.caller, edit(&dm, 1, "", Some(sealed(3, &[]))))
            .await;
        assert!(matches!(r, Err(ChatError::BadRequest(_))), "{r:?}");

        assert!(chat.changes.state(&dm, 1).await.unwrap().is_none());
        assert_eq!(chat.changes.last_change(&dm).await.unwrap(), 0);
        assert_eq!(mem.keys.seal_count(), claimed, "no ciphertext claimed");
        assert!(of_type(bob.frames(), "messageEdited").is_empty());
        assert_eq!(read(&chat, &bob, &dm, 1).await, before);
    }

    #[tokio::test]
    async fn a_sealed_edit_reaches_members_history_and_sync_and_is_never_replayed() {
        let (chat, mem, mut alice, mut bob, dm, _) = setup().await;
        let claimed = mem.keys.seal_count();
        chat.sync(&bob.caller, since_change_0(&dm)).await.unwrap();
        bob.frames();

        chat.edit_message(&alice.caller, edit(&dm, 1, "", Some(sealed(3, &ALL))))
            .await
            .unwrap();
        assert_eq!(mem.keys.seal_count(), claimed + 1);
        let want = serde_json::to_value(sealed(3, &ALL)).unwrap();
        for p in [&mut alice, &mut bob] {
            let got = of_type(p.frames(), "messageEdited");
            assert_eq!(got.len(), 1);
            assert_eq!(got[0]["body"], "");
            assert_eq!(got[0]["sealed"], want);
            assert!(got[0]["editedAt"].is_number());
        }
        let m = read(&chat, &bob, &dm, 1).await;
        assert_eq!(
            (&m["body"], &m["sealed"], &m["seq"]),
            (&"".into(), &want, &1.into())
        );
        assert!(m["editedAt"].is_number());
        assert_eq!(m["clientMsgId"], "c1", "the message keeps its ids");

        // A client that was away gets it in sync's changes.
        chat.sync(&bob.caller, since_change_0(&dm)).await.unwrap();
        let f = of_type(bob.frames(), "syncResult").pop().unwrap();
        let changes = f["changes"].as_array().unwrap();
        assert_eq!(changes.len(), 1, "{f}");
        assert_eq!(
            (&changes[0]["body"], &changes[0]["sealed"]),
            (&"".into(), &want)
        );

        // The same edit again (a resend, or a replay of it to revert a later
        // edit) is refused: a ciphertext is accepted once in the room.
        conflict_naming(
            chat.edit_message(&alice.caller, edit(&dm, 1, "", Some(sealed(3, &ALL))))
                .await,
            "replayed",
        );
        chat.edit_message(&alice.caller, edit(&dm, 1, "", Some(sealed(4, &ALL))))
            .await
            .unwrap();
        conflict_naming(
            chat.edit_message(&alice.caller, edit(&dm, 1, "", Some(sealed(3, &ALL))))
                .await,
            "replayed",
        );
        // Nor may an edit's ciphertext be sent as a message.
        conflict_naming(
            chat.send_message(&alice.caller, send(&dm, "c9", "", Some(sealed(4, &ALL))))
                .await,
            "replayed",
        );

        // Deleted: no seal is served any more, the edit's neither.
        chat.delete_message(
            &alice.caller,
            DeleteMessage {
                room_id: dm.clone(),
                seq: 1,
            },
        )
        .await
        .unwrap();
        let m = read(&chat, &bob, &dm, 1).await;
        assert!(
            m.get("sealed").is_none() && m["deletedAt"].is_number(),
            "{m}"
        );
        let r = chat
            .edit_message(&alice.caller, edit(&dm, 1, "", Some(sealed(5, &ALL))))
            .await;
        assert!(matches!(r, Err(ChatError::Conflict(_))), "{r:?}");
    }

    #[tokio::test]
    async fn replies_in_encrypted_rooms_quote_no_text_and_threads_list_them() {
        let (chat, mem, alice, mut bob, dm, _) = setup().await;
        let claimed = mem.keys.seal_count();
        // A target that is not a message of the room: refused, nothing
        // claimed or reserved.
        let mut bad = send(&dm, "r0", "", Some(sealed(7, &ALL)));
        bad.reply_to = Some(99);
        let r = chat.send_message(&bob.caller, bad).await;
        assert!(matches!(r, Err(ChatError::NotFound(_))), "{r:?}");
        assert_eq!(mem.keys.seal_count(), claimed);
        assert_eq!(chat.messages.last_seq(&dm).await.unwrap(), 1);

        let mut reply = send(&dm, "r1", "", Some(sealed(7, &ALL)));
        reply.reply_to = Some(1);
        chat.send_message(&bob.caller, reply).await.unwrap();
        persist(&chat, &mem).await;
        let ack = of_type(bob.frames(), "ack").pop().unwrap();
        let quote = serde_json::json!({"seq":1,"messageId":read(&chat, &alice, &dm, 1).await["messageId"],
            "senderId":"alice","excerpt":"","attachmentCount":0,"sealed":true});
        assert_eq!(ack["replyTo"], quote);
        // Stored: the quote holds no text and none of the target's seal.
        let stored = chat.messages.get(&dm, 2).await.unwrap().unwrap();
        let text = serde_json::to_string(&stored.reply_to).unwrap();
        assert!(
            !text.contains(sealed(1, &ALL).ciphertext.as_str()),
            "{text}"
        );
        assert_eq!(serde_json::to_value(&stored.reply_to).unwrap(), quote);
        assert_eq!(read(&chat, &alice, &dm, 2).await["replyTo"], quote);

        // The thread of the target lists it.
        let page = chat
            .thread(&alice.id, &dm, 1, crate::service::ThreadQuery::default())
            .await
            .unwrap();
        assert_eq!(page.replies.iter().map(|m| m.seq).collect::<Vec<_>>(), [2]);
        assert_eq!(page.target.map(|t| t.seq), Some(1));

        // The target deleted: the quote reads deleted.
        chat.delete_message(
            &alice.caller,
            DeleteMessage {
                room_id: dm.clone(),
                seq: 1,
            },
        )
        .await
        .unwrap();
        let q = &read(&chat, &bob, &dm, 2).await["replyTo"];
        assert_eq!(
            (&q["deleted"], &q["excerpt"]),
            (&true.into(), &"".into()),
            "{q}"
        );
        assert!(q.get("sealed").is_none(), "{q}");
        // And a reply to it now is refused.
        let mut late = send(&dm, "r2", "", Some(sealed(8, &ALL)));
        late.reply_to = Some(1);
        let r = chat.send_message(&bob.caller, late).await;
        assert!(matches!(r, Err(ChatError::Conflict(_))), "{r:?}");
    }
}
