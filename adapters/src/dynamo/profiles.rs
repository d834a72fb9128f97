use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use chat_core::error::StoreError;
use chat_core::ids::{Millis, UserId};
use chat_core::model::{Profile, ProfilePatch};
use chat_core::ports::ProfileStore;

use super::codec::{self, keys};
use super::{is_conditional, key, n, s, sdk, Table};

/// Profiles: `USER#{id}`/`PROFILE`.
#[derive(Clone, Debug)]
pub struct DynamoProfiles {
    table: Table,
}

impl DynamoProfiles {
    pub fn new(table: Table) -> Self {
        Self { table }
    }
}

#[async_trait]
impl ProfileStore for DynamoProfiles {
    async fn get(&self, user: &UserId) -> Result<Option<Profile>, StoreError> {
        let out = self
            .table
            .client
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::user(user), keys::PROFILE)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk)?;
        out.item.as_ref().map(codec::profile).transpose()
    }

    async fn get_many(&self, users: &[UserId]) -> Result<Vec<Profile>, StoreError> {
        let distinct: BTreeSet<&UserId> = users.iter().collect();
        let keys = distinct
            .into_iter()
            .map(|u| key(keys::user(u), keys::PROFILE))
            .collect();
        let found: HashMap<UserId, Profile> = self
            .table
            .batch_get(keys)
            .await?
            .iter()
            .map(|i| codec::profile(i).map(|p| (p.user_id.clone(), p)))
            .collect::<Result<_, _>>()?;
        // In the order asked, like the in-memory twin.
        Ok(users.iter().filter_map(|u| found.get(u).cloned()).collect())
    }

    async fn create_if_absent(&self, p: &Profile) -> Result<Profile, StoreError> {
        let r = self
            .table
            .client
            .put_item()
            .table_name(self.table.name())
            .set_item(Some(codec::profile_item(p)))
            .condition_expression("attribute_not_exists(PK)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match r {
            Ok(_) => Ok(p.clone()),
            Err(e) if is_conditional(&e) => {
                let existing = match e.into_service_error() {
                    PutItemError::ConditionalCheckFailedException(c) => c.item,
                    _ => None,
                };
                match existing.filter(|i| !i.is_empty()) {
                    Some(item) => codec::profile(&item),
                    None => self
                        .get(&p.user_id)
                        .await?
                        .ok_or_else(|| StoreError::unavailable("the existing profile vanished")),
                }
            }
            Err(e) => Err(sdk(e)),
        }
    }

    async fn update(
        &self,
        user: &UserId,
        patch: &ProfilePatch,
        now: Millis,
    ) -> Result<Option<Profile>, StoreError> {
        let mut set = vec!["#updatedAt = :now"];
        let mut req = self
            .table
            .client
            .update_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::user(user), keys::PROFILE)))
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#updatedAt", "updatedAt")
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::AllNew);
        if let Some(name) = &patch.display_name {
            set.push("#displayName = :name");
            req = req
                .expression_attribute_names("#displayName", "displayName")
                .expression_attribute_values(":name", s(name.as_str()));
        }
        let mut remove = "";
        match &patch.avatar_url {
            Some(Some(url)) => {
                set.push("#avatarUrl = :avatar");
                req = req
                    .expression_attribute_names("#avatarUrl", "avatarUrl")
                    .expression_attribute_values(":avatar", s(url.as_str()));
            }
            Some(None) => {
                remove = " REMOVE #avatarUrl";
                req = req.expression_attribute_names("#avatarUrl", "avatarUrl");
            }
            None => {}
        }
        let r = req
            .update_expression(format!("SET {}{remove}", set.join(", ")))
            .send()
            .await;
        match r {
            Ok(out) => out.attributes.as_ref().map(codec::profile).transpose(),
            Err(e) if is_conditional(&e) => Ok(None),
            Err(e) => Err(sdk(e)),
        }
    }
}
