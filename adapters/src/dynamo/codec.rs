//! Records ⇄ items. Keys are built in one place ([`keys`]); attribute names
//! are camelCase like the JSON forms of the records. Decoding re-parses every
//! id through its newtype, so a corrupt item is an error, never a bad value.

use aws_sdk_dynamodb::types::AttributeValue;
use chat_core::error::StoreError;
use chat_core::ids::{
    AvatarUrl, ClientMsgId, ConnectionId, DisplayName, MessageBody, MessageId, Millis, RoomId,
    RoomName, Seq, UserId,
};
use chat_core::model::{ConnectionRecord, Membership, Message, Profile, Role, Room, RoomKind};

use super::{n, s, schema, Item};

/// Key values.
pub(crate) mod keys {
    use chat_core::ids::{ClientMsgId, ConnectionId, Millis, RoomId, Seq, UserId};

    pub const META: &str = "META";
    pub const SEQ: &str = "SEQ";
    pub const PROFILE: &str = "PROFILE";
    pub const CHANNELS: &str = "CHANNELS";
    pub const MEMBER_PREFIX: &str = "MEMBER#";
    pub const ROOM_PREFIX: &str = "ROOM#";
    pub const CONN_PREFIX: &str = "CONN#";

    pub fn room(r: &RoomId) -> String {
        format!("{ROOM_PREFIX}{r}")
    }
    pub fn member(u: &UserId) -> String {
        format!("{MEMBER_PREFIX}{u}")
    }
    pub fn user(u: &UserId) -> String {
        format!("USER#{u}")
    }
    pub fn cmid(u: &UserId, c: &ClientMsgId) -> String {
        format!("CMID#{u}#{c}")
    }
    pub fn msgs(r: &RoomId) -> String {
        format!("MSGS#{r}")
    }
    pub fn slots(r: &RoomId) -> String {
        format!("SEQS#{r}")
    }
    pub fn seq(s: Seq) -> String {
        format!("{s:020}")
    }
    /// The GSI1 partition of the replies to the message at `target`.
    pub fn thread(r: &RoomId, target: Seq) -> String {
        format!("THRD#{r}#{target:020}")
    }
    pub fn conn(c: &ConnectionId) -> String {
        format!("{CONN_PREFIX}{c}")
    }
    pub fn channel(created_at: Millis, r: &RoomId) -> String {
        format!("{:020}#{r}", created_at.max(0))
    }
}

/// How long an idempotency key is kept: a resend later than this is new.
pub(crate) const CMID_TTL_SECS: i64 = 30 * 24 * 3600;
/// API Gateway closes every WebSocket within 2 hours, so a connection record
/// past its presence expiry by that much has certainly lost its `$disconnect`.
pub(crate) const CONN_TTL_GRACE_SECS: i64 = 2 * 3600;

fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {detail}"))
}

pub(crate) fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v),
        Some(_) => Err(corrupt(name, "not a string")),
        None => Err(corrupt(name, "missing")),
    }
}

fn get_opt_s<'a>(item: &'a Item, name: &str) -> Result<Option<&'a str>, StoreError> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(_) => get_s(item, name).map(Some),
    }
}

pub(crate) fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().map_err(|_| corrupt(name, "not a number")),
        Some(_) => Err(corrupt(name, "not a number")),
        None => Err(corrupt(name, "missing")),
    }
}

fn parsed<T, E: std::fmt::Display>(
    item: &Item,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, StoreError> {
    parse(get_s(item, name)?).map_err(|e| corrupt(name, e))
}

fn put(item: &mut Item, name: &str, v: AttributeValue) {
    item.insert(name.to_owned(), v);
}

fn keyed(pk: String, sk: String, kind: &str) -> Item {
    let mut item = super::key(pk, sk);
    put(&mut item, "type", s(kind));
    item
}

// --- rooms ---

fn kind_str(k: RoomKind) -> &'static str {
    match k {
        RoomKind::Group => "group",
        RoomKind::Channel => "channel",
        RoomKind::Direct => "direct",
    }
}

