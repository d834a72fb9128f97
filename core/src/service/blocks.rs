//! Blocks over REST (`/users/me/blocks`), and what the other services ask
//! of them: what stands between a user and the other member of a direct
//! room, and whom a user's presence, typing or messages may reach. Every
//! decision is [`crate::authz`]'s; this module only reads the blocks it
//! needs, once per action: one read of the acting user's entries answers
//! both directions ([`crate::ports::BlockStore::relations`]).

use std::collections::BTreeSet;

use super::Chat;
use crate::auth::Identity;
use crate::authz::{authorize_account, authorize_peer, AccountAction, PeerAction};
use crate::block::{Between, Block, Relations, MAX_BLOCKS};
use crate::error::ChatError;
use crate::ids::UserId;
use crate::model::{Room, RoomKind};
use crate::protocol::rest::{BlockList, BlockView};

fn view(b: &Block) -> BlockView {
    BlockView {
        user_id: b.target_id.clone(),
        created_at: b.created_at,
    }
}

impl Chat {
    /// The caller blocks `target`. `true` when the block is new (a block
    /// that exists already is answered as it stands, changed nowhere).
    pub async fn block_user(
        &self,
        actor: &Identity,
        target: &UserId,
    ) -> Result<(bool, BlockView), ChatError> {
        let me = &actor.user_id;
        authorize_account(me, AccountAction::Blocks, me)?;
        let mine = self.blocks.relations(me).await?;
        authorize_peer(me, PeerAction::Block, target, mine.between(target))?;
        if let Some(existing) = mine.blocks.get(target) {
            return Ok((false, view(existing)));
        }
        if self.profiles.get(target).await?.is_none() {
            return Err(ChatError::NotFound("user"));
        }
        let block = Block {
            user_id: me.clone(),
            target_id: target.clone(),
            created_at: self.clock.now(),
        };
        if !self.blocks.block(&block).await? {
            // Either a concurrent block of the same person won (answer it),
            // or the list is full.
            let now = self.blocks.relations(me).await?;
            return match now.blocks.get(target) {
                Some(existing) => Ok((false, view(existing))),
                None => Err(ChatError::Conflict(format!(
                    "at most {MAX_BLOCKS} blocks per user: unblock someone first"
                ))),
            };
        }
        tracing::info!(target_id = %target, "user blocked");
        Ok((true, view(&block)))
    }

    pub async fn unblock_user(&self, actor: &Identity, target: &UserId) -> Result<(), ChatError> {
        let me = &actor.user_id;
        authorize_account(me, AccountAction::Blocks, me)?;
        if self.blocks.unblock(me, target).await? {
            tracing::info!(target_id = %target, "user unblocked");
            Ok(())
        } else {
            Err(ChatError::NotFound("block"))
        }
    }

    /// Whom the caller blocks (never who blocks them).
    pub async fn list_blocks(&self, actor: &Identity) -> Result<BlockList, ChatError> {
        let me = &actor.user_id;
        authorize_account(me, AccountAction::Blocks, me)?;
        let mine = self.blocks.relations(me).await?;
        Ok(BlockList {
            blocks: mine.blocks.values().map(view).collect(),
        })
    }

    /// What stands between `actor` and the other member of `room` when it
    /// is a direct room (else [`Between::Clear`]), from the actor's
    /// `relations`: a direct room's id is derived from its pair
    /// ([`crate::ids::RoomId::direct`]), so the other member is the one separated user
    /// whose pair with the actor gives this id, and no member list is read.
    pub(crate) fn direct_peer(relations: &Relations, actor: &UserId, room: &Room) -> Between {
        if room.kind != RoomKind::Direct {
            return Between::Clear;
        }
        relations
            .separated()
            .into_iter()
            .find(|other| room.room_id.is_direct_of(actor, other))
            .map_or(Between::Clear, |other| relations.between(&other))
    }

    /// [`Chat::direct_peer`], reading the actor's relations only for a
    /// direct room.
    pub(crate) async fn peer_in(&self, actor: &UserId, room: &Room) -> Result<Between, ChatError> {
        if room.kind != RoomKind::Direct {
            return Ok(Between::Clear);
        }
        let relations = self.blocks.relations(actor).await?;
        Ok(Self::direct_peer(&relations, actor, room))
    }

