//! Authorization: the one place that decides who may do what in a room.
//! Every WebSocket action and every REST route asks [`authorize`]; nothing
//! else compares user ids to decide access.

use crate::block::Between;
use crate::error::ChatError;
use crate::ids::UserId;
use crate::model::{Membership, Role, Room, RoomKind};

/// What the actor wants to do in a room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action<'a> {
    /// Read history, sync, see the room and its members.
    Read,
    /// Search the room's messages (alone, or among all the actor's rooms).
    Search,
    Send,
    /// Ask for an upload slot: attachments are sent, so only who may send.
    Attach,
    /// Send a reply to a message of the room: only who may send.
    Reply,
    /// Read the thread of replies to a message: only who may read.
    ReadThread,
    Typing,
    MarkRead,
    /// Set how the room notifies the actor (all, mentions only, muted).
    Notify,
    AddMember {
        target: &'a UserId,
    },
    RemoveMember {
        target: &'a UserId,
    },
    /// Edit a message sent by `sender` (`None`: no message has that seq,
    /// which a member then learns and a stranger does not).
    EditMessage {
        sender: Option<&'a UserId>,
    },
    /// Delete a message sent by `sender` (`None` as for an edit).
    DeleteMessage {
        sender: Option<&'a UserId>,
    },
    /// Toggle a reaction on a message.
    React,
}

const NOT_MEMBER: ChatError = ChatError::Forbidden("not a member of this room");

/// What a user does with what belongs to their account, not to a room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountAction {
    /// Register, list or remove push devices.
    Devices,
    /// Read or change the notification policy.
    NotifyPolicy,
    /// Block or unblock people, list whom one blocks.
    Blocks,
    /// Publish or remove the device keys of encrypted rooms
    /// ([`crate::e2ee`]); anyone signed in may read them.
    DeviceKeys,
}

/// Decides whether `actor` may do `action` on the account of `owner`: a
/// user's devices and notification policy are theirs alone (nobody else
/// reads where their notifications go, or silences them).
pub fn authorize_account(
    actor: &UserId,
    action: AccountAction,
    owner: &UserId,
) -> Result<(), ChatError> {
    match action {
        AccountAction::Devices
        | AccountAction::NotifyPolicy
        | AccountAction::Blocks
        | AccountAction::DeviceKeys
            if actor == owner =>
        {
            Ok(())
        }
        AccountAction::Devices => Err(ChatError::Forbidden("devices are their owner's alone")),
        AccountAction::NotifyPolicy => Err(ChatError::Forbidden(
            "a notification policy is its owner's alone",
        )),
        AccountAction::Blocks => Err(ChatError::Forbidden("a block list is its owner's alone")),
        AccountAction::DeviceKeys => Err(ChatError::Forbidden(
            "device keys are published by their owner alone",
        )),
    }
}

impl Action<'_> {
    /// Whether the action reaches the other member of a direct room, so
    /// that a block between the two refuses it there (a reply, an edit or
    /// a reaction is a message to them too). Reading the history that
    /// exists, marking it read, choosing how it notifies and deleting
    /// one's own messages stay the member's own business.
    pub fn reaches_peer(&self) -> bool {
        match self {
            Action::Send
            | Action::Attach
            | Action::Reply
            | Action::Typing
            | Action::EditMessage { .. }
            | Action::React => true,
            // Taking back what one said stays possible after a block.
            Action::DeleteMessage { .. }
            | Action::Read
            | Action::Search
            | Action::ReadThread
            | Action::MarkRead
            | Action::Notify
            | Action::AddMember { .. }
            | Action::RemoveMember { .. } => false,
        }
    }
}

const YOU_BLOCK: &str = "you block this user: unblock them first";
const THEY_BLOCK: &str = "this user does not accept direct messages from you";

fn refuse_blocked(between: Between) -> Result<(), ChatError> {
    match between {
        Between::Clear => Ok(()),
        Between::ActorBlocks | Between::Both => Err(ChatError::Forbidden(YOU_BLOCK)),
        Between::BlockedByOther => Err(ChatError::Forbidden(THEY_BLOCK)),
    }
}

/// [`authorize`], knowing what stands between the actor and the other
/// member of a direct room (`peer`; [`Between::Clear`] for other rooms,
/// where a block changes nothing: shared groups and channels still work,
/// and clients hide the blocked person's messages). In a direct room a
/// block in either direction refuses every action that
/// [`Action::reaches_peer`].
pub fn authorize_in(
    actor: &UserId,
    action: Action<'_>,
    room: &Room,
    membership: Option<&Membership>,
    peer: Between,
) -> Result<(), ChatError> {
    authorize(actor, action, room, membership)?;
    if room.kind == RoomKind::Direct && action.reaches_peer() {
        refuse_blocked(peer)?;
    }
    Ok(())
}

