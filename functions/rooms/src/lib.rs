//! Rooms: `POST /rooms`, `GET /rooms`, `GET /rooms/{roomId}`,
//! `POST /rooms/{roomId}/members`, `DELETE /rooms/{roomId}/members/{userId}`,
//! and `GET /channels` (public channels to join).

use chat_shared::auth::TokenVerifier;
use chat_shared::lambda::http::{self, Route};
use chat_shared::protocol::rest::AddMemberRequest;
use chat_shared::service::Created;
use chat_shared::{Chat, ChatError};
use lambda_http::{Body, Request, Response};

pub async fn handle(chat: &Chat, verifier: &dyn TokenVerifier, req: Request) -> Response<Body> {
    http::serve(&req, async {
        let me = http::identity(&req, verifier).await?;
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
            Route::ListChannels => {
                let limit = http::query(&req, "limit").map_or(Ok(50), |l| {
                    l.parse::<usize>().map_err(|_| {
                        ChatError::BadRequest("limit must be a positive integer".into())
                    })
                })?;
                Ok(http::json(200, &chat.list_channels(limit).await?))
            }
            _ => Err(ChatError::NotFound("route")),
        }
    })
    .await
}
