//! Message search for members: one room, or all the caller's rooms. The
//! index ([`crate::ports::SearchIndex`]) answers keys; this decides who may
//! see which room's (the one authorization table, asked again with a fresh
//! membership for every room that has a result, so someone who just left a
//! room gets none of it), reads the matched messages for their snippets and
//! pages the results.

use std::collections::{BTreeMap, BTreeSet};

use futures::stream::{self, StreamExt, TryStreamExt};

use super::Chat;
use crate::auth::Identity;
use crate::authz::{authorize, Action};
use crate::error::ChatError;
use crate::ids::{RoomId, UserId};
use crate::ports::RangeQuery;
use crate::protocol::rest::{SearchHit, SearchPage};
use crate::search::{merge, SearchKey, SearchQuery};

/// Results per page when the caller does not say.
pub const DEFAULT_LIMIT: usize = 20;
/// Most results per page.
pub const MAX_LIMIT: usize = 50;
/// Rooms (and matched messages) read at once.
const CONCURRENCY: usize = 16;

/// `?q=&cursor=&limit=`, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchRequest {
    pub query: SearchQuery,
    pub cursor: Option<SearchKey>,
    pub limit: usize,
}

impl SearchRequest {
    /// Parses the query string values; `q` is required.
    pub fn parse(
        q: Option<&str>,
        cursor: Option<&str>,
        limit: Option<&str>,
    ) -> Result<Self, ChatError> {
        let query = SearchQuery::parse(q.unwrap_or_default())?;
        let bad_limit =
            || ChatError::BadRequest(format!("limit must be between 1 and {MAX_LIMIT}"));
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(l) => match l.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => return Err(bad_limit()),
            },
        };
        Ok(Self {
            query,
            cursor: cursor.map(SearchKey::parse).transpose()?,
            limit,
        })
    }
}

impl Chat {
    /// `GET /rooms/{roomId}/search`: matches in one room the caller is a
    /// member of.
    pub async fn search_room(
        &self,
        actor: &Identity,
        room_id: &RoomId,
        req: SearchRequest,
    ) -> Result<SearchPage, ChatError> {
        self.search_enabled()?;
        self.authorized_room(&actor.user_id, room_id, Action::Search)
            .await?;
        self.search_rooms(&actor.user_id, vec![room_id.clone()], req, false)
            .await
    }

    /// `GET /search`: matches in every room the caller is a member of.
    pub async fn search_all(
        &self,
        actor: &Identity,
        req: SearchRequest,
    ) -> Result<SearchPage, ChatError> {
        self.search_enabled()?;
        let me = &actor.user_id;
        let memberships = self.rooms.rooms_of(me).await?;
        let ids: Vec<RoomId> = memberships.iter().map(|m| m.room_id.clone()).collect();
        let rooms = self.rooms.get_many(&ids).await?;
        let allowed: Vec<RoomId> = rooms
            .iter()
            .filter(|room| {
                let m = memberships.iter().find(|m| m.room_id == room.room_id);
                authorize(me, Action::Search, room, m).is_ok()
            })
            .map(|r| r.room_id.clone())
            .collect();
        self.search_rooms(me, allowed, req, true).await
    }

    /// Search answers only where messages are indexed (`searchIndex`).
    fn search_enabled(&self) -> Result<(), ChatError> {
        if self.limits.search_index {
            Ok(())
        } else {
            Err(ChatError::Disabled("message search"))
        }
    }