/// What a user does that reaches another user directly, not through a
/// room's membership.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerAction {
    /// Open (create or find) the direct room of the two.
    OpenDirect,
    /// See the other's presence (the actor is the one who looks).
    SeePresence,
    /// See the other typing (the actor is the one who looks).
    SeeTyping,
    /// Have a message of the actor notify the other, offline.
    Notify,
    /// Block the other.
    Block,
    /// Silence the other's notifications (the actor's own policy).
    Mute,
}

/// Decides whether `actor` may do `action` to `other`, given what stands
/// between them (`between`, seen from the actor).
///
/// - A direct room is opened only when no block stands between them,
///   either way.
/// - Presence and typing are hidden both ways across a block.
/// - A message notifies its recipient unless the recipient blocks the
///   sender (the blocked person is still notified of the blocker's
///   messages in a group they share: blocking is the blocker's choice,
///   not a gag on them).
/// - Nobody blocks or mutes themselves; anyone else may be blocked or
///   muted, whatever stands between them.
pub fn authorize_peer(
    actor: &UserId,
    action: PeerAction,
    other: &UserId,
    between: Between,
) -> Result<(), ChatError> {
    match action {
        PeerAction::Block if actor == other => {
            Err(ChatError::BadRequest("you cannot block yourself".into()))
        }
        PeerAction::Block => Ok(()),
        PeerAction::Mute if actor == other => {
            Err(ChatError::BadRequest("you cannot mute yourself".into()))
        }
        PeerAction::Mute => Ok(()),
        PeerAction::OpenDirect => refuse_blocked(between),
        PeerAction::SeePresence | PeerAction::SeeTyping if between.any() => Err(
            ChatError::Forbidden("presence and typing are hidden across a block"),
        ),
        PeerAction::SeePresence | PeerAction::SeeTyping => Ok(()),
        PeerAction::Notify if between.other_blocks() => {
            Err(ChatError::Forbidden("the recipient blocks the sender"))
        }
        PeerAction::Notify => Ok(()),
    }
}

