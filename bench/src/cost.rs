//! The cost model: what one message asks of AWS, in dollars.
//!
//! [`measure`] runs the real services ([`Chat`]) over the in-memory adapters
//! wrapped in counting decorators ([`crate::metering`]): it registers
//! rooms of K online members plus a crowd of idle connections, sends M
//! messages the way the message λ does (`handle_text`), then drains the queue
//! in batches the way the persist λ does (`persist_batch`). The counts per
//! message map onto billed units with [`billed`] (which DynamoDB operation
//! each port call is, as the DynamoDB adapter implements it today), and
//! [`PRICES`] turns those into dollars.
//!
//! Lambda duration is dominated by round trips to DynamoDB, SQS and the
//! Management API, so it is timed under modeled latency
//! ([`crate::latency`]) and passed in (`message_ms`, `persist_ms`; the CLI's
//! `--message-ms` and `--persist-ms` override it). [`idle_month`] prices
//! clients kept connected and idle from one client's measured keepalive.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use crate::latency::Keepalive;
use crate::metering::{metered, Meter, Tally};
use chat_core::config::Limits;
use chat_core::ids::{ConnectionId, RoomId, RoomName, UserId};
use chat_core::model::{ConnectionRecord, Membership, Role, Room, RoomKind};
use chat_core::ports::SystemClock;
use chat_core::ratelimit::{Rate, RateLimits};
use chat_core::service::{Chat, MemoryBackends};
use serde::Serialize;
use tokio::sync::mpsc::UnboundedReceiver;

/// AWS list prices, us-east-1, on-demand, no free tier. Checked on
/// 2026-11-28 against public copies of the pricing pages (API Gateway and
/// SQS pages dated 2026, DynamoDB after its November 2024 on-demand cut).
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prices {
    pub date: &'static str,
    pub region: &'static str,
    /// Lambda, per million requests.
    pub lambda_requests: f64,
    /// Lambda arm64, per GB-second (first 7.5 billion GB-s a month).
    pub lambda_arm_gb_second: f64,
    /// API Gateway WebSocket, per million messages (first billion; each
    /// message metered in 32 KB increments, both directions).
    pub apigw_ws_messages: f64,
    /// API Gateway WebSocket, per million connection minutes.
    pub apigw_ws_connection_minutes: f64,
    /// SQS standard, per million requests (each 64 KB chunk is a request).
    pub sqs_requests: f64,
    /// DynamoDB on-demand, per million write request units (1 KB each).
    pub dynamodb_wru: f64,
    /// DynamoDB on-demand, per million read request units (4 KB strongly
    /// consistent, or 2 × 4 KB eventually consistent).
    pub dynamodb_rru: f64,
}

pub const PRICES: Prices = Prices {
    date: "2026-11-28",
    region: "us-east-1",
    lambda_requests: 0.20,
    lambda_arm_gb_second: 0.000_013_333_4,
    apigw_ws_messages: 1.00,
    apigw_ws_connection_minutes: 0.25,
    sqs_requests: 0.40,
    dynamodb_wru: 0.625,
    dynamodb_rru: 0.125,
};

/// S3 Standard list prices, us-east-1 (checked 2026-12-02 against the
/// public S3 pricing page): the attachments' bucket.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Prices {
    /// PUT, COPY, POST, LIST requests, per thousand.
    pub put_per_thousand: f64,
    /// GET, HEAD and other reads, per thousand.
    pub get_per_thousand: f64,
    /// Storage, per GB-month (first 50 TB).
    pub storage_gb_month: f64,
}

pub const S3_PRICES: S3Prices = S3Prices {
    put_per_thousand: 0.005,
    get_per_thousand: 0.000_4,
    storage_gb_month: 0.023,
};

/// What one message with one attachment asks of S3 beyond the message
/// itself (which costs what the table says: the attachment is a small JSON
/// field of the message). The requests are those of the attachment path
/// (`chat_core::service` attachments, `chat_adapters::s3`): the client's
/// presigned PUT, the message function's HeadObject, CopyObject and
/// DeleteObject (free) claiming the upload, and one presigned GET per
/// download. Presigning is local: no request. Bytes move between the
/// clients and S3 only (no Lambda, no API Gateway message); data out to
/// the internet is billed per GB beyond this model.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentCost {
    /// PUT-class requests: the upload and the claim's copy.
    pub put_requests: f64,
    /// GET-class requests: the claim's head and the downloads.
    pub get_requests: f64,
    pub delete_requests: f64,
    /// Dollars of the requests, once.
    pub request_dollars: f64,
    /// Dollars of keeping the file a month.
    pub storage_dollars_month: f64,
}

/// One attachment of `bytes` downloaded `downloads` times.
pub fn attachment_cost(bytes: u64, downloads: u64, p: &S3Prices) -> AttachmentCost {
    let (put_requests, get_requests) = (2.0, 1.0 + downloads as f64);
    AttachmentCost {
        put_requests,
        get_requests,
        delete_requests: 1.0,
        request_dollars: put_requests * p.put_per_thousand / 1000.0
            + get_requests * p.get_per_thousand / 1000.0,
        storage_dollars_month: bytes as f64 / 1e9 * p.storage_gb_month,
    }
}

/// The attachment lines of the table: a message with one attachment of
/// `bytes`, downloaded once by each other member of each scenario's room.
pub fn attachment_table(ms: &[Measurement], bytes: u64) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "attachments — one {:.1} MB file per message, downloaded once by every other member (S3 Standard, {}):",
        bytes as f64 / 1e6,
        S3_PRICES_DATE
    );
    for m in ms {
        let c = attachment_cost(bytes, m.room_size.saturating_sub(1) as u64, &S3_PRICES);
        let _ = writeln!(
            s,
            "  K={:<6} idle={:<6} requests: {} PUT-class, {} GET-class, {} DELETE; ${:.2} per million messages, storage ${:.2} per million messages a month",
            m.room_size,
            m.idle,
            c.put_requests,
            c.get_requests,
            c.delete_requests,
            c.request_dollars * 1e6,
            c.storage_dollars_month * 1e6,
        );
    }
    s
}

/// What one edit, reaction or delete of a stored message costs in a room of
/// `room_size` members, every one online.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeCost {
    pub action: &'static str,
    pub room_size: usize,
    /// DynamoDB read and write request units.
    pub rru: f64,
    pub wru: f64,
    /// Frames pushed (one per member connection).
    pub pushes: f64,
    /// Dollars per million such changes (DynamoDB, pushes and one message λ
    /// invocation of `message_ms`).
    pub dollars_per_million: f64,
}

