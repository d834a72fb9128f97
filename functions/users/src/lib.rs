//! `GET /users/me`, `PATCH /users/me`, `GET /users/{userId}`, and
//! `GET /openapi.json` (the REST API's OpenAPI document, without a token).

use chat_core::auth::TokenVerifier;
use chat_core::{Chat, ChatError};
use chat_lambda::http::{self, Route};
use lambda_http::{Body, Request, Response};

/// This function as deployed: the ports it links beyond the stores, which
/// `deploy/functions.json` must grant (checked at cold start and by tests).
pub const FUNCTION: chat_adapters::wiring::Function = chat_adapters::wiring::Function {
    name: "chat-users",
    ports: &[],
};

pub async fn handle(chat: &Chat, verifier: &dyn TokenVerifier, req: Request) -> Response<Body> {
    http::serve(&req, async {
        let route = Route::of(&req);
        if let Ok(Route::OpenApi) = route {
            return Ok(http::openapi());
        }
        let me = http::authenticated(&req, chat, verifier).await?;
        match route? {
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

#[cfg(test)]
mod tests {
    use super::*;
    use chat_core::auth::Hs256Verifier;
    use chat_core::config::Limits;
    use chat_core::ids::UserId;
    use chat_core::ports::{Clock, SystemClock};
    use chat_twin::events::http_request;
    use chat_twin::{mint_hs256, MintOptions};

    const SECRET: &[u8] = b"users-test-secret-0123456789";

    fn auth(user: &str, name: Option<&str>) -> Vec<(String, String)> {
        let t = mint_hs256(
            SECRET,
            &UserId::parse(user).unwrap(),
            SystemClock.now(),
            60,
            MintOptions {
                name,
                ..Default::default()
            },
        );
        vec![("authorization".into(), format!("Bearer {t}"))]
    }

    #[tokio::test]
    async fn get_me_creates_the_profile_from_the_token_name() {
        let (chat, _) = Chat::in_memory(Limits::default());
        let v = Hs256Verifier::new(SECRET, None, None);
        let resp = handle(
            &chat,
            &v,
            http_request(
                "GET",
                "/users/me",
                &auth("alice", Some("Alice A.")),
                None,
                1,
            ),
        )
        .await;
        assert_eq!(resp.status(), 200);
        let me: serde_json::Value = serde_json::from_slice(resp.body().as_ref()).unwrap();
        assert_eq!(
            (me["userId"].as_str(), me["displayName"].as_str()),
            (Some("alice"), Some("Alice A."))
        );
    }

    #[tokio::test]
    async fn routes_of_other_functions_are_not_found_here_and_no_token_is_401() {
        let (chat, _) = Chat::in_memory(Limits::default());
        let v = Hs256Verifier::new(SECRET, None, None);
        let resp = handle(
            &chat,
            &v,
            http_request("GET", "/rooms", &auth("alice", None), None, 1),
        )
        .await;
        assert_eq!(resp.status(), 404);
        let resp = handle(&chat, &v, http_request("GET", "/users/me", &[], None, 1)).await;
        assert_eq!(resp.status(), 401);
        assert_eq!(
            resp.headers().get("content-type").unwrap(),
            "application/json"
        );
    }
}
