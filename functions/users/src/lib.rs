//! `GET /users/me`, `PATCH /users/me`, `GET /users/{userId}`.

use chat_shared::auth::TokenVerifier;
use chat_shared::lambda::http::{self, Route};
use chat_shared::{Chat, ChatError};
use lambda_http::{Body, Request, Response};

pub async fn handle(chat: &Chat, verifier: &dyn TokenVerifier, req: Request) -> Response<Body> {
    http::serve(&req, async {
        let me = http::identity(&req, verifier).await?;
        match Route::of(&req)? {
            Route::GetMe => Ok(http::json(200, &chat.me(&me).await?)),
            Route::UpdateMe => Ok(http::json(
                200,
                &chat.update_me(&me, http::read_json(&req)?).await?,
            )),
            Route::GetUser(user) => Ok(http::json(200, &chat.user_profile(&me, &user).await?)),
            _ => Err(ChatError::NotFound("route")),
        }
    })
    .await
}
