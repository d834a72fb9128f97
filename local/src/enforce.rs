//! Every port call of a function, checked against its role's policies first
//! ([`crate::iam`]): decorators over the ports that map each call to the
//! IAM action and resource its AWS adapter needs, and fail it as an
//! `AccessDenied` would fail the adapter.
//!
//! The mapping follows `chat_adapters::dynamo`, `sqs` and `apigw`: which
//! DynamoDB operation each store method sends, on the table or on `GSI1`.
//! A transaction (`TransactWriteItems`) needs the action of each of its
//! items, as IAM authorizes it; `SendMessageBatch` needs `sqs:SendMessage`.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chat_adapters::dynamo::schema;
use chat_core::block::{Block, Relations};
use chat_core::changes::{Change, MessageState};
use chat_core::error::{MobilePushError, PushError, QueueError, StoreError, WebPushError};
use chat_core::ids::{ConnectionId, Millis, RoomId, Seq, UserId};
use chat_core::mobile::{MobilePlatform, MobileToken};
use chat_core::model::{
    ConnectionRecord, Job, Membership, Message, MessageDraft, Profile, ProfilePatch, ReceiptStatus,
    Reservation, Room, SeqFate,
};
use chat_core::notify::{Device, DeviceId, NotifyPolicy};
use chat_core::ports::{
    BlobHead, BlobStore, BlockStore, ConnectionStore, DownloadSpec, JobQueue, KeyStore,
    MessageChanges, MessageStore, MobilePush, NotifyStore, Presigned, ProfileStore, Pusher,
    RangeQuery, RoomStore, SearchIndex, UploadSpec,
};
use chat_core::search::{IndexEntry, RoomMatches, SearchKey, SearchQuery};
use chat_core::Chat;

use crate::iam::{arns, AccessDenied, Resources, RolePolicies};

/// One function's role and the resources its ports reach.
pub struct Guard {
    pub policies: RolePolicies,
    pub resources: Resources,
    /// The SNS platform applications its environment names
    /// (`CHAT_SNS_*_APP_ARN`): none, and its mobile push is off, as
    /// `chat_adapters::wiring` leaves it in AWS.
    pub mobile_apps: BTreeMap<MobilePlatform, String>,
}

/// What a call touches.
#[derive(Clone, Copy)]
enum On {
    Table,
    Index,
}

/// The IAM request of the persist function's cold-start read of the VAPID
/// secret (`chat_adapters::vapid_secret::load`): `GetSecretValue` on the
/// secret. Not a port call: in process nothing reads it (notifications go
/// to the outbox); under `cargo lambda watch` the persist binary reads it
/// through the SigV4 proxy, which asks IAM exactly this.
pub fn vapid_secret_read(secret_arn: &str) -> (String, String) {
    (
        "secretsmanager:GetSecretValue".to_owned(),
        secret_arn.to_owned(),
    )
}

impl Guard {
    /// A role over `resources` whose environment names no SNS platform
    /// application (mobile push off).
    pub fn new(policies: RolePolicies, resources: Resources) -> Self {
        Self {
            policies,
            resources,
            mobile_apps: BTreeMap::new(),
        }
    }

    /// [`vapid_secret_read`] checked against this function's role.
    pub fn read_vapid_secret(&self, secret_arn: &str) -> Result<(), AccessDenied> {
        let (action, resource) = vapid_secret_read(secret_arn);
        self.policies.check(&action, &resource)
    }

    fn dynamo(&self, actions: &[&str], on: On) -> Result<(), StoreError> {
        let resource = match on {
            On::Table => arns::table(&self.resources),
            On::Index => arns::index(&self.resources, schema::GSI1),
        };
        for a in actions {
            self.policies
                .check(&format!("dynamodb:{a}"), &resource)
                .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        }
        Ok(())
    }

    /// `s3:{action}` on an object of the bucket (`key`) or on the bucket.
    fn s3(&self, action: &str, key: Option<&str>) -> Result<(), StoreError> {
        let resource = match key {
            Some(k) => arns::object(&self.resources, k),
            None => arns::bucket(&self.resources),
        };
        self.policies
            .check(&format!("s3:{action}"), &resource)
            .map_err(|e| StoreError::Unavailable(Box::new(e)))
    }