fn parse_kind(raw: &str) -> Result<RoomKind, String> {
    match raw {
        "group" => Ok(RoomKind::Group),
        "channel" => Ok(RoomKind::Channel),
        "direct" => Ok(RoomKind::Direct),
        other => Err(format!("unknown room kind {other:?}")),
    }
}

pub(crate) fn room_item(r: &Room) -> Item {
    let mut item = keyed(keys::room(&r.room_id), keys::META.into(), "room");
    put(&mut item, "roomId", s(r.room_id.as_str()));
    put(&mut item, "kind", s(kind_str(r.kind)));
    put(&mut item, "name", s(r.name.as_str()));
    put(&mut item, "ownerId", s(r.owner_id.as_str()));
    put(&mut item, "createdAt", n(r.created_at));
    if r.kind == RoomKind::Channel {
        put(&mut item, schema::GSI1PK, s(keys::CHANNELS));
        put(
            &mut item,
            schema::GSI1SK,
            s(keys::channel(r.created_at, &r.room_id)),
        );
    }
    item
}

pub(crate) fn room(item: &Item) -> Result<Room, StoreError> {
    Ok(Room {
        room_id: parsed(item, "roomId", RoomId::parse)?,
        kind: parsed(item, "kind", parse_kind)?,
        name: parsed(item, "name", RoomName::parse)?,
        owner_id: parsed(item, "ownerId", UserId::parse)?,
        created_at: get_n(item, "createdAt")?,
    })
}

// --- memberships ---

fn role_str(r: Role) -> &'static str {
    match r {
        Role::Owner => "owner",
        Role::Member => "member",
    }
}

fn parse_role(raw: &str) -> Result<Role, String> {
    match raw {
        "owner" => Ok(Role::Owner),
        "member" => Ok(Role::Member),
        other => Err(format!("unknown role {other:?}")),
    }
}

pub(crate) fn member_item(m: &Membership) -> Item {
    let mut item = keyed(keys::room(&m.room_id), keys::member(&m.user_id), "member");
    put(&mut item, schema::GSI1PK, s(keys::user(&m.user_id)));
    put(&mut item, schema::GSI1SK, s(keys::room(&m.room_id)));
    put(&mut item, "roomId", s(m.room_id.as_str()));
    put(&mut item, "userId", s(m.user_id.as_str()));
    put(&mut item, "role", s(role_str(m.role)));
    put(&mut item, "joinedAt", n(m.joined_at));
    put(&mut item, "deliveredSeq", n(m.delivered_seq));
    put(&mut item, "readSeq", n(m.read_seq));
    item
}

pub(crate) fn membership(item: &Item) -> Result<Membership, StoreError> {
    Ok(Membership {
        room_id: parsed(item, "roomId", RoomId::parse)?,
        user_id: parsed(item, "userId", UserId::parse)?,
        role: parsed(item, "role", parse_role)?,
        joined_at: get_n(item, "joinedAt")?,
        delivered_seq: get_n(item, "deliveredSeq")?,
        read_seq: get_n(item, "readSeq")?,
    })
}

// --- messages ---

fn message_attrs(item: &mut Item, m: &Message) {
    put(item, "roomId", s(m.room_id.as_str()));
    put(item, "messageId", s(m.message_id.as_str()));
    put(item, "seq", n(m.seq));
    put(item, "senderId", s(m.sender_id.as_str()));
    put(item, "body", s(m.body.as_str()));
    put(item, "sentAt", n(m.sent_at));
    put(item, "clientMsgId", s(m.client_msg_id.as_str()));
    // Attachments as one JSON string: read and written only whole, with
    // the message, and absent for the messages that have none.
    if !m.attachments.is_empty() {
        if let Ok(json) = serde_json::to_string(&m.attachments) {
            put(item, "attachments", s(&json));
        }
    }
    // The reply's quote, likewise one JSON string.
    if let Some(reply) = &m.reply_to {
        if let Ok(json) = serde_json::to_string(reply) {
            put(item, "replyTo", s(&json));
        }
    }
    // An encrypted room's sealed payload (the body is empty), likewise.
    if let Some(sealed) = &m.sealed {
        if let Ok(json) = serde_json::to_string(sealed) {
            put(item, "sealed", s(&json));
        }
    }
}

