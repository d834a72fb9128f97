//! The WebSocket message actions. The send path is:
//! validate → assign id + `seq` (idempotent on `clientMsgId`; the
//! reservation is durable) → push to every connection of every member,
//! and at the same time queue the persistence job, then ack the sender →
//! settle retries/gone → note deliveries for receipts. Storage never blocks
//! delivery: the message is pushed as soon as it is reserved, and written to
//! the history by the persistence worker. A room of more than
//! `fanout_inline_max` members is pushed to by the persistence workers
//! instead, in shards queued with the persistence job, before the ack.

use std::collections::BTreeSet;

use futures::stream::{self, StreamExt};
use tracing::{info, warn, Instrument};

use super::{Caller, Chat};
use crate::authz::{authorize_in, Action, PeerAction};
use crate::error::ChatError;
use crate::ids::{ConnectionId, MessageBody, MessageId, RoomId, Seq, UserId};
use crate::model::{Job, Message, MessageDraft, ReceiptStatus, SeqFate};
use crate::ports::RangeQuery;
use crate::protocol::ws::ServerFrame;
use crate::protocol::ws::{
    salvage_client_msg_id, ClientFrame, MarkRead, MessageChangeView, SendMessage, SyncRequest,
    Typing,
};

impl Chat {
    /// Handles one text frame from a connection: resolve the caller, decode,
    /// act. Every failure is answered with an `error` frame to that connection
    /// (and returned, for the handler's log); the connection stays usable.
    ///
    /// `verified` is the user the `$connect` authorizer verified, which API
    /// Gateway hands every route of the connection in the request context
    /// (a client cannot set it). With it, no store read stands between a
    /// frame and its action; without it (no authorizer ran), and for `ping`,
    /// which needs the connection's presence expiry, the caller is read from
    /// the connection record written at `$connect`.
    pub async fn handle_text(
        &self,
        connection_id: &ConnectionId,
        verified: Option<&UserId>,
        text: &str,
    ) -> Result<(), ChatError> {
        let result = async {
            let frame = ClientFrame::decode(text);
            let caller = match verified {
                Some(user) if !matches!(frame, Ok(ClientFrame::Ping)) => Caller {
                    user_id: user.clone(),
                    connection_id: connection_id.clone(),
                    expires_at: 0,
                },
                _ => self.caller(connection_id).await?,
            };
            // Before anything acts on the frame: a refused frame changes
            // nothing (no seq, no queue, no push, no cursor, no TTL). Frames
            // that fail to decode count too, so garbage cannot flood for free.
            let is_typing = matches!(frame, Ok(ClientFrame::Typing(_)));
            self.within_rate(&self.limits.rate.for_frame(
                &caller.connection_id,
                &caller.user_id,
                is_typing,
            ))
            .await?;
            let frame = frame?;
            let span = tracing::info_span!("action", user_id = %caller.user_id, room_id = tracing::field::Empty, client_msg_id = tracing::field::Empty);
            self.dispatch(&caller, frame).instrument(span).await
        }
        .await;
        if let Err(e) = &result {
            let frame = ServerFrame::error(e, salvage_client_msg_id(text));
            self.reply(connection_id, &frame).await;
        }
        result
    }

    /// Answers the connection with an `error` frame.
    pub async fn reply_error(&self, connection_id: &ConnectionId, e: &ChatError) {
        self.reply(connection_id, &ServerFrame::error(e, None))
            .await;
    }

    async fn dispatch(&self, caller: &Caller, frame: ClientFrame) -> Result<(), ChatError> {
        match frame {
            ClientFrame::SendMessage(m) => self.send_message(caller, m).await,
            ClientFrame::MarkRead(m) => self.mark_read(caller, m).await,
            ClientFrame::Typing(t) => self.typing(caller, t).await,
            ClientFrame::Sync(s) => self.sync(caller, s).await,
            ClientFrame::Ping => self.ping(caller).await,
            ClientFrame::EditMessage(m) => self.edit_message(caller, m).await,
            ClientFrame::DeleteMessage(m) => self.delete_message(caller, m).await,
            ClientFrame::React(m) => self.react(caller, m).await,
        }
    }

