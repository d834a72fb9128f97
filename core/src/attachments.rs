//! Attachments: files shared in a room, stored in an object store (S3 in
//! AWS) and never carried by a function or the WebSocket.
//!
//! The life of one attachment:
//!
//! 1. A member asks for an upload slot (`POST /rooms/{roomId}/attachments`
//!    with the content type, size and file name). The answer is an
//!    [`AttachmentId`] and a presigned PUT of [`pending_key`] that signs the
//!    content type, the length and the slot's metadata ([`meta`]: owner,
//!    room, file name, declared image size, when the slot was issued), so
//!    the upload cannot change any of them.
//! 2. The client uploads the bytes directly to the store.
//! 3. It sends a message with `attachments: [id]`. The message function
//!    reads the object's head (what S3 recorded, not what the client says):
//!    it must be the sender's, of this room, of an allowed type and within
//!    the size limit, and still pending. It then moves the object to
//!    [`stored_key`] (copy, then delete of the pending one) with the
//!    message's `clientMsgId` in its metadata: a second message naming the
//!    same id finds nothing pending and is refused, while a resend of the
//!    same message (same `clientMsgId`) finds its own claim and goes on.
//! 4. Members get a presigned GET per attachment with each message, live,
//!    in history and in sync, valid for the deployment's URL lifetime.
//!
//! Uploads never sent stay under `pending/`, where the bucket's lifecycle
//! rule deletes them after [`PENDING_DAYS`]; the message function refuses
//! slots older than that, so a send never races the rule.

use std::collections::BTreeMap;

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::error::ChatError;
use crate::ids::{AttachmentId, ClientMsgId, FileName, Millis, RoomId, UserId};

/// Days after which the bucket's lifecycle rule deletes an unsent upload
/// (infra/lib/attachments.ts sets the same).
pub const PENDING_DAYS: i64 = 1;

/// The prefix of uploads not yet sent in a message.
pub const PENDING_PREFIX: &str = "pending/";

/// Where an upload waits until a message claims it.
pub fn pending_key(id: &AttachmentId) -> String {
    format!("{PENDING_PREFIX}{id}")
}

/// Where a sent attachment lives.
pub fn stored_key(room: &RoomId, id: &AttachmentId) -> String {
    format!("rooms/{room}/{id}")
}

/// The names of the object metadata an upload carries (`x-amz-meta-<name>`).
pub mod meta {
    pub const OWNER: &str = "owner";
    pub const ROOM: &str = "room";
    /// The file name, base64url of its UTF-8 (S3 metadata is ASCII).
    pub const NAME: &str = "name";
    pub const WIDTH: &str = "width";
    pub const HEIGHT: &str = "height";
    /// The type and size the slot was issued for.
    pub const TYPE: &str = "type";
    pub const SIZE: &str = "size";
    /// When the slot was issued (Unix milliseconds).
    pub const ISSUED: &str = "issued";
    /// Set when a message claims it: that message's `clientMsgId`.
    pub const CLAIMED_BY: &str = "claimed-by";
}

/// What may be shared: images, video, audio, PDF and common office
/// documents. Nothing executable or scriptable: SVG (which runs script when
/// opened inline), HTML, JavaScript, archives and binaries are refused.
pub const ALLOWED_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
    "image/heic",
    "image/heif",
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "audio/mpeg",
    "audio/mp4",
    "audio/aac",
    "audio/ogg",
    "audio/wav",
    "audio/webm",
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/rtf",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
];

/// The only content type of an upload slot in an end-to-end encrypted room
/// (and never in a plain one): the client encrypts the file before upload,
/// so the store holds ciphertext, and the real type travels sealed.
pub const SEALED_TYPE: &str = "application/octet-stream";

/// The only file name of an upload slot in an end-to-end encrypted room:
/// the real name travels sealed, and a real-looking one here is refused so
/// a client cannot leak it by mistake.
pub const SEALED_NAME: &str = "sealed";

