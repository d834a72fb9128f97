//! Devices, notification policies and coalescing windows, in the user's
//! partition `USER#{userId}`:
//!
//! | Item | `SK` | TTL |
//! |---|---|---|
//! | device | `DEVICE#{deviceId}` | |
//! | policy | `NOTIFYPOLICY` | |
//! | window | `NOTIFYWIN#{roomId}` | a day after it closes |
//!
//! The device and the policy are JSON documents in one attribute (`doc`),
//! decoded through the domain's types. `claim` is a conditional UpdateItem
//! that opens the window (`attribute_not_exists(PK) OR openedAt <= :cutoff`,
//! `ALL_OLD` gives the count it carried) or, when that condition fails, an
//! `ADD pending` conditioned on the window still being open; a window that
//! closes between the two is claimed again (at most three rounds). Of
//! concurrent claims exactly one satisfies the opening condition.
//! The device limit is checked by a Query before the put: two registrations
//! racing at the limit may both land (one more device than the limit, no
//! harm done).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chat_core::error::StoreError;
use chat_core::ids::{Millis, RoomId, UserId};
use chat_core::notify::{Device, DeviceId, NotifyPolicy, MAX_DEVICES};
use chat_core::ports::NotifyStore;
use futures::stream::{self, StreamExt, TryStreamExt};

use super::codec::{get_n, get_s, keys};
use super::{is_conditional, key, n, s, schema, sdk, Item, Table, QUERY_CONCURRENCY};

const DEVICE_PREFIX: &str = "DEVICE#";
const POLICY: &str = "NOTIFYPOLICY";
/// How long a closed window's item is kept (its count is carried only to
/// a claim in that time).
const WINDOW_TTL_SECS: i64 = 24 * 3600;

fn device_sk(d: &DeviceId) -> String {
    format!("{DEVICE_PREFIX}{d}")
}

fn window_sk(r: &RoomId) -> String {
    format!("NOTIFYWIN#{r}")
}

fn doc_item<T: serde::Serialize>(
    pk: String,
    sk: String,
    kind: &str,
    v: &T,
) -> Result<Item, StoreError> {
    let mut item = key(pk, sk);
    item.insert("type".into(), s(kind));
    let json = serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    item.insert("doc".into(), s(json));
    Ok(item)
}

fn doc<T: serde::de::DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    serde_json::from_str(get_s(item, "doc")?).map_err(|e| StoreError::Corrupt(format!("doc: {e}")))
}

#[derive(Clone, Debug)]
pub struct DynamoNotify {
    table: Table,
}

impl DynamoNotify {
    pub fn new(table: Table) -> Self {
        Self { table }
    }

    async fn query_devices(&self, user: &UserId) -> Result<Vec<Device>, StoreError> {
        let q = self
            .table
            .client
            .query()
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", schema::PK)
            .expression_attribute_names("#sk", schema::SK)
            .expression_attribute_values(":pk", s(keys::user(user)))
            .expression_attribute_values(":prefix", s(DEVICE_PREFIX))
            .consistent_read(true);
        self.table
            .query(q, None)
            .await?
            .iter()
            .map(doc::<Device>)
            .collect()
    }
}

#[async_trait]
impl NotifyStore for DynamoNotify {
    async fn put_device(&self, device: &Device) -> Result<bool, StoreError> {
        let mine = self.query_devices(&device.user_id).await?;
        if mine.len() >= MAX_DEVICES && !mine.iter().any(|d| d.device_id == device.device_id) {
            return Ok(false);
        }
        let item = doc_item(
            keys::user(&device.user_id),
            device_sk(&device.device_id),
            "device",
            device,
        )?;
        self.table
            .client
            .put_item()
            .table_name(self.table.name())
            .set_item(Some(item))
            .send()
            .await
            .map_err(sdk)?;
        Ok(true)
    }

    async fn devices(&self, user: &UserId) -> Result<Vec<Device>, StoreError> {
        let mut d = self.query_devices(user).await?;
        d.sort_by(|a, b| a.device_id.cmp(&b.device_id));
        Ok(d)
    }

    async fn devices_of(&self, users: &[UserId]) -> Result<Vec<Device>, StoreError> {
        let distinct: std::collections::BTreeSet<UserId> = users.iter().cloned().collect();
        let per_user: Vec<Vec<Device>> = stream::iter(distinct)
            .map(|u| async move { self.query_devices(&u).await })
            .buffered(QUERY_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(per_user.into_iter().flatten().collect())
    }

    async fn remove_device(&self, user: &UserId, device: &DeviceId) -> Result<bool, StoreError> {
        let out = self
            .table
            .client
            .delete_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::user(user), device_sk(device))))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(sdk)?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }

    async fn policy(&self, user: &UserId) -> Result<NotifyPolicy, StoreError> {
        let out = self
            .table
            .client
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::user(user), POLICY)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk)?;
        out.item
            .as_ref()
            .map(doc::<NotifyPolicy>)
            .transpose()
            .map(Option::unwrap_or_default)
    }

    async fn put_policy(&self, user: &UserId, policy: &NotifyPolicy) -> Result<(), StoreError> {
        let item = doc_item(keys::user(user), POLICY.into(), "notifyPolicy", policy)?;
        self.table
            .client
            .put_item()
            .table_name(self.table.name())
            .set_item(Some(item))
            .send()
            .await
            .map_err(sdk)?;
        Ok(())
    }

    async fn claim(
        &self,
        user: &UserId,
        room: &RoomId,
        n_msgs: u32,
        now: Millis,
        window_ms: Millis,
    ) -> Result<Option<u32>, StoreError> {
        let k = key(keys::user(user), window_sk(room));
        let cutoff = now.saturating_sub(window_ms);
        let ttl = (now.saturating_add(window_ms)) / 1000 + WINDOW_TTL_SECS;
        for _ in 0..3 {
            let open = self
                .table
                .client
                .update_item()
                .table_name(self.table.name())
                .set_key(Some(k.clone()))
                .update_expression(
                    "SET openedAt = :now, pending = :zero, #ttl = :ttl, #type = :type",
                )
                .condition_expression("attribute_not_exists(#pk) OR openedAt <= :cutoff")
                .expression_attribute_names("#pk", schema::PK)
                .expression_attribute_names("#ttl", schema::TTL)
                .expression_attribute_names("#type", "type")
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":ttl", n(ttl))
                .expression_attribute_values(":type", s("notifyWindow"))
                .expression_attribute_values(":cutoff", n(cutoff))
                .return_values(ReturnValue::AllOld)
                .send()
                .await;
            match open {
                Ok(out) => {
                    let carried: u32 = match out.attributes.filter(|a| !a.is_empty()) {
                        Some(old) => get_n(&old, "pending")?,
                        None => 0,
                    };
                    return Ok(Some(carried.saturating_add(n_msgs)));
                }
                Err(e) if is_conditional(&e) => {}
                Err(e) => return Err(sdk(e)),
            }
            let add = self
                .table
                .client
                .update_item()
                .table_name(self.table.name())
                .set_key(Some(k.clone()))
                .update_expression("ADD pending :n")
                .condition_expression("openedAt > :cutoff")
                .expression_attribute_values(":n", AttributeValue::N(n_msgs.to_string()))
                .expression_attribute_values(":cutoff", n(cutoff))
                .send()
                .await;
            match add {
                Ok(_) => return Ok(None),
                Err(e) if is_conditional(&e) => continue,
                Err(e) => return Err(sdk(e)),
            }
        }
        Err(StoreError::unavailable(
            "the notification window kept changing under the claim",
        ))
    }
}