    pub async fn send_message(&self, caller: &Caller, req: SendMessage) -> Result<(), ChatError> {
        let span = tracing::Span::current();
        span.record("room_id", tracing::field::display(&req.room_id));
        span.record("client_msg_id", tracing::field::display(&req.client_msg_id));
        let encrypted = req.room_id.is_encrypted();
        let body = if encrypted {
            Self::sealed_send_shape(&req)?;
            MessageBody::empty()
        } else if req.sealed.is_some() {
            return Err(ChatError::BadRequest(
                "sealed payloads are for end-to-end encrypted rooms only".into(),
            ));
        } else if req.body.is_empty() && !req.attachments.is_empty() {
            MessageBody::empty()
        } else {
            MessageBody::parse(
                &req.body,
                self.limits.max_body_bytes,
                self.limits.max_body_chars,
            )?
        };
        if req.attachments.len() > self.limits.attachments.max_per_message {
            return Err(ChatError::TooLarge(format!(
                "a message carries at most {} attachments",
                self.limits.attachments.max_per_message
            )));
        }

        // Room and members in one round trip; membership is read off the
        // list. A direct room's id says it is one, so the sender's blocks
        // are read in the same round trip there.
        let looks_direct = req.room_id.is_direct();
        let (room, members, relations) = tokio::try_join!(
            self.rooms.get(&req.room_id),
            self.rooms.members(&req.room_id),
            async {
                if looks_direct {
                    self.blocks.relations(&caller.user_id).await.map(Some)
                } else {
                    Ok(None)
                }
            }
        )?;
        let room = room.ok_or(ChatError::NotFound("room"))?;
        let membership = members.iter().find(|m| m.user_id == caller.user_id);
        let peer = match relations {
            Some(r) => Chat::direct_peer(&r, &caller.user_id, &room),
            None => self.peer_in(&caller.user_id, &room).await?,
        };
        authorize_in(&caller.user_id, Action::Send, &room, membership, peer)?;
        // Before the seal and the attachments are claimed: a bad target
        // changes nothing.
        let reply_to = match req.reply_to {
            None => None,
            Some(seq) => {
                authorize_in(&caller.user_id, Action::Reply, &room, membership, peer)?;
                Some(Box::new(self.quote(&req.room_id, seq).await?))
            }
        };
        if let Some(sealed) = &req.sealed {
            let member_ids: Vec<UserId> = members.iter().map(|m| m.user_id.clone()).collect();
            self.check_sealed(&member_ids, sealed).await?;
        }
        let checked = if req.attachments.is_empty() {
            None
        } else {
            Some(
                self.check_attachments(
                    &caller.user_id,
                    &req.room_id,
                    &req.client_msg_id,
                    &req.attachments,
                )
                .await?,
            )
        };
        // Every check passed: the claims. A sealed message's ciphertext is
        // claimed (the replay guard) only now, so a refused attachment
        // leaves nothing of the message behind.
        if let Some(sealed) = &req.sealed {
            self.claim_sealed(&req.room_id, &caller.user_id, &req.client_msg_id, sealed)
                .await?;
        }
        let attachments = match checked {
            None => Vec::new(),
            Some(c) => {
                self.claim_attachments(&req.room_id, &req.client_msg_id, c)
                    .await?
            }
        };

        let draft = MessageDraft {
            room_id: req.room_id.clone(),
            message_id: MessageId::generate(),
            sender_id: caller.user_id.clone(),
            body,
            sent_at: self.clock.now(),
            client_msg_id: req.client_msg_id.clone(),
            attachments,
            reply_to,
            sealed: req.sealed,
        };
        // Two branches run at once. The ack side reserves the message (it
        // is durable from then on), queues its persistence job and acks:
        // its time does not grow with the room. The push side looks up the
        // members' connections meanwhile, then pushes the reserved message
        // (in a big room, many waves). If the enqueue fails the sender gets
        // an error and resends; a member who already has the message
        // de-duplicates the repeat by `messageId`, and one who never resends
        // still leaves it reserved, which `sync` answers (PROTOCOL.md).
        let member_ids: Vec<UserId> = members.into_iter().map(|m| m.user_id).collect();
        if member_ids.len() > self.limits.fanout_inline_max {
            return self.send_through_queue(caller, draft, &member_ids).await;
        }
        let (reserved_tx, reserved_rx) = tokio::sync::oneshot::channel::<Message>();
        let ack_side = async {
            let (message, resend) = self.messages.reserve(draft).await?.into_message();
            // The push side may have given up already (it never does
            // before the reservation is known): nothing to tell then.
            let _ = reserved_tx.send(message.clone());
            let job = [Job::PersistMessage {
                message: message.clone(),
            }];
            self.queue.enqueue(&job).await?;
            self.reply(
                &caller.connection_id,
                &ServerFrame::ack(self.view(&message).await),
            )
            .await;
            Ok::<_, ChatError>((message, resend))
        };
        let push_side = async {
            let conns = self.connections.for_users(&member_ids).await;
            // No message: the reservation failed, and the ack side says why.
            let message = reserved_rx.await.ok()?;
            let targets: Vec<_> = match conns {
                Ok(conns) => conns
                    .into_iter()
                    .filter(|c| c.connection_id != caller.connection_id)
                    .collect(),
                Err(e) => {
                    warn!(message_id = %message.message_id, error = %crate::error::chain(&e), "could not look up the members' connections; they recover the message with sync");
                    Vec::new()
                }
            };
            let fanout = targets.len();
            let bytes = ServerFrame::Message(self.view(&message).await)
                .encode()
                .into_bytes();
            let round = self.push_round(targets, &bytes).await;
            Some((round, bytes, fanout))
        };
        let (acked, pushed) = tokio::join!(ack_side, push_side);
        let settled = match pushed {
            Some((round, bytes, fanout)) => Some((self.settle(round, &bytes).await, fanout)),
            None => None,
        };
        let (message, resend) = acked?;
        // The push side gives up only when the reservation failed, which
        // `acked?` has just returned.
        let Some((round, fanout)) = settled else {
            return Ok(());
        };
        if resend {
            info!(message_id = %message.message_id, seq = message.seq, fanout, delivered = round.delivered.len(), gone = round.gone.len(), "duplicate clientMsgId: enqueued and pushed again, acked again");
        } else {
            info!(message_id = %message.message_id, seq = message.seq, fanout, delivered = round.delivered.len(), gone = round.gone.len(), "message accepted");
            crate::metrics::record(&[
                (crate::metrics::Metric::MessagesAccepted, 1.0),
                (crate::metrics::Metric::FanoutSize, fanout as f64),
            ]);
        }

        if let Some(job) = delivered_job(&message, round.delivered) {
            if let Err(e) = self.queue.enqueue(&[job]).await {
                // Only the delivered receipt is lost; the message is safe.
                warn!(error = %crate::error::chain(&e), "could not queue delivery receipts");
            }
        }
        Ok(())
    }

