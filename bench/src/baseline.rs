//! The reference point: a bare WebSocket broadcast server. No auth, no queue,
//! no storage, no event JSON, no function invocation: a connection joins the
//! room named in its URL (`ws://host/?room=R&user=U`), and a `sendMessage`
//! frame is parsed, stamped with an id and a `seq`, pushed as a `message`
//! frame to the room's other connections, and acked — the same frames, in the
//! same order, as the platform. Run under the same load on the same machine,
//! it tells how much of the platform's cost is ours and how much is the
//! machine, the sockets and the JSON every chat server pays.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

type Outbox = mpsc::UnboundedSender<Utf8Bytes>;

#[derive(Default)]
struct Rooms {
    members: Mutex<HashMap<String, Vec<(u64, Outbox)>>>,
    seq: Mutex<HashMap<String, u64>>,
}

/// A running broadcast server.
pub struct Baseline {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Baseline {
    /// Listens on 127.0.0.1 at a free port.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let rooms = Arc::new(Rooms::default());
        let next_id = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let id = next_id.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(serve(stream, id, rooms.clone()));
            }
        });
        Ok(Self { addr, task })
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    pub fn stop(self) {
        self.task.abort();
    }
}

impl Drop for Baseline {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Send<'a> {
    #[serde(borrow)]
    action: Cow<'a, str>,
    #[serde(borrow)]
    client_msg_id: Cow<'a, str>,
    #[serde(borrow)]
    body: Cow<'a, str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MessageFrame<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    room_id: &'a str,
    message_id: &'a str,
    seq: u64,
    sender_id: &'a str,
    body: &'a str,
    sent_at: i64,
    client_msg_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AckFrame<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    client_msg_id: &'a str,
    room_id: &'a str,
    message_id: &'a str,
    seq: u64,
    status: &'static str,
}

fn query_value(query: &str, key: &str) -> Option<String> {
    chat_twin::events::parse_query(query)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

async fn serve(stream: TcpStream, id: u64, rooms: Arc<Rooms>) {
    let _ = stream.set_nodelay(true);
    let mut query = String::new();
    // The signature is tungstenite's handshake callback; its error type is not ours.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, resp: Response| {
        query = req.uri().query().unwrap_or_default().to_owned();
        Ok(resp)
    };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        return;
    };
    let room = query_value(&query, "room").unwrap_or_default();
    let user = query_value(&query, "user").unwrap_or_else(|| format!("user-{id}"));
    let (tx, mut rx) = mpsc::unbounded_channel::<Utf8Bytes>();
    rooms
        .members
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(room.clone())
        .or_default()
        .push((id, tx));
    loop {
        tokio::select! {
            incoming = ws.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let Some(ack) = handle(&rooms, id, &room, &user, text.as_str()) else { continue };
                    if ws.send(Message::Text(ack.into())).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            Some(frame) = rx.recv() => {
                if ws.send(Message::Text(frame)).await.is_err() {
                    break;
                }
            }
        }
    }
    if let Some(list) = rooms
        .members
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_mut(&room)
    {
        list.retain(|(cid, _)| *cid != id);
    }
}

/// Broadcasts a `sendMessage` to the room's other members; answers the ack.
fn handle(rooms: &Rooms, me: u64, room: &str, user: &str, text: &str) -> Option<String> {
    let req: Send<'_> = serde_json::from_str(text).ok()?;
    if req.action != "sendMessage" {
        return None;
    }
    let seq = {
        let mut g = rooms.seq.lock().unwrap_or_else(|p| p.into_inner());
        let s = g.entry(room.to_owned()).or_insert(0);
        *s += 1;
        *s
    };
    let message_id = uuid::Uuid::now_v7().to_string();
    let frame = serde_json::to_string(&MessageFrame {
        ty: "message",
        room_id: room,
        message_id: &message_id,
        seq,
        sender_id: user,
        body: &req.body,
        sent_at: now_ms(),
        client_msg_id: &req.client_msg_id,
    })
    .ok()?;
    let frame = Utf8Bytes::from(frame);
    if let Some(list) = rooms
        .members
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(room)
    {
        for (cid, tx) in list {
            if *cid != me {
                let _ = tx.send(frame.clone());
            }
        }
    }
    serde_json::to_string(&AckFrame {
        ty: "ack",
        client_msg_id: &req.client_msg_id,
        room_id: room,
        message_id: &message_id,
        seq,
        status: "sent",
    })
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_send_is_broadcast_to_the_others_and_acked() {
        let rooms = Rooms::default();
        let (tx_a, mut rx_a) = mpsc::unbounded_channel();
        let (tx_b, mut rx_b) = mpsc::unbounded_channel();
        rooms
            .members
            .lock()
            .unwrap()
            .insert("r1".into(), vec![(1, tx_a), (2, tx_b)]);
        let ack = handle(
            &rooms,
            1,
            "r1",
            "alice",
            r#"{"action":"sendMessage","roomId":"r1","clientMsgId":"c-1","body":"hi"}"#,
        )
        .unwrap();
        let ack: serde_json::Value = serde_json::from_str(&ack).unwrap();
        assert_eq!(ack["type"], "ack");
        assert_eq!(ack["seq"], 1);
        let pushed: serde_json::Value =
            serde_json::from_str(rx_b.try_recv().unwrap().as_str()).unwrap();
        assert_eq!(pushed["type"], "message");
        assert_eq!(pushed["messageId"], ack["messageId"]);
        assert_eq!(pushed["body"], "hi");
        assert!(rx_a.try_recv().is_err(), "the sender gets only its ack");
        assert!(handle(&rooms, 1, "r1", "alice", r#"{"action":"ping"}"#).is_none());
    }
}
