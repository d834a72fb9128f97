//! Room management for the REST API.

use std::collections::{BTreeSet, HashMap};

use super::Chat;
use crate::auth::Identity;
use crate::authz::{authorize_peer, Action, PeerAction};
use crate::error::ChatError;
use crate::ids::{DisplayName, RoomId, RoomName, UserId};
use crate::model::{Membership, PresenceStatus, Role, Room, RoomKind};
use crate::protocol::rest::{
    ChannelList, CreateRoomRequest, MemberView, RoomDetail, RoomList, RoomSummary, RoomView,
};
use crate::protocol::ws::ServerFrame;
use tracing::warn;

/// Whether `POST /rooms` made a new room (201) or found the pair's existing
/// direct room (200).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Created {
    New,
    Existing,
}

fn room_added(room: &Room, by: &UserId) -> ServerFrame {
    ServerFrame::RoomAdded {
        room_id: room.room_id.clone(),
        kind: room.kind,
        name: room.name.clone(),
        owner_id: room.owner_id.clone(),
        created_at: room.created_at,
        added_by: by.clone(),
    }
}

fn view(room: &Room) -> RoomView {
    RoomView {
        room_id: room.room_id.clone(),
        kind: room.kind,
        name: room.name.clone(),
        owner_id: room.owner_id.clone(),
        created_at: room.created_at,
        encrypted: room.room_id.is_encrypted(),
    }
}

impl Chat {
    pub async fn create_room(
        &self,
        actor: &Identity,
        req: CreateRoomRequest,
    ) -> Result<(Created, RoomDetail), ChatError> {
        let me = &actor.user_id;
        let now = self.clock.now();
        let others: BTreeSet<UserId> = req.members.into_iter().filter(|u| u != me).collect();
        let (room, members) = match req.kind {
            RoomKind::Direct => {
                if others.len() != 1 {
                    return Err(ChatError::BadRequest(
                        "a direct room has exactly one other member".into(),
                    ));
                }
                let other = others
                    .into_iter()
                    .next()
                    .ok_or(ChatError::Internal("checked above".into()))?;
                // Neither a new direct room nor the pair's existing one
                // across a block, whoever blocks.
                let mine = self.blocks.relations(me).await?;
                authorize_peer(me, PeerAction::OpenDirect, &other, mine.between(&other))?;
                let name = match req.name.as_deref() {
                    Some(n) => RoomName::parse(n)?,
                    None => RoomName::parse("direct")?,
                };
                let room = Room {
                    room_id: if req.encrypted {
                        RoomId::direct_encrypted(me, &other)
                    } else {
                        RoomId::direct(me, &other)
                    },
                    kind: RoomKind::Direct,
                    name,
                    owner_id: me.clone(),
                    created_at: now,
                };
                // Both are plain members: neither owns a direct room.
                let members = vec![
                    Membership::new(room.room_id.clone(), me.clone(), Role::Member, now),
                    Membership::new(room.room_id.clone(), other, Role::Member, now),
                ];
                (room, members)
            }
            kind @ (RoomKind::Group | RoomKind::Channel) => {
                if req.encrypted {
                    return Err(ChatError::BadRequest(
                        "only direct rooms can be end-to-end encrypted".into(),
                    ));
                }
                let name = RoomName::parse(req.name.as_deref().unwrap_or(""))?;
                if others.len() > self.limits.max_initial_members {
                    return Err(ChatError::TooLarge(format!(
                        "at most {} members may be named",
                        self.limits.max_initial_members
                    )));
                }
                let room = Room {
                    room_id: RoomId::generate(),
                    kind,
                    name,
                    owner_id: me.clone(),
                    created_at: now,
                };
                let mut members = vec![Membership::new(
                    room.room_id.clone(),
                    me.clone(),
                    Role::Owner,
                    now,
                )];
                members.extend(
                    others
                        .into_iter()
                        .map(|u| Membership::new(room.room_id.clone(), u, Role::Member, now)),
                );
                (room, members)
            }
        };
        let created = if self.rooms.create(&room, &members).await? {
            Created::New
        } else {
            Created::Existing
        };
        if created == Created::New {
            let others: Vec<UserId> = members
                .iter()
                .map(|m| m.user_id.clone())
                .filter(|u| u != me)
                .collect();
            self.deliver_to_users(&others, None, &room_added(&room, me))
                .await;
        }
        let detail = self.room_detail(actor, &room.room_id).await?;
        Ok((created, detail))
    }

    /// The caller's rooms with last message, unread count and read cursor,
    /// most recently active first.
    pub async fn list_rooms(&self, actor: &Identity) -> Result<RoomList, ChatError> {
        let memberships = self.rooms.rooms_of(&actor.user_id).await?;
        let ids: Vec<RoomId> = memberships.iter().map(|m| m.room_id.clone()).collect();
        let (rooms, latest) =
            tokio::try_join!(self.rooms.get_many(&ids), self.messages.latest(&ids))?;
        let rooms: HashMap<RoomId, Room> =
            rooms.into_iter().map(|r| (r.room_id.clone(), r)).collect();
        // A room whose last message is a reply quotes its target as it is
        // now (one read of the target each: `read_views`).
        let latest: HashMap<RoomId, _> = self
            .views_for(&actor.user_id, &latest)
            .await?
            .into_iter()
            .map(|m| (m.room_id.clone(), m))
            .collect();
        let mut out: Vec<RoomSummary> = memberships
            .iter()
            .filter_map(|m| {
                let room = rooms.get(&m.room_id)?;
                let last = latest.get(&m.room_id);
                Some(RoomSummary {
                    room: view(room),
                    unread_count: last.map_or(0, |l| l.seq.saturating_sub(m.read_seq)),
                    last_message: last.cloned(),
                    read_seq: m.read_seq,
                })
            })
            .collect();
        let activity = |s: &RoomSummary| {
            s.last_message
                .as_ref()
                .map_or(s.room.created_at, |m| m.sent_at)
        };
        out.sort_by(|a, b| {
            activity(b)
                .cmp(&activity(a))
                .then_with(|| a.room.room_id.cmp(&b.room.room_id))
        });
        Ok(RoomList { rooms: out })
    }

