//! REST request and response bodies (JSON, camelCase).

use serde::{Deserialize, Serialize};

use crate::attachments::ContentType;
use crate::ids::{
    AttachmentId, AvatarUrl, DisplayName, FileName, MessageId, Millis, RoomId, RoomName, Seq,
    UserId,
};
use crate::model::{PresenceStatus, Role, RoomKind};
use crate::protocol::ws::MessageView;

/// `POST /rooms`. The name is optional for direct rooms, which name the
/// other user in `members` (yourself may be named too).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "schema",
    schemars(extend(
        "if" = {"properties": {"kind": {"const": "direct"}}},
        "then" = {"properties": {"members": {"minItems": 1, "maxItems": 2}}, "required": ["members"]},
        "else" = {"properties": {"name": {"type": "string"}}, "required": ["name"]},
    ))
)]
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRoomRequest {
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::ids::RoomName>"))]
    pub name: Option<String>,
    pub kind: RoomKind,
    #[serde(default)]
    pub members: Vec<UserId>,
    /// A direct room only: the pair's end-to-end encrypted room (a room of
    /// its own, beside the plain one; chosen here, never changed).
    #[serde(default)]
    pub encrypted: bool,
}

/// `POST /rooms/{roomId}/members`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddMemberRequest {
    pub user_id: UserId,
}

/// `PATCH /users/me`: absent fields are left alone; `"avatarUrl": null` clears.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateProfileRequest {
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "Option<DisplayName>"))]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "present_or_null")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<AvatarUrl>"))]
    pub avatar_url: Option<Option<String>>,
}

fn present_or_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomView {
    pub room_id: RoomId,
    pub kind: RoomKind,
    pub name: RoomName,
    pub owner_id: UserId,
    pub created_at: Millis,
    /// An end-to-end encrypted direct room ([`crate::e2ee`]): its messages
    /// are sealed. Absent when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub encrypted: bool,
}

/// One entry of `GET /rooms`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomSummary {
    #[serde(flatten)]
    pub room: RoomView,
    pub last_message: Option<MessageView>,
    pub unread_count: u64,
    pub read_seq: Seq,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomList {
    pub rooms: Vec<RoomSummary>,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    pub user_id: UserId,
    pub role: Role,
    pub display_name: DisplayName,
    pub avatar_url: Option<AvatarUrl>,
    pub joined_at: Millis,
    pub delivered_seq: Seq,
    pub read_seq: Seq,
    pub presence: PresenceStatus,
}

/// `GET /rooms/{roomId}`, and the answer of `POST /rooms`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomDetail {
    #[serde(flatten)]
    pub room: RoomView,
    pub members: Vec<MemberView>,
}

/// `GET /channels`: public channels anyone may join.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelList {
    pub channels: Vec<RoomView>,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    pub user_id: UserId,
    pub display_name: DisplayName,
    pub avatar_url: Option<AvatarUrl>,
    /// Shown to the user themself and to users who share a room with them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<PresenceStatus>,
    pub updated_at: Millis,
}

/// `GET /rooms/{roomId}/messages`: messages ascending by `seq`.
/// `prevCursor` is present when older messages exist (pass it as `before`),
/// `nextCursor` when newer ones exist (pass it as `after`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPage {
    pub messages: Vec<MessageView>,
    pub prev_cursor: Option<String>,
    pub next_cursor: Option<String>,
}

/// `GET /rooms/{roomId}/messages/{seq}/replies`: the message (absent when it
/// is not stored yet) and a page of its replies, oldest first. `nextCursor`
/// is present when more may follow (pass it as `after`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadPage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<MessageView>,
    pub replies: Vec<MessageView>,
    pub next_cursor: Option<String>,
}

/// `GET /search` and `GET /rooms/{roomId}/search`: matches, newest first.
/// `nextCursor` is present when more may follow (pass it as `cursor`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    pub next_cursor: Option<String>,
}

/// One message that matched: where it is (to open the room at `seq`, e.g.
/// with `GET /rooms/{roomId}/messages?around={seq}`), who sent it when, and
/// a piece of its body around the match.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    pub room_id: RoomId,
    pub seq: Seq,
    pub message_id: MessageId,
    pub sender_id: UserId,
    pub sent_at: Millis,
    /// At most 160 characters of the body, `…` where it was cut.
    pub snippet: String,
}