/// An allowed media type, lower case, without parameters: one of
/// [`ALLOWED_TYPES`] (plain rooms), or [`SEALED_TYPE`] (encrypted rooms;
/// which room takes which is the service's check, see
/// `Chat::upload_slot`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ContentType(String);

impl ContentType {
    pub fn parse(raw: &str) -> Result<Self, ChatError> {
        let essence = essence(raw);
        if essence == "image/svg+xml" {
            return Err(ChatError::BadRequest(
                "SVG images are not accepted: they can carry script".into(),
            ));
        }
        if ALLOWED_TYPES.contains(&essence.as_str()) {
            Ok(Self(essence))
        } else {
            Err(ChatError::BadRequest(format!(
                "content type {:?} is not accepted: images, video, audio, PDF and office documents are",
                raw.chars().take(100).collect::<String>()
            )))
        }
    }

    /// [`ContentType::parse`], or [`SEALED_TYPE`]: what a slot request and
    /// a stored attachment may say. Whether the room takes it is checked
    /// where the room is known.
    pub fn parse_wire(raw: &str) -> Result<Self, ChatError> {
        if essence(raw) == SEALED_TYPE {
            Ok(Self(SEALED_TYPE.to_owned()))
        } else {
            Self::parse(raw)
        }
    }

    /// The type of an encrypted room's upload: ciphertext.
    pub fn sealed() -> Self {
        Self(SEALED_TYPE.to_owned())
    }

