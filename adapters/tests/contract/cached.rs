//! The DynamoDB stores behind the Redis cache (moto + redis-server): the
//! same contract suites, then the cache's own promises: changes made through
//! it are visible at once, hits do not reach DynamoDB, and a flush of Redis
//! loses nothing. All of it on one Redis and on a Redis Cluster.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use chat_adapters::redis_cache::{CachedConnections, CachedMessages, CachedProfiles, CachedRooms};
use chat_core::contract::*;
use chat_core::error::StoreError;
use chat_core::ids::{RoomId, Seq};
use chat_core::model::{
    Message, MessageDraft, ReceiptStatus, Reservation, Role, RoomKind, SeqFate,
};
use chat_core::ports::{ConnectionStore, MessageStore, ProfileStore, RangeQuery, RoomStore};

use crate::support::{self, on_both, Topology};

/// The four store contracts, each store behind a cache made by `$cache()`.
macro_rules! cached_contracts {
    ($cache:path) => {
        chat_core::connection_store_contract!(async {
            let s = crate::support::stores().await;
            chat_adapters::redis_cache::CachedConnections::new(
                std::sync::Arc::new(s.connections),
                $cache(),
            )
        });
        chat_core::room_store_contract!(async {
            let s = crate::support::stores().await;
            chat_adapters::redis_cache::CachedRooms::new(std::sync::Arc::new(s.rooms), $cache())
        });
        chat_core::message_store_contract!(async {
            let s = crate::support::stores().await;
            chat_adapters::redis_cache::CachedMessages::new(
                std::sync::Arc::new(s.messages),
                $cache(),
            )
        });
        chat_core::profile_store_contract!(async {
            let s = crate::support::stores().await;
            chat_adapters::redis_cache::CachedProfiles::new(
                std::sync::Arc::new(s.profiles),
                $cache(),
            )
        });
    };
}

mod single {
    cached_contracts!(crate::support::cache);
}

mod cluster {
    cached_contracts!(crate::support::cluster_cache);
}

on_both!(
    the_newest_page_is_served_from_the_window_and_stays_exact_as_messages_arrive,
    membership_changes_and_cursor_advances_are_visible_at_once,
    presence_lookups_see_new_touched_and_closed_connections_at_once,
    flushing_redis_loses_nothing_and_never_reuses_a_seq,
    repeated_lookups_are_served_by_redis_until_a_change_goes_through,
);

/// Counts the `range`/`latest` calls that reach the inner store.
struct CountingMessages {
    inner: Arc<dyn MessageStore>,
    reads: AtomicU64,
}

#[async_trait]
impl MessageStore for CountingMessages {
    async fn reserve(&self, d: MessageDraft) -> Result<Reservation, StoreError> {
        self.inner.reserve(d).await
    }
    async fn last_seq(&self, r: &RoomId) -> Result<Seq, StoreError> {
        self.inner.last_seq(r).await
    }
    async fn settle(&self, r: &RoomId, seq: Seq) -> Result<SeqFate, StoreError> {
        self.inner.settle(r, seq).await
    }
    async fn put_batch(&self, ms: &[Message]) -> Vec<Result<(), StoreError>> {
        self.inner.put_batch(ms).await
    }
    async fn range(&self, r: &RoomId, q: RangeQuery) -> Result<Vec<Message>, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.range(r, q).await
    }
    async fn latest(&self, rooms: &[RoomId]) -> Result<Vec<Message>, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.latest(rooms).await
    }

    async fn replies(
        &self,
        room: &RoomId,
        target: Seq,
        after: Option<Seq>,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.replies(room, target, after, limit).await
    }
}

fn newest(limit: usize) -> RangeQuery {
    RangeQuery {
        after: None,
        before: None,
        limit,
        newest_first: true,
    }
}

