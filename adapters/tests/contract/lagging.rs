//! The cache against an index that lags: GSI1 (user → connections, user →
//! rooms) is eventually consistent in DynamoDB, moto's never lags, so the
//! fault lab's lagging index (chat-twin) holds writes back from the index
//! reads until told to catch up. A
//! cache must never serve an older answer than the index gives once it has
//! caught up (a new device or a new room hidden for a whole TTL).

use std::sync::Arc;
use std::time::Duration;

use chat_adapters::redis_cache::{CachedConnections, CachedRooms};
use chat_core::contract::*;
use chat_core::ids::RoomId;
use chat_core::memory::{MemoryConnections, MemoryRooms};
use chat_core::model::{ConnectionRecord, Role, RoomKind};
use chat_core::ports::{ConnectionStore, RoomStore};
use chat_twin::FaultLab;

use crate::support::{on_both, Topology};

/// The fault lab's lagging index beneath a cache: the index reads hide what
/// was written (and show what was deleted) until `catch_up`.
struct Index {
    lab: Arc<FaultLab>,
    connections: Arc<dyn ConnectionStore>,
    rooms: Arc<dyn RoomStore>,
}

impl Index {
    fn new() -> Self {
        let lab = FaultLab::new();
        // Longer than any test: only `catch_up` ends it.
        lab.lag_index(Duration::from_secs(3600));
        let (connections, rooms) = lab.beneath_cache(
            Arc::new(MemoryConnections::default()),
            Arc::new(MemoryRooms::default()),
        );
        Self {
            lab,
            connections,
            rooms,
        }
    }

    /// The index shows every write so far; later ones lag again.
    fn catch_up(&self) {
        self.lab.lag_index(Duration::ZERO);
        self.lab.lag_index(Duration::from_secs(3600));
    }
}

on_both!(
    a_new_device_is_not_hidden_by_a_lagging_index,
    a_closed_device_is_not_kept_by_a_lagging_index,
    a_new_room_is_not_hidden_by_a_lagging_index,
    a_hold_shorter_than_the_index_lag_lets_a_stale_list_in_and_the_default_does_not,
);

/// The index shows a new device 300 ms after it connected; the cache holds
/// the user's list back for `redisIndexHoldMs` after the change. A hold of
/// 50 ms lapses first: the read in between caches the list without the
/// device, and the cache keeps hiding it once the index shows it. The
/// default hold (deploy/settings.json) outlasts the lag.
async fn a_hold_shorter_than_the_index_lag_lets_a_stale_list_in_and_the_default_does_not(
    t: Topology,
) {
    let default = chat_core::deploy::settings().redis_index_hold_ms.default;
    assert!(default > 300, "the default tolerates the lag of this test");
    for (hold_ms, devices_after_catch_up) in [(50, 1), (default, 2)] {
        let index = Index::new();
        let conns =
            CachedConnections::new(index.connections.clone(), t.cache_from_settings(hold_ms));
        let u = user("u");
        let (phone, laptop) = (connection("phone"), connection("laptop"));
        conns.put(&conn_record(&phone, &u, 5_000)).await.unwrap();
        index.catch_up();
        assert_eq!(
            conns
                .for_users(std::slice::from_ref(&u))
                .await
                .unwrap()
                .len(),
            1
        );
        conns.put(&conn_record(&laptop, &u, 5_000)).await.unwrap();
        // A fan-out 300 ms later: the index does not show the laptop yet.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let during = conns.for_users(std::slice::from_ref(&u)).await.unwrap();
        assert_eq!(during.len(), 1, "hold {hold_ms} ms: the index lags");
        index.catch_up();
        let after = conns.for_users(std::slice::from_ref(&u)).await.unwrap();
        assert_eq!(
            after.len(),
            devices_after_catch_up,
            "hold {hold_ms} ms, index lag 300 ms: {after:?}"
        );
    }
}

fn ids(conns: &[ConnectionRecord]) -> Vec<String> {
    let mut v: Vec<String> = conns.iter().map(|c| c.connection_id.to_string()).collect();
    v.sort();
    v
}

async fn a_new_device_is_not_hidden_by_a_lagging_index(t: Topology) {
    let index = Index::new();
    let conns = CachedConnections::new(index.connections.clone(), t.cache_holding());
    let u = user("u");
    let (phone, laptop) = (connection("phone"), connection("laptop"));
    conns.put(&conn_record(&phone, &u, 5_000)).await.unwrap();
    index.catch_up();
    assert_eq!(
        ids(&conns.for_users(std::slice::from_ref(&u)).await.unwrap()),
        ids(&[conn_record(&phone, &u, 5_000)])
    );
    // A second device: the index does not show it yet, and that read is
    // what a fan-out right after the connect would get.
    conns.put(&conn_record(&laptop, &u, 5_000)).await.unwrap();
    let during = conns.for_users(std::slice::from_ref(&u)).await.unwrap();
    assert_eq!(during.len(), 1, "the index lags: {during:?}");
    // Once the index shows it, so does the cache.
    index.catch_up();
    let after = conns.for_users(std::slice::from_ref(&u)).await.unwrap();
    assert_eq!(
        ids(&after),
        ids(&[
            conn_record(&phone, &u, 5_000),
            conn_record(&laptop, &u, 5_000)
        ])
    );
}

async fn a_closed_device_is_not_kept_by_a_lagging_index(t: Topology) {
    let index = Index::new();
    let conns = CachedConnections::new(index.connections.clone(), t.cache_holding());
    let u = user("u");
    let (phone, laptop) = (connection("phone"), connection("laptop"));
    conns.put(&conn_record(&phone, &u, 5_000)).await.unwrap();
    conns.put(&conn_record(&laptop, &u, 5_000)).await.unwrap();
    index.catch_up();
    assert_eq!(
        conns
            .for_users(std::slice::from_ref(&u))
            .await
            .unwrap()
            .len(),
        2
    );
    conns.delete(&laptop).await.unwrap();
    assert_eq!(
        conns
            .for_users(std::slice::from_ref(&u))
            .await
            .unwrap()
            .len(),
        2,
        "the index lags"
    );
    index.catch_up();
    assert_eq!(
        ids(&conns.for_users(std::slice::from_ref(&u)).await.unwrap()),
        ids(&[conn_record(&phone, &u, 5_000)])
    );
}

async fn a_new_room_is_not_hidden_by_a_lagging_index(t: Topology) {
    let index = Index::new();
    let rooms = CachedRooms::new(index.rooms.clone(), t.cache_holding());
    let (owner, u) = (user("owner"), user("u"));
    let first = room(RoomKind::Group, &owner, 1_000);
    rooms
        .create(
            &first,
            &[
                member(&first, &owner, Role::Owner),
                member(&first, &u, Role::Member),
            ],
        )
        .await
        .unwrap();
    index.catch_up();
    assert_eq!(rooms.rooms_of(&u).await.unwrap().len(), 1);
    // Added to a second room: the index does not show it yet.
    let second = room(RoomKind::Group, &owner, 2_000);
    rooms
        .create(&second, &[member(&second, &owner, Role::Owner)])
        .await
        .unwrap();
    rooms
        .add_member(&member(&second, &u, Role::Member))
        .await
        .unwrap();
    assert_eq!(rooms.rooms_of(&u).await.unwrap().len(), 1, "the index lags");
    index.catch_up();
    let mut mine: Vec<RoomId> = rooms
        .rooms_of(&u)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.room_id)
        .collect();
    mine.sort();
    let mut want = vec![first.room_id.clone(), second.room_id.clone()];
    want.sort();
    assert_eq!(mine, want);
}
