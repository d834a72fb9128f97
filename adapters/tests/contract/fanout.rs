//! Fan-out reads only the room's members: the same message sent with 10 and
//! with 1,000 idle connections of other users costs the same store calls, the
//! same items and the same DynamoDB requests, and never a Scan.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use chat_adapters::dynamo::{create_table, Table};
use chat_core::config::Limits;
use chat_core::contract::*;
use chat_core::ids::{ClientMsgId, UserId};
use chat_core::memory::{MemoryPusher, MemoryQueue};
use chat_core::model::{Role, RoomKind};
use chat_core::ports::{Clock, ConnectionStore, RoomStore, SystemClock};
use chat_core::protocol::ws::SendMessage;
use chat_core::service::{Caller, Chat};
use futures::stream::{self, StreamExt};

use crate::counting::{CountingConnections, CountingRooms, Counts};
use crate::support;

/// Counts DynamoDB requests by operation name.
#[derive(Clone, Debug, Default)]
struct Operations(Arc<Mutex<BTreeMap<String, u64>>>);

impl Intercept for Operations {
    fn name(&self) -> &'static str {
        "count-operations"
    }

    fn read_before_execution(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        if let Some(m) = cfg.load::<Metadata>() {
            *self
                .0
                .lock()
                .unwrap()
                .entry(m.name().to_owned())
                .or_default() += 1;
        }
        Ok(())
    }
}

impl Operations {
    fn take(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

struct Cost {
    calls: BTreeMap<&'static str, (u64, u64)>,
    requests: BTreeMap<String, u64>,
    posts: u64,
}

/// Sends one message in a 5-member room while `idle` other users are connected.
async fn send_with_idle_connections(idle: usize) -> Cost {
    let sdk = support::sdk().await;
    let ops = Operations::default();
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .interceptor(ops.clone())
            .build(),
    );
    let name = format!("chat-{}", unique());
    create_table(&client, &name).await.unwrap();
    let stores = Table::new(client, name).stores();
    let live_until = SystemClock.now() + 3_600_000;

    let idle_conns = stores.connections.clone();
    stream::iter(0..idle)
        .map(|_| {
            let store = idle_conns.clone();
            async move {
                store
                    .put(&conn_record(&connection("idle"), &user("idle"), live_until))
                    .await
                    .unwrap()
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<()>>()
        .await;

    let members: Vec<UserId> = (0..5).map(|i| user(&format!("m{i}"))).collect();
    let r = room(RoomKind::Group, &members[0], 1_000);
    let ms: Vec<_> = members
        .iter()
        .enumerate()
        .map(|(i, u)| member(&r, u, if i == 0 { Role::Owner } else { Role::Member }))
        .collect();
    assert!(stores.rooms.create(&r, &ms).await.unwrap());
    let pusher = Arc::new(MemoryPusher::default());
    let mut inboxes = Vec::new();
    let mut conns = Vec::new();
    for u in &members {
        let c = connection("m");
        stores
            .connections
            .put(&conn_record(&c, u, live_until))
            .await
            .unwrap();
        inboxes.push(pusher.open(&c));
        conns.push(c);
    }

    let counts = Arc::new(Counts::default());
    let chat = Chat {
        connections: Arc::new(CountingConnections(
            Arc::new(stores.connections),
            counts.clone(),
        )),
        rooms: Arc::new(CountingRooms(Arc::new(stores.rooms), counts.clone())),
        messages: Arc::new(stores.messages),
        changes: Arc::new(stores.changes),
        profiles: Arc::new(stores.profiles),
        search: Arc::new(stores.search),
        notify: Arc::new(stores.notify),
        blocks: Arc::new(stores.blocks),
        keys: Arc::new(stores.keys),
        webpush: None,
        mobile: None,
        queue: Arc::new(MemoryQueue::default()),
        pusher: pusher.clone(),
        blobs: Arc::new(chat_core::memory::MemoryBlobs::default()),
        clock: Arc::new(SystemClock),
        rate_limiter: Arc::new(chat_core::ratelimit::MemoryRateLimiter::new()),
        limits: Limits::default(),
    };
    ops.take();
    let caller = Caller {
        user_id: members[0].clone(),
        connection_id: conns[0].clone(),
        expires_at: 0,
    };
    let req = SendMessage {
        sealed: None,
        room_id: r.room_id.clone(),
        client_msg_id: ClientMsgId::parse("hello-1").unwrap(),
        body: "hello everyone".into(),
        attachments: Vec::new(),
        reply_to: None,
    };
    chat.send_message(&caller, req).await.unwrap();
    for inbox in &mut inboxes[1..] {
        let frame = inbox
            .try_recv()
            .expect("every other member got the message");
        assert!(frame.contains("hello everyone"), "{frame}");
    }
    Cost {
        calls: counts.take(),
        requests: ops.take(),
        posts: pusher.posts(),
    }
}

#[tokio::test]
async fn fan_out_cost_does_not_depend_on_the_other_connected_users() {
    let few = send_with_idle_connections(10).await;
    let many = send_with_idle_connections(1_000).await;
    assert_eq!(few.calls, many.calls, "store calls and items read");
    assert_eq!(few.requests, many.requests, "DynamoDB requests");
    assert_eq!(few.posts, many.posts);
    assert_eq!(many.posts, 5, "four members pushed, the sender acked");
    assert_eq!(
        many.calls["connections.for_users"],
        (1, 5),
        "only the members' connections"
    );
    assert!(!many.requests.contains_key("Scan"), "{:?}", many.requests);
    // One Query per member on GSI1, nothing proportional to the 1,000.
    assert!(
        many.requests.values().sum::<u64>() < 20,
        "{:?}",
        many.requests
    );
}