    /// Whether this is [`SEALED_TYPE`].
    pub fn is_sealed(&self) -> bool {
        self.0 == SEALED_TYPE
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Shown in place (`inline`) rather than downloaded: images, video,
    /// audio and PDF. Documents download.
    pub fn inline(&self) -> bool {
        ["image/", "video/", "audio/"]
            .iter()
            .any(|p| self.0.starts_with(p))
            || self.0 == "application/pdf"
    }

    pub fn is_image(&self) -> bool {
        self.0.starts_with("image/")
    }
}

/// A media type's essence: lower case, without parameters.
fn essence(raw: &str) -> String {
    raw.split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

impl<'de> Deserialize<'de> for ContentType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse_wire(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for ContentType {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ContentType".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut all = ALLOWED_TYPES.to_vec();
        all.push(SEALED_TYPE);
        schemars::json_schema!({ "type": "string", "enum": all })
    }
}

/// Largest declared image side, in pixels.
pub const MAX_IMAGE_SIDE: u32 = 100_000;

/// An attachment as a message carries it (stored with the message). Every
/// field comes from the object store's head of the upload, which the slot's
/// signature fixed, not from the message frame.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    pub attachment_id: AttachmentId,
    pub content_type: ContentType,
    /// Bytes.
    pub size: u64,
    pub file_name: FileName,
    /// Pixels, as the sender declared them for an image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

impl Attachment {
    /// The header `Content-Disposition` a download of it answers with:
    /// `inline` for media, `attachment` for documents, with the file name.
    pub fn disposition(&self) -> String {
        let kind = if self.content_type.inline() {
            "inline"
        } else {
            "attachment"
        };
        format!(
            "{kind}; filename*=UTF-8''{}",
            percent_encode(self.file_name.as_str())
        )
    }
}

/// RFC 5987 `attr-char` percent-encoding of a file name.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The metadata an upload slot signs into its object.
#[allow(clippy::too_many_arguments)]
pub fn slot_metadata(
    owner: &UserId,
    room: &RoomId,
    content_type: &ContentType,
    size: u64,
    name: &FileName,
    width: Option<u32>,
    height: Option<u32>,
    issued: Millis,
) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert(meta::OWNER.into(), owner.as_str().into());
    m.insert(meta::ROOM.into(), room.as_str().into());
    m.insert(meta::TYPE.into(), content_type.as_str().into());
    m.insert(meta::SIZE.into(), size.to_string());
    m.insert(
        meta::NAME.into(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(name.as_str()),
    );
    if let Some(w) = width {
        m.insert(meta::WIDTH.into(), w.to_string());
    }
    if let Some(h) = height {
        m.insert(meta::HEIGHT.into(), h.to_string());
    }
    m.insert(meta::ISSUED.into(), issued.to_string());
    m
}

/// The metadata of a stored object, as the message that claimed it leaves it.
pub fn claimed_metadata(
    pending: &BTreeMap<String, String>,
    by: &ClientMsgId,
) -> BTreeMap<String, String> {
    let mut m = pending.clone();
    m.insert(meta::CLAIMED_BY.into(), by.as_str().into());
    m
}

/// The file name an object's metadata holds.
pub fn name_of(metadata: &BTreeMap<String, String>) -> Option<FileName> {
    let raw = metadata.get(meta::NAME)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .ok()?;
    FileName::parse(std::str::from_utf8(&bytes).ok()?).ok()
}

/// A number in an object's metadata.
pub fn number_of<T: std::str::FromStr>(
    metadata: &BTreeMap<String, String>,
    name: &str,
) -> Option<T> {
    metadata.get(name)?.parse().ok()
}

/// Whether `room` takes files of `content_type`: an end-to-end encrypted
/// room only [`SEALED_TYPE`] (ciphertext), every other room only the
/// [`ALLOWED_TYPES`].
pub fn check_type_for_room(room: &RoomId, content_type: &ContentType) -> Result<(), ChatError> {
    match (room.is_encrypted(), content_type.is_sealed()) {
        (true, true) | (false, false) => Ok(()),
        (true, false) => Err(ChatError::BadRequest(format!(
            "an end-to-end encrypted room takes files of content type \"{SEALED_TYPE}\" only: encrypt the file first; its real type goes inside the sealed message"
        ))),
        (false, true) => Err(ChatError::BadRequest(format!(
            "content type \"{SEALED_TYPE}\" is not accepted: images, video, audio, PDF and office documents are (it is for end-to-end encrypted rooms only)"
        ))),
    }
}

/// What an upload slot of `room` must declare beyond its type: in an
/// end-to-end encrypted room the neutral name [`SEALED_NAME`] (the real
/// one goes inside the sealed message), no image size, and at least a tag
/// and one byte of ciphertext.
pub fn check_slot_for_room(
    room: &RoomId,
    content_type: &ContentType,
    size: u64,
    name: &FileName,
    width: Option<u32>,
    height: Option<u32>,
) -> Result<(), ChatError> {
    check_type_for_room(room, content_type)?;
    if !room.is_encrypted() {
        return Ok(());
    }
    if name.as_str() != SEALED_NAME {
        return Err(ChatError::BadRequest(format!(
            "an end-to-end encrypted room's upload slot takes fileName \"{SEALED_NAME}\": the real name goes inside the sealed message"
        )));
    }
    if width.is_some() || height.is_some() {
        return Err(ChatError::BadRequest(
            "an end-to-end encrypted room's upload slot takes no width or height: they go inside the sealed message".into(),
        ));
    }
    if size <= SEALED_TAG_LEN {
        return Err(ChatError::BadRequest(format!(
            "an encrypted file is at least {} bytes: its {SEALED_TAG_LEN}-byte tag and one byte",
            SEALED_TAG_LEN + 1
        )));
    }
    Ok(())
}

/// The AES-GCM tag that ends an encrypted file.
pub const SEALED_TAG_LEN: u64 = 16;

/// A file name as a slot request gives it: refused when it holds a path.
pub fn parse_file_name(raw: &str) -> Result<FileName, ChatError> {
    if raw.contains(['/', '\\']) {
        return Err(ChatError::BadRequest(
            "fileName must not contain a path".into(),
        ));
    }
    FileName::parse(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_types_are_accepted_and_svg_never() {
        assert_eq!(
            ContentType::parse("Image/PNG; charset=binary")
                .unwrap()
                .as_str(),
            "image/png"
        );
        for bad in [
            "image/svg+xml",
            "application/x-msdownload",
            "application/x-sh",
            "text/html",
            "application/javascript",
            "application/octet-stream",
            "",
        ] {
            assert!(ContentType::parse(bad).is_err(), "{bad}");
        }
        let svg = ContentType::parse("image/svg+xml").unwrap_err();
        assert!(svg.public_message().contains("SVG"), "{svg}");
    }

    #[test]
    fn ciphertext_is_its_own_type_taken_only_by_encrypted_rooms() {
        let sealed = ContentType::parse_wire("Application/Octet-Stream; x=1").unwrap();
        assert!(sealed.is_sealed() && !sealed.inline() && !sealed.is_image());
        assert_eq!(sealed.as_str(), SEALED_TYPE);
        assert!(
            ContentType::parse(SEALED_TYPE).is_err(),
            "not on the plain list"
        );
        assert!(ContentType::parse_wire("image/svg+xml").is_err());
        let (a, b) = (UserId::parse("a").unwrap(), UserId::parse("b").unwrap());
        let (dm, plain) = (
            RoomId::direct_encrypted(&a, &b),
            RoomId::parse("r_1").unwrap(),
        );
        let png = ContentType::parse("image/png").unwrap();
        let sealed_name = FileName::parse(SEALED_NAME).unwrap();
        let real_name = FileName::parse("cat.png").unwrap();
        assert!(check_slot_for_room(&dm, &sealed, 17, &sealed_name, None, None).is_ok());
        assert!(check_slot_for_room(&dm, &png, 17, &sealed_name, None, None).is_err());
        assert!(check_slot_for_room(&dm, &sealed, 17, &real_name, None, None).is_err());
        assert!(check_slot_for_room(&dm, &sealed, 17, &sealed_name, Some(1), None).is_err());
        assert!(check_slot_for_room(&dm, &sealed, 16, &sealed_name, None, None).is_err());
        assert!(check_slot_for_room(&plain, &sealed, 17, &sealed_name, None, None).is_err());
        assert!(check_slot_for_room(&plain, &png, 1, &real_name, Some(1), Some(1)).is_ok());
        // A stored attachment of an encrypted room reads back.
        let stored: Attachment = serde_json::from_value(serde_json::json!({
            "attachmentId": AttachmentId::generate(), "contentType": SEALED_TYPE,
            "size": 17, "fileName": SEALED_NAME,
        }))
        .unwrap();
        assert!(stored.disposition().starts_with("attachment;"));
    }

    #[test]
    fn media_is_inline_and_documents_download_with_the_name_encoded() {
        let a = |ct: &str, name: &str| Attachment {
            attachment_id: AttachmentId::generate(),
            content_type: ContentType::parse(ct).unwrap(),
            size: 1,
            file_name: FileName::parse(name).unwrap(),
            width: None,
            height: None,
        };
        assert_eq!(
            a("image/png", "cat.png").disposition(),
            "inline; filename*=UTF-8''cat.png"
        );
        assert_eq!(
            a("application/msword", "Q3 plan \"v2\".doc").disposition(),
            "attachment; filename*=UTF-8''Q3%20plan%20%22v2%22.doc"
        );
    }

    #[test]
    fn the_file_name_survives_the_ascii_metadata() {
        let name = FileName::parse("Fête 🎉.jpg").unwrap();
        let m = slot_metadata(
            &UserId::parse("alice").unwrap(),
            &RoomId::parse("r_1").unwrap(),
            &ContentType::parse("image/jpeg").unwrap(),
            3,
            &name,
            Some(640),
            None,
            5,
        );
        assert!(m.values().all(|v| v.is_ascii()));
        assert_eq!(name_of(&m), Some(name));
        assert_eq!(number_of::<u32>(&m, meta::WIDTH), Some(640));
        assert!(parse_file_name("../../etc/passwd").is_err());
        assert!(parse_file_name("a\u{202E}gnp.exe").is_err());
    }
}
