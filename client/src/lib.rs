//! # chat-client
//!
//! A small client of the platform, used by the end-to-end tests and the
//! benchmark: connect a WebSocket with a token, send a message and await its
//! `ack`, receive server frames, and call the REST API.
//!
//! A background task reads the socket: `ack` frames (and `error` frames that
//! name a pending `clientMsgId`) complete the matching [`ChatClient::send`];
//! every frame, those included, is also queued for [`ChatClient::next`].

pub mod e2ee;
pub mod timeline;

pub use timeline::Timeline;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_core::protocol::ws::ServerFrame;
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("handshake refused with HTTP {0}")]
    Refused(u16),
    #[error("websocket: {0}")]
    WebSocket(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    #[error("connection closed")]
    Closed,
    #[error("server answered an error frame: {code}: {message}")]
    Frame { code: String, message: String },
    #[error("invalid url or request: {0}")]
    Invalid(String),
}

/// How the connection ended, as the client saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closed {
    pub code: Option<u16>,
    pub reason: String,
}

/// An acknowledged message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ack {
    pub room_id: String,
    pub message_id: String,
    pub seq: u64,
    pub client_msg_id: String,
}

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Result<Ack, ClientError>>>>>;

/// One WebSocket connection to the platform.
pub struct ChatClient {
    out: mpsc::UnboundedSender<Message>,
    events: mpsc::UnboundedReceiver<Value>,
    pending: Pending,
    closed: Arc<Mutex<Option<Closed>>>,
    timeout: Duration,
    tasks: [tokio::task::AbortHandle; 2],
}

/// Dropping a client drops its socket at once, without a close frame: what a
/// phone losing its network looks like to the server.
impl Drop for ChatClient {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ChatClient {
    /// Connects to `ws_url` (e.g. `ws://127.0.0.1:8080/local`) with `?token=`.
    pub async fn connect(ws_url: &str, token: &str) -> Result<Self, ClientError> {
        let sep = if ws_url.contains('?') { '&' } else { '?' };
        Self::connect_request(&format!("{ws_url}{sep}token={token}"), None).await
    }

    /// Connects with the token in an `Authorization: Bearer` header instead.
    pub async fn connect_with_header(ws_url: &str, token: &str) -> Result<Self, ClientError> {
        Self::connect_request(ws_url, Some(token)).await
    }

    async fn connect_request(url: &str, bearer: Option<&str>) -> Result<Self, ClientError> {
        let mut req = url
            .into_client_request()
            .map_err(|e| ClientError::Invalid(e.to_string()))?;
        if let Some(t) = bearer {
            let v = format!("Bearer {t}")
                .parse()
                .map_err(|_| ClientError::Invalid("token is not a header value".into()))?;
            req.headers_mut().insert("authorization", v);
        }
        let (ws, _) = match tokio_tungstenite::connect_async(req).await {
            Ok(ok) => ok,
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                return Err(ClientError::Refused(resp.status().as_u16()))
            }
            Err(e) => return Err(e.into()),
        };
        let (mut sink, mut stream) = ws.split();
        let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Message>();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let pending: Pending = Arc::default();
        let closed: Arc<Mutex<Option<Closed>>> = Arc::default();

        let writer = tokio::spawn(async move {
            while let Some(m) = out_rx.recv().await {
                let is_close = matches!(m, Message::Close(_));
                if sink.send(m).await.is_err() || is_close {
                    break;
                }
            }
        });
        let (p, c, out) = (pending.clone(), closed.clone(), out_tx.clone());
        let reader = tokio::spawn(async move {
            while let Some(msg) = stream.next().await {
                match msg {
                    Ok(Message::Text(text)) => {
                        let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else {
                            continue;
                        };
                        route_reply(&p, &v);
                        let _ = ev_tx.send(v);
                    }
                    Ok(Message::Ping(data)) => {
                        let _ = out.send(Message::Pong(data));
                    }
                    Ok(Message::Close(frame)) => {
                        *lock(&c) = Some(Closed {
                            code: frame.as_ref().map(|f| u16::from(f.code)),
                            reason: frame.map(|f| f.reason.to_string()).unwrap_or_default(),
                        });
                        break;
                    }
                    Ok(_) => {}
                    Err(_) => {
                        lock(&c).get_or_insert(Closed {
                            code: None,
                            reason: "connection lost".into(),
                        });
                        break;
                    }
                }
            }
            lock(&c).get_or_insert(Closed {
                code: None,
                reason: "stream ended".into(),
            });
            for (_, tx) in lock(&p).drain() {
                let _ = tx.send(Err(ClientError::Closed));
            }
        });
        Ok(Self {
            out: out_tx,
            events: ev_rx,
            pending,
            closed,
            timeout: Duration::from_secs(10),
            tasks: [writer.abort_handle(), reader.abort_handle()],
        })
    }