/// Measures an edit, a reaction toggle and a delete of a 64-byte message in a
/// room of `room_size`, over metered in-memory adapters.
pub async fn change_costs(room_size: usize, message_ms: f64, memory_mb: f64) -> Vec<ChangeCost> {
    let mem = MemoryBackends::default();
    let chat = mem.chat(unlimited_limits(), Arc::new(SystemClock));
    let k = room_size.max(2);
    let mut pop = populate(&mem, &chat, RoomKind::Group, k, 1, 0).await;
    let (room_id, conn, user) = pop.senders[0].clone();
    let body = sample_body(64);
    let send = format!(
        r#"{{"action":"sendMessage","roomId":"{room_id}","clientMsgId":"change-cost","body":"{body}"}}"#
    );
    let _ = chat.handle_text(&conn, Some(&user), &send).await;
    let jobs: Vec<(String, String)> = mem
        .queue
        .take(1000)
        .into_iter()
        .map(|j| (j.id, j.body))
        .collect();
    chat.persist_batch(&jobs).await;
    pop.drain();
    let meter = Meter::new();
    let counted = metered(&chat, &meter);
    let edited = sample_body(70);
    let actions = [
        (
            "edit",
            format!(r#"{{"action":"editMessage","roomId":"{room_id}","seq":1,"body":"{edited}"}}"#),
        ),
        (
            "reaction",
            format!(r#"{{"action":"react","roomId":"{room_id}","seq":1,"emoji":"👍"}}"#),
        ),
        (
            "delete",
            format!(r#"{{"action":"deleteMessage","roomId":"{room_id}","seq":1}}"#),
        ),
    ];
    let mut out = Vec::new();
    for (action, frame) in actions {
        meter.reset();
        let _ = counted.handle_text(&conn, Some(&user), &frame).await;
        pop.drain();
        let tallies = meter.snapshot();
        let (rru, wru) = tallies
            .iter()
            .map(|(op, t)| dynamodb_units(op, t))
            .fold((0.0, 0.0), |(r, w), (a, b)| (r + a, w + b));
        let pushes = tallies.get("pusher.post").map_or(0.0, |t| t.calls as f64);
        let p = &PRICES;
        let dollars = (rru * p.dynamodb_rru + wru * p.dynamodb_wru + pushes * p.apigw_ws_messages)
            / 1e6
            + lambda_dollars(1.0, message_ms, memory_mb, p);
        out.push(ChangeCost {
            action,
            room_size: k,
            rru,
            wru,
            pushes,
            dollars_per_million: dollars * 1e6,
        });
    }
    out
}

/// The lines of [`change_costs`] for the cost table.
pub fn change_table(costs: &[ChangeCost]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "edits, reactions, deletes — one change of a stored message, every member online:"
    );
    for c in costs {
        let _ = writeln!(
            s,
            "  K={:<6} {:<9} {:.1} RRU, {:.1} WRU, {} pushes: ${:.2} per million",
            c.room_size, c.action, c.rru, c.wru, c.pushes, c.dollars_per_million
        );
    }
    s
}

/// What offline notifications cost beyond the table's reads and writes
/// (us-east-1 list prices as known on 2026-12-03; not re-checked against
/// the pricing pages from this machine).
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyPrices {
    /// Secrets Manager, per secret-month (the VAPID key pair).
    pub secret_month: f64,
    /// Secrets Manager, per 10,000 API calls (one GetSecretValue per cold
    /// start of the persist function).
    pub secret_calls_per_10k: f64,
    /// SNS, per million requests (a Publish to a mobile endpoint; also
    /// CreatePlatformEndpoint and DeleteEndpoint).
    pub sns_requests: f64,
    /// SNS, per million mobile push deliveries.
    pub sns_mobile_deliveries: f64,
    /// NAT gateway data processing, per GB: a Web Push request leaves the
    /// VPC through it (when the functions are in one); the push service
    /// itself charges nothing.
    pub nat_gb: f64,
}

pub const NOTIFY_PRICES: NotifyPrices = NotifyPrices {
    secret_month: 0.40,
    secret_calls_per_10k: 0.05,
    sns_requests: 0.50,
    sns_mobile_deliveries: 0.50,
    nat_gb: 0.045,
};

/// Bytes a Web Push request carries out and back (TLS, headers with the
/// VAPID JWT, the ~200-byte encrypted payload, the 201): about 2 KB.
pub const WEB_PUSH_REQUEST_BYTES: f64 = 2048.0;

/// Dollars a month for `web_pushes` Web Push requests and `sns_publishes`
/// mobile notifications, with `cold_starts` of the persist function each
/// reading the VAPID secret once; `in_vpc`: the requests cross a NAT.
pub fn notification_month(
    web_pushes: f64,
    sns_publishes: f64,
    cold_starts: f64,
    in_vpc: bool,
    p: &NotifyPrices,
) -> f64 {
    let secret = p.secret_month + cold_starts / 10_000.0 * p.secret_calls_per_10k;
    let sns = sns_publishes / 1e6 * (p.sns_requests + p.sns_mobile_deliveries);
    let nat = if in_vpc {
        web_pushes * WEB_PUSH_REQUEST_BYTES / 1e9 * p.nat_gb
    } else {
        0.0
    };
    secret + sns + nat
}

/// When [`S3_PRICES`] were checked.
pub const S3_PRICES_DATE: &str = "2026-12-02";

/// What one scenario asks for.
#[derive(Clone, Debug)]
pub struct CostConfig {
    pub room_size: usize,
    pub rooms: usize,
    pub messages: usize,
    pub idle: usize,
    /// SQS event source batch size (the stack's default is 25).
    pub batch_size: usize,
    /// Records one ReceiveMessage / DeleteMessageBatch call handles (SQS: 10).
    pub sqs_batch: usize,
    /// Billed duration of one message λ invocation, ms.
    pub message_ms: f64,
    /// Billed duration of one persist λ invocation (a batch), ms.
    pub persist_ms: f64,
    /// Whether those two were measured (`chat-bench latency`) or assumed.
    pub durations_measured: bool,
    /// One idle client's keepalive, measured (priced per 1,000 a month).
    pub keepalive: Option<Keepalive>,
    /// Assumed billed duration of one authorizer invocation, ms.
    pub authorizer_ms: f64,
    pub memory_mb: f64,
    pub body_bytes: usize,
}

impl Default for CostConfig {
    fn default() -> Self {
        Self {
            room_size: 10,
            rooms: 20,
            messages: 2000,
            idle: 1000,
            batch_size: 25,
            sqs_batch: 10,
            message_ms: 60.0,
            persist_ms: 80.0,
            durations_measured: false,
            keepalive: None,
            authorizer_ms: 10.0,
            memory_mb: 256.0,
            body_bytes: 64,
        }
    }
}

/// Billed units per message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Billed {
    pub message_invocations: f64,
    pub persist_invocations: f64,
    pub lambda_gb_seconds: f64,
    /// Inbound frames plus PostToConnection calls, in 32 KB units.
    pub apigw_messages: f64,
    pub sqs_requests: f64,
    pub dynamodb_rru: f64,
    pub dynamodb_wru: f64,
}

/// Dollars per million messages, by line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dollars {
    pub lambda_requests: f64,
    pub lambda_compute: f64,
    pub apigw_messages: f64,
    pub sqs: f64,
    pub dynamodb_reads: f64,
    pub dynamodb_writes: f64,
    pub total: f64,
}