    /// `execute-api:ManageConnections` on `…/{method}/@connections/{conn}`
    /// (the in-process pusher and the `@connections` twin alike).
    pub fn push(&self, method: &str, conn: &str) -> Result<(), AccessDenied> {
        self.policies.check(
            "execute-api:ManageConnections",
            &arns::connection(&self.resources, method, conn),
        )
    }
}

/// `chat` as function `guard.policies.function()` may use it in AWS: every
/// port call checked against its role first.
pub fn guarded(chat: &Chat, guard: Arc<Guard>) -> Chat {
    let mut c = chat.clone();
    c.connections = Arc::new(Guarded(chat.connections.clone(), guard.clone()));
    c.rooms = Arc::new(Guarded(chat.rooms.clone(), guard.clone()));
    c.messages = Arc::new(Guarded(chat.messages.clone(), guard.clone()));
    c.changes = Arc::new(Guarded(chat.changes.clone(), guard.clone()));
    c.profiles = Arc::new(Guarded(chat.profiles.clone(), guard.clone()));
    c.search = Arc::new(Guarded(chat.search.clone(), guard.clone()));
    c.notify = Arc::new(Guarded(chat.notify.clone(), guard.clone()));
    c.blocks = Arc::new(Guarded(chat.blocks.clone(), guard.clone()));
    c.keys = Arc::new(Guarded(chat.keys.clone(), guard.clone()));
    c.queue = Arc::new(Guarded(chat.queue.clone(), guard.clone()));
    c.pusher = Arc::new(Guarded(chat.pusher.clone(), guard.clone()));
    c.mobile = chat
        .mobile
        .clone()
        .filter(|_| !guard.mobile_apps.is_empty())
        .map(|mobile| guarded_mobile(mobile, guard.clone(), guard.mobile_apps.clone()));
    c.blobs = Arc::new(Guarded(chat.blobs.clone(), guard));
    c
}

struct Guarded<T: ?Sized>(Arc<T>, Arc<Guard>);

use On::{Index, Table};