    /// How long [`ChatClient::send`] and [`ChatClient::next_of`] wait.
    pub fn set_timeout(&mut self, t: Duration) {
        self.timeout = t;
    }

    /// Sends a raw text frame.
    pub fn send_text(&self, text: impl Into<String>) -> Result<(), ClientError> {
        self.out
            .send(Message::Text(text.into().into()))
            .map_err(|_| ClientError::Closed)
    }

    /// Sends a binary frame (API Gateway hands it to `$default` base64-encoded).
    pub fn send_binary(&self, data: Vec<u8>) -> Result<(), ClientError> {
        self.out
            .send(Message::Binary(data.into()))
            .map_err(|_| ClientError::Closed)
    }

    /// Sends a JSON frame.
    pub fn send_json(&self, v: &Value) -> Result<(), ClientError> {
        self.send_text(v.to_string())
    }

    /// Sends a message with a fresh `clientMsgId` and waits for its ack.
    pub async fn send(&self, room_id: &str, body: &str) -> Result<Ack, ClientError> {
        self.send_with_id(room_id, &uuid::Uuid::now_v7().to_string(), body)
            .await
    }

    /// Sends a message with the given `clientMsgId` and waits for its ack (or
    /// the error frame that names it).
    pub async fn send_with_id(
        &self,
        room_id: &str,
        client_msg_id: &str,
        body: &str,
    ) -> Result<Ack, ClientError> {
        self.send_with_attachments(room_id, client_msg_id, body, &[])
            .await
    }

    /// Sends a message that shares uploaded attachments (ids of upload
    /// slots, see [`Rest::upload`]; `body` may then be empty) and waits for
    /// its ack or the error frame that names it.
    pub async fn send_with_attachments(
        &self,
        room_id: &str,
        client_msg_id: &str,
        body: &str,
        attachments: &[&str],
    ) -> Result<Ack, ClientError> {
        self.send_message_frame(client_msg_id, serde_json::json!({"action":"sendMessage","roomId":room_id,"clientMsgId":client_msg_id,"body":body,"attachments":attachments}))
            .await
    }

    /// Sends a reply to the message at `reply_to` (a seq of the same room)
    /// and waits for its ack or the error frame that names it. The server
    /// quotes the target in the `replyTo` of every copy.
    pub async fn send_reply(
        &self,
        room_id: &str,
        client_msg_id: &str,
        body: &str,
        reply_to: u64,
    ) -> Result<Ack, ClientError> {
        self.send_message_frame(client_msg_id, serde_json::json!({"action":"sendMessage","roomId":room_id,"clientMsgId":client_msg_id,"body":body,"replyTo":reply_to}))
            .await
    }

    /// Sends a sealed message to an end-to-end encrypted room (no body;
    /// see [`e2ee::seal`]) and waits for its ack or the error frame that
    /// names it.
    pub async fn send_sealed(
        &self,
        room_id: &str,
        client_msg_id: &str,
        sealed: &chat_core::e2ee::Sealed,
    ) -> Result<Ack, ClientError> {
        self.send_message_frame(client_msg_id, serde_json::json!({"action":"sendMessage","roomId":room_id,"clientMsgId":client_msg_id,"body":"","sealed":sealed}))
            .await
    }

    /// Sends a sealed reply to the message at `reply_to` in an end-to-end
    /// encrypted room. The server's quote carries no text (`"sealed":
    /// true`): quote your own opened copy of the target.
    pub async fn send_sealed_reply(
        &self,
        room_id: &str,
        client_msg_id: &str,
        sealed: &chat_core::e2ee::Sealed,
        reply_to: u64,
    ) -> Result<Ack, ClientError> {
        self.send_message_frame(client_msg_id, serde_json::json!({"action":"sendMessage","roomId":room_id,"clientMsgId":client_msg_id,"body":"","sealed":sealed,"replyTo":reply_to}))
            .await
    }