    /// A room with its members (profiles, cursors, presence). Members only.
    pub async fn room_detail(
        &self,
        actor: &Identity,
        room_id: &RoomId,
    ) -> Result<RoomDetail, ChatError> {
        let (room, _) = self
            .authorized_room(&actor.user_id, room_id, Action::Read)
            .await?;
        let members = self.rooms.members(room_id).await?;
        let ids: Vec<UserId> = members.iter().map(|m| m.user_id.clone()).collect();
        let (profiles, online) = tokio::try_join!(
            async { self.profiles.get_many(&ids).await.map_err(ChatError::from) },
            self.online_users(&ids)
        )?;
        // Presence is hidden across a block: such a member shows offline.
        let online = self.visible_to(&actor.user_id, online).await?;
        let profiles: HashMap<UserId, _> = profiles
            .into_iter()
            .map(|p| (p.user_id.clone(), p))
            .collect();
        let members = members
            .into_iter()
            .map(|m| {
                let profile = profiles.get(&m.user_id);
                let display_name = profile
                    .map(|p| p.display_name.clone())
                    .unwrap_or_else(|| DisplayName::for_user(&m.user_id));
                MemberView {
                    presence: if online.contains(&m.user_id) {
                        PresenceStatus::Online
                    } else {
                        PresenceStatus::Offline
                    },
                    avatar_url: profile.and_then(|p| p.avatar_url.clone()),
                    display_name,
                    role: m.role,
                    joined_at: m.joined_at,
                    delivered_seq: m.delivered_seq,
                    read_seq: m.read_seq,
                    user_id: m.user_id,
                }
            })
            .collect();
        Ok(RoomDetail {
            room: view(&room),
            members,
        })
    }

    /// Adds `target` (the owner adding someone, or anyone joining a channel).
    /// Adding an existing member changes nothing.
    pub async fn add_member(
        &self,
        actor: &Identity,
        room_id: &RoomId,
        target: &UserId,
    ) -> Result<RoomDetail, ChatError> {
        let (room, _) = self
            .authorized_room(&actor.user_id, room_id, Action::AddMember { target })
            .await?;
        if self.rooms.membership(room_id, target).await?.is_none() {
            let members = self.rooms.members(room_id).await?;
            let count = members.len();
            if count >= self.limits.max_room_members {
                return Err(ChatError::Conflict(format!(
                    "the room is full ({} members)",
                    self.limits.max_room_members
                )));
            }
            let member = Membership::new(
                room_id.clone(),
                target.clone(),
                Role::Member,
                self.clock.now(),
            );
            if self.rooms.add_member(&member).await? {
                let added = room_added(&room, &actor.user_id);
                self.deliver_to_users(std::slice::from_ref(target), None, &added)
                    .await;
                let joined = ServerFrame::MemberJoined {
                    room_id: room_id.clone(),
                    user_id: target.clone(),
                    added_by: actor.user_id.clone(),
                };
                self.tell_members(&room, members, &joined).await;
            }
        }
        self.room_detail(actor, room_id).await
    }

    /// Removes `target` (the owner removing someone, or a member leaving).
    pub async fn remove_member(
        &self,
        actor: &Identity,
        room_id: &RoomId,
        target: &UserId,
    ) -> Result<(), ChatError> {
        let (room, _) = self
            .authorized_room(&actor.user_id, room_id, Action::RemoveMember { target })
            .await?;
        if !self.rooms.remove_member(room_id, target).await? {
            return Err(ChatError::NotFound("member"));
        }
        let removed = ServerFrame::RoomRemoved {
            room_id: room_id.clone(),
            removed_by: actor.user_id.clone(),
        };
        self.deliver_to_users(std::slice::from_ref(target), None, &removed)
            .await;
        if room.kind == RoomKind::Group {
            // Best effort, as every push: members who miss it see the
            // change in `GET /rooms/{roomId}`.
            match self.rooms.members(room_id).await {
                Ok(members) => {
                    let left = ServerFrame::MemberLeft {
                        room_id: room_id.clone(),
                        user_id: target.clone(),
                        removed_by: actor.user_id.clone(),
                    };
                    self.tell_members(&room, members, &left).await;
                }
                Err(e) => warn!(error = %e, "members not told of a leave"),
            }
        }
        Ok(())
    }

    /// Pushes a membership change to a group's other members (`members`,
    /// without the person it is about). Channels carry none: every join of
    /// a channel of n members would push to all n, as presence would.
    async fn tell_members(&self, room: &Room, members: Vec<Membership>, frame: &ServerFrame) {
        if room.kind != RoomKind::Group {
            return;
        }
        let users: Vec<UserId> = members.into_iter().map(|m| m.user_id).collect();
        self.deliver_to_users(&users, None, frame).await;
    }

    pub async fn list_channels(&self, limit: usize) -> Result<ChannelList, ChatError> {
        let rooms = self.rooms.list_channels(limit.clamp(1, 200)).await?;
        Ok(ChannelList {
            channels: rooms.iter().map(view).collect(),
        })
    }
}
