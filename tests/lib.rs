//! The test harness: the whole platform in one process over the in-memory
//! adapters, driven through the real handlers with events of the exact shape
//! AWS sends (built by `chat_twin::events` and decoded by the same
//! `aws_lambda_events`/`lambda_http` types the Lambdas use).
//!
//! Each [`Platform`] is independent (fresh stores, fresh clock), so tests run
//! in parallel without sharing anything.

use std::sync::Arc;

use aws_lambda_events::apigw::ApiGatewayProxyResponse;
use aws_lambda_events::sqs::SqsBatchResponse;
use chat_core::auth::{Hs256Verifier, TokenVerifier};
use chat_core::config::Limits;
use chat_core::ids::{ConnectionId, UserId};
use chat_core::memory::ManualClock;
use chat_core::ports::{Clock, SystemClock};
use chat_core::protocol::ws::ACTIONS;
use chat_core::service::MemoryBackends;
use chat_core::Chat;
use chat_twin::events::{self, SqsRecord, WsApi, WsConn};
use chat_twin::token_for;
use chat_twin::{FailingPuts, FaultLab};
use serde_json::Value;
use tokio::sync::mpsc::UnboundedReceiver;

pub const SECRET: &[u8] = b"chat-tests-secret-0123456789abcdef";
pub const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:000000000000:chat-messages";

pub struct Platform {
    pub chat: Chat,
    pub mem: MemoryBackends,
    /// Fault injection in front of the message store.
    pub faults: Arc<FailingPuts>,
    /// The fault lab in front of the pusher, queue and stores.
    pub lab: Arc<FaultLab>,
    pub clock: Arc<ManualClock>,
    pub verifier: Arc<dyn TokenVerifier>,
    pub api: WsApi,
}

/// One WebSocket client: its connection and the frames pushed to it.
pub struct Client {
    pub user: UserId,
    pub conn: ConnectionId,
    pub token: String,
    rx: UnboundedReceiver<String>,
    inbox: Vec<Value>,
}

impl Client {
    fn pump(&mut self) {
        while let Ok(text) = self.rx.try_recv() {
            let v: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("server sent a non-JSON frame {text:?}: {e}"));
            self.inbox.push(v);
        }
    }

    /// Takes every received frame of `type`, leaving the others.
    pub fn take(&mut self, ty: &str) -> Vec<Value> {
        self.pump();
        let (hit, rest): (Vec<Value>, Vec<Value>) =
            self.inbox.drain(..).partition(|f| f["type"] == ty);
        self.inbox = rest;
        hit
    }

    /// Takes exactly one frame of `type`, failing the test otherwise.
    pub fn one(&mut self, ty: &str) -> Value {
        let mut got = self.take(ty);
        assert_eq!(
            got.len(),
            1,
            "{} expected one {ty:?} frame, got {got:?} (other frames: {:?})",
            self.user,
            self.inbox
        );
        got.remove(0)
    }

    /// Everything received so far, leaving nothing.
    pub fn all(&mut self) -> Vec<Value> {
        self.pump();
        std::mem::take(&mut self.inbox)
    }

    /// Whether the server closed or forgot this connection.
    pub fn is_closed(&self) -> bool {
        self.rx.is_closed()
    }
}

impl Default for Platform {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

impl Platform {
    pub fn new(limits: Limits) -> Self {
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        let (mut chat, mem) = Chat::in_memory_with_clock(limits, clock.clone());
        let faults = Arc::new(FailingPuts::new(chat.messages.clone()));
        chat.messages = faults.clone();
        let lab = FaultLab::install(&mut chat);
        let verifier: Arc<dyn TokenVerifier> = Arc::new(Hs256Verifier::new(SECRET, None, None));
        Self {
            chat,
            mem,
            faults,
            lab,
            clock,
            verifier,
            api: WsApi::default(),
        }
    }

    pub fn token(&self, user: &str) -> String {
        token_for(SECRET, &UserId::parse(user).expect("valid user"), 3600)
    }

    fn ws_conn(&self, connection_id: &str) -> WsConn {
        WsConn {
            connection_id: connection_id.to_owned(),
            connected_at: self.clock.now(),
            source_ip: "127.0.0.1".into(),
        }
    }