pub fn dollars_per_million(b: &Billed, p: &Prices) -> Dollars {
    let m = 1e6;
    let mut d = Dollars {
        lambda_requests: (b.message_invocations + b.persist_invocations) * p.lambda_requests,
        lambda_compute: b.lambda_gb_seconds * m * p.lambda_arm_gb_second,
        apigw_messages: b.apigw_messages * p.apigw_ws_messages,
        sqs: b.sqs_requests * p.sqs_requests,
        dynamodb_reads: b.dynamodb_rru * p.dynamodb_rru,
        dynamodb_writes: b.dynamodb_wru * p.dynamodb_wru,
        total: 0.0,
    };
    d.total = d.lambda_requests
        + d.lambda_compute
        + d.apigw_messages
        + d.sqs
        + d.dynamodb_reads
        + d.dynamodb_writes;
    d
}

/// Connection minutes of `connections` kept open for a 30-day month, in dollars.
pub fn connection_month_dollars(connections: f64, p: &Prices) -> f64 {
    connections * 30.0 * 24.0 * 60.0 / 1e6 * p.apigw_ws_connection_minutes
}

/// DynamoDB request units of one port operation's tally, as the DynamoDB
/// adapter performs it: `(read units, write units)`. Strongly consistent
/// reads cost 1 RRU per 4 KB, GSI queries (eventually consistent) half;
/// writes 1 WRU per KB, a failed conditional write still 1 WRU, a
/// transaction twice.
pub fn dynamodb_units(op: &str, t: &Tally) -> (f64, f64) {
    let calls = t.calls as f64;
    let lookups = t.lookup_4kib as f64;
    let kib = t.item_kib as f64;
    match op {
        // GetItem / Query with ConsistentRead, BatchGetItem.
        "connections.get" | "rooms.get" | "rooms.get_many" | "rooms.membership"
        | "rooms.members" | "messages.range" | "messages.latest" | "profiles.get"
        | "profiles.get_many" => (lookups, 0.0),
        // GetItem of the room's SEQ item.
        "messages.last_seq" => (calls, 0.0),
        // Query on GSI1: eventually consistent only.
        "connections.for_users" | "rooms.rooms_of" | "rooms.list_channels" => (lookups / 2.0, 0.0),
        // PutItem / DeleteItem of the record.
        "connections.put"
        | "connections.delete"
        | "rooms.add_member"
        | "profiles.create_if_absent"
        | "profiles.update" => (0.0, kib.max(calls)),
        // UpdateItem / DeleteItem of a small item.
        "connections.touch" | "rooms.remove_member" | "rooms.advance_cursor.delivered" => {
            (0.0, calls)
        }
        // Two conditional UpdateItems: delivered, then read.
        "rooms.advance_cursor.read" => (0.0, 2.0 * calls),
        // TransactWriteItems: twice the units.
        "rooms.create" => (0.0, 2.0 * kib),
        // GetItem of the claim, UpdateItem ADD seq, then one transaction of
        // two conditional puts: the reservation (the whole message) and the
        // seq's slot (small), each at twice the units.
        "messages.reserve.new" => (calls, calls + 2.0 * (kib + calls)),
        // A conditional PutItem of the burned marker (1 WRU, failed or not).
        "messages.settle" => (0.0, calls),
        "messages.reserve.duplicate" => (calls, 0.0),
        // BatchWriteItem: each item by its size.
        "messages.put_batch" => (0.0, kib),
        // BatchWriteItem of the search index: one item per distinct
        // 3-character prefix of the message's words, plus its manifest.
        "search.index" => (0.0, kib),
        // One consistent Query page per room searched (at least 1 RRU).
        "search.search" => (lookups, 0.0),
        // GetItem of the manifest; the deletes are counted by the caller.
        "search.remove" => (calls, 0.0),
        // Edits, deletes, reactions: consistent GetItems of the counter
        // and a state, consistent Queries of states and of the change log.
        "changes.last_change" => (calls, 0.0),
        "changes.state" | "changes.states" | "changes.changes_after" => (lookups, 0.0),
        // TransactWriteItems of the counter (1 KiB), the state and its log
        // entry, at twice the units: 2 × (1 + 2 × state KiB) per change.
        "changes.commit" => (0.0, 2.0 * (calls + kib)),
        // Offline notifications (persist): per offline member with a
        // device, a consistent GetItem of the policy, a consistent Query of
        // the devices, and a conditional UpdateItem of the window (1 WRU;
        // 2 when it is open and the count is added instead).
        "notify.policy" => (calls, 0.0),
        "notify.devices" | "notify.devices_of" => (lookups, 0.0),
        "notify.claim" => (0.0, calls),
        // REST: the device limit's Query, then PutItem; the policy PutItem;
        // a device's DeleteItem.
        "notify.put_device" => (calls, calls),
        "notify.put_policy" | "notify.remove_device" => (0.0, calls),
        // Blocks: a consistent Query of one user's partition (1 RRU while
        // it holds under 4 KB of blocks); a block is that Query and a
        // transaction of two small puts (2 WRU each), an unblock a
        // transaction of two deletes.
        "blocks.relations" => (calls, 0.0),
        "blocks.block" => (calls, 4.0 * calls),
        "blocks.unblock" => (0.0, 4.0 * calls),
        _ => (0.0, 0.0),
    }
}

/// Seconds in the 30-day month the model prices.
pub const MONTH_SECS: f64 = 30.0 * 86_400.0;
/// API Gateway closes every WebSocket after 2 hours: an always-connected
/// client reconnects this often a month.
pub const RECONNECTS_PER_MONTH: f64 = 30.0 * 24.0 / 2.0;

/// What 1,000 clients kept connected and idle for a 30-day month cost, by
/// line, in dollars; and the counts behind them, per client.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdleMonth {
    pub ping_secs: u64,
    pub pings_per_client: f64,
    /// DynamoDB writes per ping (the presence refresh).
    pub writes_per_ping: f64,
    pub reconnects_per_client: f64,
    /// Contacts told offline, then online, at each reconnect.
    pub contacts: usize,
    pub connection_minutes: f64,
    pub ping_apigw_messages: f64,
    pub ping_lambda: f64,
    pub ping_dynamodb: f64,
    pub reconnect_apigw_messages: f64,
    pub reconnect_lambda: f64,
    pub reconnect_dynamodb: f64,
    pub total: f64,
}

fn dynamo_dollars(calls: &BTreeMap<&'static str, Tally>, per: f64, p: &Prices) -> f64 {
    calls
        .iter()
        .map(|(op, t)| {
            let (r, w) = dynamodb_units(op, t);
            (r * p.dynamodb_rru + w * p.dynamodb_wru) / 1e6
        })
        .sum::<f64>()
        / per.max(1.0)
}

