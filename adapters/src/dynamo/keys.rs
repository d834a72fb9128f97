//! Device keys of encrypted rooms and their replay guard
//! ([`chat_core::e2ee`]):
//!
//! | Item | `PK` | `SK` | attributes |
//! |---|---|---|---|
//! | device key | `USER#{userId}` | `E2EKEY#{deviceId}` | `publicKey`, `createdAt` |
//! | claimed ciphertext | `ROOM#{roomId}` | `SEAL#{sha256 hex}` | `senderId`, `clientMsgId` |
//!
//! A user's keys are one Query of their partition (`begins_with(SK,
//! "E2EKEY#")`). The device limit is checked by that Query before the
//! PutItem, like the push-device and block limits: two devices racing at
//! the limit may both land. A ciphertext is claimed with a PutItem on
//! `attribute_not_exists(PK)`; when it fails, the item that holds the claim
//! (`ALL_OLD`) tells a resend of the same message (same sender and
//! `clientMsgId`: allowed) from a replay (refused). Claims never expire:
//! one small item per encrypted message.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use chat_core::e2ee::{DeviceId, DeviceKey, PublicKey, MAX_DEVICES_PER_USER};
use chat_core::error::StoreError;
use chat_core::ids::{ClientMsgId, RoomId, UserId};
use chat_core::ports::KeyStore;

use super::codec::{get_n, get_s, keys};
use super::{is_conditional, key, n, s, schema, sdk, Item, Table};

const KEY: &str = "E2EKEY#";
const SEAL: &str = "SEAL#";

#[derive(Clone, Debug)]
pub struct DynamoKeys {
    table: Table,
}

impl DynamoKeys {
    pub fn new(table: Table) -> Self {
        Self { table }
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("device key {what}: {e}"))
}

fn device_key(user: &UserId, item: &Item) -> Result<DeviceKey, StoreError> {
    let sk = get_s(item, schema::SK)?;
    let raw = sk.strip_prefix(KEY).ok_or_else(|| corrupt("SK", sk))?;
    Ok(DeviceKey {
        user_id: user.clone(),
        device_id: DeviceId::parse(raw).map_err(|e| corrupt("SK", e))?,
        public_key: PublicKey::parse(get_s(item, "publicKey")?)
            .map_err(|e| corrupt("publicKey", e))?,
        created_at: get_n(item, "createdAt")?,
    })
}

#[async_trait]
impl KeyStore for DynamoKeys {
    async fn put_key(&self, k: &DeviceKey) -> Result<bool, StoreError> {
        let mine = self.keys(&k.user_id).await?;
        if !mine.iter().any(|m| m.device_id == k.device_id) && mine.len() >= MAX_DEVICES_PER_USER {
            return Ok(false);
        }
        let mut item = key(keys::user(&k.user_id), format!("{KEY}{}", k.device_id));
        item.insert("type".into(), s("deviceKey"));
        item.insert("publicKey".into(), s(k.public_key.as_str()));
        item.insert("createdAt".into(), n(k.created_at));
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

    async fn keys(&self, user: &UserId) -> Result<Vec<DeviceKey>, StoreError> {
        let q = self
            .table
            .client
            .query()
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", schema::PK)
            .expression_attribute_names("#sk", schema::SK)
            .expression_attribute_values(":pk", s(keys::user(user)))
            .expression_attribute_values(":prefix", s(KEY))
            .consistent_read(true);
        self.table
            .query(q, None)
            .await?
            .iter()
            .map(|it| device_key(user, it))
            .collect()
    }

    async fn delete_key(&self, user: &UserId, device: &DeviceId) -> Result<bool, StoreError> {
        let out = self
            .table
            .client
            .delete_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::user(user), format!("{KEY}{device}"))))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(sdk)?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }

    async fn claim_seal(
        &self,
        room: &RoomId,
        digest: &str,
        sender: &UserId,
        client_msg_id: &ClientMsgId,
    ) -> Result<bool, StoreError> {
        let mut item = key(keys::room(room), format!("{SEAL}{digest}"));
        item.insert("type".into(), s("seal"));
        item.insert("senderId".into(), s(sender.as_str()));
        item.insert("clientMsgId".into(), s(client_msg_id.as_str()));
        let r = self
            .table
            .client
            .put_item()
            .table_name(self.table.name())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match r {
            Ok(_) => Ok(true),
            Err(e) if is_conditional(&e) => {
                let old = match e.into_service_error() {
                    PutItemError::ConditionalCheckFailedException(c) => c.item,
                    _ => None,
                };
                // Without the old image (an emulator may omit it), it
                // cannot be told to be ours: refused, and the client's
                // resend with a fresh seal goes through.
                Ok(old.is_some_and(|o| {
                    get_s(&o, "senderId").is_ok_and(|v| v == sender.as_str())
                        && get_s(&o, "clientMsgId").is_ok_and(|v| v == client_msg_id.as_str())
                }))
            }
            Err(e) => Err(sdk(e)),
        }
    }
}
