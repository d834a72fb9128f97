//! `GET /users/me`, `PATCH /users/me`, `GET /users/{userId}`, the caller's
//! push devices (`/users/me/devices`) and notification policy
//! (`/users/me/notifications`, `PUT /rooms/{roomId}/notifications`), the
//! caller's blocks (`/users/me/blocks`) and muted people
//! (`/users/me/mutes`), and
//! `GET /openapi.json` (the REST API's OpenAPI document, without a token).

use chat_core::auth::TokenVerifier;
use chat_core::{Chat, ChatError};
use chat_lambda::http::{self, Route};
use lambda_http::{Body, Request, Response};

/// This function as deployed: the ports it links beyond the stores, which
/// `deploy/functions.json` must grant (checked at cold start and by tests).
pub const FUNCTION: chat_adapters::wiring::Function = chat_adapters::wiring::Function {
    name: "chat-users",
    ports: &[chat_adapters::wiring::MOBILE_PUSH],
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
            Route::RegisterDevice => {
                let (new, device) = chat.register_device(&me, http::read_json(&req)?).await?;
                Ok(http::json(if new { 201 } else { 200 }, &device))
            }
            Route::ListDevices => Ok(http::json(200, &chat.list_devices(&me).await?)),
            Route::RemoveDevice(device) => {
                chat.remove_device(&me, &device).await?;
                Ok(http::no_content())
            }
            Route::GetNotifyPolicy => Ok(http::json(200, &chat.notify_policy(&me).await?)),
            Route::PutNotifyPolicy => Ok(http::json(
                200,
                &chat.put_notify_policy(&me, http::read_json(&req)?).await?,
            )),
            Route::SetRoomNotify(room) => Ok(http::json(
                200,
                &chat
                    .set_room_notify(&me, &room, http::read_json(&req)?)
                    .await?,
            )),
            Route::ListBlocks => Ok(http::json(200, &chat.list_blocks(&me).await?)),
            Route::Block(user) => {
                let (new, block) = chat.block_user(&me, &user).await?;
                Ok(http::json(if new { 201 } else { 200 }, &block))
            }
            Route::Unblock(user) => {
                chat.unblock_user(&me, &user).await?;
                Ok(http::no_content())
            }
            Route::MutePerson(user) => Ok(http::json(
                200,
                &chat.set_person_mute(&me, &user, true).await?,
            )),
            Route::UnmutePerson(user) => Ok(http::json(
                200,
                &chat.set_person_mute(&me, &user, false).await?,
            )),
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

    const P256: &str =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";

    fn sub(endpoint: &str) -> String {
        serde_json::json!({"endpoint": endpoint, "expirationTime": null, "keys": {"p256dh": P256, "auth": AUTH}})
            .to_string()
    }

    async fn call(
        chat: &Chat,
        user: &str,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> (u16, serde_json::Value) {
        let v = Hs256Verifier::new(SECRET, None, None);
        let resp = handle(
            chat,
            &v,
            http_request(method, path, &auth(user, None), body, 1),
        )
        .await;
        let status = resp.status().as_u16();
        let json = serde_json::from_slice(resp.body().as_ref()).unwrap_or(serde_json::Value::Null);
        (status, json)
    }

    #[tokio::test]
    async fn a_device_is_registered_listed_replaced_and_removed_by_its_owner_only() {
        let (chat, _) = Chat::in_memory(Limits::default());
        let endpoint = "https://push.example.com/send/abc";
        let (status, d) = call(
            &chat,
            "bob",
            "POST",
            "/users/me/devices",
            Some(&sub(endpoint)),
        )
        .await;
        assert_eq!(status, 201, "{d}");
        let id = d["deviceId"].as_str().unwrap().to_owned();
        assert_eq!(d["endpoint"], endpoint);
        let (status, again) = call(
            &chat,
            "bob",
            "POST",
            "/users/me/devices",
            Some(&sub(endpoint)),
        )
        .await;
        assert_eq!(
            (status, again["deviceId"].as_str()),
            (200, Some(id.as_str()))
        );
        let (_, list) = call(&chat, "bob", "GET", "/users/me/devices", None).await;
        assert_eq!(list["devices"].as_array().unwrap().len(), 1);
        // Alice sees none of Bob's and cannot remove it.
        let (_, list) = call(&chat, "alice", "GET", "/users/me/devices", None).await;
        assert_eq!(list["devices"].as_array().unwrap().len(), 0);
        let path = format!("/users/me/devices/{id}");
        assert_eq!(call(&chat, "alice", "DELETE", &path, None).await.0, 404);
        assert_eq!(call(&chat, "bob", "DELETE", &path, None).await.0, 204);
        assert_eq!(call(&chat, "bob", "DELETE", &path, None).await.0, 404);
        assert_eq!(
            call(&chat, "bob", "DELETE", "/users/me/devices/not-an-id", None)
                .await
                .0,
            400
        );
    }

    #[tokio::test]
    async fn a_bad_subscription_is_refused_with_its_reason_and_nothing_is_stored() {
        let (chat, _) = Chat::in_memory(Limits::default());
        for (body, why) in [
            (sub("http://push.example.com/x"), "https"),
            (sub("https://169.254.169.254/latest"), "private"),
            (sub("https://localhost:8443/x"), "public"),
            (sub("http://127.0.0.1:9/x"), "https"),
            (
                serde_json::json!({"endpoint": "https://push.example.com/x", "keys": {"p256dh": "AAAA", "auth": AUTH}}).to_string(),
                "p256dh",
            ),
            (
                serde_json::json!({"endpoint": "https://push.example.com/x", "keys": {"p256dh": P256, "auth": "AAAA"}}).to_string(),
                "auth",
            ),
            (r#"{"endpoint": "https://push.example.com/x"}"#.to_owned(), "keys"),
        ] {
            let (status, err) = call(&chat, "bob", "POST", "/users/me/devices", Some(&body)).await;
            assert_eq!(status, 400, "{body}");
            let msg = err["error"]["message"].as_str().unwrap_or_default();
            assert!(msg.contains(why), "{body}: {msg}");
        }
        let (_, list) = call(&chat, "bob", "GET", "/users/me/devices", None).await;
        assert_eq!(list["devices"], serde_json::json!([]));
    }

    #[tokio::test]
    async fn the_policy_round_trips_and_a_room_level_needs_membership() {
        let (chat, _) = Chat::in_memory(Limits::default());
        let (status, p) = call(&chat, "bob", "GET", "/users/me/notifications", None).await;
        assert_eq!(
            (status, &p["mentionsOnly"]),
            (200, &serde_json::json!(false))
        );
        let policy = serde_json::json!({
            "dnd": {"mode": "until", "until": 99}, "mentionsOnly": false,
            "mentionsOnlyRooms": [], "mutedRooms": [], "mutedUsers": ["carol"]
        });
        let (status, p) = call(
            &chat,
            "bob",
            "PUT",
            "/users/me/notifications",
            Some(&policy.to_string()),
        )
        .await;
        assert_eq!((status, p.clone()), (200, policy.clone()));
        assert_eq!(
            call(&chat, "bob", "GET", "/users/me/notifications", None)
                .await
                .1,
            policy
        );
        // A room Bob is not in: refused, the policy unchanged.
        let (_, room) = chat
            .create_room(
                &chat_core::auth::Identity {
                    user_id: UserId::parse("alice").unwrap(),
                    name: None,
                },
                serde_json::from_str(r#"{"kind": "group", "name": "g"}"#).unwrap(),
            )
            .await
            .unwrap();
        let path = format!("/rooms/{}/notifications", room.room.room_id);
        let muted = r#"{"level": "muted"}"#;
        assert_eq!(call(&chat, "bob", "PUT", &path, Some(muted)).await.0, 403);
        assert_eq!(
            call(&chat, "bob", "GET", "/users/me/notifications", None)
                .await
                .1,
            policy
        );
        let (status, p) = call(&chat, "alice", "PUT", &path, Some(muted)).await;
        assert_eq!(status, 200);
        assert_eq!(p["mutedRooms"], serde_json::json!([room.room.room_id]));
        assert_eq!(
            call(&chat, "alice", "PUT", &path, Some(r#"{"level": "loud"}"#))
                .await
                .0,
            400
        );
    }
}