#[async_trait]
impl ConnectionStore for Guarded<dyn ConnectionStore> {
    async fn put(&self, conn: &ConnectionRecord) -> Result<(), StoreError> {
        self.1.dynamo(&["PutItem"], Table)?;
        self.0.put(conn).await
    }
    async fn get(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>, StoreError> {
        self.1.dynamo(&["GetItem"], Table)?;
        self.0.get(id).await
    }
    async fn touch(&self, id: &ConnectionId, expires_at: Millis) -> Result<bool, StoreError> {
        self.1.dynamo(&["UpdateItem"], Table)?;
        self.0.touch(id, expires_at).await
    }
    async fn delete(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>, StoreError> {
        self.1.dynamo(&["DeleteItem"], Table)?;
        self.0.delete(id).await
    }
    async fn for_users(&self, users: &[UserId]) -> Result<Vec<ConnectionRecord>, StoreError> {
        if !users.is_empty() {
            self.1.dynamo(&["Query"], Index)?;
        }
        self.0.for_users(users).await
    }
}

#[async_trait]
impl RoomStore for Guarded<dyn RoomStore> {
    async fn create(&self, room: &Room, members: &[Membership]) -> Result<bool, StoreError> {
        // One TransactWriteItems of Puts (the room, each distinct member);
        // past its limit, a read of the room, then chunks of Puts each
        // guarded by a ConditionCheck that the room is still absent.
        let distinct: std::collections::BTreeSet<&UserId> =
            members.iter().map(|m| &m.user_id).collect();
        if distinct.len() < chat_adapters::dynamo::MAX_TRANSACT {
            self.1.dynamo(&["PutItem"], Table)?;
        } else {
            self.1
                .dynamo(&["GetItem", "PutItem", "ConditionCheckItem"], Table)?;
        }
        self.0.create(room, members).await
    }
    async fn get(&self, id: &RoomId) -> Result<Option<Room>, StoreError> {
        self.1.dynamo(&["GetItem"], Table)?;
        self.0.get(id).await
    }
    async fn get_many(&self, ids: &[RoomId]) -> Result<Vec<Room>, StoreError> {
        if !ids.is_empty() {
            self.1.dynamo(&["BatchGetItem"], Table)?;
        }
        self.0.get_many(ids).await
    }
    async fn membership(
        &self,
        room: &RoomId,
        user: &UserId,
    ) -> Result<Option<Membership>, StoreError> {
        self.1.dynamo(&["GetItem"], Table)?;
        self.0.membership(room, user).await
    }
    async fn members(&self, room: &RoomId) -> Result<Vec<Membership>, StoreError> {
        self.1.dynamo(&["Query"], Table)?;
        self.0.members(room).await
    }
    async fn rooms_of(&self, user: &UserId) -> Result<Vec<Membership>, StoreError> {
        self.1.dynamo(&["Query"], Index)?;
        self.0.rooms_of(user).await
    }
    async fn add_member(&self, m: &Membership) -> Result<bool, StoreError> {
        self.1.dynamo(&["PutItem"], Table)?;
        self.0.add_member(m).await
    }
    async fn remove_member(&self, room: &RoomId, user: &UserId) -> Result<bool, StoreError> {
        self.1.dynamo(&["DeleteItem"], Table)?;
        self.0.remove_member(room, user).await
    }
    async fn advance_cursor(
        &self,
        room: &RoomId,
        user: &UserId,
        status: ReceiptStatus,
        seq: Seq,
    ) -> Result<bool, StoreError> {
        self.1.dynamo(&["UpdateItem"], Table)?;
        self.0.advance_cursor(room, user, status, seq).await
    }
    async fn list_channels(&self, limit: usize) -> Result<Vec<Room>, StoreError> {
        self.1.dynamo(&["Query"], Index)?;
        self.0.list_channels(limit).await
    }
}

#[async_trait]
impl MessageStore for Guarded<dyn MessageStore> {
    async fn reserve(&self, draft: MessageDraft) -> Result<Reservation, StoreError> {
        // Reads the claim, takes the next seq (ADD), writes the claim and
        // the seq's slot in one transaction (each a Put, authorized as
        // PutItem).
        self.1
            .dynamo(&["GetItem", "UpdateItem", "PutItem"], Table)?;
        self.0.reserve(draft).await
    }
    async fn last_seq(&self, room: &RoomId) -> Result<Seq, StoreError> {
        self.1.dynamo(&["GetItem"], Table)?;
        self.0.last_seq(room).await
    }
    async fn settle(&self, room: &RoomId, seq: Seq) -> Result<SeqFate, StoreError> {
        // A conditional put of the burned marker, which returns the slot
        // when the condition fails (ReturnValuesOnConditionCheckFailure);
        // the adapter's read of the slot is a fallback DynamoDB does not
        // take, so it is not asked here (tests/e2e/iam_table.rs).
        self.1.dynamo(&["PutItem"], Table)?;
        self.0.settle(room, seq).await
    }
    async fn put_batch(&self, messages: &[Message]) -> Vec<Result<(), StoreError>> {
        if !messages.is_empty() {
            if let Err(e) = self.1.dynamo(&["BatchWriteItem"], Table) {
                let why = chat_core::error::chain(&e);
                return messages
                    .iter()
                    .map(|_| Err(StoreError::Unavailable(why.clone().into())))
                    .collect();
            }
        }
        self.0.put_batch(messages).await
    }
    async fn range(&self, room: &RoomId, q: RangeQuery) -> Result<Vec<Message>, StoreError> {
        self.1.dynamo(&["Query"], Table)?;
        self.0.range(room, q).await
    }
    async fn get(&self, room: &RoomId, seq: Seq) -> Result<Option<Message>, StoreError> {
        self.1.dynamo(&["GetItem"], Table)?;
        self.0.get(room, seq).await
    }
    async fn replies(
        &self,
        room: &RoomId,
        target: Seq,
        after: Option<Seq>,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        // A Query of GSI1 (the replies carry their target in its key).

        self.1.dynamo(&["Query"], Index)?;
        self.0.replies(room, target, after, limit).await
    }
    async fn latest(&self, rooms: &[RoomId]) -> Result<Vec<Message>, StoreError> {
        if !rooms.is_empty() {
            self.1.dynamo(&["Query"], Table)?;
        }
        self.0.latest(rooms).await
    }
}

#[async_trait]
impl ProfileStore for Guarded<dyn ProfileStore> {
    async fn get(&self, user: &UserId) -> Result<Option<Profile>, StoreError> {
        self.1.dynamo(&["GetItem"], Table)?;
        self.0.get(user).await
    }
    async fn get_many(&self, users: &[UserId]) -> Result<Vec<Profile>, StoreError> {
        if !users.is_empty() {
            self.1.dynamo(&["BatchGetItem"], Table)?;
        }
        self.0.get_many(users).await
    }
    async fn create_if_absent(&self, p: &Profile) -> Result<Profile, StoreError> {
        self.1.dynamo(&["PutItem"], Table)?;
        self.0.create_if_absent(p).await
    }
    async fn update(
        &self,
        user: &UserId,
        patch: &ProfilePatch,
        now: Millis,
    ) -> Result<Option<Profile>, StoreError> {
        self.1.dynamo(&["UpdateItem"], Table)?;
        self.0.update(user, patch, now).await
    }
}

#[async_trait]
impl NotifyStore for Guarded<dyn NotifyStore> {
    async fn put_device(&self, device: &Device) -> Result<bool, StoreError> {
        // Query of the user's devices (the limit), then PutItem.
        self.1.dynamo(&["Query", "PutItem"], Table)?;
        self.0.put_device(device).await
    }
    async fn devices(&self, user: &UserId) -> Result<Vec<Device>, StoreError> {
        self.1.dynamo(&["Query"], Table)?;
        self.0.devices(user).await
    }
    async fn devices_of(&self, users: &[UserId]) -> Result<Vec<Device>, StoreError> {
        self.1.dynamo(&["Query"], Table)?;
        self.0.devices_of(users).await
    }
    async fn remove_device(&self, user: &UserId, device: &DeviceId) -> Result<bool, StoreError> {
        self.1.dynamo(&["DeleteItem"], Table)?;
        self.0.remove_device(user, device).await
    }
    async fn policy(&self, user: &UserId) -> Result<NotifyPolicy, StoreError> {
        self.1.dynamo(&["GetItem"], Table)?;
        self.0.policy(user).await
    }
    async fn put_policy(&self, user: &UserId, policy: &NotifyPolicy) -> Result<(), StoreError> {
        self.1.dynamo(&["PutItem"], Table)?;
        self.0.put_policy(user, policy).await
    }
    async fn claim(
        &self,
        user: &UserId,
        room: &RoomId,
        n: u32,
        now: Millis,
        window_ms: Millis,
    ) -> Result<Option<u32>, StoreError> {
        self.1.dynamo(&["UpdateItem"], Table)?;
        self.0.claim(user, room, n, now, window_ms).await
    }
}

#[async_trait]
impl KeyStore for Guarded<dyn KeyStore> {
    async fn put_key(&self, key: &chat_core::e2ee::DeviceKey) -> Result<bool, StoreError> {
        // Query of the user's keys (the limit), then PutItem.
        self.1.dynamo(&["Query", "PutItem"], Table)?;
        self.0.put_key(key).await
    }
    async fn keys(&self, user: &UserId) -> Result<Vec<chat_core::e2ee::DeviceKey>, StoreError> {
        self.1.dynamo(&["Query"], Table)?;
        self.0.keys(user).await
    }
    async fn delete_key(
        &self,
        user: &UserId,
        device: &chat_core::e2ee::DeviceId,
    ) -> Result<bool, StoreError> {
        self.1.dynamo(&["DeleteItem"], Table)?;
        self.0.delete_key(user, device).await
    }
    async fn claim_seal(
        &self,
        room: &RoomId,
        digest: &str,
        sender: &UserId,
        client_msg_id: &chat_core::ids::ClientMsgId,
    ) -> Result<bool, StoreError> {
        self.1.dynamo(&["PutItem"], Table)?;
        self.0.claim_seal(room, digest, sender, client_msg_id).await
    }
}

#[async_trait]
impl BlockStore for Guarded<dyn BlockStore> {
    async fn block(&self, block: &Block) -> Result<bool, StoreError> {
        // Query of the user's blocks (the limit), then TransactWriteItems
        // of two Puts (IAM authorizes each item's action).
        self.1.dynamo(&["Query", "PutItem"], Table)?;
        self.0.block(block).await
    }
    async fn unblock(&self, user: &UserId, target: &UserId) -> Result<bool, StoreError> {
        // TransactWriteItems of two Deletes.
        self.1.dynamo(&["DeleteItem"], Table)?;
        self.0.unblock(user, target).await
    }
    async fn relations(&self, user: &UserId) -> Result<Relations, StoreError> {
        self.1.dynamo(&["Query"], Table)?;
        self.0.relations(user).await
    }
}

#[async_trait]
impl SearchIndex for Guarded<dyn SearchIndex> {
    async fn index(&self, entries: &[IndexEntry]) -> Vec<Result<(), StoreError>> {
        // BatchWriteItem of the entries and their manifests.
        if !entries.is_empty() {
            if let Err(e) = self.1.dynamo(&["BatchWriteItem"], Table) {
                let why = chat_core::error::chain(&e);
                return entries
                    .iter()
                    .map(|_| Err(StoreError::Unavailable(why.clone().into())))
                    .collect();
            }
        }
        self.0.index(entries).await
    }
    async fn remove(&self, room: &RoomId, seq: Seq) -> Result<(), StoreError> {
        // GetItem of the manifest, then BatchWriteItem of the deletes.
        self.1.dynamo(&["GetItem", "BatchWriteItem"], Table)?;
        self.0.remove(room, seq).await
    }
    async fn search(
        &self,
        room: &RoomId,
        q: &SearchQuery,
        below: Option<&SearchKey>,
        limit: usize,
    ) -> Result<RoomMatches, StoreError> {
        self.1.dynamo(&["Query"], Table)?;
        self.0.search(room, q, below, limit).await
    }
}

#[async_trait]
impl JobQueue for Guarded<dyn JobQueue> {
    async fn enqueue(&self, jobs: &[Job]) -> Result<(), QueueError> {
        if !jobs.is_empty() {
            self.1
                .policies
                .check("sqs:SendMessage", &arns::queue(&self.1.resources))
                .map_err(|e| QueueError(Box::new(e)))?;
        }
        self.0.enqueue(jobs).await
    }
}

#[async_trait]
impl Pusher for Guarded<dyn Pusher> {
    async fn post(&self, conn: &ConnectionId, frame: &[u8]) -> Result<(), PushError> {
        // 403 ForbiddenException: the adapter's Transient, as in AWS.
        self.1
            .push("POST", conn.as_str())
            .map_err(|e| PushError::Transient(Box::new(e)))?;
        self.0.post(conn, frame).await
    }
    async fn disconnect(&self, conn: &ConnectionId) -> Result<(), PushError> {
        self.1
            .push("DELETE", conn.as_str())
            .map_err(|e| PushError::Transient(Box::new(e)))?;
        self.0.disconnect(conn).await
    }
}

#[async_trait]
impl MessageChanges for Guarded<dyn MessageChanges> {
    async fn last_change(&self, room: &RoomId) -> Result<Change, StoreError> {
        self.1.dynamo(&["GetItem"], Table)?;
        self.0.last_change(room).await
    }
    async fn state(&self, room: &RoomId, seq: Seq) -> Result<Option<MessageState>, StoreError> {
        self.1.dynamo(&["GetItem"], Table)?;
        self.0.state(room, seq).await
    }
    async fn states(
        &self,
        room: &RoomId,
        lo: Seq,
        hi: Seq,
    ) -> Result<Vec<MessageState>, StoreError> {
        self.1.dynamo(&["Query"], Table)?;
        self.0.states(room, lo, hi).await
    }
    async fn commit(&self, state: &MessageState) -> Result<bool, StoreError> {
        // TransactWriteItems: an Update of the counter, two Puts.
        self.1.dynamo(&["UpdateItem", "PutItem"], Table)?;
        self.0.commit(state).await
    }
    async fn changes_after(
        &self,
        room: &RoomId,
        after: Change,
        limit: usize,
    ) -> Result<Vec<MessageState>, StoreError> {
        self.1.dynamo(&["Query"], Table)?;
        self.0.changes_after(room, after, limit).await
    }
}

/// A presigned request is signed with the function's credentials and
/// authorized when the client sends it: a URL signed by a role without the
/// action is refused by S3. The local store cannot tell who signed, so the
/// action is checked here, when the function signs.
#[async_trait]
impl BlobStore for Guarded<dyn BlobStore> {
    async fn presign_put(
        &self,
        key: &str,
        spec: &UploadSpec,
        now: Millis,
        ttl_ms: i64,
    ) -> Result<Presigned, StoreError> {
        self.1.s3("PutObject", Some(key))?;
        self.0.presign_put(key, spec, now, ttl_ms).await
    }
    async fn presign_get(
        &self,
        key: &str,
        spec: &DownloadSpec,
        now: Millis,
        ttl_ms: i64,
    ) -> Result<String, StoreError> {
        self.1.s3("GetObject", Some(key))?;
        self.0.presign_get(key, spec, now, ttl_ms).await
    }
    async fn head(&self, key: &str) -> Result<Option<BlobHead>, StoreError> {
        // HeadObject is authorized as GetObject; of a missing key, S3
        // answers 404 only to a caller with ListBucket (403 otherwise).
        self.1.s3("GetObject", Some(key))?;
        let head = self.0.head(key).await?;
        if head.is_none() {
            self.1.s3("ListBucket", None)?;
        }
        Ok(head)
    }
    async fn promote(
        &self,
        from: &str,
        to: &str,
        content_type: &str,
        metadata: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        // CopyObject: GetObject on the source, PutObject on the target;
        // then DeleteObject of the source.
        self.1.s3("GetObject", Some(from))?;
        self.1.s3("PutObject", Some(to))?;
        self.1.s3("DeleteObject", Some(from))?;
        self.0.promote(from, to, content_type, metadata).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.1.s3("DeleteObject", Some(key))?;
        self.0.delete(key).await
    }
}

/// The IAM request of one SNS call of mobile push (`chat_adapters::sns`):
/// `CreatePlatformEndpoint` on the platform application; on the endpoint
/// it answers, `SetEndpointAttributes` (enabling it again), `Publish` and
/// `DeleteEndpoint`. The SigV4 proxy (`aws_proxy::decode_sns`) asks IAM
/// the same of each request the SDK sends.
pub fn sns_call(action: &str, arn: &str) -> (String, String) {
    (format!("sns:{action}"), arn.to_owned())
}

impl Guard {
    /// [`sns_call`] checked against this function's role.
    pub fn sns(&self, action: &str, arn: &str) -> Result<(), AccessDenied> {
        let (action, resource) = sns_call(action, arn);
        self.policies.check(&action, &resource)
    }
}

/// `mobile` as a function may use it in AWS: configured for the platforms
/// whose application `apps` names (its `CHAT_SNS_*_APP_ARN`, as
/// `chat_adapters::wiring` installs the SNS adapter), every SNS call
/// checked against its role first and failed as the adapter fails on an
/// `AuthorizationError`.
pub fn guarded_mobile(
    mobile: Arc<dyn MobilePush>,
    guard: Arc<Guard>,
    apps: BTreeMap<MobilePlatform, String>,
) -> Arc<dyn MobilePush> {
    Arc::new(GuardedMobile {
        inner: mobile,
        guard,
        apps,
    })
}

struct GuardedMobile {
    inner: Arc<dyn MobilePush>,
    guard: Arc<Guard>,
    apps: BTreeMap<MobilePlatform, String>,
}

#[async_trait]
impl MobilePush for GuardedMobile {
    fn configured(&self, platform: MobilePlatform) -> bool {
        self.apps.contains_key(&platform) && self.inner.configured(platform)
    }
    async fn create_endpoint(
        &self,
        token: &MobileToken,
        owner: &UserId,
    ) -> Result<String, MobilePushError> {
        let app = self
            .apps
            .get(&token.platform)
            .ok_or(MobilePushError::NotConfigured(token.platform))?;
        let denied = |e: AccessDenied| MobilePushError::Failed(Box::new(e));
        self.guard
            .sns("CreatePlatformEndpoint", app)
            .map_err(denied)?;
        let arn = self.inner.create_endpoint(token, owner).await?;
        self.guard
            .sns("SetEndpointAttributes", &arn)
            .map_err(denied)?;
        Ok(arn)
    }
    async fn publish(&self, endpoint: &str, message: &str) -> Result<(), WebPushError> {
        // The adapter's Transient: a 403 is neither "gone" nor the token's.
        self.guard
            .sns("Publish", endpoint)
            .map_err(|e| WebPushError::Transient(Box::new(e)))?;
        self.inner.publish(endpoint, message).await
    }
    async fn delete_endpoint(&self, endpoint: &str) -> Result<(), MobilePushError> {
        self.guard
            .sns("DeleteEndpoint", endpoint)
            .map_err(|e| MobilePushError::Failed(Box::new(e)))?;
        self.inner.delete_endpoint(endpoint).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_core::config::Limits;
    use serde_json::json;

    fn guard(statements: serde_json::Value) -> Arc<Guard> {
        let policies = RolePolicies::new(
            "chat-test",
            "Role",
            vec![(
                "p".into(),
                json!({"Version":"2012-10-17","Statement":statements}),
            )],
            crate::iam::DenialLog::default(),
        )
        .expect("valid");
        Arc::new(Guard::new(
            policies,
            Resources {
                region: "us-east-1".into(),
                table_name: "chat".into(),
                queue_name: "q".into(),
                api_id: "api".into(),
                stage: "dev".into(),
                bucket_name: "files".into(),
            },
        ))
    }

    #[tokio::test]
    async fn each_port_call_needs_its_action_on_its_resource() {
        let (chat, _mem) = Chat::in_memory(Limits::default());
        let table = "arn:aws:dynamodb:us-east-1:123456789012:table/chat";
        // Reads of the table only: not the index, no writes, no queue.
        let g = guarded(
            &chat,
            guard(
                json!([{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Query"],"Resource":table}]),
            ),
        );
        let conn = ConnectionId::parse("abc=").unwrap();
        let user = UserId::parse("alice").unwrap();
        assert!(g.connections.get(&conn).await.is_ok());
        let e = g
            .connections
            .for_users(std::slice::from_ref(&user))
            .await
            .unwrap_err();
        let text = chat_core::error::chain(&e);
        assert!(
            text.contains("dynamodb:Query") && text.contains("table/chat/index/GSI1"),
            "{text}"
        );
        assert!(g.connections.delete(&conn).await.is_err());
        let job = Job::MarkDelivered {
            room_id: RoomId::parse("r1").unwrap(),
            seq: 1,
            user_ids: vec![user.clone()],
            notify: vec![],
        };
        let e = g.queue.enqueue(&[job]).await.unwrap_err();
        let e = chat_core::error::chain(&e);
        assert!(
            e.contains("sqs:SendMessage") && e.contains("arn:aws:sqs:us-east-1:123456789012:q"),
            "{e}"
        );
        let e = g.pusher.post(&conn, b"{}").await.unwrap_err();
        let e = chat_core::error::chain(&e);
        assert!(
            e.contains("execute-api:ManageConnections")
                && e.contains("api/dev/POST/@connections/abc="),
            "{e}"
        );
        // Nothing asked, nothing needed.
        assert!(g.connections.for_users(&[]).await.is_ok());
    }
}