fn lambda_dollars(invocations: f64, billed_ms: f64, memory_mb: f64, p: &Prices) -> f64 {
    invocations * (p.lambda_requests / 1e6)
        + invocations * billed_ms / 1000.0 * (memory_mb / 1024.0) * p.lambda_arm_gb_second
}

/// Prices 1,000 idle connected clients for a month from one client's
/// measured keepalive: its pings (inbound frame, message λ, DynamoDB, pong)
/// and its reconnections every 2 hours (authorizer, `$connect` and
/// `$disconnect` λ, DynamoDB, presence pushed to its contacts).
/// `authorizer_ms` is the assumed billed duration of the authorizer.
pub fn idle_month(k: &Keepalive, memory_mb: f64, authorizer_ms: f64, p: &Prices) -> IdleMonth {
    let clients = 1000.0;
    let zero = Tally::default();
    let n = k.pings.max(1) as f64;
    let pings = MONTH_SECS / k.ping_secs.max(1) as f64;
    let pongs = k.ping_calls.get("pusher.post").unwrap_or(&zero).calls as f64 / n;
    let writes = k.ping_calls.get("connections.touch").unwrap_or(&zero).calls as f64 / n;
    let ping_apigw = clients * pings * (1.0 + pongs) * p.apigw_ws_messages / 1e6;
    let ping_lambda = clients * lambda_dollars(pings, k.ping_lambda.billed_ms, memory_mb, p);
    let ping_dynamodb = clients * pings * dynamo_dollars(&k.ping_calls, n, p);
    let r = RECONNECTS_PER_MONTH;
    let pushes = k.reconnect_calls.get("pusher.post").unwrap_or(&zero).calls as f64;
    let reconnect_apigw = clients * r * pushes * p.apigw_ws_messages / 1e6;
    let reconnect_lambda = clients
        * (lambda_dollars(r, authorizer_ms, memory_mb, p)
            + lambda_dollars(r, k.connect_lambda.billed_ms, memory_mb, p)
            + lambda_dollars(r, k.disconnect_lambda.billed_ms, memory_mb, p));
    let reconnect_dynamodb = clients * r * dynamo_dollars(&k.reconnect_calls, 1.0, p);
    let minutes = connection_month_dollars(clients, p);
    let mut m = IdleMonth {
        ping_secs: k.ping_secs,
        pings_per_client: pings,
        writes_per_ping: writes,
        reconnects_per_client: r,
        contacts: k.contacts,
        connection_minutes: minutes,
        ping_apigw_messages: ping_apigw,
        ping_lambda,
        ping_dynamodb,
        reconnect_apigw_messages: reconnect_apigw,
        reconnect_lambda,
        reconnect_dynamodb,
        total: 0.0,
    };
    m.total = minutes
        + ping_apigw
        + ping_lambda
        + ping_dynamodb
        + reconnect_apigw
        + reconnect_lambda
        + reconnect_dynamodb;
    m
}

/// What one scenario measured.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Measurement {
    pub room_size: usize,
    pub idle: usize,
    pub messages: usize,
    /// Connections registered: online members plus idle ones.
    pub connections: usize,
    /// Sends the service refused (must be 0 for the counts to mean anything).
    pub refused: usize,
    /// Port calls per message, by `port.operation`.
    pub calls_per_message: BTreeMap<String, f64>,
    pub persist_batches: u64,
    pub billed: Billed,
    pub dollars_per_million: Dollars,
    /// The counterfactual: fan-out that scans every connection per message.
    pub scan_rru_per_message: f64,
    pub scan_dollars_per_million: f64,
    /// The λ durations billed: measured under modeled latency, or assumed.
    pub message_ms: f64,
    pub persist_ms: f64,
    pub durations_measured: bool,
    /// 1,000 idle connected clients for a month, each in a room of this size.
    pub idle_month: Option<IdleMonth>,
}

/// Per-message billed units from a meter's counts.
pub fn billed(
    tallies: &BTreeMap<&'static str, Tally>,
    messages: f64,
    persist_batches: f64,
    persist_records: f64,
    cfg: &CostConfig,
) -> Billed {
    let per = |x: f64| x / messages.max(1.0);
    let mut rru = 0.0;
    let mut wru = 0.0;
    for (op, t) in tallies {
        let (r, w) = dynamodb_units(op, t);
        rru += r;
        wru += w;
    }
    let zero = Tally::default();
    let posts = tallies.get("pusher.post").unwrap_or(&zero);
    // Each frame is metered in 32 KB units; frames here are far smaller.
    let outbound = posts.calls.max(posts.item_kib.div_ceil(32)) as f64;
    let enqueue = tallies.get("queue.enqueue").unwrap_or(&zero);
    // SendMessage(Batch): one request per call per 64 KB of payload.
    let sends = enqueue.calls.max(enqueue.bytes.div_ceil(64 * 1024)) as f64;
    // The event source receives and deletes in calls of up to 10 records.
    let consume = 2.0 * (persist_records / cfg.sqs_batch.max(1) as f64).ceil();
    let message_invocations = 1.0;
    let persist_invocations = per(persist_batches);
    Billed {
        message_invocations,
        persist_invocations,
        lambda_gb_seconds: (message_invocations * cfg.message_ms
            + persist_invocations * cfg.persist_ms)
            / 1000.0
            * (cfg.memory_mb / 1024.0),
        apigw_messages: 1.0 + per(outbound),
        sqs_requests: per(sends + consume),
        dynamodb_rru: per(rru),
        dynamodb_wru: per(wru),
    }
}

/// Most data one Scan page reads: DynamoDB stops a page at 1 MB.
pub const SCAN_PAGE_BYTES: usize = 1024 * 1024;

/// Read units of one full, eventually consistent Scan over items of the
/// given sizes, as DynamoDB bills it: the scan runs in pages of at most
/// [`SCAN_PAGE_BYTES`] of item data (the item that crosses the limit is the
/// page's last), each page's total is rounded up to the next 4 KB, and
/// every 4 KB costs 0.5 RRU.
pub fn scan_rru(item_bytes: impl IntoIterator<Item = usize>) -> f64 {
    let units = |bytes: usize| bytes.div_ceil(4096) as f64 / 2.0;
    let mut total = 0.0;
    let mut page = 0usize;
    for size in item_bytes {
        page += size;
        if page >= SCAN_PAGE_BYTES {
            total += units(page);
            page = 0;
        }
    }
    total + units(page)
}

fn uid(s: &str) -> UserId {
    UserId::parse(s).expect("bench user ids are valid")
}

