//! `GET /rooms/{roomId}/messages?before=&after=&limit=`: paginated history,
//! members only.

use chat_core::auth::TokenVerifier;
use chat_core::service::HistoryQuery;
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
        let Route::History(room_id) = Route::of(&req)? else {
            return Err(ChatError::NotFound("route"));
        };
        let q = HistoryQuery::parse(
            http::query(&req, "before"),
            http::query(&req, "after"),
            http::query(&req, "limit"),
        )?;
        Ok(http::json(200, &chat.history(&me, &room_id, q).await?))
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
                room_id: room.room.room_id.clone(),
                client_msg_id: chat_core::ids::ClientMsgId::parse(&format!("c{i}")).unwrap(),
                body: "x".into(),
                attachments: Vec::new(),
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
}