    /// A big room's send (more than `fanout_inline_max` members): reserve,
    /// then queue the persistence job and the fan-out shards together, and
    /// ack. The persist workers push the shards in parallel
    /// ([`Job::FanOut`]), so neither the ack nor this function's duration
    /// grows with the room. If the enqueue fails the sender gets an error and
    /// resends, which queues the shards again (members de-duplicate a repeat
    /// by `messageId`).
    async fn send_through_queue(
        &self,
        caller: &Caller,
        draft: MessageDraft,
        members: &[UserId],
    ) -> Result<(), ChatError> {
        let (message, resend) = self.messages.reserve(draft).await?.into_message();
        let mut jobs = vec![Job::PersistMessage {
            message: message.clone(),
        }];
        jobs.extend(Job::fan_out(
            &message,
            members,
            &caller.connection_id,
            self.limits.fanout_shard_size,
        ));
        self.queue.enqueue(&jobs).await?;
        self.reply(
            &caller.connection_id,
            &ServerFrame::ack(self.view(&message).await),
        )
        .await;
        let (fanout, shards) = (members.len(), jobs.len() - 1);
        if resend {
            info!(message_id = %message.message_id, seq = message.seq, fanout, shards, "duplicate clientMsgId: queued for fan-out again, acked again");
        } else {
            info!(message_id = %message.message_id, seq = message.seq, fanout, shards, "message accepted, queued for fan-out");
            crate::metrics::record(&[
                (crate::metrics::Metric::MessagesAccepted, 1.0),
                (crate::metrics::Metric::FanoutSize, fanout as f64),
            ]);
        }
        Ok(())
    }

    pub async fn mark_read(&self, caller: &Caller, req: MarkRead) -> Result<(), ChatError> {
        tracing::Span::current().record("room_id", tracing::field::display(&req.room_id));
        self.authorized_room(&caller.user_id, &req.room_id, Action::MarkRead)
            .await?;
        let last = self.messages.last_seq(&req.room_id).await?;
        if req.seq > last {
            return Err(ChatError::BadRequest(
                "seq is beyond the room's last message".into(),
            ));
        }
        if req.seq == 0
            || !self
                .rooms
                .advance_cursor(&req.room_id, &caller.user_id, ReceiptStatus::Read, req.seq)
                .await?
        {
            return Ok(());
        }
        let members = self.member_ids(&req.room_id).await?;
        let frame = ServerFrame::Receipt {
            room_id: req.room_id,
            user_ids: vec![caller.user_id.clone()],
            status: ReceiptStatus::Read,
            seq: req.seq,
        };
        self.deliver_to_users(&members, Some(&caller.connection_id), &frame)
            .await;
        Ok(())
    }

