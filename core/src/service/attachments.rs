//! Attachments ([`crate::attachments`]): upload slots, the check and claim
//! of a message's attachments, and the download URLs in every message view.

use std::collections::BTreeSet;

use tracing::warn;

use super::Chat;
use crate::attachments::{
    check_slot_for_room, check_type_for_room, claimed_metadata, meta, name_of, number_of,
    parse_file_name, pending_key, slot_metadata, stored_key, Attachment, ContentType,
    MAX_IMAGE_SIDE, PENDING_DAYS,
};
use crate::auth::Identity;
use crate::authz::Action;
use crate::error::ChatError;
use crate::ids::{AttachmentId, ClientMsgId, RoomId, UserId};
use crate::model::Message;
use crate::ports::{BlobHead, DownloadSpec, UploadSpec};
use crate::protocol::rest::{UploadSlot, UploadSlotRequest};
use crate::protocol::ws::{AttachmentView, MessageView};

const DAY_MS: i64 = 86_400_000;

/// A message's attachments, every one checked usable, not yet claimed:
/// each id with its pending key (none when this message claimed it
/// already) and the store's head, and the attachments as the message
/// carries them.
pub(crate) struct CheckedAttachments {
    heads: Vec<(AttachmentId, Option<String>, BlobHead)>,
    attachments: Vec<Attachment>,
}

/// Why an attachment id cannot be sent, as the sender is told. One message
/// for "no such upload", "not yours" and "already sent": telling them apart
/// would confirm to a guesser that someone else's id exists.
const UNUSABLE: &str =
    "attachment not found: it was never uploaded, is not yours, or was already sent";

impl Chat {
    /// `POST /rooms/{roomId}/attachments`: an upload slot for a member.
    pub async fn upload_slot(
        &self,
        actor: &Identity,
        room_id: &RoomId,
        req: UploadSlotRequest,
    ) -> Result<UploadSlot, ChatError> {
        let limits = &self.limits.attachments;
        if limits.max_per_message == 0 {
            return Err(ChatError::Forbidden(
                "attachments are turned off in this deployment",
            ));
        }
        if req.size == 0 {
            return Err(ChatError::BadRequest("size must be at least 1 byte".into()));
        }
        if req.size > limits.max_bytes {
            return Err(ChatError::TooLarge(format!(
                "attachments are limited to {} bytes",
                limits.max_bytes
            )));
        }
        let name = parse_file_name(req.file_name.as_str())?;
        check_slot_for_room(
            room_id,
            &req.content_type,
            req.size,
            &name,
            req.width,
            req.height,
        )?;
        for side in [req.width, req.height].into_iter().flatten() {
            if side == 0 || side > MAX_IMAGE_SIDE {
                return Err(ChatError::BadRequest(format!(
                    "width and height must be between 1 and {MAX_IMAGE_SIDE}"
                )));
            }
        }
        let (width, height) = if req.content_type.is_image() {
            (req.width, req.height)
        } else {
            (None, None)
        };
        self.authorized_room(&actor.user_id, room_id, Action::Attach)
            .await?;
        let id = AttachmentId::generate();
        let now = self.clock.now();
        let spec = UploadSpec {
            content_type: req.content_type.as_str().to_owned(),
            content_length: req.size,
            metadata: slot_metadata(
                &actor.user_id,
                room_id,
                &req.content_type,
                req.size,
                &name,
                width,
                height,
                now,
            ),
        };
        let presigned = self
            .blobs
            .presign_put(&pending_key(&id), &spec, now, limits.upload_url_ttl_ms)
            .await?;
        tracing::info!(attachment_id = %id, room_id = %room_id, size = req.size, content_type = %spec.content_type, "upload slot issued");
        Ok(UploadSlot {
            attachment_id: id,
            method: "PUT".into(),
            upload_url: presigned.url,
            headers: presigned.headers.into_iter().collect(),
            expires_at: now.saturating_add(limits.upload_url_ttl_ms),
        })
    }

    /// Checks the attachments a message names, changing nothing: the
    /// message is refused when any is unusable. What it answers is claimed
    /// with [`Chat::claim_attachments`]. A resend of the same message (same
    /// `clientMsgId`) finds its own claims and gets the same list.
    pub(crate) async fn check_attachments(
        &self,
        sender: &UserId,
        room: &RoomId,
        client_msg_id: &ClientMsgId,
        ids: &[AttachmentId],
    ) -> Result<CheckedAttachments, ChatError> {
        let max = self.limits.attachments.max_per_message;
        if ids.len() > max {
            return Err(ChatError::TooLarge(format!(
                "a message carries at most {max} attachments"
            )));
        }
        if ids.iter().collect::<BTreeSet<_>>().len() != ids.len() {
            return Err(ChatError::BadRequest("an attachment is named twice".into()));
        }
        let heads = futures::future::try_join_all(ids.iter().map(|id| async move {
            let pending = pending_key(id);
            if let Some(head) = self.blobs.head(&pending).await? {
                return Ok::<_, ChatError>((id, Some(pending), head));
            }
            let stored = stored_key(room, id);
            match self.blobs.head(&stored).await? {
                // This message's own claim, from an earlier attempt.
                Some(head)
                    if head.metadata.get(meta::CLAIMED_BY).map(String::as_str)
                        == Some(client_msg_id.as_str()) =>
                {
                    Ok((id, None, head))
                }
                _ => Err(ChatError::BadRequest(UNUSABLE.into())),
            }
        }))
        .await?;
        let now = self.clock.now();
        let mut attachments = Vec::with_capacity(heads.len());
        for (id, _, head) in &heads {
            attachments.push(self.check_upload(sender, room, id, head, now)?);
        }
        Ok(CheckedAttachments {
            heads: heads
                .into_iter()
                .map(|(id, pending, head)| (id.clone(), pending, head))
                .collect(),
            attachments,
        })
    }

