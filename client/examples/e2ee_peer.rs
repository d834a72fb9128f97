//! An end-to-end encrypted peer: signs in as a user, publishes a device key,
//! opens (or creates) the encrypted direct room with a peer, prints every
//! message it opens there and answers each with a sealed `echo: <text>`,
//! a reply to it; it opens the peer's edits too (sealed under the edit's
//! own associated data).
//! It shows the Rust client (`chat_client::e2ee`) and the web app
//! (`local/web/ui/e2ee.js`) speak one format; the browser test
//! `local/web-tests/e2ee.test.mjs` talks with it both ways.
//!
//! ```text
//! cargo run -p chat-client --example e2ee_peer -- <url> <user> <peer>
//! ```
//!
//! Arguments (each falls back to an environment variable):
//! - `<url>` / `CHAT_URL`: the REST base, e.g. `http://127.0.0.1:8080`
//!   (chat-local); the WebSocket URL is read from its `/config.json` unless
//!   `CHAT_WS_URL` names it.
//! - `<user>` / `CHAT_USER`: the user id to act as.
//! - `<peer>` / `CHAT_PEER`: the other member of the encrypted direct room.
//! - `CHAT_TOKEN`: the user's ID token; without it, one is asked from
//!   chat-local's `POST /dev/token` (local only).
//! - `CHAT_DEVICE`: the device id (default `rust-peer`).
//!
//! Output, one line each: `ready <roomId> <deviceId>` once the key is
//! published and the socket is up; `opened <sender>: <text>` per message it
//! opens; `cannot open <seq>: <why>` for one it cannot; `replied <seq>` once
//! its answer is acknowledged; `opened edit <seq>: <text>` per edit it opens.

use chat_client::e2ee::{open, open_edit, seal, Content, DeviceKeys};
use chat_client::{ChatClient, ClientError, Rest};
use chat_core::e2ee::Sealed;
use chat_core::ids::{ClientMsgId, RoomId, UserId};
use serde_json::{json, Value};

type Error = Box<dyn std::error::Error + Send + Sync>;

fn arg(args: &[String], i: usize, env: &str) -> Result<String, Error> {
    args.get(i)
        .cloned()
        .or_else(|| std::env::var(env).ok())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("missing argument {i} (or {env})").into())
}