async fn the_newest_page_is_served_from_the_window_and_stays_exact_as_messages_arrive(t: Topology) {
    let s = support::stores().await;
    let counting = Arc::new(CountingMessages {
        inner: Arc::new(s.messages),
        reads: AtomicU64::new(0),
    });
    let cache = t.cache();
    let cached = CachedMessages::new(counting.clone(), cache.clone());
    let (r, u) = (room_id(), user("u"));
    let mut ms = Vec::new();
    for i in 0..70 {
        ms.push(
            cached
                .reserve(draft(&r, &u, &format!("c{i}"), "m"))
                .await
                .unwrap()
                .message()
                .clone(),
        );
    }
    cached.put_batch(&ms[..60]).await;
    // First read loads the window (one inner read), the next ones hit it.
    assert_eq!(
        cached.range(&r, newest(51)).await.unwrap(),
        ms[9..60].to_vec()
    );
    let loads = counting.reads.load(Ordering::SeqCst);
    assert_eq!(
        cached.range(&r, newest(51)).await.unwrap(),
        ms[9..60].to_vec()
    );
    assert_eq!(
        counting.reads.load(Ordering::SeqCst),
        loads,
        "served from Redis"
    );
    // Stored out of order, the window still answers exactly (and trims).
    cached.put_batch(&ms[65..]).await;
    cached.put_batch(&ms[60..65]).await;
    assert_eq!(
        cached.range(&r, newest(51)).await.unwrap(),
        ms[19..70].to_vec()
    );
    assert_eq!(
        cached.latest(std::slice::from_ref(&r)).await.unwrap(),
        vec![ms[69].clone()]
    );
    let after = RangeQuery {
        after: Some(60),
        before: None,
        limit: 101,
        newest_first: false,
    };
    assert_eq!(cached.range(&r, after).await.unwrap(), ms[60..].to_vec());
    assert_eq!(
        counting.reads.load(Ordering::SeqCst),
        loads,
        "all served from Redis"
    );
    // Older than the window: the store answers.
    let old = RangeQuery {
        after: None,
        before: Some(5),
        limit: 10,
        newest_first: true,
    };
    assert_eq!(cached.range(&r, old).await.unwrap(), ms[..4].to_vec());
    assert_eq!(counting.reads.load(Ordering::SeqCst), loads + 1);
    assert!(cache.stats().failures == 0, "{:?}", cache.stats());
}

async fn membership_changes_and_cursor_advances_are_visible_at_once(t: Topology) {
    let s = support::stores().await;
    let rooms = CachedRooms::new(Arc::new(s.rooms), t.cache());
    let (o, m, late) = (user("o"), user("m"), user("late"));
    let r = room(RoomKind::Group, &o, 1_000);
    rooms
        .create(
            &r,
            &[member(&r, &o, Role::Owner), member(&r, &m, Role::Member)],
        )
        .await
        .unwrap();
    // Warm both directions.
    assert_eq!(rooms.members(&r.room_id).await.unwrap().len(), 2);
    assert_eq!(rooms.rooms_of(&m).await.unwrap().len(), 1);
    assert!(rooms
        .advance_cursor(&r.room_id, &m, ReceiptStatus::Delivered, 4)
        .await
        .unwrap());
    assert!(rooms
        .advance_cursor(&r.room_id, &m, ReceiptStatus::Read, 3)
        .await
        .unwrap());
    let cursors = |ms: Vec<chat_core::model::Membership>| {
        ms.into_iter()
            .find(|x| x.user_id == m)
            .map(|x| (x.delivered_seq, x.read_seq))
    };
    assert_eq!(
        cursors(rooms.members(&r.room_id).await.unwrap()),
        Some((4, 3))
    );
    assert_eq!(cursors(rooms.rooms_of(&m).await.unwrap()), Some((4, 3)));
    assert_eq!(
        rooms
            .membership(&r.room_id, &m)
            .await
            .unwrap()
            .map(|x| x.read_seq),
        Some(3)
    );
    assert!(rooms
        .advance_cursor(&r.room_id, &m, ReceiptStatus::Read, 9)
        .await
        .unwrap());
    assert_eq!(
        cursors(rooms.members(&r.room_id).await.unwrap()),
        Some((9, 9))
    );

    rooms
        .add_member(&member(&r, &late, Role::Member))
        .await
        .unwrap();
    assert_eq!(rooms.members(&r.room_id).await.unwrap().len(), 3);
    assert!(rooms.membership(&r.room_id, &late).await.unwrap().is_some());
    rooms.remove_member(&r.room_id, &m).await.unwrap();
    assert_eq!(rooms.members(&r.room_id).await.unwrap().len(), 2);
    assert!(rooms.rooms_of(&m).await.unwrap().is_empty());
    assert_eq!(rooms.membership(&r.room_id, &m).await.unwrap(), None);
}