    /// Sends a sealed message that shares encrypted files (ids of
    /// encrypted upload slots, see [`Rest::upload_sealed_file`]; their keys
    /// inside the sealed content) and waits for its ack or error frame.
    pub async fn send_sealed_with_attachments(
        &self,
        room_id: &str,
        client_msg_id: &str,
        sealed: &chat_core::e2ee::Sealed,
        attachments: &[&str],
    ) -> Result<Ack, ClientError> {
        self.send_message_frame(client_msg_id, serde_json::json!({"action":"sendMessage","roomId":room_id,"clientMsgId":client_msg_id,"body":"","sealed":sealed,"attachments":attachments}))
            .await
    }

    /// Sends a `sendMessage` frame and waits for the ack or error that
    /// names `client_msg_id`.
    async fn send_message_frame(
        &self,
        client_msg_id: &str,
        frame: Value,
    ) -> Result<Ack, ClientError> {
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(client_msg_id.to_owned(), tx);
        self.send_json(&frame)?;
        match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(ClientError::Closed),
            Err(_) => {
                lock(&self.pending).remove(client_msg_id);
                Err(ClientError::Timeout("ack"))
            }
        }
    }

    /// Edits your message `seq` of `room_id`. The answer is the
    /// `messageEdited` frame every member's connections get (this one's
    /// too), or an `error` frame.
    pub fn edit_message(&self, room_id: &str, seq: u64, body: &str) -> Result<(), ClientError> {
        self.send_json(
            &serde_json::json!({"action":"editMessage","roomId":room_id,"seq":seq,"body":body}),
        )
    }

    /// Edits your message `seq` of an end-to-end encrypted room with the
    /// new content sealed by [`e2ee::seal_edit`] (no body). Answered like
    /// [`ChatClient::edit_message`].
    pub fn edit_sealed(
        &self,
        room_id: &str,
        seq: u64,
        sealed: &chat_core::e2ee::Sealed,
    ) -> Result<(), ClientError> {
        self.send_json(&serde_json::json!({"action":"editMessage","roomId":room_id,"seq":seq,"body":"","sealed":sealed}))
    }

    /// Deletes message `seq` of `room_id`; answered by `messageDeleted` (or
    /// an `error` frame).
    pub fn delete_message(&self, room_id: &str, seq: u64) -> Result<(), ClientError> {
        self.send_json(&serde_json::json!({"action":"deleteMessage","roomId":room_id,"seq":seq}))
    }

    /// Toggles your `emoji` on message `seq` of `room_id`; answered by
    /// `reaction` (or an `error` frame).
    pub fn react(&self, room_id: &str, seq: u64, emoji: &str) -> Result<(), ClientError> {
        self.send_json(
            &serde_json::json!({"action":"react","roomId":room_id,"seq":seq,"emoji":emoji}),
        )
    }

    /// The next frame, waiting up to the timeout; `None` on timeout or close.
    pub async fn next(&mut self) -> Option<Value> {
        tokio::time::timeout(self.timeout, self.events.recv())
            .await
            .ok()
            .flatten()
    }

    /// The next frame of `type`, skipping others.
    pub async fn next_of(&mut self, ty: &str) -> Result<Value, ClientError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.events.recv()).await {
                Ok(Some(v)) if v["type"] == ty => return Ok(v),
                Ok(Some(_)) => continue,
                Ok(None) => return Err(ClientError::Closed),
                Err(_) => return Err(ClientError::Timeout("frame")),
            }
        }
    }

    /// Every frame already received, without waiting.
    pub fn drain(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        while let Ok(v) = self.events.try_recv() {
            out.push(v);
        }
        out
    }

    /// The next frame parsed into the protocol type.
    pub async fn next_frame(&mut self) -> Option<ServerFrame> {
        let v = self.next().await?;
        serde_json::from_value(v).ok()
    }

    /// How the server closed the connection, once it has.
    pub fn closed(&self) -> Option<Closed> {
        lock(&self.closed).clone()
    }

    /// Waits until the server closes the connection.
    pub async fn wait_closed(&mut self) -> Result<Closed, ClientError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            if let Some(c) = self.closed() {
                return Ok(c);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ClientError::Timeout("close"));
            }
            let _ = tokio::time::timeout(Duration::from_millis(20), self.events.recv()).await;
        }
    }

    /// Closes the connection cleanly (code 1000).
    pub fn close(&self) {
        let _ = self.out.send(Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        })));
    }
}

