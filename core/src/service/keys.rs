//! Device keys of end-to-end encrypted rooms for the REST API
//! (`/users/me/keys`, `GET /users/{userId}/keys`), the live `keysChanged`
//! frame, and the checks of a sealed message ([`crate::e2ee`]).

use std::collections::BTreeMap;

use futures::future::try_join_all;
use tracing::info;

use super::Chat;
use crate::auth::Identity;
use crate::authz::{authorize_account, AccountAction};
use crate::e2ee::{
    check_envelopes, keys_fingerprint, seal_digest, DeviceId, DeviceKey, KeyList,
    PublishKeyRequest, Sealed, MAX_DEVICES_PER_USER,
};
use crate::error::ChatError;
use crate::ids::{ClientMsgId, RoomId, UserId};
use crate::model::Membership;
use crate::protocol::ws::ServerFrame;

impl Chat {
    /// Publishes the caller's key of `device`: `true` when it is new or
    /// replaced a different key (the change is announced), `false` when
    /// the same key was published already (nothing changes).
    pub async fn publish_key(
        &self,
        actor: &Identity,
        device: &DeviceId,
        req: PublishKeyRequest,
    ) -> Result<(bool, DeviceKey), ChatError> {
        let me = &actor.user_id;
        // The bundle names its owner: only the caller may be it.
        authorize_account(me, AccountAction::DeviceKeys, &req.user_id)?;
        let current = self.keys.keys(me).await?;
        if let Some(k) = current
            .iter()
            .find(|k| &k.device_id == device && k.public_key == req.public_key)
        {
            return Ok((false, k.clone()));
        }
        let key = DeviceKey {
            user_id: me.clone(),
            device_id: device.clone(),
            public_key: req.public_key,
            created_at: self.clock.now(),
        };
        if !self.keys.put_key(&key).await? {
            return Err(ChatError::Conflict(format!(
                "a user publishes at most {MAX_DEVICES_PER_USER} device keys; remove one first"
            )));
        }
        info!(device_id = %device, "device key published");
        self.announce_keys(me).await?;
        Ok((true, key))
    }

    /// Removes the caller's key of `device`.
    pub async fn remove_key(&self, actor: &Identity, device: &DeviceId) -> Result<(), ChatError> {
        let me = &actor.user_id;
        authorize_account(me, AccountAction::DeviceKeys, me)?;
        if !self.keys.delete_key(me, device).await? {
            return Err(ChatError::NotFound("device key"));
        }
        info!(device_id = %device, "device key removed");
        self.announce_keys(me).await
    }

    /// A user's device keys: public, so any signed-in user may read them
    /// (a sender seals to the keys of the person they write to).
    pub async fn list_keys(&self, _actor: &Identity, user: &UserId) -> Result<KeyList, ChatError> {
        let devices = self.keys.keys(user).await?;
        Ok(KeyList {
            user_id: user.clone(),
            fingerprint: keys_fingerprint(&devices),
            devices,
        })
    }

    /// Tells `user`'s devices, and the other member of each of their
    /// direct rooms, that `user`'s keys changed (best effort: a client that
    /// misses it learns it from the listing, or from a refused send).
    async fn announce_keys(&self, user: &UserId) -> Result<(), ChatError> {
        let keys = self.keys.keys(user).await?;
        let rooms = self.rooms.rooms_of(user).await?;
        let direct: Vec<&Membership> = rooms.iter().filter(|m| m.room_id.is_direct()).collect();
        let members = try_join_all(direct.iter().map(|m| self.rooms.members(&m.room_id))).await?;
        let mut to: Vec<UserId> = members
            .into_iter()
            .flatten()
            .map(|m| m.user_id)
            .filter(|u| u != user)
            .collect();
        to.sort();
        to.dedup();
        to.push(user.clone());
        let frame = ServerFrame::KeysChanged {
            user_id: user.clone(),
            fingerprint: keys_fingerprint(&keys),
        };
        self.deliver_to_users(&to, None, &frame).await;
        Ok(())
    }

    /// The check of a sealed message to `members`, changing nothing:
    /// envelopes for exactly the members' current devices. (That no other
    /// message of the room carries its ciphertext is
    /// [`Chat::claim_sealed`], once every check passed.)
    pub(crate) async fn check_sealed(
        &self,
        members: &[UserId],
        sealed: &Sealed,
    ) -> Result<(), ChatError> {
        let lists = try_join_all(members.iter().map(|u| self.keys.keys(u))).await?;
        let keys: BTreeMap<UserId, Vec<DeviceKey>> = members.iter().cloned().zip(lists).collect();
        check_envelopes(&sealed.envelopes, &keys)
    }