    /// Of `users`, those who may see `subject`'s presence or typing
    /// (`action`): everyone but the people on either side of a block with
    /// them. `users` without `subject` itself is the caller's business.
    pub(crate) async fn who_may_see(
        &self,
        subject: &UserId,
        action: PeerAction,
        users: Vec<UserId>,
    ) -> Result<Vec<UserId>, ChatError> {
        let relations = self.blocks.relations(subject).await?;
        if relations.is_empty() {
            return Ok(users);
        }
        Ok(users
            .into_iter()
            .filter(|u| authorize_peer(u, action, subject, relations.between(u)).is_ok())
            .collect())
    }

    /// Of `users`, those whose presence `viewer` may see.
    pub(crate) async fn visible_to(
        &self,
        viewer: &UserId,
        users: BTreeSet<UserId>,
    ) -> Result<BTreeSet<UserId>, ChatError> {
        let relations = self.blocks.relations(viewer).await?;
        if relations.is_empty() {
            return Ok(users);
        }
        Ok(users
            .into_iter()
            .filter(|u| {
                authorize_peer(viewer, PeerAction::SeePresence, u, relations.between(u)).is_ok()
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::Value;
    use tokio::sync::mpsc::UnboundedReceiver;

    use super::*;
    use crate::config::Limits;
    use crate::ids::{ClientMsgId, ConnectionId, RoomId};
    use crate::memory::ManualClock;
    use crate::model::PresenceStatus;
    use crate::protocol::rest::{CreateRoomRequest, RegisterDeviceRequest};
    use crate::protocol::ws::{SendMessage, Typing};
    use crate::service::MemoryBackends;
    use crate::Caller;

    const T0: i64 = 1_800_000_000_000;

    fn who(name: &str) -> Identity {
        Identity {
            user_id: UserId::parse(name).unwrap(),
            name: None,
        }
    }

    struct Person {
        id: Identity,
        caller: Caller,
        inbox: UnboundedReceiver<String>,
    }

    impl Person {
        /// Every frame pushed so far, decoded.
        fn frames(&mut self) -> Vec<Value> {
            let mut out = Vec::new();
            while let Ok(f) = self.inbox.try_recv() {
                out.push(serde_json::from_str(&f).unwrap());
            }
            out
        }
    }

    async fn person(chat: &Chat, mem: &MemoryBackends, name: &str) -> Person {
        let id = who(name);
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

    fn send(room: &RoomId, body: &str, cmid: &str) -> SendMessage {
        SendMessage {
            sealed: None,
            room_id: room.clone(),
            client_msg_id: ClientMsgId::parse(cmid).unwrap(),
            body: body.into(),
            attachments: Vec::new(),
            reply_to: None,
        }
    }

    async fn room(
        chat: &Chat,
        by: &Identity,
        kind: RoomKind,
        with: &[&Person],
    ) -> Result<RoomId, ChatError> {
        chat.create_room(
            by,
            CreateRoomRequest {
                encrypted: false,
                name: Some("r".into()),
                kind,
                members: with.iter().map(|p| p.id.user_id.clone()).collect(),
            },
        )
        .await
        .map(|(_, d)| d.room.room_id)
    }

    /// The queued jobs, as the persist worker receives them.
    fn persist(mem: &MemoryBackends) -> Vec<(String, String)> {
        mem.queue
            .take(100)
            .into_iter()
            .map(|j| (j.id, j.body))
            .collect()
    }

    fn forbidden(r: Result<impl std::fmt::Debug, ChatError>) {
        assert!(matches!(r, Err(ChatError::Forbidden(_))), "{r:?}");
    }

    fn of_type<'a>(frames: &'a [Value], ty: &str) -> Vec<&'a Value> {
        frames.iter().filter(|f| f["type"] == ty).collect()
    }

    /// Bob blocks Alice. Alice then tries every way around it, and Bob
    /// every way back: none gets through, nothing is stored, groups still
    /// work, and unblocking restores everything.
    #[tokio::test]
    async fn a_blocked_user_trying_every_path_around_the_block() {
        let clock = Arc::new(ManualClock::new(T0));
        let (chat, mem) = Chat::in_memory_with_clock(Limits::default(), clock);
        let mut alice = person(&chat, &mem, "alice").await;
        let mut bob = person(&chat, &mem, "bob").await;
        let mut carol = person(&chat, &mem, "carol").await;
        let dm = room(&chat, &alice.id, RoomKind::Direct, &[&bob])
            .await
            .unwrap();
        let group = room(&chat, &carol.id, RoomKind::Group, &[&alice, &bob])
            .await
            .unwrap();
        // A message before the block, whose clientMsgId is resent later.
        chat.send_message(&alice.caller, send(&dm, "before", "c-before"))
            .await
            .unwrap();
        let seq_before = chat.messages.last_seq(&dm).await.unwrap();
        for p in [&mut alice, &mut bob, &mut carol] {
            p.frames();
        }

        // Bad input changes nothing.
        assert!(matches!(
            chat.block_user(&bob.id, &bob.id.user_id).await,
            Err(ChatError::BadRequest(_))
        ));
        assert!(matches!(
            chat.block_user(&bob.id, &UserId::parse("nobody").unwrap())
                .await,
            Err(ChatError::NotFound("user"))
        ));
        assert!(matches!(
            chat.unblock_user(&bob.id, &alice.id.user_id).await,
            Err(ChatError::NotFound("block"))
        ));
        assert!(chat.list_blocks(&bob.id).await.unwrap().blocks.is_empty());

        let (new, v) = chat.block_user(&bob.id, &alice.id.user_id).await.unwrap();
        assert!(new);
        assert_eq!(v.user_id, alice.id.user_id);
        let (again, _) = chat.block_user(&bob.id, &alice.id.user_id).await.unwrap();
        assert!(!again, "blocking again changes nothing");
        assert_eq!(chat.list_blocks(&bob.id).await.unwrap().blocks, vec![v]);
        // Alice's list holds whom she blocks: nobody. She is not told who blocks her.
        assert!(chat.list_blocks(&alice.id).await.unwrap().blocks.is_empty());

        // 1. No direct room, either way (the existing one is not handed out either).
        forbidden(room(&chat, &alice.id, RoomKind::Direct, &[&bob]).await);
        forbidden(room(&chat, &bob.id, RoomKind::Direct, &[&alice]).await);

        // 2. No message in the direct room that existed before, either way,
        //    and a resend of a clientMsgId reserved before the block neither.
        forbidden(
            chat.send_message(&alice.caller, send(&dm, "hi", "c-1"))
                .await,
        );
        forbidden(chat.send_message(&bob.caller, send(&dm, "hi", "c-2")).await);
        forbidden(
            chat.send_message(&alice.caller, send(&dm, "before", "c-before"))
                .await,
        );
        // The same refusal through the frame path, answered with an error frame.
        let frame =
            format!(r#"{{"action":"sendMessage","roomId":"{dm}","clientMsgId":"c-3","body":"x"}}"#);
        forbidden(
            chat.handle_text(&alice.caller.connection_id, None, &frame)
                .await,
        );
        let errors = alice.frames();
        assert_eq!(of_type(&errors, "error").len(), 1, "{errors:?}");
        assert_eq!(errors[0]["code"], "forbidden", "{errors:?}");
        // Nothing was reserved, queued or pushed.
        assert_eq!(chat.messages.last_seq(&dm).await.unwrap(), seq_before);
        let queued = mem.queue.take(100);
        assert!(
            !queued
                .iter()
                .any(|j| j.body.contains("\"hi\"") || j.body.contains("\"x\"")),
            "{queued:?}"
        );
        // Attachments ask for a slot through the same decision.
        forbidden(
            chat.authorized_room(&alice.id.user_id, &dm, crate::authz::Action::Attach)
                .await,
        );

        // 3. Typing: refused in the direct room; in the group, Carol sees it and Bob does not.
        let typing = |room: &RoomId| Typing {
            room_id: room.clone(),
            is_typing: true,
        };
        forbidden(chat.typing(&alice.caller, typing(&dm)).await);
        forbidden(chat.typing(&bob.caller, typing(&dm)).await);
        chat.typing(&alice.caller, typing(&group)).await.unwrap();
        chat.typing(&bob.caller, typing(&group)).await.unwrap();

        // 4. Shared groups still work, both ways: the messages arrive (the
        //    client hides them). They come after the typing frames, so Bob
        //    and Alice having them proves the typing frames were not pushed.
        chat.send_message(&alice.caller, send(&group, "to the group", "g-1"))
            .await
            .unwrap();
        chat.send_message(&bob.caller, send(&group, "me too", "g-2"))
            .await
            .unwrap();
        let (a, b, c) = (alice.frames(), bob.frames(), carol.frames());
        assert_eq!(of_type(&c, "typing").len(), 2, "{c:?}");
        assert!(of_type(&b, "typing").is_empty(), "{b:?}");
        assert!(of_type(&a, "typing").is_empty(), "{a:?}");
        assert_eq!(of_type(&b, "message").len(), 1, "{b:?}");
        assert_eq!(of_type(&a, "message").len(), 1, "{a:?}");

        // 5. Presence: Alice goes offline and back; Carol is told, Bob is not.
        chat.disconnect(&alice.caller.connection_id).await.unwrap();
        chat.connect(alice.caller.connection_id.clone(), &alice.id)
            .await
            .unwrap();
        chat.send_message(&carol.caller, send(&group, "after presence", "g-3"))
            .await
            .unwrap();
        let (b, c) = (bob.frames(), carol.frames());
        assert_eq!(of_type(&c, "presence").len(), 2, "{c:?}");
        assert!(of_type(&b, "presence").is_empty(), "{b:?}");
        assert_eq!(of_type(&b, "message").len(), 1, "{b:?}");
        // Read on demand, Alice shows offline to Bob (and Bob to her), online to Carol.
        let status_of = |d: &crate::protocol::rest::RoomDetail, u: &UserId| {
            d.members
                .iter()
                .find(|m| &m.user_id == u)
                .map(|m| m.presence)
        };
        let seen_by_bob = chat.room_detail(&bob.id, &group).await.unwrap();
        assert_eq!(
            status_of(&seen_by_bob, &alice.id.user_id),
            Some(PresenceStatus::Offline)
        );
        let seen_by_alice = chat.room_detail(&alice.id, &group).await.unwrap();
        assert_eq!(
            status_of(&seen_by_alice, &bob.id.user_id),
            Some(PresenceStatus::Offline)
        );
        let seen_by_carol = chat.room_detail(&carol.id, &group).await.unwrap();
        assert_eq!(
            status_of(&seen_by_carol, &alice.id.user_id),
            Some(PresenceStatus::Online)
        );
        assert_eq!(
            chat.user_profile(&bob.id, &alice.id.user_id)
                .await
                .unwrap()
                .presence,
            None
        );
        assert_eq!(
            chat.user_profile(&carol.id, &alice.id.user_id)
                .await
                .unwrap()
                .presence,
            Some(PresenceStatus::Online)
        );

        // 6. Inviting the blocker into a group is fine.
        let alices_group = room(&chat, &alice.id, RoomKind::Group, &[&bob])
            .await
            .unwrap();

        // 7. Notifications: Bob offline with a device; Alice's message in
        //    the group does not notify him, Carol's does.
        chat.register_device(
            &bob.id,
            RegisterDeviceRequest::web_push(
                "https://push.example.com/bob",
                "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
                "BTBZMqHH6r4Tts7J_aSIgg",
            ),
        )
        .await
        .unwrap();
        chat.disconnect(&bob.caller.connection_id).await.unwrap();
        mem.queue.take(1000);
        chat.send_message(&alice.caller, send(&alices_group, "psst", "n-1"))
            .await
            .unwrap();
        chat.persist_batch(&persist(&mem)).await;
        assert!(mem.outbox.sent().is_empty(), "{:?}", mem.outbox.sent());
        chat.send_message(&carol.caller, send(&group, "hey bob", "n-2"))
            .await
            .unwrap();
        chat.persist_batch(&persist(&mem)).await;
        let sent = mem.outbox.sent();
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(sent[0].payload.sender_id, carol.id.user_id);

        // 8. Unblocking restores all of it.
        chat.unblock_user(&bob.id, &alice.id.user_id).await.unwrap();
        assert!(chat.list_blocks(&bob.id).await.unwrap().blocks.is_empty());
        assert_eq!(
            room(&chat, &alice.id, RoomKind::Direct, &[&bob])
                .await
                .unwrap(),
            dm
        );
        chat.send_message(&alice.caller, send(&dm, "friends again", "c-4"))
            .await
            .unwrap();
        assert_eq!(chat.messages.last_seq(&dm).await.unwrap(), seq_before + 1);
        chat.typing(&alice.caller, typing(&dm)).await.unwrap();
        chat.persist_batch(&persist(&mem)).await;
        let sent = mem.outbox.sent();
        assert_eq!(sent.len(), 2, "{sent:?}");
        assert_eq!(sent[1].payload.sender_id, alice.id.user_id);
    }

    /// Replies, edits and reactions in a direct room reach the other member
    /// as a message does, so a block refuses them either way; deleting
    /// one's own message (taking it back) stays possible.
    #[tokio::test]
    async fn a_block_refuses_replies_edits_and_reactions_but_not_taking_back() {
        use crate::changes::Emoji;
        use crate::protocol::ws::{DeleteMessage, EditMessage, React};
        let clock = Arc::new(ManualClock::new(T0));
        let (chat, mem) = Chat::in_memory_with_clock(Limits::default(), clock);
        let mut alice = person(&chat, &mem, "alice").await;
        let mut bob = person(&chat, &mem, "bob").await;
        let dm = room(&chat, &alice.id, RoomKind::Direct, &[&bob])
            .await
            .unwrap();
        chat.send_message(&alice.caller, send(&dm, "mine", "m-1"))
            .await
            .unwrap();
        chat.send_message(&bob.caller, send(&dm, "his", "m-2"))
            .await
            .unwrap();
        chat.persist_batch(&persist(&mem)).await;
        chat.block_user(&bob.id, &alice.id.user_id).await.unwrap();
        alice.frames();
        bob.frames();

        let mut reply = send(&dm, "a reply", "m-3");
        reply.reply_to = Some(2);
        forbidden(chat.send_message(&alice.caller, reply).await);
        let edit = |seq| EditMessage {
            room_id: dm.clone(),
            seq,
            body: "changed".into(),
            sealed: None,
        };
        forbidden(chat.edit_message(&alice.caller, edit(1)).await);
        forbidden(chat.edit_message(&bob.caller, edit(2)).await);
        let react = |seq| React {
            room_id: dm.clone(),
            seq,
            emoji: Emoji::parse("👍").unwrap(),
        };
        forbidden(chat.react(&alice.caller, react(2)).await);
        forbidden(chat.react(&bob.caller, react(1)).await);
        // Nothing changed, nothing was pushed.
        assert_eq!(chat.changes.last_change(&dm).await.unwrap(), 0);
        assert_eq!(chat.messages.last_seq(&dm).await.unwrap(), 2);
        assert!(of_type(&bob.frames(), "messageEdited").is_empty());

        // Alice may still take her own message back.
        let delete = DeleteMessage {
            room_id: dm.clone(),
            seq: 1,
        };
        chat.delete_message(&alice.caller, delete).await.unwrap();
        assert_eq!(chat.changes.last_change(&dm).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn a_block_list_is_its_owners_alone_and_bounded() {
        let (chat, _) = Chat::in_memory(Limits::default());
        let me = who("me");
        chat.ensure_profile(&me).await.unwrap();
        // The lists hold only the caller's own blocks: nothing in the
        // routes names another owner, and authz refuses one all the same.
        assert!(authorize_account(&me.user_id, AccountAction::Blocks, &who("x").user_id).is_err());
        for i in 0..MAX_BLOCKS {
            let b = Block {
                user_id: me.user_id.clone(),
                target_id: UserId::parse(&format!("u{i}")).unwrap(),
                created_at: 0,
            };
            assert!(chat.blocks.block(&b).await.unwrap());
        }
        let one_more = who("one-more");
        chat.ensure_profile(&one_more).await.unwrap();
        assert!(matches!(
            chat.block_user(&me, &one_more.user_id).await,
            Err(ChatError::Conflict(_))
        ));
        assert_eq!(
            chat.list_blocks(&me).await.unwrap().blocks.len(),
            MAX_BLOCKS
        );
    }
}