/// `POST /rooms/{roomId}/attachments`: what the sender will upload. The
/// upload must be exactly this type and size; `width` and `height` (pixels)
/// are recorded for images.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadSlotRequest {
    pub content_type: ContentType,
    /// Bytes, at least 1 and at most the deployment's limit (25 MiB by default).
    pub size: u64,
    pub file_name: FileName,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::attachments::MAX_IMAGE_SIDE)))]
    pub width: Option<u32>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::attachments::MAX_IMAGE_SIDE)))]
    pub height: Option<u32>,
}

/// An upload slot: send `method` to `uploadUrl` with exactly `headers` and
/// the file as the body before `expiresAt`, then reference `attachmentId`
/// in a `sendMessage` of the same room.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadSlot {
    pub attachment_id: AttachmentId,
    /// Always `PUT`.
    pub method: String,
    pub upload_url: String,
    /// Header name → value; part of the signature.
    pub headers: std::collections::BTreeMap<String, String>,
    pub expires_at: Millis,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
/// The body of every error this API answers: `{"error": {"code", "message"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: crate::error::ErrorCode,
    pub message: String,
}

/// What API Gateway itself answers when it refuses a request before any
/// function runs, or when the function failed: `{"message": "Unauthorized"}`
/// (401, from the JWT authorizer), `"Too Many Requests"` (429, the stage's
/// throttle), `"Internal Server Error"` (500). The local platform answers the
/// same in template mode.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayMessage {
    pub message: String,
}

/// The keys of a Web Push subscription (base64url, as the browser gives them).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionKeys {
    /// The subscription's P-256 public key: 65 bytes, an uncompressed point.
    pub p256dh: String,
    /// The subscription's authentication secret: 16 bytes.
    pub auth: String,
}

/// `POST /users/me/devices`: a Web Push subscription as the browser's
/// `PushSubscription.toJSON()` gives it (the endpoint must be `https` to a
/// public host), or a native app's token `{"kind": "fcm"|"apns", "token"}`
/// (decoded by `chat_core::mobile::Registration::parse`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterDeviceRequest {
    /// A Web Push subscription's endpoint (with `keys`); absent for a
    /// mobile token.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Ignored (the push service answers 404/410 for an expired one, which
    /// removes the device).
    #[serde(default)]
    pub expiration_time: Option<f64>,
    #[serde(default)]
    pub keys: Option<SubscriptionKeys>,
    /// A mobile token's kind: `fcm` or `apns` (with `token`), instead of
    /// `endpoint` and `keys`.
    #[serde(default)]
    pub kind: Option<String>,
    /// The FCM registration token or APNs device token (hex).
    #[serde(default)]
    pub token: Option<String>,
}

impl RegisterDeviceRequest {
    /// A Web Push subscription's registration.
    pub fn web_push(endpoint: &str, p256dh: &str, auth: &str) -> Self {
        Self {
            endpoint: Some(endpoint.to_owned()),
            expiration_time: None,
            keys: Some(SubscriptionKeys {
                p256dh: p256dh.to_owned(),
                auth: auth.to_owned(),
            }),
            kind: None,
            token: None,
        }
    }

    /// A mobile token's registration (`kind`: `fcm` or `apns`).
    pub fn mobile(kind: &str, token: &str) -> Self {
        Self {
            endpoint: None,
            expiration_time: None,
            keys: None,
            kind: Some(kind.to_owned()),
            token: Some(token.to_owned()),
        }
    }
}

/// A registered device, as its owner sees it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceView {
    pub device_id: String,
    /// `webpush`, `fcm` or `apns`.
    pub kind: String,
    /// A Web Push device's endpoint; a mobile device's kind and the first
    /// characters of its token (`fcm:dQw4w9Wg…`).
    pub endpoint: String,
    pub created_at: Millis,
}

/// `GET /users/me/devices`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceList {
    pub devices: Vec<DeviceView>,
}

/// How one room notifies the caller.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RoomNotifyLevel {
    /// Every message (unless do-not-disturb or mentions only everywhere).
    All,
    /// Only messages that mention the caller (`@userId`).
    Mentions,
    /// Never.
    Muted,
}

/// `PUT /rooms/{roomId}/notifications`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomNotifyRequest {
    pub level: RoomNotifyLevel,
}

/// One person the caller blocks (`/users/me/blocks`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockView {
    /// Whom the caller blocks.
    pub user_id: UserId,
    pub created_at: Millis,
}

/// `GET /users/me/blocks`: whom the caller blocks (never who blocks them).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockList {
    pub blocks: Vec<BlockView>,
}