    /// Claims checked attachments for the message (moves each upload out of
    /// `pending/`). A failure here leaves the message unsent; its resend
    /// finds what was claimed already.
    pub(crate) async fn claim_attachments(
        &self,
        room: &RoomId,
        client_msg_id: &ClientMsgId,
        checked: CheckedAttachments,
    ) -> Result<Vec<Attachment>, ChatError> {
        let CheckedAttachments { heads, attachments } = checked;
        for (id, pending, head) in heads {
            let id = &id;
            if let Some(pending) = pending {
                let metadata = claimed_metadata(&head.metadata, client_msg_id);
                let moved = self
                    .blobs
                    .promote(
                        &pending,
                        &stored_key(room, id),
                        &head.content_type,
                        &metadata,
                    )
                    .await;
                if let Err(e) = moved {
                    // Another message claimed it in the meantime: the
                    // upload is gone from pending/. Anything else is ours.
                    if matches!(self.blobs.head(&pending).await, Ok(None)) {
                        warn!(attachment_id = %id, "attachment claimed by a concurrent message");
                        return Err(ChatError::BadRequest(UNUSABLE.into()));
                    }
                    return Err(e.into());
                }
            }
        }
        Ok(attachments)
    }

    /// What an uploaded object must be for `sender` to send it in `room`:
    /// what the store recorded, against the slot's signed metadata.
    fn check_upload(
        &self,
        sender: &UserId,
        room: &RoomId,
        id: &AttachmentId,
        head: &BlobHead,
        now: i64,
    ) -> Result<Attachment, ChatError> {
        if head.metadata.get(meta::OWNER).map(String::as_str) != Some(sender.as_str()) {
            return Err(ChatError::BadRequest(UNUSABLE.into()));
        }
        if head.metadata.get(meta::ROOM).map(String::as_str) != Some(room.as_str()) {
            return Err(ChatError::BadRequest(
                "attachment was uploaded for another room".into(),
            ));
        }
        let issued: i64 = number_of(&head.metadata, meta::ISSUED).unwrap_or(0);
        if now.saturating_sub(issued) > PENDING_DAYS * DAY_MS
            && !head.metadata.contains_key(meta::CLAIMED_BY)
        {
            return Err(ChatError::BadRequest(
                "attachment upload has expired: ask for a new upload slot".into(),
            ));
        }
        // The store enforces the signed type and length on upload; checked
        // again here so that a store that does not (an emulator) cannot
        // smuggle another type or an oversize file into a message.
        let content_type = ContentType::parse_wire(&head.content_type)?;
        // An encrypted room's files are ciphertext of an encrypted slot;
        // a plain room never takes one.
        check_type_for_room(room, &content_type)?;
        if head.metadata.get(meta::TYPE).map(String::as_str) != Some(content_type.as_str()) {
            return Err(ChatError::BadRequest(
                "attachment was uploaded with another content type than its slot's".into(),
            ));
        }
        if number_of::<u64>(&head.metadata, meta::SIZE) != Some(head.size) {
            return Err(ChatError::BadRequest(
                "attachment was uploaded with another size than its slot's".into(),
            ));
        }
        if head.size == 0 || head.size > self.limits.attachments.max_bytes {
            return Err(ChatError::TooLarge(format!(
                "attachments are limited to {} bytes",
                self.limits.attachments.max_bytes
            )));
        }
        let file_name =
            name_of(&head.metadata).ok_or_else(|| ChatError::BadRequest(UNUSABLE.into()))?;
        let (width, height) = (
            number_of(&head.metadata, meta::WIDTH),
            number_of(&head.metadata, meta::HEIGHT),
        );
        // What the slot checked, checked again on what the store recorded.
        check_slot_for_room(room, &content_type, head.size, &file_name, width, height)?;
        Ok(Attachment {
            attachment_id: id.clone(),
            content_type,
            size: head.size,
            file_name,
            width,
            height,
        })
    }

    /// `m` as members see it, with a fresh download URL per attachment.
    /// Only members are handed views (every caller authorized them), and
    /// signing is local computation: no request per URL.
    pub async fn view(&self, m: &Message) -> MessageView {
        let now = self.clock.now();
        let ttl = self.limits.attachments.download_url_ttl_ms;
        let mut views = Vec::with_capacity(m.attachments.len());
        for a in &m.attachments {
            let spec = DownloadSpec {
                content_type: a.content_type.as_str().to_owned(),
                disposition: a.disposition(),
            };
            let url = match self
                .blobs
                .presign_get(&stored_key(&m.room_id, &a.attachment_id), &spec, now, ttl)
                .await
            {
                Ok(url) => Some(url),
                Err(e) => {
                    warn!(attachment_id = %a.attachment_id, error = %crate::error::chain(&e), "could not sign a download URL; the view goes without it");
                    None
                }
            };
            views.push(AttachmentView {
                attachment: a.clone(),
                url,
                url_expires_at: now.saturating_add(ttl),
            });
        }
        MessageView::with_attachments(m, views)
    }

    /// [`Chat::view`] of each message, in order.
    pub async fn views(&self, messages: &[Message]) -> Vec<MessageView> {
        futures::future::join_all(messages.iter().map(|m| self.view(m))).await
    }
}