/// The limits the functions would read from this environment (the
/// `CHAT_*` settings, defaults when unset or invalid), with rate limits
/// lifted: scenarios send in a tight loop and are about what an accepted
/// message costs or takes.
pub fn unlimited_limits() -> Limits {
    let unlimited = Rate::new(u32::MAX / 2, u32::MAX / 2);
    let base = Limits::from_source(&chat_core::config::Env).unwrap_or_else(|e| {
        eprintln!("chat-bench: CHAT_* settings invalid ({e}); using the defaults");
        Limits::default()
    });
    Limits {
        rate: RateLimits {
            message_per_connection: unlimited,
            message_per_user: unlimited,
            typing_per_user: unlimited,
            rest_per_user: unlimited,
        },
        ..base
    }
}

/// Rooms of online members, and idle connections, in memory backends.
pub struct Population {
    /// Every member's socket, to be drained now and then.
    pub inboxes: Vec<UnboundedReceiver<String>>,
    /// (room, connection) of every member, room by room.
    /// (room, connection, user): the user is what the `$connect` authorizer
    /// verified, which API Gateway hands every message event.
    pub senders: Vec<(RoomId, ConnectionId, UserId)>,
    /// Connections registered: online members plus idle ones.
    pub connections: usize,
}

impl Population {
    /// Empties every member's socket.
    pub fn drain(&mut self) {
        for rx in &mut self.inboxes {
            while rx.try_recv().is_ok() {}
        }
    }
}

/// Creates `rooms` rooms of `kind` with `k` members each, every member
/// online on one connection, plus `idle` connections of users in no room.
pub async fn populate(
    mem: &MemoryBackends,
    chat: &Chat,
    kind: RoomKind,
    k: usize,
    rooms: usize,
    idle: usize,
) -> Population {
    let now = chat.clock.now();
    let mut inboxes = Vec::new();
    let mut senders = Vec::new();
    for r in 0..rooms.max(1) {
        let room = Room {
            room_id: RoomId::generate(),
            kind,
            name: RoomName::parse(&format!("bench room {r}")).expect("valid name"),
            owner_id: uid(&format!("m{r}-0")),
            created_at: now,
        };
        let members: Vec<Membership> = (0..k)
            .map(|j| {
                let role = if j == 0 { Role::Owner } else { Role::Member };
                Membership::new(room.room_id.clone(), uid(&format!("m{r}-{j}")), role, now)
            })
            .collect();
        chat.rooms
            .create(&room, &members)
            .await
            .expect("memory store");
        for m in &members {
            let conn = ConnectionId::parse(&format!("c{}", m.user_id)).expect("valid id");
            inboxes.push(mem.pusher.open(&conn));
            chat.connections
                .put(&ConnectionRecord {
                    connection_id: conn.clone(),
                    user_id: m.user_id.clone(),
                    connected_at: now,
                    expires_at: now + 3_600_000,
                })
                .await
                .expect("memory store");
            senders.push((room.room_id.clone(), conn, m.user_id.clone()));
        }
    }
    // Idle connections: registered (as `$connect` leaves them), never pushed to.
    for i in 0..idle {
        chat.connections
            .put(&ConnectionRecord {
                connection_id: ConnectionId::parse(&format!("idle{i}")).expect("valid id"),
                user_id: uid(&format!("idle-{i}")),
                connected_at: now,
                expires_at: now + 3_600_000,
            })
            .await
            .expect("memory store");
    }
    Population {
        inboxes,
        senders,
        connections: mem.connections.len(),
    }
}

/// Runs one scenario over metered in-memory adapters.
/// Words of an everyday chat message, repeated to the body size: what the
/// search index is billed by is the number of distinct words (their
/// 3-character prefixes), so the body is text, not one long word.
const SAMPLE_TEXT: &str = "are we still on for lunch at the usual place tomorrow around noon? \
I can book a table for four if you like, just tell me before ten ";

/// A message body of `bytes` bytes (ASCII) cut from [`SAMPLE_TEXT`].
fn sample_body(bytes: usize) -> String {
    SAMPLE_TEXT.chars().cycle().take(bytes.max(1)).collect()
}

pub async fn measure(cfg: &CostConfig) -> Measurement {
    let mem = MemoryBackends::default();
    let chat = mem.chat(unlimited_limits(), Arc::new(SystemClock));
    let k = cfg.room_size.max(2);
    let Population {
        mut inboxes,
        senders,
        connections: total_connections,
    } = populate(&mem, &chat, RoomKind::Group, k, cfg.rooms, cfg.idle).await;

    let meter = Meter::new();
    let counted = metered(&chat, &meter);
    let body = sample_body(cfg.body_bytes);
    let rooms = cfg.rooms.max(1);
    let mut refused = 0usize;
    for m in 0..cfg.messages {
        // Round-robin over rooms, then over each room's members.
        let (room_id, conn, user) = &senders[(m % rooms) * k + (m / rooms) % k];
        let frame = format!(
            r#"{{"action":"sendMessage","roomId":"{room_id}","clientMsgId":"cost-{m}","body":"{body}"}}"#
        );
        if counted.handle_text(conn, Some(user), &frame).await.is_err() {
            refused += 1;
        }
        if m % 256 == 0 {
            for rx in &mut inboxes {
                while rx.try_recv().is_ok() {}
            }
        }
    }
    // The persist λ, one invocation per batch.
    let mut batches = 0u64;
    let mut records = 0u64;
    loop {
        let jobs = mem.queue.take(cfg.batch_size.max(1));
        if jobs.is_empty() {
            break;
        }
        batches += 1;
        records += jobs.len() as u64;
        let batch: Vec<(String, String)> = jobs.into_iter().map(|j| (j.id, j.body)).collect();
        counted.persist_batch(&batch).await;
    }
    let tallies = meter.snapshot();
    let messages = cfg.messages.max(1) as f64;
    let b = billed(&tallies, messages, batches as f64, records as f64, cfg);
    let conn_bytes = {
        let t = tallies
            .get("connections.for_users")
            .copied()
            .unwrap_or_default();
        if t.items == 0 {
            100.0
        } else {
            t.bytes as f64 / t.items as f64
        }
    };
    let scan = scan_rru(std::iter::repeat_n(
        conn_bytes.ceil() as usize,
        total_connections,
    ));
    Measurement {
        room_size: k,
        idle: cfg.idle,
        messages: cfg.messages,
        connections: total_connections,
        refused,
        calls_per_message: tallies
            .iter()
            .map(|(op, t)| (op.to_string(), t.calls as f64 / messages))
            .collect(),
        persist_batches: batches,
        billed: b,
        dollars_per_million: dollars_per_million(&b, &PRICES),
        scan_rru_per_message: scan,
        scan_dollars_per_million: scan * PRICES.dynamodb_rru,
        message_ms: cfg.message_ms,
        persist_ms: cfg.persist_ms,
        durations_measured: cfg.durations_measured,
        idle_month: cfg
            .keepalive
            .as_ref()
            .map(|k| idle_month(k, cfg.memory_mb, cfg.authorizer_ms, &PRICES)),
    }
}