pub(crate) fn message_item(m: &Message) -> Item {
    let mut item = keyed(keys::msgs(&m.room_id), keys::seq(m.seq), "message");
    message_attrs(&mut item, m);
    // A reply is also found by its target: its thread on GSI1.
    if let Some(reply) = &m.reply_to {
        put(
            &mut item,
            schema::GSI1PK,
            s(keys::thread(&m.room_id, reply.seq)),
        );
        put(&mut item, schema::GSI1SK, s(keys::seq(m.seq)));
    }
    item
}

/// The idempotency reservation: the key of `(room, sender, clientMsgId)`
/// holding the whole message it produced.
pub(crate) fn reservation_item(m: &Message, now_secs: i64) -> Item {
    let mut item = keyed(
        keys::room(&m.room_id),
        keys::cmid(&m.sender_id, &m.client_msg_id),
        "reservation",
    );
    message_attrs(&mut item, m);
    put(&mut item, schema::TTL, n(now_secs + CMID_TTL_SECS));
    item
}

/// What a seq became: the message reserved at it (written with its
/// reservation, in one transaction) ...
pub(crate) fn slot_item(m: &Message, now_secs: i64) -> Item {
    let mut item = keyed(keys::slots(&m.room_id), keys::seq(m.seq), "slot");
    message_attrs(&mut item, m);
    put(&mut item, schema::TTL, n(now_secs + CMID_TTL_SECS));
    item
}

/// ... or nothing, for good (written by `settle` when no reservation has it).
pub(crate) fn burned_item(room: &RoomId, seq: Seq, now_secs: i64) -> Item {
    let mut item = keyed(keys::slots(room), keys::seq(seq), "burned");
    put(&mut item, schema::TTL, n(now_secs + CMID_TTL_SECS));
    item
}

pub(crate) fn is_burned(item: &Item) -> bool {
    matches!(item.get("type"), Some(AttributeValue::S(t)) if t == "burned")
}

pub(crate) fn message(item: &Item) -> Result<Message, StoreError> {
    Ok(Message {
        room_id: parsed(item, "roomId", RoomId::parse)?,
        message_id: parsed(item, "messageId", MessageId::parse)?,
        seq: get_n::<Seq>(item, "seq")?,
        sender_id: parsed(item, "senderId", UserId::parse)?,
        // Stored bodies were validated on the way in; only re-check that
        // they are text, not the (configurable) length limits.
        body: parsed(item, "body", MessageBody::stored)?,
        sent_at: get_n(item, "sentAt")?,
        client_msg_id: parsed(item, "clientMsgId", ClientMsgId::parse)?,
        attachments: match item.get("attachments") {
            None => Vec::new(),
            Some(_) => parsed(item, "attachments", |j| {
                serde_json::from_str::<Vec<chat_core::attachments::Attachment>>(j)
            })?,
        },
        reply_to: match item.get("replyTo") {
            None => None,
            Some(_) => Some(Box::new(parsed(item, "replyTo", |j| {
                serde_json::from_str::<chat_core::replies::ReplyPreview>(j)
            })?)),
        },
        sealed: match item.get("sealed") {
            None => None,
            Some(_) => Some(Box::new(parsed(item, "sealed", |j| {
                serde_json::from_str::<chat_core::e2ee::Sealed>(j)
            })?)),
        },
    })
}

// --- connections ---

pub(crate) fn conn_ttl(expires_at: Millis) -> i64 {
    expires_at.div_euclid(1000) + CONN_TTL_GRACE_SECS
}

pub(crate) fn connection_item(c: &ConnectionRecord) -> Item {
    let mut item = keyed(
        keys::conn(&c.connection_id),
        keys::META.into(),
        "connection",
    );
    put(&mut item, schema::GSI1PK, s(keys::user(&c.user_id)));
    put(&mut item, schema::GSI1SK, s(keys::conn(&c.connection_id)));
    put(&mut item, "connectionId", s(c.connection_id.as_str()));
    put(&mut item, "userId", s(c.user_id.as_str()));
    put(&mut item, "connectedAt", n(c.connected_at));
    put(&mut item, "expiresAtMs", n(c.expires_at));
    put(&mut item, schema::TTL, n(conn_ttl(c.expires_at)));
    item
}