    /// Claims a sealed message's nonce and ciphertext for `sender` and
    /// `client_msg_id` in `room` (the replay guard), once every check of
    /// the message has passed.
    pub(crate) async fn claim_sealed(
        &self,
        room: &RoomId,
        sender: &UserId,
        client_msg_id: &ClientMsgId,
        sealed: &Sealed,
    ) -> Result<(), ChatError> {
        if !self
            .keys
            .claim_seal(room, &seal_digest(sealed), sender, client_msg_id)
            .await?
        {
            return Err(ChatError::Conflict(
                "replayed ciphertext: this nonce and ciphertext were sent already".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use serde_json::Value;
    use tokio::sync::mpsc::UnboundedReceiver;

    use super::*;
    use crate::config::Limits;
    use crate::e2ee::tests::{envelope, G};
    use crate::e2ee::{Ciphertext, Nonce, PublicKey};
    use crate::ids::ConnectionId;
    use crate::model::RoomKind;
    use crate::protocol::rest::CreateRoomRequest;
    use crate::protocol::ws::{ClientFrame, EditMessage, SendMessage};
    use crate::service::MemoryBackends;
    use crate::Caller;

    /// Another valid point: 2·G.
    pub(crate) const G2: &str =
        "BHzyexiNA09-ilI4AwS1GsPAiWnid_IbNaYLSPxHZpl4B3dVENuO0EApPZrGn3Qw27p9reY86YIpngS3nSJ4c9E";

    /// A connected user of a test (also `service::sealed_files` and
    /// `service::e2ee_edits`).
    pub(crate) struct Person {
        pub(crate) id: Identity,
        pub(crate) caller: Caller,
        pub(crate) inbox: UnboundedReceiver<String>,
    }

    impl Person {
        pub(crate) fn frames(&mut self) -> Vec<Value> {
            let mut out = Vec::new();
            while let Ok(f) = self.inbox.try_recv() {
                out.push(serde_json::from_str(&f).unwrap());
            }
            out
        }
    }

    pub(crate) async fn person(chat: &Chat, mem: &MemoryBackends, name: &str) -> Person {
        let id = Identity {
            user_id: UserId::parse(name).unwrap(),
            name: None,
        };
        let conn = ConnectionId::parse(&format!("{name}=")).unwrap();
        let inbox = mem.pusher.open(&conn);
        chat.connect(conn.clone(), &id).await.unwrap();
        Person {
            caller: Caller {
                user_id: id.user_id.clone(),
                connection_id: conn,
                expires_at: 0,
            },
            id,
            inbox,
        }
    }

    pub(crate) fn publish(user: &str, key: &str) -> PublishKeyRequest {
        PublishKeyRequest {
            user_id: UserId::parse(user).unwrap(),
            public_key: PublicKey::parse(key).unwrap(),
        }
    }

    pub(crate) fn dev(d: &str) -> DeviceId {
        DeviceId::parse(d).unwrap()
    }

    pub(crate) fn sealed(fill: u8, envelopes: &[(&str, &str)]) -> Box<Sealed> {
        Box::new(Sealed {
            v: 1,
            nonce: Nonce::parse(&URL_SAFE_NO_PAD.encode([fill; 12])).unwrap(),
            ciphertext: Ciphertext::parse(&URL_SAFE_NO_PAD.encode([fill; 40])).unwrap(),
            envelopes: envelopes.iter().map(|(u, d)| envelope(u, d)).collect(),
        })
    }

    pub(crate) fn send(
        room: &RoomId,
        cmid: &str,
        body: &str,
        s: Option<Box<Sealed>>,
    ) -> SendMessage {
        SendMessage {
            room_id: room.clone(),
            client_msg_id: ClientMsgId::parse(cmid).unwrap(),
            body: body.into(),
            attachments: Vec::new(),
            reply_to: None,
            sealed: s,
        }
    }

    pub(crate) async fn direct(chat: &Chat, by: &Person, to: &Person, encrypted: bool) -> RoomId {
        chat.create_room(
            &by.id,
            CreateRoomRequest {
                name: None,
                kind: RoomKind::Direct,
                members: vec![to.id.user_id.clone()],
                encrypted,
            },
        )
        .await
        .unwrap()
        .1
        .room
        .room_id
    }

    pub(crate) fn conflict_naming(r: Result<(), ChatError>, what: &str) {
        assert!(
            matches!(&r, Err(ChatError::Conflict(m)) if m.contains(what)),
            "{what}: {r:?}"
        );
    }

    #[tokio::test]
    async fn keys_are_published_by_their_owner_bounded_and_announced() {
        let (chat, mem) = Chat::in_memory(Limits::default());
        let mut alice = person(&chat, &mem, "alice").await;
        let mut bob = person(&chat, &mem, "bob").await;
        let mut carol = person(&chat, &mem, "carol").await;
        direct(&chat, &alice, &bob, true).await;
        for p in [&mut alice, &mut bob, &mut carol] {
            p.frames();
        }

        // A bundle naming someone else is refused, and nothing is stored.
        let r = chat
            .publish_key(&alice.id, &dev("laptop"), publish("bob", G))
            .await;
        assert!(matches!(r, Err(ChatError::Forbidden(_))), "{r:?}");
        assert!(chat.keys.keys(&bob.id.user_id).await.unwrap().is_empty());
        assert!(chat.keys.keys(&alice.id.user_id).await.unwrap().is_empty());

        let (new, k) = chat
            .publish_key(&alice.id, &dev("laptop"), publish("alice", G))
            .await
            .unwrap();
        assert!(new);
        assert_eq!(k.user_id, alice.id.user_id);
        let list = chat.list_keys(&bob.id, &alice.id.user_id).await.unwrap();
        assert_eq!(list.devices, vec![k.clone()]);
        // The peer of her direct room and her own devices learn it; a
        // stranger does not.
        let seen = |frames: Vec<Value>| {
            frames
                .into_iter()
                .filter(|f| f["type"] == "keysChanged")
                .map(|f| f["fingerprint"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(seen(bob.frames()), vec![list.fingerprint.clone()]);
        assert_eq!(seen(alice.frames()), vec![list.fingerprint.clone()]);
        assert!(seen(carol.frames()).is_empty());

        // The same key again changes nothing and says nothing.
        let (again, _) = chat
            .publish_key(&alice.id, &dev("laptop"), publish("alice", G))
            .await
            .unwrap();
        assert!(!again);
        assert!(seen(bob.frames()).is_empty());
        // A new key for the device is a change.
        chat.publish_key(&alice.id, &dev("laptop"), publish("alice", G2))
            .await
            .unwrap();
        let after = chat.list_keys(&bob.id, &alice.id.user_id).await.unwrap();
        assert_ne!(after.fingerprint, list.fingerprint);
        assert_eq!(seen(bob.frames()), vec![after.fingerprint]);

        // Bounded per user.
        for i in 1..MAX_DEVICES_PER_USER {
            chat.publish_key(&alice.id, &dev(&format!("d{i}")), publish("alice", G))
                .await
                .unwrap();
        }
        let r = chat
            .publish_key(&alice.id, &dev("one-too-many"), publish("alice", G))
            .await;
        assert!(matches!(r, Err(ChatError::Conflict(_))), "{r:?}");
        // Removing: own devices only, a missing one is not found.
        assert!(matches!(
            chat.remove_key(&alice.id, &dev("nope")).await,
            Err(ChatError::NotFound("device key"))
        ));
        chat.remove_key(&alice.id, &dev("d1")).await.unwrap();
        assert_eq!(
            chat.list_keys(&alice.id, &alice.id.user_id)
                .await
                .unwrap()
                .devices
                .len(),
            MAX_DEVICES_PER_USER - 1
        );
        assert!(matches!(
            chat.remove_key(&bob.id, &dev("d2")).await,
            Err(ChatError::NotFound("device key"))
        ));

        // A malformed point never reaches the service: the body is refused.
        let mut bytes = URL_SAFE_NO_PAD.decode(G).unwrap();
        bytes[64] ^= 1;
        let body =
            serde_json::json!({"userId": "alice", "publicKey": URL_SAFE_NO_PAD.encode(&bytes)});
        assert!(serde_json::from_value::<PublishKeyRequest>(body).is_err());
    }

    /// Every bad input to an encrypted room is refused, nothing is
    /// reserved, and what is stored is the sealed payload only.
    #[tokio::test]
    async fn encrypted_direct_rooms_take_exactly_sealed_messages() {
        let (chat, mem) = Chat::in_memory(Limits::default());
        let mut alice = person(&chat, &mem, "alice").await;
        let mut bob = person(&chat, &mem, "bob").await;
        let plain = direct(&chat, &alice, &bob, false).await;
        let dm = direct(&chat, &alice, &bob, true).await;
        assert!(dm.is_encrypted() && dm.is_direct() && !plain.is_encrypted());
        assert_ne!(dm, plain);
        for (p, d, k) in [(&alice, "a1", G), (&alice, "a2", G2), (&bob, "b1", G)] {
            chat.publish_key(&p.id, &dev(d), publish(p.id.user_id.as_str(), k))
                .await
                .unwrap();
        }
        let all = [("alice", "a1"), ("alice", "a2"), ("bob", "b1")];
        alice.frames();
        bob.frames();

        // Plaintext into the encrypted room: with or without a seal.
        let r = chat
            .send_message(&alice.caller, send(&dm, "c0", "hello", None))
            .await;
        assert!(
            matches!(&r, Err(ChatError::BadRequest(m)) if m.contains("sealed")),
            "{r:?}"
        );
        let r = chat
            .send_message(
                &alice.caller,
                send(&dm, "c0", "hello", Some(sealed(1, &all))),
            )
            .await;
        assert!(
            matches!(&r, Err(ChatError::BadRequest(m)) if m.contains("plaintext")),
            "{r:?}"
        );
        // A seal into a plain room.
        let r = chat
            .send_message(&alice.caller, send(&plain, "c0", "", Some(sealed(1, &all))))
            .await;
        assert!(matches!(r, Err(ChatError::BadRequest(_))), "{r:?}");
        // Envelopes for a device that does not exist, or leaving one out.
        conflict_naming(
            chat.send_message(
                &alice.caller,
                send(
                    &dm,
                    "c0",
                    "",
                    Some(sealed(
                        1,
                        &[
                            ("alice", "a1"),
                            ("alice", "a2"),
                            ("bob", "b1"),
                            ("bob", "ghost"),
                        ],
                    )),
                ),
            )
            .await,
            "bob/ghost",
        );
        conflict_naming(
            chat.send_message(
                &alice.caller,
                send(
                    &dm,
                    "c0",
                    "",
                    Some(sealed(1, &[("alice", "a1"), ("bob", "b1")])),
                ),
            )
            .await,
            "alice/a2",
        );
        // An envelope for someone who is not in the room.
        conflict_naming(
            chat.send_message(
                &alice.caller,
                send(
                    &dm,
                    "c0",
                    "",
                    Some(sealed(
                        1,
                        &[
                            ("alice", "a1"),
                            ("alice", "a2"),
                            ("bob", "b1"),
                            ("carol", "c1"),
                        ],
                    )),
                ),
            )
            .await,
            "carol/c1",
        );
        // A reply to a message that does not exist: refused before the
        // seal is claimed.
        let mut with_reply = send(&dm, "c0", "", Some(sealed(1, &all)));
        with_reply.reply_to = Some(1);
        assert!(matches!(
            chat.send_message(&alice.caller, with_reply).await,
            Err(ChatError::NotFound(_))
        ));
        assert_eq!(
            chat.messages.last_seq(&dm).await.unwrap(),
            0,
            "nothing reserved"
        );
        assert_eq!(mem.keys.seal_count(), 0, "nothing claimed");

        chat.send_message(&alice.caller, send(&dm, "c1", "", Some(sealed(1, &all))))
            .await
            .unwrap();
        // Bob gets the sealed payload and no body.
        let got: Vec<Value> = bob
            .frames()
            .into_iter()
            .filter(|f| f["type"] == "message")
            .collect();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0]["body"], "");
        assert_eq!(got[0]["sealed"]["envelopes"].as_array().unwrap().len(), 3);
        // A resend of the same clientMsgId stays idempotent.
        chat.send_message(&alice.caller, send(&dm, "c1", "", Some(sealed(1, &all))))
            .await
            .unwrap();
        let acks: Vec<Value> = alice
            .frames()
            .into_iter()
            .filter(|f| f["type"] == "ack")
            .map(|f| f["seq"].clone())
            .collect();
        assert_eq!(
            acks,
            vec![Value::from(1), Value::from(1)],
            "one message, acked twice"
        );
        // The same ciphertext under a new clientMsgId is a replay; by the
        // other member too.
        conflict_naming(
            chat.send_message(&alice.caller, send(&dm, "c2", "", Some(sealed(1, &all))))
                .await,
            "replayed",
        );
        conflict_naming(
            chat.send_message(&bob.caller, send(&dm, "c1", "", Some(sealed(1, &all))))
                .await,
            "replayed",
        );
        chat.send_message(&bob.caller, send(&dm, "c2", "", Some(sealed(2, &all))))
            .await
            .unwrap();
        // Edits would carry plaintext: refused.
        let r = chat
            .edit_message(
                &alice.caller,
                EditMessage {
                    room_id: dm.clone(),
                    seq: 1,
                    body: "changed".into(),
                    sealed: None,
                },
            )
            .await;
        assert!(matches!(r, Err(ChatError::BadRequest(_))), "{r:?}");

        // What is stored: no body, the seal; and the search index never
        // gets an entry.
        let jobs: Vec<(String, String)> = mem
            .queue
            .take(100)
            .into_iter()
            .map(|j| (j.id, j.body))
            .collect();
        chat.persist_batch(&jobs).await;
        let stored = chat.messages.get(&dm, 1).await.unwrap().unwrap();
        assert_eq!(stored.body.as_str(), "");
        assert_eq!(stored.sealed, Some(sealed(1, &all)));
        assert!(crate::search::IndexEntry::of(&stored).is_none());
    }

    #[tokio::test]
    async fn oversize_and_malformed_sealed_frames_are_refused_on_decode() {
        let dm = RoomId::parse("dme_00").unwrap();
        let env = serde_json::to_value(envelope("a", "d")).unwrap();
        let frame = |ciphertext: String, envelopes: Value| {
            serde_json::json!({"action":"sendMessage","roomId":dm,"clientMsgId":"c","body":"",
                "sealed":{"v":1,"nonce":"AAAAAAAAAAAAAAAA","ciphertext":ciphertext,"envelopes":envelopes}})
            .to_string()
        };
        let ok = URL_SAFE_NO_PAD.encode([1u8; 32]);
        assert!(ClientFrame::decode(&frame(ok.clone(), Value::Array(vec![env.clone()]))).is_ok());
        let big = URL_SAFE_NO_PAD.encode(vec![1u8; crate::e2ee::MAX_SEALED_BYTES + 1]);
        assert!(ClientFrame::decode(&frame(big, Value::Array(vec![env.clone()]))).is_err());
        let mut bad = env.clone();
        bad["ephemeralKey"] = Value::String(URL_SAFE_NO_PAD.encode([4u8; 65]));
        assert!(ClientFrame::decode(&frame(ok.clone(), Value::Array(vec![bad]))).is_err());
        let mut short = env;
        short["wrappedKey"] = Value::String("AAAA".into());
        assert!(ClientFrame::decode(&frame(ok, Value::Array(vec![short]))).is_err());
    }

    #[tokio::test]
    async fn a_block_holds_in_an_encrypted_direct_room() {
        let (chat, mem) = Chat::in_memory(Limits::default());
        let alice = person(&chat, &mem, "alice").await;
        let bob = person(&chat, &mem, "bob").await;
        let dm = direct(&chat, &alice, &bob, true).await;
        for (p, d) in [(&alice, "a1"), (&bob, "b1")] {
            chat.publish_key(&p.id, &dev(d), publish(p.id.user_id.as_str(), G))
                .await
                .unwrap();
        }
        let all = [("alice", "a1"), ("bob", "b1")];
        chat.block_user(&bob.id, &alice.id.user_id).await.unwrap();
        for (who, s) in [(&alice, 1u8), (&bob, 2)] {
            let r = chat
                .send_message(&who.caller, send(&dm, "c1", "", Some(sealed(s, &all))))
                .await;
            assert!(matches!(r, Err(ChatError::Forbidden(_))), "{r:?}");
        }
        // Nor can the room be opened (again) across the block.
        let r = chat
            .create_room(
                &alice.id,
                CreateRoomRequest {
                    name: None,
                    kind: RoomKind::Direct,
                    members: vec![bob.id.user_id.clone()],
                    encrypted: true,
                },
            )
            .await;
        assert!(matches!(r, Err(ChatError::Forbidden(_))), "{r:?}");
        assert_eq!(chat.messages.last_seq(&dm).await.unwrap(), 0);
        // Unblocked, it works.
        chat.unblock_user(&bob.id, &alice.id.user_id).await.unwrap();
        chat.send_message(&alice.caller, send(&dm, "c1", "", Some(sealed(1, &all))))
            .await
            .unwrap();
        // Groups and channels cannot be encrypted.
        let r = chat
            .create_room(
                &alice.id,
                CreateRoomRequest {
                    name: Some("g".into()),
                    kind: RoomKind::Group,
                    members: vec![],
                    encrypted: true,
                },
            )
            .await;
        assert!(matches!(r, Err(ChatError::BadRequest(_))), "{r:?}");
    }
}
