//! `GET /rooms/{roomId}/messages?before=&after=&limit=`: paginated history,
//! members only.

use chat_shared::auth::TokenVerifier;
use chat_shared::lambda::http::{self, Route};
use chat_shared::service::HistoryQuery;
use chat_shared::{Chat, ChatError};
use lambda_http::{Body, Request, Response};

pub async fn handle(chat: &Chat, verifier: &dyn TokenVerifier, req: Request) -> Response<Body> {
    http::serve(&req, async {
        let me = http::identity(&req, verifier).await?;
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