pub(crate) fn connection(item: &Item) -> Result<ConnectionRecord, StoreError> {
    Ok(ConnectionRecord {
        connection_id: parsed(item, "connectionId", ConnectionId::parse)?,
        user_id: parsed(item, "userId", UserId::parse)?,
        connected_at: get_n(item, "connectedAt")?,
        expires_at: get_n(item, "expiresAtMs")?,
    })
}

// --- profiles ---

pub(crate) fn profile_item(p: &Profile) -> Item {
    let mut item = keyed(keys::user(&p.user_id), keys::PROFILE.into(), "profile");
    put(&mut item, "userId", s(p.user_id.as_str()));
    put(&mut item, "displayName", s(p.display_name.as_str()));
    if let Some(a) = &p.avatar_url {
        put(&mut item, "avatarUrl", s(a.as_str()));
    }
    put(&mut item, "createdAt", n(p.created_at));
    put(&mut item, "updatedAt", n(p.updated_at));
    item
}

pub(crate) fn profile(item: &Item) -> Result<Profile, StoreError> {
    Ok(Profile {
        user_id: parsed(item, "userId", UserId::parse)?,
        display_name: parsed(item, "displayName", DisplayName::parse)?,
        avatar_url: get_opt_s(item, "avatarUrl")?
            .map(AvatarUrl::parse)
            .transpose()
            .map_err(|e| corrupt("avatarUrl", e))?,
        created_at: get_n(item, "createdAt")?,
        updated_at: get_n(item, "updatedAt")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_core::contract;

    #[test]
    fn every_record_survives_a_round_trip() {
        let u = contract::user("u");
        let r = contract::room(RoomKind::Channel, &u, 1_700_000_000_000);
        assert_eq!(room(&room_item(&r)).unwrap(), r);
        let m = contract::member(&r, &u, Role::Owner);
        assert_eq!(membership(&member_item(&m)).unwrap(), m);
        let msg = contract::draft(&r.room_id, &u, "c1", "hello\nworld").with_seq(42);
        assert_eq!(message(&message_item(&msg)).unwrap(), msg);
        assert_eq!(message(&reservation_item(&msg, 0)).unwrap(), msg);
        let c = contract::conn_record(&contract::connection("c"), &u, 5_000);
        assert_eq!(connection(&connection_item(&c)).unwrap(), c);
        let mut p = contract::profile(&u, "Name");
        assert_eq!(profile(&profile_item(&p)).unwrap(), p);
        p.avatar_url = Some(AvatarUrl::parse("https://cdn.example.com/a.png").unwrap());
        assert_eq!(profile(&profile_item(&p)).unwrap(), p);
    }

    #[test]
    fn keys_sort_numerically_and_channels_carry_their_index_keys() {
        assert!(keys::seq(9) < keys::seq(10));
        assert_eq!(keys::seq(u64::MAX).len(), 20);
        let u = contract::user("u");
        let old = room_item(&contract::room(RoomKind::Channel, &u, 999));
        let new = room_item(&contract::room(RoomKind::Channel, &u, 1_000));
        assert!(get_s(&old, schema::GSI1SK).unwrap() < get_s(&new, schema::GSI1SK).unwrap());
        let group = room_item(&contract::room(RoomKind::Group, &u, 1_000));
        assert!(!group.contains_key(schema::GSI1PK));
    }

    #[test]
    fn a_corrupt_item_is_an_error_naming_the_attribute() {
        let u = contract::user("u");
        let mut item = profile_item(&contract::profile(&u, "Name"));
        item.insert("userId".into(), s("not a valid id!"));
        let e = profile(&item).unwrap_err();
        assert!(e.to_string().contains("userId"), "{e}");
    }
}