    pub async fn typing(&self, caller: &Caller, req: Typing) -> Result<(), ChatError> {
        tracing::Span::current().record("room_id", tracing::field::display(&req.room_id));
        self.authorized_room(&caller.user_id, &req.room_id, Action::Typing)
            .await?;
        let others: Vec<UserId> = self
            .member_ids(&req.room_id)
            .await?
            .into_iter()
            .filter(|u| u != &caller.user_id)
            .collect();
        // Nobody on either side of a block with the typist sees it.
        let others = self
            .who_may_see(&caller.user_id, PeerAction::SeeTyping, others)
            .await?;
        let frame = ServerFrame::Typing {
            room_id: req.room_id,
            user_id: caller.user_id.clone(),
            is_typing: req.is_typing,
        };
        self.deliver_to_users(&others, None, &frame).await;
        Ok(())
    }

    /// Answers one `syncResult` per room with what follows `afterSeq`, gap
    /// free: every seq up to `throughSeq` is a message or listed as burned
    /// (at most a page; `hasMore` says whether to ask again). A room the
    /// caller may not read gets an error frame; the others are still
    /// answered. Rooms are read concurrently and answered in request order.
    pub async fn sync(&self, caller: &Caller, req: SyncRequest) -> Result<(), ChatError> {
        let pages: Vec<(RoomId, Result<SyncPage, ChatError>)> = stream::iter(req.rooms)
            .map(|entry| async move {
                let page = async {
                    self.authorized_room(&caller.user_id, &entry.room_id, Action::Read)
                        .await?;
                    // The counter first: every change past it is in the
                    // states read with the messages below, or comes next time.
                    let counter = self.changes.last_change(&entry.room_id).await?;
                    let changes = match entry.after_change {
                        Some(after) => Some(
                            self.changes
                                .changes_after(
                                    &entry.room_id,
                                    after,
                                    self.limits.history_page_max.max(1),
                                )
                                .await?,
                        ),
                        None => None,
                    };
                    let mut page = self.sync_page(&entry.room_id, entry.after_seq).await?;
                    page.views = self.views_for(&caller.user_id, &page.messages).await?;
                    page.through_change = counter;
                    if let Some(log) = changes {
                        if log.len() >= self.limits.history_page_max.max(1) {
                            page.has_more = true;
                        }
                        if let Some(last) = log.last() {
                            page.through_change = page.through_change.max(last.change);
                        }
                        // Messages newer than the client's hold come whole
                        // (above, or on a later page) with their state.
                        page.changes = crate::changes::newest_per_message(log)
                            .iter()
                            .filter(|s| s.seq <= entry.after_seq)
                            .map(|s| MessageChangeView::of(s, &caller.user_id))
                            .collect();
                    }
                    Ok::<_, ChatError>(page)
                }
                .await;
                (entry.room_id, page)
            })
            .buffered(SYNC_CONCURRENCY)
            .collect()
            .await;
        let mut jobs = Vec::new();
        for (room_id, page) in pages {
            let page = match page {
                Ok(p) => p,
                Err(e) if e.is_internal() => return Err(e),
                Err(e) => {
                    self.reply(&caller.connection_id, &ServerFrame::error(&e, None))
                        .await;
                    continue;
                }
            };
            if let Some(last) = page.messages.last() {
                let notify: BTreeSet<UserId> = page
                    .messages
                    .iter()
                    .map(|m| m.sender_id.clone())
                    .filter(|u| u != &caller.user_id)
                    .collect();
                jobs.push(Job::MarkDelivered {
                    room_id: room_id.clone(),
                    seq: last.seq,
                    user_ids: vec![caller.user_id.clone()],
                    notify: notify.into_iter().collect(),
                });
            }
            let frame = ServerFrame::SyncResult {
                room_id,
                messages: page.views,
                has_more: page.has_more,
                through_seq: page.through_seq,
                burned: page.burned,
                changes: page.changes,
                through_change: page.through_change,
            };
            self.reply(&caller.connection_id, &frame).await;
        }
        if !jobs.is_empty() {
            if let Err(e) = self.queue.enqueue(&jobs).await {
                warn!(error = %crate::error::chain(&e), "could not queue delivery receipts after sync");
            }
        }
        Ok(())
    }