fn route_reply(pending: &Pending, v: &Value) {
    let Some(cmid) = v["clientMsgId"].as_str() else {
        return;
    };
    let result = match v["type"].as_str() {
        Some("ack") => Ok(Ack {
            room_id: v["roomId"].as_str().unwrap_or_default().to_owned(),
            message_id: v["messageId"].as_str().unwrap_or_default().to_owned(),
            seq: v["seq"].as_u64().unwrap_or_default(),
            client_msg_id: cmid.to_owned(),
        }),
        Some("error") => Err(ClientError::Frame {
            code: v["code"].as_str().unwrap_or_default().to_owned(),
            message: v["message"].as_str().unwrap_or_default().to_owned(),
        }),
        _ => return,
    };
    if let Some(tx) = lock(pending).remove(cmid) {
        let _ = tx.send(result);
    }
}

/// The REST API as one user.
#[derive(Clone)]
pub struct Rest {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl Rest {
    pub fn new(base: &str, token: Option<&str>) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            token: token.map(str::to_owned),
            http: reqwest::Client::new(),
        }
    }

    /// Any call; answers the status and the JSON body (`Null` when empty).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), ClientError> {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| ClientError::Invalid(e.to_string()))?;
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await?;
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        Ok((status, json))
    }

    pub async fn get(&self, path: &str) -> Result<(u16, Value), ClientError> {
        self.call("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<(u16, Value), ClientError> {
        self.call("POST", path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Result<(u16, Value), ClientError> {
        self.call("PATCH", path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Result<(u16, Value), ClientError> {
        self.call("DELETE", path, None).await
    }

    /// `PUT /users/me/keys/{deviceId}`: publishes this device's public key
    /// as `user_id`'s.
    pub async fn publish_key(
        &self,
        user_id: &str,
        device: &e2ee::DeviceKeys,
    ) -> Result<(u16, Value), ClientError> {
        self.call(
            "PUT",
            &format!("/users/me/keys/{}", device.device_id),
            Some(&serde_json::json!({"userId": user_id, "publicKey": device.public_key()})),
        )
        .await
    }

    /// Every device of `users` to seal to (`GET /users/{userId}/keys`).
    pub async fn recipients(&self, users: &[&str]) -> Result<Vec<e2ee::Recipient>, ClientError> {
        let mut out = Vec::new();
        for u in users {
            let (status, list) = self.get(&format!("/users/{u}/keys")).await?;
            if status != 200 {
                return Err(ClientError::Invalid(format!(
                    "GET /users/{u}/keys answered {status}"
                )));
            }
            for d in list["devices"].as_array().into_iter().flatten() {
                out.push(e2ee::Recipient {
                    user_id: (*u).to_owned(),
                    device_id: d["deviceId"].as_str().unwrap_or_default().to_owned(),
                    public_key: d["publicKey"].as_str().unwrap_or_default().to_owned(),
                });
            }
        }
        Ok(out)
    }

    /// `POST /rooms/{room}/attachments`: an upload slot for a file of
    /// `content_type` and `size` bytes (and pixel size, for an image).
    pub async fn upload_slot(
        &self,
        room_id: &str,
        content_type: &str,
        size: usize,
        file_name: &str,
        dimensions: Option<(u32, u32)>,
    ) -> Result<(u16, Value), ClientError> {
        let mut body =
            serde_json::json!({"contentType":content_type,"size":size,"fileName":file_name});
        if let Some((w, h)) = dimensions {
            body["width"] = w.into();
            body["height"] = h.into();
        }
        self.post(&format!("/rooms/{room_id}/attachments"), &body)
            .await
    }

    /// Uploads `bytes` to a slot as `content_type`, straight to the object
    /// store (the slot's headers are sent as given): the store's status.
    pub async fn put_to_slot(
        &self,
        slot: &Value,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<u16, ClientError> {
        let url = slot["uploadUrl"]
            .as_str()
            .ok_or_else(|| ClientError::Invalid("no uploadUrl in the slot".into()))?;
        let mut req = self.http.put(url).body(bytes);
        if let Some(headers) = slot["headers"].as_object() {
            for (k, v) in headers {
                if !k.eq_ignore_ascii_case("content-type") {
                    req = req.header(k, v.as_str().unwrap_or_default());
                }
            }
        }
        let resp = req.header("content-type", content_type).send().await?;
        Ok(resp.status().as_u16())
    }

    /// A slot in `room_id` with `bytes` uploaded to it: the attachment id
    /// to send, or the error the slot or the upload answered.
    pub async fn upload(
        &self,
        room_id: &str,
        content_type: &str,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> Result<String, ClientError> {
        let (status, slot) = self
            .upload_slot(room_id, content_type, bytes.len(), file_name, None)
            .await?;
        if status != 201 {
            return Err(ClientError::Frame {
                code: slot["error"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                message: slot["error"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
        let put = self.put_to_slot(&slot, content_type, bytes).await?;
        if put != 200 {
            return Err(ClientError::Frame {
                code: put.to_string(),
                message: "the object store refused the upload".into(),
            });
        }
        slot["attachmentId"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ClientError::Invalid("no attachmentId in the slot".into()))
    }

    /// Encrypts `bytes` for an end-to-end encrypted room ([`e2ee::seal_file`])
    /// and uploads only the ciphertext, to an `application/octet-stream`
    /// slot named `"sealed"`: what the sealed content says of the file
    /// (its key, real name, type and size), with the slot's attachment id.
    pub async fn upload_sealed_file(
        &self,
        room_id: &str,
        sender: &str,
        name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<e2ee::SealedFile, ClientError> {
        let room = chat_core::ids::RoomId::parse(room_id)
            .map_err(|e| ClientError::Invalid(e.to_string()))?;
        let who = chat_core::ids::UserId::parse(sender)
            .map_err(|e| ClientError::Invalid(e.to_string()))?;
        let (ciphertext, key) = e2ee::seal_file(&room, &who, bytes);
        let id = self
            .upload(
                room_id,
                chat_core::attachments::SEALED_TYPE,
                chat_core::attachments::SEALED_NAME,
                ciphertext,
            )
            .await?;
        Ok(e2ee::SealedFile::describe(
            &id,
            &key,
            name,
            content_type,
            bytes.len() as u64,
        ))
    }

    /// `GET /rooms/{room}/messages/{seq}/replies`: the message at `seq`
    /// and a page of its replies (`after`: a `nextCursor`).
    pub async fn thread(
        &self,
        room_id: &str,
        seq: u64,
        after: Option<&str>,
        limit: Option<usize>,
    ) -> Result<(u16, Value), ClientError> {
        let mut path = format!("/rooms/{room_id}/messages/{seq}/replies");
        let mut sep = '?';
        if let Some(a) = after {
            path.push_str(&format!("{sep}after={a}"));
            sep = '&';
        }
        if let Some(l) = limit {
            path.push_str(&format!("{sep}limit={l}"));
        }
        self.get(&path).await
    }

    /// `POST /users/me/devices`: registers a push device, a Web Push
    /// subscription or a mobile token
    /// ([`chat_core::protocol::rest::RegisterDeviceRequest::web_push`],
    /// [`…::mobile`](chat_core::protocol::rest::RegisterDeviceRequest::mobile)):
    /// 201 new, 200 replaced, with the device.
    pub async fn register_device(
        &self,
        req: &chat_core::protocol::rest::RegisterDeviceRequest,
    ) -> Result<(u16, Value), ClientError> {
        let mut body = serde_json::Map::new();
        if let Some(e) = &req.endpoint {
            body.insert("endpoint".into(), e.as_str().into());
        }
        if let Some(k) = &req.keys {
            body.insert(
                "keys".into(),
                serde_json::json!({"p256dh": k.p256dh, "auth": k.auth}),
            );
        }
        if let Some(kind) = &req.kind {
            body.insert("kind".into(), kind.as_str().into());
        }
        if let Some(token) = &req.token {
            body.insert("token".into(), token.as_str().into());
        }
        self.post("/users/me/devices", &Value::Object(body)).await
    }

    /// `GET /users/me/devices`: the caller's push devices.
    pub async fn devices(&self) -> Result<(u16, Value), ClientError> {
        self.get("/users/me/devices").await
    }

    /// `DELETE /users/me/devices/{deviceId}`.
    pub async fn remove_device(&self, device_id: &str) -> Result<(u16, Value), ClientError> {
        self.delete(&format!("/users/me/devices/{device_id}")).await
    }

    /// Downloads an attachment's presigned URL: the status and the bytes.
    pub async fn download(&self, url: &str) -> Result<(u16, Vec<u8>), ClientError> {
        let resp = self.http.get(url).send().await?;
        let status = resp.status().as_u16();
        Ok((status, resp.bytes().await?.to_vec()))
    }
}

/// Asks the local platform for a development token (`POST /dev/token`).
pub async fn dev_token(base: &str, user: &str) -> Result<String, ClientError> {
    let (status, body) = Rest::new(base, None)
        .post("/dev/token", &serde_json::json!({ "userId": user }))
        .await?;
    if status != 200 {
        return Err(ClientError::Frame {
            code: status.to_string(),
            message: body.to_string(),
        });
    }
    body["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ClientError::Invalid("no token in answer".into()))
}
