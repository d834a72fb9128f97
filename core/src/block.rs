//! Blocks between users: what is stored, and how one user's blocks read.
//!
//! A block is one user's decision about another ("Alice blocks Bob"). It is
//! stored in both users' entries: Alice's list of whom she blocks, and the
//! reverse index on Bob's side ("blocked by Alice"), so that one read of a
//! single user's entries ([`crate::ports::BlockStore::relations`]) answers
//! both directions for that user, which is what every check needs: a send
//! in a direct room, a typing frame, a presence change and an offline
//! notification each ask about one user and the people around them.
//!
//! What a block changes is decided in the one authorization table
//! ([`crate::authz::authorize_peer`], and [`crate::authz::authorize_in`]
//! for the actions in a direct room); this module only says whether a
//! block stands between two users ([`Between`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ids::{Millis, UserId};

/// Most people one user may block (a new block past it is refused).
pub const MAX_BLOCKS: usize = 1000;

/// One user blocking another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Block {
    /// Who blocks.
    pub user_id: UserId,
    /// Whom.
    pub target_id: UserId,
    pub created_at: Millis,
}

/// Whether a block stands between the actor and another user, seen from
/// the actor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Between {
    /// Neither blocks the other.
    #[default]
    Clear,
    /// The actor blocks the other.
    ActorBlocks,
    /// The other blocks the actor.
    BlockedByOther,
    /// Each blocks the other.
    Both,
}

impl Between {
    pub fn of(actor_blocks: bool, other_blocks: bool) -> Self {
        match (actor_blocks, other_blocks) {
            (false, false) => Between::Clear,
            (true, false) => Between::ActorBlocks,
            (false, true) => Between::BlockedByOther,
            (true, true) => Between::Both,
        }
    }

    /// Whether any block stands between them.
    pub fn any(self) -> bool {
        self != Between::Clear
    }

    /// Whether the other blocks the actor.
    pub fn other_blocks(self) -> bool {
        matches!(self, Between::BlockedByOther | Between::Both)
    }
}

/// Both directions of one user's blocks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Relations {
    /// Whom the user blocks, by target.
    pub blocks: BTreeMap<UserId, Block>,
    /// Who blocks the user.
    pub blocked_by: BTreeSet<UserId>,
}

impl Relations {
    /// What stands between this user (the actor) and `other`.
    pub fn between(&self, other: &UserId) -> Between {
        Between::of(
            self.blocks.contains_key(other),
            self.blocked_by.contains(other),
        )
    }

    /// Everyone on either side of a block with this user.
    pub fn separated(&self) -> BTreeSet<UserId> {
        self.blocks
            .keys()
            .chain(self.blocked_by.iter())
            .cloned()
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty() && self.blocked_by.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    #[test]
    fn between_reads_both_directions() {
        let mut r = Relations::default();
        assert_eq!(r.between(&u("bob")), Between::Clear);
        r.blocks.insert(
            u("bob"),
            Block {
                user_id: u("alice"),
                target_id: u("bob"),
                created_at: 1,
            },
        );
        r.blocked_by.insert(u("carol"));
        r.blocked_by.insert(u("bob"));
        assert_eq!(r.between(&u("bob")), Between::Both);
        assert_eq!(r.between(&u("carol")), Between::BlockedByOther);
        assert_eq!(r.between(&u("dave")), Between::Clear);
        assert!(r.between(&u("carol")).other_blocks());
        assert!(!Between::ActorBlocks.other_blocks());
        assert_eq!(
            r.separated().into_iter().collect::<Vec<_>>(),
            vec![u("bob"), u("carol")]
        );
    }
}
