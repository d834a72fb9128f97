//! Rooms: `POST /rooms`, `GET /rooms`, `GET /rooms/{roomId}`,
//! `POST /rooms/{roomId}/members`, `DELETE /rooms/{roomId}/members/{userId}`,
//! `POST /rooms/{roomId}/attachments` (an upload slot), `GET /channels`
//! (public channels to join), and the device keys of end-to-end encrypted
//! direct rooms (`PUT`/`DELETE /users/me/keys/{deviceId}`,
//! `GET /users/{userId}/keys`).

use chat_core::auth::TokenVerifier;
use chat_core::protocol::rest::AddMemberRequest;
use chat_core::service::Created;
use chat_core::{Chat, ChatError};
use chat_lambda::http::{self, Route};
use lambda_http::{Body, Request, Response};

/// This function as deployed: the ports it links beyond the stores, which
/// `deploy/functions.json` must grant (checked at cold start and by tests).
pub const FUNCTION: chat_adapters::wiring::Function = chat_adapters::wiring::Function {
    name: "chat-rooms",
    ports: &[chat_adapters::wiring::PUSHER, chat_adapters::wiring::BLOBS],
};

pub async fn handle(chat: &Chat, verifier: &dyn TokenVerifier, req: Request) -> Response<Body> {
    http::serve(&req, async {
        let me = http::authenticated(&req, chat, verifier).await?;
        match Route::of(&req)? {
            Route::CreateRoom => {
                let (created, room) = chat.create_room(&me, http::read_json(&req)?).await?;
                Ok(http::json(
                    if created == Created::New { 201 } else { 200 },
                    &room,
                ))
            }
            Route::ListRooms => Ok(http::json(200, &chat.list_rooms(&me).await?)),
            Route::GetRoom(room) => Ok(http::json(200, &chat.room_detail(&me, &room).await?)),
            Route::AddMember(room) => {
                let body: AddMemberRequest = http::read_json(&req)?;
                Ok(http::json(
                    200,
                    &chat.add_member(&me, &room, &body.user_id).await?,
                ))
            }
            Route::RemoveMember(room, user) => {
                chat.remove_member(&me, &room, &user).await?;
                Ok(http::no_content())
            }
            Route::UploadSlot(room) => Ok(http::json(
                201,
                &chat.upload_slot(&me, &room, http::read_json(&req)?).await?,
            )),
            Route::ListChannels => {
                let limit = http::query(&req, "limit").map_or(Ok(50), |l| {
                    l.parse::<usize>().map_err(|_| {
                        ChatError::BadRequest("limit must be a positive integer".into())
                    })
                })?;
                Ok(http::json(200, &chat.list_channels(limit).await?))
            }
            // Device keys of encrypted rooms: served here, where the
            // pusher is, for the `keysChanged` frame.
            Route::PublishKey(device) => {
                let (new, key) = chat
                    .publish_key(&me, &device, http::read_json(&req)?)
                    .await?;
                Ok(http::json(if new { 201 } else { 200 }, &key))
            }
            Route::RemoveKey(device) => {
                chat.remove_key(&me, &device).await?;
                Ok(http::no_content())
            }
            Route::ListKeys(user) => Ok(http::json(200, &chat.list_keys(&me, &user).await?)),
            _ => Err(ChatError::NotFound("route")),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_core::auth::Hs256Verifier;
    use chat_core::config::Limits;
    use chat_core::ids::UserId;
    use chat_twin::events::http_request;
    use chat_twin::token_for;

    const SECRET: &[u8] = b"rooms-test-secret-0123456789";

    fn auth(user: &str) -> Vec<(String, String)> {
        let t = token_for(SECRET, &UserId::parse(user).unwrap(), 60);
        vec![
            ("authorization".into(), format!("Bearer {t}")),
            ("content-type".into(), "application/json".into()),
        ]
    }

    #[tokio::test]
    async fn create_then_list_rooms_over_http_api_events() {
        let (chat, _) = Chat::in_memory(Limits::default());
        let v = Hs256Verifier::new(SECRET, None, None);
        let body = r#"{"name":"Team","kind":"group","members":["bob"]}"#;
        let resp = handle(
            &chat,
            &v,
            http_request("POST", "/rooms", &auth("alice"), Some(body), 1),
        )
        .await;
        assert_eq!(resp.status(), 201);
        let resp = handle(
            &chat,
            &v,
            http_request("GET", "/rooms", &auth("bob"), None, 1),
        )
        .await;
        let list: serde_json::Value = serde_json::from_slice(resp.body().as_ref()).unwrap();
        assert_eq!(list["rooms"][0]["name"], "Team");
    }

    #[tokio::test]
    async fn a_stage_prefixed_path_routes_the_same() {
        let (chat, _) = Chat::in_memory(Limits::default());
        let v = Hs256Verifier::new(SECRET, None, None);
        let resp = handle(
            &chat,
            &v,
            http_request("GET", "/prod/channels?limit=5", &auth("alice"), None, 1),
        )
        .await;
        assert_eq!(resp.status(), 200);
        let resp = handle(
            &chat,
            &v,
            http_request("GET", "/channels?limit=lots", &auth("alice"), None, 1),
        )
        .await;
        assert_eq!(resp.status(), 400);
    }
}