/// Decides whether `actor` (whose membership of `room`, if any, is
/// `membership`) may do `action`. `Ok(())` means allowed.
pub fn authorize(
    actor: &UserId,
    action: Action<'_>,
    room: &Room,
    membership: Option<&Membership>,
) -> Result<(), ChatError> {
    let member = membership.filter(|m| &m.user_id == actor && m.room_id == room.room_id);
    let is_owner = member.is_some_and(|m| m.role == Role::Owner);
    match action {
        Action::Read
        | Action::Search
        | Action::Send
        | Action::Attach
        | Action::Reply
        | Action::ReadThread
        | Action::Typing
        | Action::MarkRead
        | Action::Notify
        | Action::React => member.map(|_| ()).ok_or(NOT_MEMBER),
        Action::EditMessage { sender } => {
            member.ok_or(NOT_MEMBER)?;
            match sender {
                None => Ok(()),
                Some(s) if s == actor => Ok(()),
                Some(_) => Err(ChatError::Forbidden("only its sender may edit a message")),
            }
        }
        Action::DeleteMessage { sender } => {
            member.ok_or(NOT_MEMBER)?;
            match sender {
                None => Ok(()),
                Some(s) if s == actor => Ok(()),
                Some(_) if is_owner && room.kind != RoomKind::Direct => Ok(()),
                Some(_) => Err(ChatError::Forbidden(
                    "only its sender, or the owner of a group or channel, may delete a message",
                )),
            }
        }
        Action::AddMember { target } => match room.kind {
            RoomKind::Direct => Err(ChatError::Forbidden(
                "direct rooms have exactly two members",
            )),
            RoomKind::Channel if target == actor => Ok(()),
            RoomKind::Channel | RoomKind::Group if is_owner => Ok(()),
            RoomKind::Channel | RoomKind::Group => {
                Err(ChatError::Forbidden("only the room owner may add members"))
            }
        },
        Action::RemoveMember { target } => match room.kind {
            RoomKind::Direct => Err(ChatError::Forbidden(
                "direct rooms have exactly two members",
            )),
            _ if target == actor && is_owner => {
                Err(ChatError::Forbidden("the owner cannot leave the room"))
            }
            _ if target == actor => member.map(|_| ()).ok_or(NOT_MEMBER),
            _ if is_owner => Ok(()),
            _ => Err(ChatError::Forbidden(
                "only the room owner may remove members",
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{RoomId, RoomName};

    #[derive(Clone, Copy, Debug)]
    enum Rel {
        Owner,
        Member,
        Stranger,
    }

    #[derive(Clone, Copy, Debug)]
    enum Act {
        Read,
        Search,
        Send,
        Attach,
        Reply,
        ReadThread,
        Typing,
        MarkRead,
        Notify,
        AddSelf,
        AddOther,
        RemoveSelf,
        RemoveOther,
        EditOwn,
        EditOthers,
        DeleteOwn,
        DeleteOthers,
        React,
    }

    fn check(kind: RoomKind, rel: Rel, act: Act) -> bool {
        let actor = UserId::parse("actor").unwrap();
        let other = UserId::parse("other").unwrap();
        let owner = match rel {
            Rel::Owner => actor.clone(),
            _ => UserId::parse("boss").unwrap(),
        };
        let room = Room {
            room_id: RoomId::parse("r_1").unwrap(),
            kind,
            name: RoomName::parse("room").unwrap(),
            owner_id: owner,
            created_at: 0,
        };
        let membership = match rel {
            Rel::Owner => Some(Membership::new(
                room.room_id.clone(),
                actor.clone(),
                Role::Owner,
                0,
            )),
            Rel::Member => Some(Membership::new(
                room.room_id.clone(),
                actor.clone(),
                Role::Member,
                0,
            )),
            Rel::Stranger => None,
        };
        let action = match act {
            Act::Read => Action::Read,
            Act::Search => Action::Search,
            Act::Send => Action::Send,
            Act::Attach => Action::Attach,
            Act::Reply => Action::Reply,
            Act::ReadThread => Action::ReadThread,
            Act::Typing => Action::Typing,
            Act::MarkRead => Action::MarkRead,
            Act::Notify => Action::Notify,
            Act::AddSelf => Action::AddMember { target: &actor },
            Act::AddOther => Action::AddMember { target: &other },
            Act::RemoveSelf => Action::RemoveMember { target: &actor },
            Act::RemoveOther => Action::RemoveMember { target: &other },
            Act::EditOwn => Action::EditMessage {
                sender: Some(&actor),
            },
            Act::EditOthers => Action::EditMessage {
                sender: Some(&other),
            },
            Act::DeleteOwn => Action::DeleteMessage {
                sender: Some(&actor),
            },
            Act::DeleteOthers => Action::DeleteMessage {
                sender: Some(&other),
            },
            Act::React => Action::React,
        };
        authorize(&actor, action, &room, membership.as_ref()).is_ok()
    }

    #[test]
    fn decision_table() {
        use Act::*;
        use Rel::*;
        use RoomKind::*;
        let y = true;
        let n = false;
        // (kind, relation, action, allowed)
        let table = [
            // Members (any role) read, send, type and mark read; strangers do none of it, in every kind.
            (Group, Owner, Read, y),
            (Group, Member, Read, y),
            (Group, Stranger, Read, n),
            // Search: members only, in every kind (a public channel's
            // history is searched by joining it first).
            (Group, Owner, Search, y),
            (Group, Member, Search, y),
            (Group, Stranger, Search, n),
            (Channel, Member, Search, y),
            (Channel, Stranger, Search, n),
            (Direct, Member, Search, y),
            (Direct, Stranger, Search, n),
            (Group, Member, Send, y),
            (Group, Stranger, Send, n),
            (Group, Member, Typing, y),
            (Group, Stranger, Typing, n),
            (Group, Member, MarkRead, y),
            (Group, Stranger, MarkRead, n),
            // Notification settings of a room: its members only.
            (Group, Member, Notify, y),
            (Group, Owner, Notify, y),
            (Group, Stranger, Notify, n),
            (Channel, Member, Notify, y),
            (Channel, Stranger, Notify, n),
            (Direct, Member, Notify, y),
            (Direct, Stranger, Notify, n),
            (Channel, Member, Read, y),
            (Channel, Stranger, Read, n),
            (Channel, Stranger, Send, n),
            (Channel, Stranger, Typing, n),
            (Channel, Stranger, MarkRead, n),
            (Direct, Member, Send, y),
            (Direct, Stranger, Read, n),
            (Direct, Stranger, Send, n),
            // Upload slots: whoever may send, nobody else (downloads are Read).
            (Group, Member, Attach, y),
            (Group, Owner, Attach, y),
            (Group, Stranger, Attach, n),
            (Channel, Member, Attach, y),
            (Channel, Stranger, Attach, n),
            (Direct, Member, Attach, y),
            (Direct, Stranger, Attach, n),
            // Replies and threads: members only, in every kind of room.
            (Group, Member, Reply, y),
            (Group, Owner, Reply, y),
            (Group, Stranger, Reply, n),
            (Group, Member, ReadThread, y),
            (Group, Stranger, ReadThread, n),
            (Channel, Member, Reply, y),
            (Channel, Stranger, Reply, n),
            (Channel, Member, ReadThread, y),
            (Channel, Stranger, ReadThread, n),
            (Direct, Member, Reply, y),
            (Direct, Stranger, Reply, n),
            (Direct, Member, ReadThread, y),
            (Direct, Stranger, ReadThread, n),
            // Groups are private: only the owner adds, nobody adds themselves.
            (Group, Owner, AddOther, y),
            (Group, Member, AddOther, n),
            (Group, Stranger, AddSelf, n),
            (Group, Stranger, AddOther, n),
            // Channels are public: anyone joins themselves; only the owner adds others.
            (Channel, Stranger, AddSelf, y),
            (Channel, Member, AddOther, n),
            (Channel, Owner, AddOther, y),
            (Channel, Stranger, AddOther, n),
            // Direct rooms never change members.
            (Direct, Member, AddOther, n),
            (Direct, Member, AddSelf, n),
            (Direct, Member, RemoveSelf, n),
            (Direct, Owner, RemoveOther, n),
            // Members leave; the owner removes others but cannot leave; strangers remove nobody.
            (Group, Member, RemoveSelf, y),
            (Group, Owner, RemoveSelf, n),
            (Group, Owner, RemoveOther, y),
            (Group, Member, RemoveOther, n),
            (Group, Stranger, RemoveSelf, n),
            (Group, Stranger, RemoveOther, n),
            (Channel, Member, RemoveSelf, y),
            (Channel, Member, RemoveOther, n),
            (Channel, Owner, RemoveOther, y),
            // Edits: the sender alone, owner or not; strangers never.
            (Group, Member, EditOwn, y),
            (Group, Owner, EditOwn, y),
            (Group, Member, EditOthers, n),
            (Group, Owner, EditOthers, n),
            (Group, Stranger, EditOwn, n),
            (Channel, Owner, EditOthers, n),
            (Channel, Stranger, EditOwn, n),
            (Direct, Member, EditOwn, y),
            (Direct, Member, EditOthers, n),
            (Direct, Stranger, EditOwn, n),
            // Deletes: the sender; the owner of a group or channel deletes
            // anyone's; nobody deletes the other's in a direct room.
            (Group, Member, DeleteOwn, y),
            (Group, Member, DeleteOthers, n),
            (Group, Owner, DeleteOthers, y),
            (Group, Stranger, DeleteOwn, n),
            (Group, Stranger, DeleteOthers, n),
            (Channel, Member, DeleteOwn, y),
            (Channel, Member, DeleteOthers, n),
            (Channel, Owner, DeleteOthers, y),
            (Channel, Stranger, DeleteOthers, n),
            (Direct, Member, DeleteOwn, y),
            (Direct, Member, DeleteOthers, n),
            (Direct, Owner, DeleteOthers, n),
            (Direct, Stranger, DeleteOwn, n),
            // Reactions: members, in every kind.
            (Group, Member, React, y),
            (Group, Owner, React, y),
            (Group, Stranger, React, n),
            (Channel, Member, React, y),
            (Channel, Stranger, React, n),
            (Direct, Member, React, y),
            (Direct, Stranger, React, n),
        ];
        for (kind, rel, act, allowed) in table {
            assert_eq!(check(kind, rel, act), allowed, "{kind:?} {rel:?} {act:?}");
        }
    }

    #[test]
    fn a_membership_of_another_user_or_room_does_not_count() {
        let actor = UserId::parse("actor").unwrap();
        let room = Room {
            room_id: RoomId::parse("r_1").unwrap(),
            kind: RoomKind::Group,
            name: RoomName::parse("room").unwrap(),
            owner_id: actor.clone(),
            created_at: 0,
        };
        let someone_else = Membership::new(
            room.room_id.clone(),
            UserId::parse("x").unwrap(),
            Role::Owner,
            0,
        );
        assert!(authorize(&actor, Action::Read, &room, Some(&someone_else)).is_err());
        let other_room =
            Membership::new(RoomId::parse("r_2").unwrap(), actor.clone(), Role::Owner, 0);
        assert!(authorize(&actor, Action::Read, &room, Some(&other_room)).is_err());
    }
}

#[cfg(test)]
mod account_tests {
    use super::*;

    #[test]
    fn account_table() {
        let (me, other) = (
            UserId::parse("me").unwrap(),
            UserId::parse("other").unwrap(),
        );
        for action in [
            AccountAction::Devices,
            AccountAction::NotifyPolicy,
            AccountAction::Blocks,
            AccountAction::DeviceKeys,
        ] {
            assert!(authorize_account(&me, action, &me).is_ok(), "{action:?}");
            assert!(
                matches!(
                    authorize_account(&me, action, &other),
                    Err(ChatError::Forbidden(_))
                ),
                "{action:?}"
            );
        }
    }
}

#[cfg(test)]
mod block_tests {
    use super::*;
    use crate::ids::{RoomId, RoomName};

    fn u(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    /// Every room action in every kind of room, under every state of block
    /// between the actor (a member) and the other member: a block refuses
    /// exactly the actions that reach the peer, and only in direct rooms.
    #[test]
    fn room_actions_under_a_block() {
        let (actor, other) = (u("actor"), u("other"));
        for kind in [RoomKind::Direct, RoomKind::Group, RoomKind::Channel] {
            let room = Room {
                room_id: RoomId::parse("r_1").unwrap(),
                kind,
                name: RoomName::parse("room").unwrap(),
                owner_id: other.clone(),
                created_at: 0,
            };
            let m = Membership::new(room.room_id.clone(), actor.clone(), Role::Member, 0);
            for between in [
                Between::Clear,
                Between::ActorBlocks,
                Between::BlockedByOther,
                Between::Both,
            ] {
                for (action, reaches) in [
                    (Action::Read, false),
                    (Action::Search, false),
                    (Action::Send, true),
                    (Action::Attach, true),
                    (Action::Typing, true),
                    (Action::MarkRead, false),
                    (Action::Notify, false),
                ] {
                    assert_eq!(action.reaches_peer(), reaches, "{action:?}");
                    let plain = authorize(&actor, action, &room, Some(&m)).is_ok();
                    let with = authorize_in(&actor, action, &room, Some(&m), between);
                    let refused_by_block = kind == RoomKind::Direct && reaches && between.any();
                    assert_eq!(
                        with.is_ok(),
                        plain && !refused_by_block,
                        "{kind:?} {between:?} {action:?}"
                    );
                }
                // A stranger is refused as before, whatever the block.
                assert!(authorize_in(&actor, Action::Send, &room, None, between).is_err());
            }
        }
    }

    #[test]
    fn the_errors_say_who_blocks() {
        let (me, room) = (u("me"), RoomId::parse("dm_1").unwrap());
        let dm = Room {
            room_id: room.clone(),
            kind: RoomKind::Direct,
            name: RoomName::parse("direct").unwrap(),
            owner_id: me.clone(),
            created_at: 0,
        };
        let m = Membership::new(room, me.clone(), Role::Member, 0);
        let e = |b| match authorize_in(&me, Action::Send, &dm, Some(&m), b) {
            Err(ChatError::Forbidden(why)) => why,
            other => panic!("{other:?}"),
        };
        assert_eq!(e(Between::ActorBlocks), YOU_BLOCK);
        assert_eq!(e(Between::Both), YOU_BLOCK);
        assert_eq!(e(Between::BlockedByOther), THEY_BLOCK);
    }

    #[test]
    fn peer_table() {
        use Between::*;
        use PeerAction::*;
        let (me, other) = (u("me"), u("other"));
        let y = true;
        let n = false;
        // (action, between, allowed)
        let table = [
            (OpenDirect, Clear, y),
            (OpenDirect, ActorBlocks, n),
            (OpenDirect, BlockedByOther, n),
            (OpenDirect, Both, n),
            (SeePresence, Clear, y),
            (SeePresence, ActorBlocks, n),
            (SeePresence, BlockedByOther, n),
            (SeePresence, Both, n),
            (SeeTyping, Clear, y),
            (SeeTyping, ActorBlocks, n),
            (SeeTyping, BlockedByOther, n),
            (SeeTyping, Both, n),
            // The recipient's block silences the sender; the sender's own
            // block does not silence the blocker towards them.
            (Notify, Clear, y),
            (Notify, ActorBlocks, y),
            (Notify, BlockedByOther, n),
            (Notify, Both, n),
            (Block, Clear, y),
            (Block, ActorBlocks, y),
            (Block, BlockedByOther, y),
            (Mute, Clear, y),
            (Mute, Both, y),
        ];
        for (action, between, allowed) in table {
            assert_eq!(
                authorize_peer(&me, action, &other, between).is_ok(),
                allowed,
                "{action:?} {between:?}"
            );
        }
        for action in [Block, Mute] {
            assert!(matches!(
                authorize_peer(&me, action, &me, Clear),
                Err(ChatError::BadRequest(_))
            ));
        }
    }
}
