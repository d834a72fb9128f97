//! The Cognito hosted UI twin over HTTP (`chat_local::oauth`): the web app's
//! runtime `/config.json`, and sign-in with authorization code + PKCE as
//! the browser does it, whose tokens the WebSocket and REST APIs accept;
//! refusals in Cognito's shapes.

use chat_client::{ChatClient, Rest};
use serde_json::{json, Value};

use crate::{spawn, Env};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(r: &reqwest::Response) -> String {
    assert_eq!(r.status(), 302, "a redirect");
    r.headers()["location"].to_str().unwrap().to_owned()
}

fn query_of(url: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(url.split_once('?').map_or("", |(_, q)| q)).unwrap()
}

fn param(url: &str, key: &str) -> Option<String> {
    query_of(url)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

async fn post_form(url: String, form: &[(&str, &str)]) -> reqwest::Response {
    http()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap())
        .send()
        .await
        .unwrap()
}

async fn config(e: &Env) -> Value {
    http()
        .get(format!("{}/config.json", e.p.http_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Signs `name` in up to the code: authorize, the sign-in page, the code.
async fn code_for(e: &Env, name: &str) -> (String, String) {
    let cfg = config(e).await;
    let client_id = cfg["auth"]["clientId"].as_str().unwrap().to_owned();
    let redirect = cfg["auth"]["redirectUri"].as_str().unwrap();
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", &client_id),
        ("redirect_uri", redirect),
        ("scope", "openid email profile"),
        ("state", "xyz"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ])
    .unwrap();
    let to_login = http()
        .get(format!("{}/oauth2/authorize?{query}", e.p.http_url()))
        .send()
        .await
        .unwrap();
    let login = location(&to_login);
    assert_eq!(login, format!("/login?{query}"));
    let page = http()
        .get(format!("{}{login}", e.p.http_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("name=\"name\""));
    let back = post_form(format!("{}{login}", e.p.http_url()), &[("name", name)]).await;
    let back = location(&back);
    assert!(back.starts_with(redirect), "{back}");
    assert_eq!(param(&back, "state").as_deref(), Some("xyz"));
    (client_id, param(&back, "code").expect("a code"))
}

async fn exchange(e: &Env, client_id: &str, code: &str, verifier: &str) -> reqwest::Response {
    let cfg = config(e).await;
    post_form(
        format!("{}/oauth2/token", e.p.http_url()),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", code),
            ("redirect_uri", cfg["auth"]["redirectUri"].as_str().unwrap()),
            ("code_verifier", verifier),
        ],
    )
    .await
}

#[tokio::test]
async fn config_json_names_this_server_as_the_browser_called_it() {
    let e = spawn().await;
    let cfg = config(&e).await;
    let origin = e.p.http_url();
    assert_eq!(cfg["wsUrl"], e.p.ws_url());
    assert_eq!(cfg["restUrl"], origin);
    assert_eq!(cfg["auth"]["domain"], origin);
    assert_eq!(cfg["auth"]["redirectUri"], format!("{origin}/"));
    assert_eq!(cfg["auth"]["logoutUri"], format!("{origin}/"));
    assert_eq!(cfg["auth"]["scopes"], json!(["openid", "email", "profile"]));
    // The local platform says so: the app shows its development panels.
    assert_eq!(cfg["dev"], json!(true));
    let port = e.p.addr.port();
    let by_name: Value = http()
        .get(format!("{origin}/config.json"))
        .header("host", format!("localhost:{port}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        by_name["auth"]["redirectUri"],
        format!("http://localhost:{port}/")
    );
    assert_eq!(
        by_name["wsUrl"],
        format!(
            "ws://localhost:{port}/{}",
            e.p.ws_url().rsplit('/').next().unwrap()
        )
    );
    // Any other Host is not trusted: the server's own address.
    let other: Value = http()
        .get(format!("{origin}/config.json"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(other["restUrl"], origin);
}

#[tokio::test]
async fn a_pkce_sign_in_gives_an_id_token_both_apis_accept_and_a_refresh_renews_it() {
    let e = spawn().await;
    let (client_id, code) = code_for(&e, "Zoë Adams").await;
    let r = exchange(&e, &client_id, &code, VERIFIER).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let tokens: Value = r.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    let id = tokens["id_token"].as_str().unwrap();

    let mut ws = ChatClient::connect(&e.p.ws_url(), id)
        .await
        .expect("the WebSocket accepts the ID token");
    ws.send_json(&json!({"action":"ping"})).unwrap();
    ws.next_of("pong").await.unwrap();
    let (status, me) = Rest::new(&e.p.http_url(), Some(id))
        .get("/users/me")
        .await
        .unwrap();
    assert_eq!((status, &me["userId"]), (200, &json!("zo-adams")));

    let refreshed = post_form(
        format!("{}/oauth2/token", e.p.http_url()),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &client_id),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(refreshed.status(), 200);
    let renewed: Value = refreshed.json().await.unwrap();
    assert!(renewed.get("refresh_token").is_none());
    let (status, me) = Rest::new(&e.p.http_url(), Some(renewed["id_token"].as_str().unwrap()))
        .get("/users/me")
        .await
        .unwrap();
    assert_eq!((status, &me["userId"]), (200, &json!("zo-adams")));
}

#[tokio::test]
async fn bad_exchanges_are_refused_in_cognitos_shape_and_change_nothing() {
    let e = spawn().await;
    let token_url = format!("{}/oauth2/token", e.p.http_url());
    let error = |r: reqwest::Response| async move {
        assert_eq!(r.status(), 400);
        r.json::<Value>().await.unwrap()["error"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    // A wrong verifier: refused, and the code is spent.
    let (client_id, code) = code_for(&e, "bob").await;
    let wrong = "x".repeat(43);
    assert_eq!(
        error(exchange(&e, &client_id, &code, &wrong).await).await,
        "invalid_grant"
    );
    assert_eq!(
        error(exchange(&e, &client_id, &code, VERIFIER).await).await,
        "invalid_grant"
    );

    // A used code.
    let (_, code) = code_for(&e, "bob").await;
    assert_eq!(
        exchange(&e, &client_id, &code, VERIFIER).await.status(),
        200
    );
    assert_eq!(
        error(exchange(&e, &client_id, &code, VERIFIER).await).await,
        "invalid_grant"
    );

    // An expired code (five minutes).
    let (_, code) = code_for(&e, "bob").await;
    e.clock.advance(5 * 60 * 1000);
    assert_eq!(
        error(exchange(&e, &client_id, &code, VERIFIER).await).await,
        "invalid_grant"
    );

    // Another redirect_uri than the authorization's.
    let (_, code) = code_for(&e, "bob").await;
    let other = post_form(
        token_url.clone(),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &client_id),
            ("code", &code),
            ("redirect_uri", "http://localhost:1/"),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(error(other).await, "invalid_grant");

    // An unknown client, an unknown grant, no grant, a bad refresh token.
    let unknown = post_form(
        token_url.clone(),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "nope"),
            ("refresh_token", "x"),
        ],
    )
    .await;
    assert_eq!(error(unknown).await, "invalid_client");
    let grant = post_form(
        token_url.clone(),
        &[("grant_type", "password"), ("client_id", &client_id)],
    )
    .await;
    assert_eq!(error(grant).await, "unsupported_grant_type");
    let none = post_form(token_url.clone(), &[("client_id", client_id.as_str())]).await;
    assert_eq!(error(none).await, "invalid_request");
    let refresh = post_form(
        token_url,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &client_id),
            ("refresh_token", "forged"),
        ],
    )
    .await;
    assert_eq!(error(refresh).await, "invalid_grant");
}

#[tokio::test]
async fn authorize_and_logout_never_redirect_to_a_uri_the_client_does_not_allow() {
    let e = spawn().await;
    let cfg = config(&e).await;
    let client_id = cfg["auth"]["clientId"].as_str().unwrap();
    for (client, uri) in [
        (client_id, "https://evil.example/"),
        ("nope", cfg["auth"]["redirectUri"].as_str().unwrap()),
    ] {
        let q = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", uri),
        ])
        .unwrap();
        let r = http()
            .get(format!("{}/oauth2/authorize?{q}", e.p.http_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(location(&r), "/error?error=redirect_mismatch");
        let login = post_form(format!("{}/login?{q}", e.p.http_url()), &[("name", "bob")]).await;
        assert_eq!(login.status(), 400, "no code for {client} {uri}");
        let q = serde_urlencoded::to_string([("client_id", client), ("logout_uri", uri)]).unwrap();
        let r = http()
            .get(format!("{}/logout?{q}", e.p.http_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(location(&r), "/error?error=redirect_mismatch");
    }
    let page = http()
        .get(format!("{}/error?error=redirect_mismatch", e.p.http_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("redirect_mismatch"));

    // A plain challenge goes back to the client as an error, with its state.
    let q = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", cfg["auth"]["redirectUri"].as_str().unwrap()),
        ("state", "s1"),
        ("code_challenge", VERIFIER),
        ("code_challenge_method", "plain"),
    ])
    .unwrap();
    let r = http()
        .get(format!("{}/oauth2/authorize?{q}", e.p.http_url()))
        .send()
        .await
        .unwrap();
    let back = location(&r);
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
    assert_eq!(param(&back, "state").as_deref(), Some("s1"));

    let q = serde_urlencoded::to_string([
        ("client_id", client_id),
        ("logout_uri", cfg["auth"]["logoutUri"].as_str().unwrap()),
    ])
    .unwrap();
    let r = http()
        .get(format!("{}/logout?{q}", e.p.http_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), cfg["auth"]["logoutUri"].as_str().unwrap());
}