    /// One room's page after `after`. The room's high-water mark is read
    /// first, so every seq up to it is stored, reserved or burned; a seq with
    /// no stored message is settled ([`crate::ports::MessageStore::settle`]):
    /// a reserved message (still in the queue, or refused by it) is stored
    /// here and returned, anything else is burned for good.
    async fn sync_page(&self, room: &RoomId, after: Seq) -> Result<SyncPage, ChatError> {
        let page = self.limits.history_page_max.max(1);
        let high = self.messages.last_seq(room).await?;
        if after >= high {
            return Ok(SyncPage {
                messages: Vec::new(),
                burned: Vec::new(),
                through_seq: after,
                has_more: false,
                views: Vec::new(),
                changes: Vec::new(),
                through_change: 0,
            });
        }
        let stored = self
            .messages
            .range(
                room,
                RangeQuery {
                    after: Some(after),
                    before: Some(high.saturating_add(1)),
                    limit: page,
                    newest_first: false,
                },
            )
            .await?;
        let mut stored = stored.into_iter().peekable();
        let mut messages = Vec::new();
        let mut repaired = Vec::new();
        let mut burned = Vec::new();
        let mut through = after;
        // Walk the seqs in order; a page holds `page` seqs, burned ones too.
        while through < high && messages.len() + burned.len() < page {
            let seq = through + 1;
            if let Some(m) = stored.next_if(|m| m.seq == seq) {
                messages.push(m);
            } else {
                match self.messages.settle(room, seq).await? {
                    SeqFate::Reserved(m) => {
                        repaired.push(m.clone());
                        messages.push(m);
                    }
                    SeqFate::Burned => burned.push(seq),
                }
            }
            through = seq;
        }
        if !repaired.is_empty() {
            // Idempotent, like the worker's own write of the same messages.
            for (m, r) in repaired
                .iter()
                .zip(self.messages.put_batch(&repaired).await)
            {
                match r {
                    Ok(()) => {
                        info!(message_id = %m.message_id, seq = m.seq, "sync stored a reserved message missing from history")
                    }
                    Err(e) => {
                        warn!(message_id = %m.message_id, seq = m.seq, error = %crate::error::chain(&e), "could not store a reserved message found by sync; it is still answered")
                    }
                }
            }
        }
        if !burned.is_empty() {
            info!(room_id = %room, burned = ?burned, "sync settled seqs no message has");
        }
        Ok(SyncPage {
            messages,
            burned,
            through_seq: through,
            has_more: through < high,
            views: Vec::new(),
            changes: Vec::new(),
            through_change: 0,
        })
    }
}

/// The delivered-receipt job of `message` for the members whose
/// connections it `reached` (the sender's own excluded); none when it
/// reached nobody else.
pub(crate) fn delivered_job(
    message: &Message,
    reached: Vec<crate::model::ConnectionRecord>,
) -> Option<Job> {
    let users: BTreeSet<UserId> = reached
        .into_iter()
        .map(|c| c.user_id)
        .filter(|u| u != &message.sender_id)
        .collect();
    (!users.is_empty()).then(|| Job::MarkDelivered {
        room_id: message.room_id.clone(),
        seq: message.seq,
        user_ids: users.into_iter().collect(),
        notify: vec![message.sender_id.clone()],
    })
}

/// How many rooms one `sync` reads at a time.
const SYNC_CONCURRENCY: usize = 8;

/// One room's answer to `sync`.
struct SyncPage {
    messages: Vec<Message>,
    burned: Vec<Seq>,
    through_seq: Seq,
    has_more: bool,
    /// `messages` as the caller reads them (with their changes).
    views: Vec<crate::protocol::ws::MessageView>,
    /// Changes to messages the caller holds (`afterChange` given).
    changes: Vec<MessageChangeView>,
    through_change: crate::changes::Change,
}

impl Chat {
    /// What a send to an encrypted room must look like before anything is
    /// read: a sealed payload of the right shape, no plaintext body, and
    /// nothing the server would have to read. Files are welcome (ciphertext
    /// of encrypted slots, checked when claimed), and so are replies (the
    /// quote of a sealed target has no text: [`crate::replies`]).
    fn sealed_send_shape(req: &SendMessage) -> Result<(), ChatError> {
        let Some(sealed) = &req.sealed else {
            return Err(ChatError::BadRequest(
                "an end-to-end encrypted room takes sealed messages only".into(),
            ));
        };
        if !req.body.is_empty() {
            return Err(ChatError::BadRequest(
                "an end-to-end encrypted room takes no plaintext body: send \"body\":\"\" and the content sealed".into(),
            ));
        }
        sealed.check_shape()
    }
}
