use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::block::{Block, Relations, MAX_BLOCKS};
use crate::error::StoreError;
use crate::ids::UserId;
use crate::ports::BlockStore;

/// Blocks, both directions of each user under one lock: a block and its
/// reverse entry change together.
#[derive(Default)]
pub struct MemoryBlocks {
    inner: Mutex<HashMap<UserId, Relations>>,
}

#[async_trait]
impl BlockStore for MemoryBlocks {
    async fn block(&self, block: &Block) -> Result<bool, StoreError> {
        let mut g = lock(&self.inner);
        let mine = g.entry(block.user_id.clone()).or_default();
        if mine.blocks.contains_key(&block.target_id) || mine.blocks.len() >= MAX_BLOCKS {
            return Ok(false);
        }
        mine.blocks.insert(block.target_id.clone(), block.clone());
        g.entry(block.target_id.clone())
            .or_default()
            .blocked_by
            .insert(block.user_id.clone());
        Ok(true)
    }

    async fn unblock(&self, user: &UserId, target: &UserId) -> Result<bool, StoreError> {
        let mut g = lock(&self.inner);
        let removed = g
            .get_mut(user)
            .is_some_and(|r| r.blocks.remove(target).is_some());
        if removed {
            if let Some(r) = g.get_mut(target) {
                r.blocked_by.remove(user);
            }
        }
        Ok(removed)
    }

    async fn relations(&self, user: &UserId) -> Result<Relations, StoreError> {
        Ok(lock(&self.inner).get(user).cloned().unwrap_or_default())
    }
}
