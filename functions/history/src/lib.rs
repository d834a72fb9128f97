//! `GET /rooms/{roomId}/messages?before=&after=&around=&limit=`: paginated
//! history, `GET /rooms/{roomId}/messages/{seq}/replies`: a thread, and `GET /rooms/{roomId}/search` / `GET /search`: message
//! search; members only.

use chat_core::auth::TokenVerifier;
use chat_core::service::{HistoryQuery, SearchRequest, ThreadQuery};
use chat_core::{Chat, ChatError};
use chat_lambda::http::{self, Route};
use lambda_http::{Body, Request, Response};

/// This function as deployed: the ports it links beyond the stores, which
/// `deploy/functions.json` must grant (checked at cold start and by tests).
pub const FUNCTION: chat_adapters::wiring::Function = chat_adapters::wiring::Function {
    name: "chat-history",
    ports: &[chat_adapters::wiring::BLOBS],
};

pub async fn handle(chat: &Chat, verifier: &dyn TokenVerifier, req: Request) -> Response<Body> {
    http::serve(&req, async {
        let me = http::authenticated(&req, chat, verifier).await?;
        let search = || {
            SearchRequest::parse(
                http::query(&req, "q"),
                http::query(&req, "cursor"),
                http::query(&req, "limit"),
            )
        };
        match Route::of(&req)? {
            Route::History(room_id) => {
                let q = HistoryQuery::parse(
                    http::query(&req, "before"),
                    http::query(&req, "after"),
                    http::query(&req, "around"),
                    http::query(&req, "limit"),
                )?;
                Ok(http::json(200, &chat.history(&me, &room_id, q).await?))
            }
            Route::Thread(room_id, seq) => {
                let q = ThreadQuery::parse(http::query(&req, "after"), http::query(&req, "limit"))?;
                Ok(http::json(200, &chat.thread(&me, &room_id, seq, q).await?))
            }
            Route::SearchRoom(room_id) => Ok(http::json(
                200,
                &chat.search_room(&me, &room_id, search()?).await?,
            )),
            Route::SearchAll => Ok(http::json(200, &chat.search_all(&me, search()?).await?)),
            _ => Err(ChatError::NotFound("route")),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_core::auth::{Hs256Verifier, Identity};
    use chat_core::config::Limits;
    use chat_core::ids::{ConnectionId, UserId};
    use chat_core::model::RoomKind;
    use chat_core::protocol::rest::CreateRoomRequest;
    use chat_core::protocol::ws::SendMessage;

    /// Behind the HTTP API's JWT authorizer the claims arrive in the request
    /// context; the handler trusts them (the bearer here is not even valid).
    #[tokio::test]
    async fn a_real_http_api_event_with_jwt_claims_reads_the_history() {
        let (chat, mem) = Chat::in_memory(Limits::default());
        let alice = Identity {
            user_id: UserId::parse("alice").unwrap(),
            name: None,
        };
        let (_, room) = chat
            .create_room(
                &alice,
                CreateRoomRequest {
                    encrypted: false,
                    name: Some("g".into()),
                    kind: RoomKind::Group,
                    members: vec![],
                },
            )
            .await
            .unwrap();
        let room_id = room.room.room_id.to_string();
        let caller = chat_core::Caller {
            user_id: alice.user_id.clone(),
            connection_id: ConnectionId::parse("c=").unwrap(),
            expires_at: 0,
        };
        for i in 0..3 {
            let req = SendMessage {
                sealed: None,
                room_id: room.room.room_id.clone(),
                client_msg_id: chat_core::ids::ClientMsgId::parse(&format!("c{i}")).unwrap(),
                body: "x".into(),
                attachments: Vec::new(),
                reply_to: None,
            };
            chat.send_message(&caller, req).await.unwrap();
        }
        let records: Vec<_> = mem
            .queue
            .take(10)
            .into_iter()
            .map(|j| (j.id, j.body))
            .collect();
        chat.persist_batch(&records).await;

        let verifier = Hs256Verifier::new(b"unused-secret-unused-secret", None, None);
        let raw = include_str!("../tests/fixtures/http_api_v2.json")
            .replace("{{ROOM}}", &room_id)
            .replace("{{TOKEN}}", "not-a-jwt")
            .replace("{{SUB}}", "alice");
        let req = lambda_http::request::from_str(&raw).unwrap();
        let resp = handle(&chat, &verifier, req).await;
        assert_eq!(resp.status(), 200);
        let page: serde_json::Value = serde_json::from_slice(resp.body().as_ref()).unwrap();
        let seqs: Vec<u64> = page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_u64().unwrap())
            .collect();
        assert_eq!(seqs, vec![2, 3]);

        let raw = include_str!("../tests/fixtures/http_api_v2.json")
            .replace("{{ROOM}}", &room_id)
            .replace("{{TOKEN}}", "x")
            .replace("{{SUB}}", "mallory");
        let resp = handle(
            &chat,
            &verifier,
            lambda_http::request::from_str(&raw).unwrap(),
        )
        .await;
        assert_eq!(resp.status(), 403);
    }

    /// The same event shape on the search routes: a member finds the
    /// message (all rooms and the room's), a bad query is a 400 that says
    /// why, a stranger gets nothing of the room.
    #[tokio::test]
    async fn search_routes_answer_members_and_refuse_bad_queries() {
        let (chat, mem) = Chat::in_memory(Limits::default());
        let alice = Identity {
            user_id: UserId::parse("alice").unwrap(),
            name: None,
        };
        let (_, room) = chat
            .create_room(
                &alice,
                CreateRoomRequest {
                    encrypted: false,
                    name: Some("g".into()),
                    kind: RoomKind::Group,
                    members: vec![],
                },
            )
            .await
            .unwrap();
        let room_id = room.room.room_id.to_string();
        let caller = chat_core::Caller {
            user_id: alice.user_id.clone(),
            connection_id: ConnectionId::parse("c=").unwrap(),
            expires_at: 0,
        };
        let req = SendMessage {
            sealed: None,
            room_id: room.room.room_id.clone(),
            client_msg_id: chat_core::ids::ClientMsgId::parse("c1").unwrap(),
            body: "Quarterly numbers are in".into(),
            attachments: Vec::new(),
            reply_to: None,
        };
        chat.send_message(&caller, req).await.unwrap();
        let records: Vec<_> = mem
            .queue
            .take(10)
            .into_iter()
            .map(|j| (j.id, j.body))
            .collect();
        chat.persist_batch(&records).await;

        let verifier = Hs256Verifier::new(b"unused-secret-unused-secret", None, None);
        let call = |path: String, q: &str, sub: &str| {
            let raw = include_str!("../tests/fixtures/http_api_v2.json")
                .replace("/rooms/{{ROOM}}/messages", &path)
                .replace("{{ROOM}}", &room_id)
                .replace("{{TOKEN}}", "x")
                .replace("{{SUB}}", sub)
                .replace(
                    "\"rawQueryString\": \"limit=2\"",
                    &format!("\"rawQueryString\": \"q={q}\""),
                )
                .replace("{ \"limit\": \"2\" }", &format!("{{ \"q\": \"{q}\" }}"));
            let req = lambda_http::request::from_str(&raw).unwrap();
            let (chat, verifier) = (&chat, &verifier);
            async move {
                let resp = handle(chat, verifier, req).await;
                let body: serde_json::Value = serde_json::from_slice(resp.body().as_ref()).unwrap();
                (resp.status().as_u16(), body)
            }
        };
        let (s, page) = call("/search".into(), "quart", "alice").await;
        assert_eq!(s, 200, "{page}");
        assert_eq!(page["hits"][0]["seq"], 1);
        assert_eq!(page["hits"][0]["snippet"], "Quarterly numbers are in");
        let (s, page) = call(format!("/rooms/{room_id}/search"), "numbers", "alice").await;
        assert_eq!((s, page["hits"].as_array().map(Vec::len)), (200, Some(1)));
        let (s, body) = call("/search".into(), "", "alice").await;
        assert_eq!(s, 400);
        assert_eq!(body["error"]["message"], "q must not be empty");
        let (s, _) = call(format!("/rooms/{room_id}/search"), "numbers", "mallory").await;
        assert_eq!(s, 403);
        let (s, page) = call("/search".into(), "numbers", "mallory").await;
        assert_eq!((s, page["hits"].as_array().map(Vec::len)), (200, Some(0)));
    }
}