    async fn search_rooms(
        &self,
        me: &UserId,
        rooms: Vec<RoomId>,
        req: SearchRequest,
        recheck: bool,
    ) -> Result<SearchPage, ChatError> {
        let (q, below, limit) = (&req.query, req.cursor.as_ref(), req.limit);
        let found: Vec<_> = stream::iter(rooms)
            .map(|room| async move { self.search.search(&room, q, below, limit).await })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        let (keys, next) = merge(found, limit);

        // The room list of an all-rooms search comes from an eventually
        // consistent index, and the caller may have left since: each room
        // with a result is authorized again on its current membership.
        let hit_rooms: BTreeSet<RoomId> = keys
            .iter()
            .filter(|_| recheck)
            .map(|k| k.room_id.clone())
            .collect();
        let checks: Vec<(RoomId, bool)> = stream::iter(hit_rooms)
            .map(|room| async move {
                let allowed = match self.authorized_room(me, &room, Action::Search).await {
                    Ok(_) => true,
                    Err(ChatError::Forbidden(_) | ChatError::NotFound(_)) => false,
                    Err(e) => return Err(e),
                };
                Ok((room, allowed))
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        let allowed: BTreeMap<RoomId, bool> = checks.into_iter().collect();

        let keys: Vec<SearchKey> = keys
            .into_iter()
            .filter(|k| !recheck || allowed.get(&k.room_id).copied().unwrap_or(false))
            .collect();
        let hits: Vec<Option<SearchHit>> = stream::iter(keys)
            .map(|k| async move {
                let range = RangeQuery {
                    after: k.seq.checked_sub(1),
                    before: k.seq.checked_add(1),
                    limit: 1,
                    newest_first: false,
                };
                let (found, state) = tokio::try_join!(
                    self.messages.range(&k.room_id, range),
                    self.changes.state(&k.room_id, k.seq)
                )?;
                // A tombstone is no result; an edited message answers
                // with its body now.
                if state.as_ref().is_some_and(|s| s.is_deleted()) {
                    return Ok(None);
                }
                // An entry whose message is gone (deleted, once the protocol
                // has deletes) is not a result.
                Ok::<_, ChatError>(found.into_iter().find(|m| m.seq == k.seq).map(|mut m| {
                    if let Some(s) = &state {
                        s.apply(&mut m);
                    }
                    SearchHit {
                        room_id: m.room_id.clone(),
                        seq: m.seq,
                        message_id: m.message_id.clone(),
                        sender_id: m.sender_id.clone(),
                        sent_at: m.sent_at,
                        snippet: q.snippet(m.body.as_str()),
                    }
                }))
            })
            .buffered(CONCURRENCY)
            .try_collect()
            .await?;
        Ok(SearchPage {
            hits: hits.into_iter().flatten().collect(),
            next_cursor: next.map(|k| k.encode()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Limits;
    use crate::ids::{ClientMsgId, ConnectionId};
    use crate::memory::MemoryQueue;
    use crate::model::RoomKind;
    use crate::ports::SearchIndex;
    use crate::protocol::rest::CreateRoomRequest;
    use crate::protocol::ws::SendMessage;
    use crate::service::HistoryQuery;
    use crate::Caller;

    fn who(name: &str) -> Identity {
        Identity {
            user_id: UserId::parse(name).unwrap(),
            name: None,
        }
    }

    async fn group(chat: &Chat, owner: &Identity, members: &[&Identity]) -> RoomId {
        let (_, room) = chat
            .create_room(
                owner,
                CreateRoomRequest {
                    encrypted: false,
                    name: Some("g".into()),
                    kind: RoomKind::Group,
                    members: members.iter().map(|m| m.user_id.clone()).collect(),
                },
            )
            .await
            .unwrap();
        room.room.room_id
    }

    async fn send(chat: &Chat, queue: &MemoryQueue, from: &Identity, room: &RoomId, body: &str) {
        let caller = Caller {
            user_id: from.user_id.clone(),
            connection_id: ConnectionId::parse("c=").unwrap(),
            expires_at: 0,
        };
        let req = SendMessage {
            sealed: None,
            room_id: room.clone(),
            client_msg_id: ClientMsgId::parse(&crate::contract::unique()).unwrap(),
            body: body.into(),
            attachments: Vec::new(),
            reply_to: None,
        };
        chat.send_message(&caller, req).await.unwrap();
        let records: Vec<_> = queue
            .take(100)
            .into_iter()
            .map(|j| (j.id, j.body))
            .collect();
        chat.persist_batch(&records).await;
    }

    fn req(q: &str) -> SearchRequest {
        SearchRequest::parse(Some(q), None, None).unwrap()
    }

    #[tokio::test]
    async fn members_find_stored_messages_and_others_find_nothing_of_the_room() {
        let (chat, mem) = Chat::in_memory(Limits::default());
        let (alice, bob, eve) = (who("alice"), who("bob"), who("eve"));
        let shared = group(&chat, &alice, &[&bob]).await;
        let private = group(&chat, &eve, &[]).await;
        send(
            &chat,
            &mem.queue,
            &alice,
            &shared,
            "The quarterly report is ready",
        )
        .await;
        send(&chat, &mem.queue, &eve, &private, "my quarterly secret").await;

        let page = chat.search_room(&bob, &shared, req("quart")).await.unwrap();
        assert_eq!(page.hits.len(), 1);
        let hit = &page.hits[0];
        assert_eq!((hit.seq, hit.sender_id.as_str()), (1, "alice"));
        assert_eq!(hit.snippet, "The quarterly report is ready");
        assert_eq!(page.next_cursor, None);

        let e = chat
            .search_room(&eve, &shared, req("quart"))
            .await
            .unwrap_err();
        assert_eq!(e.http_status(), 403);
        // All rooms: each caller's own only.
        let all = chat.search_all(&bob, req("quarterly")).await.unwrap();
        assert_eq!(all.hits.len(), 1);
        assert_eq!(all.hits[0].room_id, shared);
        let all = chat.search_all(&eve, req("quarterly")).await.unwrap();
        assert_eq!(all.hits.len(), 1);
        assert_eq!(all.hits[0].room_id, private);

        // After leaving, the room's messages are not found any more.
        chat.remove_member(&bob, &shared, &bob.user_id)
            .await
            .unwrap();
        assert!(chat
            .search_all(&bob, req("quarterly"))
            .await
            .unwrap()
            .hits
            .is_empty());
        let e = chat
            .search_room(&bob, &shared, req("quart"))
            .await
            .unwrap_err();
        assert_eq!(e.http_status(), 403);
    }

    #[tokio::test]
    async fn with_search_off_nothing_is_indexed_and_search_answers_404() {
        let limits = Limits {
            search_index: false,
            ..Limits::default()
        };
        let (chat, mem) = Chat::in_memory(limits);
        let alice = who("alice");
        let room = group(&chat, &alice, &[]).await;
        send(&chat, &mem.queue, &alice, &room, "The quarterly report").await;
        let stored = chat
            .history(&alice, &room, HistoryQuery::default())
            .await
            .unwrap();
        assert_eq!(stored.messages.len(), 1, "the message itself is stored");
        let q = SearchQuery::parse("quarterly").unwrap();
        let indexed = mem.search.search(&room, &q, None, 10).await.unwrap();
        assert!(indexed.hits.is_empty(), "no index entry written");
        for e in [
            chat.search_room(&alice, &room, req("quarterly")).await,
            chat.search_all(&alice, req("quarterly")).await,
        ] {
            let e = e.unwrap_err();
            assert_eq!(e.http_status(), 404);
            assert_eq!(
                e.public_message(),
                "message search is turned off in this deployment"
            );
        }
    }

    #[tokio::test]
    async fn all_rooms_pages_go_newest_first_across_rooms_without_repeats() {
        let (chat, mem) = Chat::in_memory(Limits::default());
        let alice = who("alice");
        let rooms = [
            group(&chat, &alice, &[]).await,
            group(&chat, &alice, &[]).await,
            group(&chat, &alice, &[]).await,
        ];
        let mut sent = Vec::new();
        for i in 0..12 {
            let room = &rooms[i % 3];
            send(
                &chat,
                &mem.queue,
                &alice,
                room,
                &format!("status update {i}"),
            )
            .await;
            sent.push(room.clone());
        }
        let mut cursor: Option<String> = None;
        let mut seen = Vec::new();
        loop {
            let r = SearchRequest::parse(Some("update"), cursor.as_deref(), Some("5")).unwrap();
            let page = chat.search_all(&alice, r).await.unwrap();
            assert!(page.hits.len() <= 5);
            seen.extend(page.hits.iter().map(|h| (h.sent_at, h.snippet.clone())));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen.len(), 12, "{seen:?}");
        assert!(
            seen.windows(2).all(|w| w[0].0 >= w[1].0),
            "newest first: {seen:?}"
        );
        let mut texts: Vec<_> = seen.iter().map(|(_, s)| s.clone()).collect();
        texts.sort();
        texts.dedup();
        assert_eq!(texts.len(), 12, "no repeats");
    }

    #[tokio::test]
    async fn history_around_a_result_opens_the_room_at_it() {
        let (chat, mem) = Chat::in_memory(Limits::default());
        let alice = who("alice");
        let room = group(&chat, &alice, &[]).await;
        for i in 1..=30 {
            send(&chat, &mem.queue, &alice, &room, &format!("message {i}")).await;
        }
        let q = HistoryQuery::parse(None, None, Some("12"), Some("6")).unwrap();
        let page = chat.history(&alice, &room, q).await.unwrap();
        let seqs: Vec<u64> = page.messages.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, vec![10, 11, 12, 13, 14, 15]);
        assert!(page.prev_cursor.is_some() && page.next_cursor.is_some());
        let q = HistoryQuery::parse(None, None, Some("29"), Some("6")).unwrap();
        let page = chat.history(&alice, &room, q).await.unwrap();
        let seqs: Vec<u64> = page.messages.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, vec![27, 28, 29, 30]);
        assert!(page.next_cursor.is_none());
        assert!(HistoryQuery::parse(Some("x"), None, Some("3"), None).is_err());
        assert!(HistoryQuery::parse(None, None, Some("0"), None).is_err());
    }

    #[test]
    fn bad_requests_say_what_is_wrong() {
        for (q, limit, why) in [
            (None, None, "empty"),
            (Some("  "), None, "empty"),
            (Some("ok"), Some("0"), "limit"),
            (Some("ok"), Some("51"), "limit"),
            (Some("ok"), Some("x"), "limit"),
        ] {
            let e = SearchRequest::parse(q, None, limit).unwrap_err();
            assert!(e.to_string().contains(why), "{e}");
        }
        let e = SearchRequest::parse(Some("ok"), Some("nope"), None).unwrap_err();
        assert!(e.to_string().contains("cursor"));
    }
}