fn ok(what: &str, (status, body): (u16, Value)) -> Result<Value, Error> {
    if (200..300).contains(&status) {
        Ok(body)
    } else {
        Err(format!("{what} answered {status}: {body}").into())
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = arg(&args, 0, "CHAT_URL")?;
    let user = UserId::parse(&arg(&args, 1, "CHAT_USER")?)?;
    let peer = arg(&args, 2, "CHAT_PEER")?;
    let device_id = std::env::var("CHAT_DEVICE").unwrap_or_else(|_| "rust-peer".into());

    let token = match std::env::var("CHAT_TOKEN") {
        Ok(t) if !t.is_empty() => t,
        _ => {
            let dev = Rest::new(&url, None);
            let body = ok(
                "POST /dev/token",
                dev.post("/dev/token", &json!({"userId": user.as_str()}))
                    .await?,
            )?;
            body["token"]
                .as_str()
                .ok_or("POST /dev/token gave no token")?
                .to_owned()
        }
    };
    let ws_url = match std::env::var("CHAT_WS_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            let config = ok(
                "GET /config.json",
                Rest::new(&url, None).get("/config.json").await?,
            )?;
            config["wsUrl"]
                .as_str()
                .ok_or("config.json has no wsUrl")?
                .to_owned()
        }
    };
    let rest = Rest::new(&url, Some(&token));
    // The profile exists once the user made an authenticated call.
    ok("GET /users/me", rest.get("/users/me").await?)?;
    let device = DeviceKeys::generate(&device_id);
    ok("PUT key", rest.publish_key(user.as_str(), &device).await?)?;
    let room = ok(
        "POST /rooms",
        rest.post(
            "/rooms",
            &json!({"kind": "direct", "members": [peer], "encrypted": true}),
        )
        .await?,
    )?;
    let room_id = RoomId::parse(room["roomId"].as_str().ok_or("no roomId")?)?;
    let mut client = ChatClient::connect(&ws_url, &token).await?;
    println!("ready {} {}", room_id.as_str(), device.device_id);

    loop {
        let Some(frame) = client.next().await else {
            if let Some(c) = client.closed() {
                return Err(format!("the server closed the socket: {c:?}").into());
            }
            continue; // quiet: wait on
        };
        if frame["type"] == "messageEdited" && frame["roomId"] == room_id.as_str() {
            // Only a message's sender edits it, and this peer edits none:
            // the edit is the peer's.
            let seq = frame["seq"].as_u64().unwrap_or_default();
            match read_edit(&frame, &room_id, &peer, &user, &device) {
                Ok(t) => println!("opened edit {seq}: {t}"),
                Err(e) => println!("cannot open {seq}: {e}"),
            }
            continue;
        }
        if frame["type"] != "message"
            || frame["roomId"] != room_id.as_str()
            || frame["senderId"] == user.as_str()
        {
            continue;
        }
        let seq = frame["seq"].as_u64().unwrap_or_default();
        let text = match read(&frame, &room_id, &user, &device) {
            Ok(t) => t,
            Err(e) => {
                println!("cannot open {seq}: {e}");
                continue;
            }
        };
        println!(
            "opened {}: {text}",
            frame["senderId"].as_str().unwrap_or("")
        );
        let answer = Content::text(&format!("echo: {text}"));
        reply(&client, &rest, &room_id, &user, &peer, &answer, seq).await?;
        println!("replied {seq}");
    }
}

/// The text of a sealed message frame, opened as this device.
fn read(frame: &Value, room: &RoomId, me: &UserId, device: &DeviceKeys) -> Result<String, Error> {
    let sealed: Sealed = serde_json::from_value(frame["sealed"].clone())?;
    let sender = UserId::parse(frame["senderId"].as_str().unwrap_or_default())?;
    let cmid = ClientMsgId::parse(frame["clientMsgId"].as_str().unwrap_or_default())?;
    Ok(open(&sealed, room, &sender, &cmid, me, device)?.body)
}

/// The text of a `messageEdited` frame of `sender`'s message, opened as
/// this device with the edit's associated data (its seq).
fn read_edit(
    frame: &Value,
    room: &RoomId,
    sender: &str,
    me: &UserId,
    device: &DeviceKeys,
) -> Result<String, Error> {
    let sealed: Sealed = serde_json::from_value(frame["sealed"].clone())?;
    let seq = frame["seq"].as_u64().ok_or("no seq")?;
    Ok(open_edit(&sealed, room, &UserId::parse(sender)?, seq, me, device)?.body)
}

/// Seals `content` to every current device of both members and sends it
/// as a reply to message `to_seq`;
/// on `conflict` (a device came or went since the keys were read) reads
/// the keys again and seals once more.
async fn reply(
    client: &ChatClient,
    rest: &Rest,
    room: &RoomId,
    me: &UserId,
    peer: &str,
    content: &Content,
    to_seq: u64,
) -> Result<(), Error> {
    let cmid = ClientMsgId::parse(&format!("rust-{}", uuid::Uuid::now_v7()))?;
    for attempt in 0..2 {
        let to = rest.recipients(&[me.as_str(), peer]).await?;
        let sealed = seal(room, me, &cmid, content, &to)?;
        match client
            .send_sealed_reply(room.as_str(), cmid.as_str(), &sealed, to_seq)
            .await
        {
            Ok(_) => return Ok(()),
            Err(ClientError::Frame { code, .. }) if code == "conflict" && attempt == 0 => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err("refused twice".into())
}