async fn presence_lookups_see_new_touched_and_closed_connections_at_once(t: Topology) {
    let s = support::stores().await;
    let conns = CachedConnections::new(Arc::new(s.connections), t.cache());
    let (u, other) = (user("u"), user("offline"));
    let c1 = connection("c1");
    conns.put(&conn_record(&c1, &u, 5_000)).await.unwrap();
    // Warm, including the empty list of a user with no connection.
    assert_eq!(
        conns
            .for_users(&[u.clone(), other.clone()])
            .await
            .unwrap()
            .len(),
        1
    );
    let c2 = connection("c2");
    conns.put(&conn_record(&c2, &other, 5_000)).await.unwrap();
    assert_eq!(
        conns
            .for_users(&[u.clone(), other.clone()])
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(conns.touch(&c1, 9_000).await.unwrap());
    let mine = conns.for_users(std::slice::from_ref(&u)).await.unwrap();
    assert_eq!(mine[0].expires_at, 9_000);
    assert_eq!(conns.get(&c1).await.unwrap().unwrap().expires_at, 9_000);
    conns.delete(&c2).await.unwrap();
    assert_eq!(
        conns.for_users(std::slice::from_ref(&other)).await.unwrap(),
        vec![]
    );
}

async fn flushing_redis_loses_nothing_and_never_reuses_a_seq(t: Topology) {
    // A Redis of its own: flushing the shared one would disturb other tests.
    let (_servers, ports, cfg) = match t {
        Topology::Single => {
            let redis = support::redis_server(None);
            let ports = vec![redis.port];
            let cfg = support::cache_config(redis.port);
            (vec![redis], ports, cfg)
        }
        Topology::Cluster => {
            let cluster = support::redis_cluster();
            let ports = cluster.ports();
            let cfg = support::cluster_config(ports[0]);
            (cluster.nodes, ports, cfg)
        }
    };
    let s = support::stores().await;
    let cache = chat_adapters::redis_cache::RedisCache::new(cfg).unwrap();
    let messages = CachedMessages::new(Arc::new(s.messages), cache.clone());
    let profiles = CachedProfiles::new(Arc::new(s.profiles), cache.clone());
    let (r, u) = (room_id(), user("u"));
    let m1 = messages
        .reserve(draft(&r, &u, "a", "one"))
        .await
        .unwrap()
        .message()
        .clone();
    messages.put_batch(std::slice::from_ref(&m1)).await;
    profiles
        .create_if_absent(&profile(&u, "Name"))
        .await
        .unwrap();
    assert_eq!(
        messages.range(&r, newest(10)).await.unwrap(),
        vec![m1.clone()]
    );
    assert!(profiles.get(&u).await.unwrap().is_some());

    for port in ports {
        let flushed = std::process::Command::new("redis-cli")
            .args(["-p", &port.to_string(), "flushall"])
            .output()
            .unwrap();
        assert!(flushed.status.success());
    }

    assert_eq!(messages.range(&r, newest(10)).await.unwrap(), vec![m1]);
    assert_eq!(
        profiles
            .get(&u)
            .await
            .unwrap()
            .unwrap()
            .display_name
            .as_str(),
        "Name"
    );
    let m2 = messages.reserve(draft(&r, &u, "b", "two")).await.unwrap();
    assert_eq!(m2.message().seq, 2, "the counter lives in DynamoDB");
    assert_eq!(
        messages
            .reserve(draft(&r, &u, "a", "again"))
            .await
            .unwrap()
            .message()
            .seq,
        1
    );
}

async fn repeated_lookups_are_served_by_redis_until_a_change_goes_through(t: Topology) {
    use crate::counting::{CountingConnections, CountingRooms, Counts};
    let s = support::stores().await;
    let counts = Arc::new(Counts::default());
    let cache = t.cache();
    let conns = CachedConnections::new(
        Arc::new(CountingConnections(Arc::new(s.connections), counts.clone())),
        cache.clone(),
    );
    let rooms = CachedRooms::new(
        Arc::new(CountingRooms(Arc::new(s.rooms), counts.clone())),
        cache.clone(),
    );
    let (u, offline) = (user("u"), user("offline"));
    let r = room(RoomKind::Group, &u, 1_000);
    rooms
        .create(&r, &[member(&r, &u, Role::Owner)])
        .await
        .unwrap();
    let c = connection("c");
    conns.put(&conn_record(&c, &u, 5_000)).await.unwrap();
    let lookups = || async {
        conns
            .for_users(&[u.clone(), offline.clone()])
            .await
            .unwrap();
        conns.get(&c).await.unwrap().unwrap();
        rooms.get(&r.room_id).await.unwrap().unwrap();
        rooms.members(&r.room_id).await.unwrap();
        rooms.rooms_of(&u).await.unwrap();
        rooms.membership(&r.room_id, &u).await.unwrap().unwrap();
    };
    lookups().await;
    counts.take();
    for _ in 0..3 {
        lookups().await;
    }
    assert!(counts.take().is_empty(), "every repeated lookup was a hit");
    // A new member reloads the room's list once, then it is a hit again.
    rooms
        .add_member(&member(&r, &offline, Role::Member))
        .await
        .unwrap();
    counts.take();
    assert_eq!(rooms.members(&r.room_id).await.unwrap().len(), 2);
    assert_eq!(rooms.members(&r.room_id).await.unwrap().len(), 2);
    assert_eq!(counts.calls("rooms.members"), 1);
    assert_eq!(cache.stats().failures, 0, "{:?}", cache.stats());
}

/// The hash slot of a key's tag, as the cluster computes it.
fn slot(port: u16, tag: &str) -> String {
    let out = std::process::Command::new("redis-cli")
        .args(["-p", &port.to_string(), "cluster", "keyslot", tag])
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A presence lookup over many users is one `MGET` over as many hash slots:
/// on the cluster the client splits it per slot, and the second lookup is
/// answered by Redis alone, with the breaker never involved.
#[tokio::test]
async fn on_the_cluster_a_lookup_across_many_slots_is_served_from_the_cache() {
    use crate::counting::{CountingConnections, Counts};
    let s = support::stores().await;
    let counts = Arc::new(Counts::default());
    let cache = support::cluster_cache();
    let conns = CachedConnections::new(
        Arc::new(CountingConnections(Arc::new(s.connections), counts.clone())),
        cache.clone(),
    );
    let users: Vec<_> = (0..12).map(|i| user(&format!("u{i}"))).collect();
    for (i, u) in users.iter().take(6).enumerate() {
        conns
            .put(&conn_record(&connection(&format!("c{i}")), u, 5_000))
            .await
            .unwrap();
    }
    // The entries really are spread over several slots (only the tag is hashed).
    let port = support::cluster().nodes[0].port;
    let slots: std::collections::BTreeSet<String> = users
        .iter()
        .map(|u| slot(port, &format!("uconns:{u}")))
        .collect();
    assert!(slots.len() > 1, "{slots:?}");

    assert_eq!(conns.for_users(&users).await.unwrap().len(), 6);
    counts.take();
    assert_eq!(conns.for_users(&users).await.unwrap().len(), 6);
    assert!(counts.take().is_empty(), "the second lookup was all hits");
    let stats = cache.stats();
    assert_eq!((stats.failures, stats.skipped), (0, 0), "{stats:?}");
    assert!(cache.is_healthy());
}
