use std::collections::BTreeSet;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use chat_core::error::StoreError;
use chat_core::ids::{ConnectionId, Millis, UserId};
use chat_core::model::ConnectionRecord;
use chat_core::ports::ConnectionStore;
use futures::stream::{self, StreamExt, TryStreamExt};

use super::codec::{self, keys};
use super::{is_conditional, key, n, s, schema, sdk, Table, QUERY_CONCURRENCY};

/// Connections: `CONN#{id}`/`META`, indexed by user on GSI1.
#[derive(Clone, Debug)]
pub struct DynamoConnections {
    table: Table,
}

impl DynamoConnections {
    pub fn new(table: Table) -> Self {
        Self { table }
    }

    async fn of_user(&self, user: &UserId) -> Result<Vec<ConnectionRecord>, StoreError> {
        let q = self
            .table
            .client
            .query()
            .index_name(schema::GSI1)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", schema::GSI1PK)
            .expression_attribute_names("#sk", schema::GSI1SK)
            .expression_attribute_values(":pk", s(keys::user(user)))
            .expression_attribute_values(":prefix", s(keys::CONN_PREFIX));
        self.table
            .query(q, None)
            .await?
            .iter()
            .map(codec::connection)
            .collect()
    }
}

#[async_trait]
impl ConnectionStore for DynamoConnections {
    async fn put(&self, conn: &ConnectionRecord) -> Result<(), StoreError> {
        self.table
            .client
            .put_item()
            .table_name(self.table.name())
            .set_item(Some(codec::connection_item(conn)))
            .send()
            .await
            .map_err(sdk)?;
        Ok(())
    }

    async fn get(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>, StoreError> {
        let out = self
            .table
            .client
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::conn(id), keys::META)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk)?;
        out.item.as_ref().map(codec::connection).transpose()
    }

    async fn touch(&self, id: &ConnectionId, expires_at: Millis) -> Result<bool, StoreError> {
        let r = self
            .table
            .client
            .update_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::conn(id), keys::META)))
            .condition_expression("attribute_exists(PK)")
            .update_expression("SET #ms = :ms, #ttl = :ttl")
            .expression_attribute_names("#ms", "expiresAtMs")
            .expression_attribute_names("#ttl", schema::TTL)
            .expression_attribute_values(":ms", n(expires_at))
            .expression_attribute_values(":ttl", n(codec::conn_ttl(expires_at)))
            .send()
            .await;
        match r {
            Ok(_) => Ok(true),
            Err(e) if is_conditional(&e) => Ok(false),
            Err(e) => Err(sdk(e)),
        }
    }

    async fn delete(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>, StoreError> {
        let out = self
            .table
            .client
            .delete_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::conn(id), keys::META)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(sdk)?;
        out.attributes
            .filter(|a| !a.is_empty())
            .as_ref()
            .map(codec::connection)
            .transpose()
    }

    async fn for_users(&self, users: &[UserId]) -> Result<Vec<ConnectionRecord>, StoreError> {
        let distinct: BTreeSet<UserId> = users.iter().cloned().collect();
        let per_user: Vec<Vec<ConnectionRecord>> = stream::iter(distinct)
            .map(|u| async move { self.of_user(&u).await })
            .buffered(QUERY_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(per_user.into_iter().flatten().collect())
    }
}
