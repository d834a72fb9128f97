//! Authorization: the one place that decides who may do what in a room.
//! Every WebSocket action and every REST route asks [`authorize`]; nothing
//! else compares user ids to decide access.

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
        AccountAction::Devices | AccountAction::NotifyPolicy if actor == owner => Ok(()),
        AccountAction::Devices => Err(ChatError::Forbidden("devices are their owner's alone")),
        AccountAction::NotifyPolicy => Err(ChatError::Forbidden(
            "a notification policy is its owner's alone",
        )),
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
        for action in [AccountAction::Devices, AccountAction::NotifyPolicy] {
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