    /// Runs `$connect` with the given query string and headers.
    pub async fn raw_connect(
        &self,
        connection_id: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> ApiGatewayProxyResponse {
        let q: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let h: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let ev = events::ws_connect(
            &self.api,
            &self.ws_conn(connection_id),
            &q,
            &h,
            None,
            self.clock.now(),
        );
        chat_connect::handle(&self.chat, self.verifier.as_ref(), ev).await
    }

    /// Connects `user` with a valid token on a fresh connection id.
    pub async fn connect(&self, user: &str) -> Client {
        let token = self.token(user);
        let conn = ConnectionId::parse(&format!("{}=", events::request_id()))
            .expect("valid connection id");
        // The gateway accepts frames for the connection once $connect answered 2xx.
        let resp = self
            .raw_connect(conn.as_str(), &[("token", &token)], &[])
            .await;
        assert_eq!(
            resp.status_code, 200,
            "connect of {user} refused: {:?}",
            resp.body
        );
        let rx = self.mem.pusher.open(&conn);
        Client {
            user: UserId::parse(user).expect("valid user"),
            conn,
            token,
            rx,
            inbox: Vec::new(),
        }
    }

    /// Sends a text frame as API Gateway would route it.
    pub async fn send_text(&self, c: &Client, text: &str) -> ApiGatewayProxyResponse {
        self.send_on(&c.conn, text).await
    }

    /// Sends a text frame on a connection id.
    pub async fn send_on(&self, conn: &ConnectionId, text: &str) -> ApiGatewayProxyResponse {
        let route = events::select_route(text, &ACTIONS);
        let ev = events::ws_message(
            &self.api,
            &self.ws_conn(conn.as_str()),
            route,
            text,
            None,
            self.clock.now(),
        );
        chat_message::handle(&self.chat, ev).await
    }

    pub async fn send(&self, c: &Client, frame: Value) -> ApiGatewayProxyResponse {
        self.send_text(c, &frame.to_string()).await
    }

    pub async fn disconnect(&self, c: &Client) -> ApiGatewayProxyResponse {
        self.mem.pusher.drop_connection(&c.conn);
        let ev = events::ws_disconnect(
            &self.api,
            &self.ws_conn(c.conn.as_str()),
            1000,
            "Normal closure",
            self.clock.now(),
        );
        chat_disconnect::handle(&self.chat, ev).await
    }

    /// One persistence batch, like the SQS event source mapping: up to `max`
    /// queued jobs go to the persist handler; failed ones go back on the queue.
    pub async fn persist_batch(&self, max: usize) -> SqsBatchResponse {
        let jobs = self.mem.queue.take(max);
        let records: Vec<SqsRecord> = jobs
            .iter()
            .map(|j| SqsRecord {
                message_id: j.id.clone(),
                body: j.body.clone(),
                receive_count: 1,
                sent_at: self.clock.now(),
            })
            .collect();
        let resp = chat_persist::handle(
            &self.chat,
            events::sqs_event(QUEUE_ARN, &records, self.clock.now()),
        )
        .await;
        let failed: Vec<_> = jobs
            .into_iter()
            .filter(|j| {
                resp.batch_item_failures
                    .iter()
                    .any(|f| f.item_identifier == j.id)
            })
            .collect();
        self.mem.queue.requeue(failed);
        resp
    }

    /// Runs the persistence worker until the queue is empty.
    pub async fn persist(&self) {
        for _ in 0..100 {
            if self.mem.queue.is_empty() {
                return;
            }
            self.persist_batch(10).await;
        }
        panic!("queue did not drain: {} jobs left", self.mem.queue.len());
    }

    /// `user` as `GET /rooms/{room}` shows them to the holder of `token`
    /// (role, cursors, presence); panics when they are not a member.
    pub async fn member_view(&self, token: &str, room: &str, user: &str) -> Value {
        let (_, detail) = self
            .rest(Some(token), "GET", &format!("/rooms/{room}"), None)
            .await;
        detail["members"]
            .as_array()
            .and_then(|ms| ms.iter().find(|m| m["userId"] == user))
            .cloned()
            .unwrap_or_else(|| panic!("{user} is not among the members of {room}: {detail}"))
    }

    /// A REST call through the handler that serves `path`, like the HTTP API.
    pub async fn rest(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let (status, _, json) = self.rest_with_headers(token, method, path, body).await;
        (status, json)
    }

    /// [`Platform::rest`], with the response headers too.
    pub async fn rest_with_headers(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, http::HeaderMap, Value) {
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        if let Some(t) = token {
            headers.push(("authorization".to_owned(), format!("Bearer {t}")));
        }
        let body = body.map(|b| b.to_string());
        let req = events::http_request(method, path, &headers, body.as_deref(), self.clock.now());
        let p = path.split('?').next().unwrap_or_default();
        let resp = if p.ends_with("/messages") || p.ends_with("/replies") {
            chat_history::handle(&self.chat, self.verifier.as_ref(), req).await
        } else if p.starts_with("/users") && !p.contains("/keys") {
            // Device keys (`/users/me/keys`, `/users/{id}/keys`) are the
            // rooms function's, with the pusher for `keysChanged`.
            chat_users::handle(&self.chat, self.verifier.as_ref(), req).await
        } else {
            chat_rooms::handle(&self.chat, self.verifier.as_ref(), req).await
        };
        let status = resp.status().as_u16();
        let bytes: &[u8] = resp.body().as_ref();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(bytes).expect("JSON response")
        };
        (status, resp.headers().clone(), json)
    }

    /// `POST /rooms` as `owner`; returns the room id.
    pub async fn create_room(
        &self,
        owner: &Client,
        kind: &str,
        name: &str,
        members: &[&Client],
    ) -> String {
        let members: Vec<&str> = members.iter().map(|m| m.user.as_str()).collect();
        let (status, body) = self
            .rest(
                Some(&owner.token),
                "POST",
                "/rooms",
                Some(serde_json::json!({ "name": name, "kind": kind, "members": members })),
            )
            .await;
        assert!(
            status == 201 || status == 200,
            "create room: {status} {body}"
        );
        body["roomId"].as_str().expect("roomId").to_owned()
    }
}