/// The side-by-side table of several scenarios.
pub fn table(ms: &[Measurement], cfg: &CostConfig) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "cost model — {} messages per scenario, persist batches of {}, λ at {} MB arm64; λ durations {}",
        cfg.messages,
        cfg.batch_size,
        cfg.memory_mb,
        if ms.iter().all(|m| m.durations_measured) {
            "measured under modeled latency (chat-bench latency)"
        } else {
            "as given (--message-ms, --persist-ms)"
        }
    );
    let head: Vec<String> = ms
        .iter()
        .map(|m| format!("K={} idle={}", m.room_size, m.idle))
        .collect();
    let _ = write!(s, "  {:<34}", "per message");
    for h in &head {
        let _ = write!(s, " {h:>18}");
    }
    let _ = writeln!(s);
    let mut ops: Vec<&String> = ms.iter().flat_map(|m| m.calls_per_message.keys()).collect();
    ops.sort();
    ops.dedup();
    let row = |s: &mut String, name: &str, f: &dyn Fn(&Measurement) -> f64, prec: usize| {
        let _ = write!(s, "  {name:<34}");
        for m in ms {
            let _ = write!(s, " {:>18.prec$}", f(m));
        }
        let _ = writeln!(s);
    };
    row(
        &mut s,
        "connections registered",
        &|m| m.connections as f64,
        0,
    );
    row(&mut s, "sends refused", &|m| m.refused as f64, 0);
    for op in ops {
        row(
            &mut s,
            &format!("calls {op}"),
            &|m| m.calls_per_message.get(op).copied().unwrap_or(0.0),
            3,
        );
    }
    row(
        &mut s,
        "Lambda invocations",
        &|m| m.billed.message_invocations + m.billed.persist_invocations,
        3,
    );
    row(&mut s, "message λ billed ms", &|m| m.message_ms, 1);
    row(
        &mut s,
        "persist λ billed ms (a batch)",
        &|m| m.persist_ms,
        1,
    );
    row(&mut s, "Lambda GB-s", &|m| m.billed.lambda_gb_seconds, 5);
    row(
        &mut s,
        "API Gateway messages",
        &|m| m.billed.apigw_messages,
        3,
    );
    row(&mut s, "SQS requests", &|m| m.billed.sqs_requests, 3);
    row(&mut s, "DynamoDB RRU", &|m| m.billed.dynamodb_rru, 3);
    row(&mut s, "DynamoDB WRU", &|m| m.billed.dynamodb_wru, 3);
    let _ = writeln!(
        s,
        "  $ per million messages ({} list prices of {}):",
        PRICES.region, PRICES.date
    );
    row(
        &mut s,
        "  Lambda requests",
        &|m| m.dollars_per_million.lambda_requests,
        2,
    );
    row(
        &mut s,
        "  Lambda compute",
        &|m| m.dollars_per_million.lambda_compute,
        2,
    );
    row(
        &mut s,
        "  API Gateway messages",
        &|m| m.dollars_per_million.apigw_messages,
        2,
    );
    row(&mut s, "  SQS", &|m| m.dollars_per_million.sqs, 2);
    row(
        &mut s,
        "  DynamoDB reads",
        &|m| m.dollars_per_million.dynamodb_reads,
        2,
    );
    row(
        &mut s,
        "  DynamoDB writes",
        &|m| m.dollars_per_million.dynamodb_writes,
        2,
    );
    row(&mut s, "  total", &|m| m.dollars_per_million.total, 2);
    let _ = writeln!(
        s,
        "  counterfactual: fan-out that scans every connection per message"
    );
    row(
        &mut s,
        "  scan RRU per message",
        &|m| m.scan_rru_per_message,
        1,
    );
    row(
        &mut s,
        "  scan $ per million messages",
        &|m| m.scan_dollars_per_million,
        2,
    );
    let _ = writeln!(
        s,
        "  connection minutes: ${:.2} per 1,000 connections open for a 30-day month, idle or not",
        connection_month_dollars(1000.0, &PRICES)
    );
    if ms.iter().any(|m| m.idle_month.is_some()) {
        let _ = writeln!(
            s,
            "  $ per 1,000 idle connected clients per 30-day month, all in (each in one room of K, reconnecting every 2 h):"
        );
        type Line = (&'static str, fn(&IdleMonth) -> f64, usize);
        let lines: [Line; 11] = [
            ("  ping every (s)", |i| i.ping_secs as f64, 0),
            ("  pings per client", |i| i.pings_per_client, 0),
            ("  presence writes per ping", |i| i.writes_per_ping, 3),
            ("  connection minutes", |i| i.connection_minutes, 2),
            ("  pings: API Gateway msgs", |i| i.ping_apigw_messages, 2),
            ("  pings: Lambda", |i| i.ping_lambda, 2),
            ("  pings: DynamoDB", |i| i.ping_dynamodb, 2),
            (
                "  reconnects: presence pushes",
                |i| i.reconnect_apigw_messages,
                2,
            ),
            ("  reconnects: Lambda", |i| i.reconnect_lambda, 2),
            ("  reconnects: DynamoDB", |i| i.reconnect_dynamodb, 2),
            ("  total", |i| i.total, 2),
        ];
        for (name, f, prec) in lines {
            row(
                &mut s,
                name,
                &|m| m.idle_month.as_ref().map_or(0.0, f),
                prec,
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_attachment_costs_its_upload_claim_and_downloads_and_its_storage() {
        let c = super::attachment_cost(1_000_000, 9, &super::S3_PRICES);
        assert_eq!(
            (c.put_requests, c.get_requests, c.delete_requests),
            (2.0, 10.0, 1.0)
        );
        // 2 × $0.005/1000 + 10 × $0.0004/1000.
        assert!(
            (c.request_dollars - 0.000_014).abs() < 1e-12,
            "{}",
            c.request_dollars
        );
        // 1 MB at $0.023 per GB-month.
        assert!((c.storage_dollars_month - 0.000_023).abs() < 1e-12);
    }

    use super::*;

    fn tally(calls: u64, item_kib: u64, lookup_4kib: u64) -> Tally {
        Tally {
            calls,
            item_kib,
            lookup_4kib,
            ..Tally::default()
        }
    }

    #[test]
    fn dollars_are_units_times_list_prices() {
        let b = Billed {
            message_invocations: 1.0,
            persist_invocations: 0.08,
            lambda_gb_seconds: 0.015,
            apigw_messages: 11.0,
            sqs_requests: 2.4,
            dynamodb_rru: 13.5,
            dynamodb_wru: 5.0,
        };
        let d = dollars_per_million(&b, &PRICES);
        assert!((d.lambda_requests - 1.08 * 0.20).abs() < 1e-9);
        assert!((d.lambda_compute - 0.015 * 1e6 * 0.000_013_333_4).abs() < 1e-9);
        assert!((d.apigw_messages - 11.0).abs() < 1e-9);
        assert!((d.sqs - 0.96).abs() < 1e-9);
        assert!((d.dynamodb_reads - 13.5 * 0.125).abs() < 1e-9);
        assert!((d.dynamodb_writes - 5.0 * 0.625).abs() < 1e-9);
        let sum = d.lambda_requests
            + d.lambda_compute
            + d.apigw_messages
            + d.sqs
            + d.dynamodb_reads
            + d.dynamodb_writes;
        assert!((d.total - sum).abs() < 1e-9);
    }

    #[test]
    fn port_calls_map_to_the_dynamodb_operations_behind_them() {
        // A strongly consistent get: 1 RRU per 4 KB.
        assert_eq!(
            dynamodb_units("connections.get", &tally(1, 0, 1)),
            (1.0, 0.0)
        );
        // A GSI query per user: eventually consistent, half.
        assert_eq!(
            dynamodb_units("connections.for_users", &tally(1, 0, 10)),
            (5.0, 0.0)
        );
        // Reserve: read the claim, bump the sequence, then the reservation
        // (2 KiB here) and the seq's slot in one transaction, twice each.
        assert_eq!(
            dynamodb_units("messages.reserve.new", &tally(2, 2, 0)),
            (2.0, 2.0 + 2.0 * (2.0 + 2.0))
        );
        assert_eq!(
            dynamodb_units("messages.settle", &tally(3, 0, 0)),
            (0.0, 3.0)
        );
        // Read cursors move two attributes with two updates.
        assert_eq!(
            dynamodb_units("rooms.advance_cursor.read", &tally(3, 0, 0)),
            (0.0, 6.0)
        );
        assert_eq!(
            dynamodb_units("rooms.create", &tally(1, 11, 0)),
            (0.0, 22.0)
        );
        assert_eq!(dynamodb_units("pusher.post", &tally(9, 9, 0)), (0.0, 0.0));
    }

    #[tokio::test]
    async fn a_change_is_one_transaction_of_writes_whatever_the_room_size() {
        let small = change_costs(2, 10.0, 512.0).await;
        let big = change_costs(50, 10.0, 512.0).await;
        for (s, b) in small.iter().zip(&big) {
            assert_eq!(s.action, b.action);
            // Readers never cost a write: the same writes at K = 2 and 50.
            assert_eq!(s.wru, b.wru, "{}", s.action);
            assert_eq!(b.pushes, 50.0, "{}", b.action);
        }
        let wru = |a: &str| small.iter().find(|c| c.action == a).unwrap().wru;
        // The change's transaction: 2 × (counter + state + log entry).
        assert_eq!(wru("reaction"), 6.0);
        // An edit also rewrites its search entries; a delete removes them.
        assert!(wru("edit") > wru("reaction"));
        assert!(wru("delete") >= wru("reaction"));
    }

    #[test]
    fn the_search_index_is_billed_per_distinct_word_prefix_and_counted() {
        use chat_core::search::{buckets, terms};
        // The default 64-byte body: 13 words, 13 distinct 3-character
        // prefixes, so 13 entry items and a manifest.
        let body = sample_body(64);
        assert_eq!(body.len(), 64);
        assert_eq!(buckets(&terms(&body)).len(), 13);
        assert_eq!(
            dynamodb_units("search.index", &tally(1, 14, 0)),
            (0.0, 14.0)
        );
    }

    #[test]
    fn billed_units_are_per_message() {
        let mut t = BTreeMap::new();
        t.insert("pusher.post", tally(20, 20, 0));
        t.insert(
            "queue.enqueue",
            Tally {
                calls: 4,
                bytes: 2000,
                ..Tally::default()
            },
        );
        t.insert("messages.put_batch", tally(1, 2, 0));
        let cfg = CostConfig {
            message_ms: 100.0,
            persist_ms: 100.0,
            memory_mb: 1024.0,
            ..CostConfig::default()
        };
        let b = billed(&t, 2.0, 1.0, 4.0, &cfg);
        assert_eq!(b.apigw_messages, 1.0 + 10.0);
        // 4 sends + receive and delete one call each (4 records ≤ 10).
        assert_eq!(b.sqs_requests, (4.0 + 2.0) / 2.0);
        assert_eq!(b.dynamodb_wru, 1.0);
        assert_eq!(b.persist_invocations, 0.5);
        assert!((b.lambda_gb_seconds - (0.1 + 0.05)).abs() < 1e-12);
    }

    #[test]
    fn a_scan_is_billed_per_page_rounded_up_to_4_kb_as_dynamodb_documents() {
        // The DynamoDB developer guide's read-unit example: items whose
        // combined size is 40.8 KB are rounded to 44 KB, i.e. 11 units of
        // 4 KB, 5.5 RRU eventually consistent; at 40 KB it is 10 units.
        assert_eq!(scan_rru([41_779]), 5.5);
        assert_eq!(scan_rru(std::iter::repeat_n(418, 100)), 5.5);
        assert_eq!(scan_rru([40 * 1024]), 5.0);
        // Rounding is up: an empty table reads nothing, one byte a unit.
        assert_eq!(scan_rru([]), 0.0);
        assert_eq!(scan_rru([1]), 0.5);
        // Every item is read: one more item of 4 KB is one more half unit.
        let items = |n| std::iter::repeat_n(4096usize, n);
        assert_eq!(scan_rru(items(1001)) - scan_rru(items(1000)), 0.5);
        // Rounding is per page, not over the whole scan: three pages of
        // 1 MB + 1 byte each round up three times.
        let page = SCAN_PAGE_BYTES + 1;
        assert_eq!(
            scan_rru([page, page, page]),
            3.0 * (SCAN_PAGE_BYTES / 4096 + 1) as f64 / 2.0
        );
        assert!(scan_rru([page, page, page]) > scan_rru([3 * page]));
        assert!((connection_month_dollars(1000.0, &PRICES) - 10.8).abs() < 1e-9);
    }

    #[tokio::test]
    async fn the_scan_counterfactual_reads_every_connection_in_the_store() {
        let cfg = CostConfig {
            rooms: 2,
            messages: 20,
            idle: 700,
            ..CostConfig::default()
        };
        let m = measure(&cfg).await;
        assert_eq!(m.connections, 2 * cfg.room_size.max(2) + 700);
        let per_record = m.scan_rru_per_message / m.connections as f64;
        // A connection record is tens of bytes: a 4 KB unit holds dozens.
        assert!(
            per_record > 0.5 / 4096.0 * 20.0 && per_record < 0.5 / 4096.0 * 400.0,
            "{per_record}"
        );
    }

    #[tokio::test]
    async fn calls_per_message_do_not_grow_with_idle_connections() {
        let small = CostConfig {
            rooms: 3,
            messages: 60,
            idle: 10,
            ..CostConfig::default()
        };
        let big = CostConfig {
            idle: 2000,
            ..small.clone()
        };
        let (a, b) = (measure(&small).await, measure(&big).await);
        assert_eq!((a.refused, b.refused), (0, 0));
        assert_eq!(a.calls_per_message, b.calls_per_message);
        assert_eq!(a.billed, b.billed);
        assert!(b.scan_rru_per_message > 10.0 * a.scan_rru_per_message);
        // One message reaches the K − 1 other members, plus the sender's ack.
        let posts = a.calls_per_message["pusher.post"];
        assert!(posts >= 10.0, "{posts}");
        // The persist worker indexes each batch it stores, in one call.
        let (index, stores) = (
            a.calls_per_message["search.index"],
            a.calls_per_message["messages.put_batch"],
        );
        assert!(
            index > 0.0 && (index - stores).abs() < 1e-9,
            "{index} {stores}"
        );
    }

    #[test]
    fn idle_clients_pay_connection_minutes_pings_and_reconnects() {
        use crate::latency::Invocation;
        let t = |calls, lookup_4kib| Tally {
            calls,
            lookups: lookup_4kib,
            lookup_4kib,
            ..Tally::default()
        };
        let k = Keepalive {
            ping_secs: 540,
            pings: 10,
            // Each ping reads its connection and pongs; every other one writes.
            ping_calls: BTreeMap::from([
                ("connections.get", t(10, 10)),
                ("connections.touch", t(5, 0)),
                ("pusher.post", t(10, 0)),
            ]),
            ping_lambda: Invocation {
                invocations: 10,
                billed_ms: 20.0,
                ..Invocation::default()
            },
            contacts: 9,
            reconnect_calls: BTreeMap::from([("pusher.post", t(18, 0))]),
            connect_lambda: Invocation::default(),
            disconnect_lambda: Invocation::default(),
        };
        let m = idle_month(&k, 256.0, 10.0, &PRICES);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(m.pings_per_client, 4800.0));
        assert!(close(m.writes_per_ping, 0.5));
        assert!(close(m.connection_minutes, 10.8));
        // 4,800 pings in, 4,800 pongs out, per client: $9.60 per 1,000.
        assert!(close(m.ping_apigw_messages, 9.6));
        // 1 RRU and half a WRU per ping.
        assert!(close(m.ping_dynamodb, 4.8 * (0.125 + 0.5 * 0.625)));
        // 360 reconnects, each announcing offline then online to 9 contacts.
        assert!(close(m.reconnect_apigw_messages, 360.0 * 18.0 / 1000.0));
        let parts = m.connection_minutes
            + m.ping_apigw_messages
            + m.ping_lambda
            + m.ping_dynamodb
            + m.reconnect_apigw_messages
            + m.reconnect_lambda
            + m.reconnect_dynamodb;
        assert!(close(m.total, parts) && m.ping_lambda > 0.96);
    }

    #[test]
    fn notifications_cost_the_secret_per_cold_start_sns_per_publish_and_nat_bytes_per_web_push() {
        let p = &super::NOTIFY_PRICES;
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        // Nothing sent: the secret's month and its reads.
        let idle = super::notification_month(0.0, 0.0, 10_000.0, true, p);
        assert!(close(idle, 0.40 + 0.05));
        // A million mobile notifications: a request and a delivery each.
        let sns = super::notification_month(0.0, 1e6, 0.0, false, p) - 0.40;
        assert!(close(sns, 1.00));
        // A million Web Push requests through a NAT: ~2 GB processed.
        let web = super::notification_month(1e6, 0.0, 0.0, true, p) - 0.40;
        assert!(close(web, 2.048 * 0.045));
        assert!(close(
            super::notification_month(1e6, 0.0, 0.0, false, p),
            0.40
        ));
    }

    /// What offline notifications add to the persist worker: per offline
    /// member with a device and per coalescing window, one policy read, one
    /// device query, one window claim and one Web Push request per device;
    /// the other messages of the window cost the reads and a claim, no send.
    #[tokio::test]
    async fn an_offline_member_costs_one_send_per_window_not_per_message() {
        use chat_core::auth::Identity;
        use chat_core::memory::ManualClock;
        use chat_core::protocol::rest::{CreateRoomRequest, RegisterDeviceRequest};
        use chat_core::protocol::ws::SendMessage;
        use chat_core::service::{Caller, MemoryBackends};

        let mem = MemoryBackends::default();
        let clock = Arc::new(ManualClock::new(1_800_000_000_000));
        let chat = mem.chat(chat_core::config::Limits::default(), clock.clone());
        let who = |u: &str| Identity {
            user_id: uid(u),
            name: None,
        };
        let (alice, offline) = (who("alice"), ["bob", "carol", "dave"].map(who));
        let (_, room) = chat
            .create_room(
                &alice,
                CreateRoomRequest {
                    encrypted: false,
                    name: Some("g".into()),
                    kind: RoomKind::Group,
                    members: offline.iter().map(|m| m.user_id.clone()).collect(),
                },
            )
            .await
            .unwrap();
        for m in &offline {
            chat.register_device(
                m,
                RegisterDeviceRequest::web_push(
                    &format!("https://push.example.com/{}", m.user_id),
                    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
                    "BTBZMqHH6r4Tts7J_aSIgg",
                ),
            )
            .await
            .unwrap();
        }
        let meter = Meter::new();
        let counted = metered(&chat, &meter);
        let caller = Caller {
            user_id: alice.user_id.clone(),
            connection_id: chat_core::ids::ConnectionId::parse("alice=").unwrap(),
            expires_at: 0,
        };
        // Ten messages in one window, each persisted in its own batch.
        for i in 0..10 {
            counted
                .send_message(
                    &caller,
                    SendMessage {
                        sealed: None,
                        room_id: room.room.room_id.clone(),
                        client_msg_id: chat_core::ids::ClientMsgId::parse(&format!("c{i}"))
                            .unwrap(),
                        body: "lunch?".into(),
                        attachments: Vec::new(),
                        reply_to: None,
                    },
                )
                .await
                .unwrap();
            let records: Vec<_> = mem
                .queue
                .take(100)
                .into_iter()
                .map(|j| (j.id, j.body))
                .collect();
            counted.persist_batch(&records).await;
            clock.advance(1_000);
        }
        let calls = |op: &str| meter.get(op).calls;
        assert_eq!(
            calls("webpush.send"),
            3,
            "one per offline member's device, per window"
        );
        assert_eq!(
            calls("notify.claim"),
            30,
            "one claim per member and message"
        );
        assert_eq!(calls("notify.policy"), 30);
        assert_eq!(
            calls("notify.devices_of"),
            10,
            "one call (a query per member) per room and batch"
        );
        let (_, wru) = dynamodb_units("notify.claim", &meter.get("notify.claim"));
        assert_eq!(wru, 30.0);
    }
}
