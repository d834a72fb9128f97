//! Profiles for the REST API. Reads go to the profile store every time (or a
//! cache the adapter invalidates on write), so after `PATCH /users/me` every
//! reader sees the new avatar: the seed's "profile picture update bug".

use std::collections::BTreeSet;

use super::Chat;
use crate::auth::Identity;
use crate::error::ChatError;
use crate::ids::{AvatarUrl, DisplayName, UserId};
use crate::model::{PresenceStatus, Profile, ProfilePatch};
use crate::protocol::rest::{ProfileView, UpdateProfileRequest};

fn view(p: Profile, presence: Option<PresenceStatus>) -> ProfileView {
    ProfileView {
        user_id: p.user_id,
        display_name: p.display_name,
        avatar_url: p.avatar_url,
        presence,
        updated_at: p.updated_at,
    }
}

fn status(online: bool) -> PresenceStatus {
    if online {
        PresenceStatus::Online
    } else {
        PresenceStatus::Offline
    }
}

impl Chat {
    pub async fn me(&self, actor: &Identity) -> Result<ProfileView, ChatError> {
        let (profile, online) =
            tokio::try_join!(self.ensure_profile(actor), self.is_online(&actor.user_id))?;
        Ok(view(profile, Some(status(online))))
    }

    pub async fn update_me(
        &self,
        actor: &Identity,
        req: UpdateProfileRequest,
    ) -> Result<ProfileView, ChatError> {
        let patch = ProfilePatch {
            display_name: req
                .display_name
                .as_deref()
                .map(DisplayName::parse)
                .transpose()?,
            avatar_url: req
                .avatar_url
                .map(|a| a.as_deref().map(AvatarUrl::parse).transpose())
                .transpose()?,
        };
        self.ensure_profile(actor).await?;
        let updated = self
            .profiles
            .update(&actor.user_id, &patch, self.clock.now())
            .await?
            .ok_or(ChatError::NotFound("user"))?;
        let online = self.is_online(&actor.user_id).await?;
        Ok(view(updated, Some(status(online))))
    }

    /// Another user's profile; their presence only when the caller shares a
    /// room with them (presence is visible to room members, nobody else)
    /// and no block stands between them.
    pub async fn user_profile(
        &self,
        actor: &Identity,
        target: &UserId,
    ) -> Result<ProfileView, ChatError> {
        if target == &actor.user_id {
            return self.me(actor).await;
        }
        let profile = self
            .profiles
            .get(target)
            .await?
            .ok_or(ChatError::NotFound("user"))?;
        let (mine, theirs) = tokio::try_join!(
            self.rooms.rooms_of(&actor.user_id),
            self.rooms.rooms_of(target)
        )?;
        let mine: BTreeSet<_> = mine.into_iter().map(|m| m.room_id).collect();
        let shares_room = theirs.iter().any(|m| mine.contains(&m.room_id));
        let hidden = !self
            .visible_to(&actor.user_id, [target.clone()].into())
            .await?
            .contains(target);
        let presence = if shares_room && !hidden {
            Some(status(self.is_online(target).await?))
        } else {
            None
        };
        Ok(view(profile, presence))
    }
}
