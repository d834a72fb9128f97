//! The in-process guard's table (`chat_local::enforce`: each port call →
//! the IAM requests it needs, written by hand) checked against the wire:
//! every port call runs once on the real AWS adapters through the AWS proxy
//! (`chat_local::aws_proxy`, which decodes each request the SDK sends and
//! records what it asks IAM), and once on the in-memory adapters behind the
//! guard (which records what it asks). Both must ask the same: an adapter
//! that starts sending another request, or a table line that names an
//! action the adapter never needs, fails here instead of drifting apart.
//!
//! Independent of the suite's mode: the real side always runs on moto.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_core::config::{AwsConfig, Limits};
use chat_core::contract::{conn_record, connection, device, draft, member, profile, room, user};
use chat_core::model::{Job, Message, ProfilePatch, ReceiptStatus, Role, RoomKind};
use chat_core::ports::RangeQuery;
use chat_core::search::{IndexEntry, SearchQuery};
use chat_core::Chat;
use chat_local::aws_proxy::{self, Checked, Roles};
use chat_local::enforce::{self, Guard};
use chat_local::iam::{lock, Audit, DenialLog, Resources, RolePolicies};
use serde_json::json;

const REGION: &str = "us-east-1";

fn allow_all() -> RolePolicies {
    RolePolicies::new(
        "chat-probe",
        "ProbeRole",
        vec![(
            "all".into(),
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}),
        )],
        DenialLog::default(),
    )
    .expect("a valid policy")
}

type Asked = BTreeSet<(String, String)>;

#[tokio::test]
async fn every_port_call_asks_iam_in_process_what_the_adapters_send_on_the_wire() {
    let moto = chat_testkit::moto().url("http");
    let table = format!("xcheck-{}", uuid::Uuid::now_v7().simple());
    let admin = chat_adapters::aws::emulator_config(&moto).await;
    chat_adapters::dynamo::create_table(&aws_sdk_dynamodb::Client::new(&admin), &table)
        .await
        .expect("creates the table");
    let bucket = format!("xcheck-{}", uuid::Uuid::now_v7().simple());
    chat_adapters::s3::create_bucket(&admin, &bucket)
        .await
        .expect("creates the bucket");
    let (queue_url, dlq_url) = chat_local::sqs_source::create_queues(
        &aws_sdk_sqs::Client::new(&admin),
        &format!("{table}-messages"),
        Duration::from_secs(30),
        5,
    )
    .await
    .expect("creates the queues");
    let resources = Resources {
        region: REGION.into(),
        table_name: table.clone(),
        queue_name: queue_url.rsplit('/').next().unwrap().to_owned(),
        api_id: "local".into(),
        stage: "dev".into(),
        bucket_name: bucket.clone(),
    };

    // The wire: the real adapters, signing as "probe", through the proxy.
    let record: Arc<Mutex<Vec<Checked>>> = Arc::default();
    let roles = Roles::new(
        [(
            "probe".to_owned(),
            Arc::new(Guard::new(allow_all(), resources.clone())),
        )]
        .into(),
    );
    let proxy = aws_proxy::serve(Arc::new(roles), &moto, Some(record.clone()))
        .await
        .expect("the proxy listens");
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(proxy.url())
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "probe", "local", None, None, "test",
        ))
        .load()
        .await;
    let wire = chat_adapters::wiring::aws_chat(
        &sdk,
        &AwsConfig {
            table_name: table.clone(),
            queue_url: Some(queue_url),
            dlq_url: Some(dlq_url),
            ws_endpoint: Some("http://127.0.0.1:9/dev".into()),
            bucket_name: Some(bucket.clone()),
            vapid_secret_arn: None,
            sns_fcm_app_arn: None,
            sns_apns_app_arn: None,
            endpoint_url: Some(proxy.url()),
            redis: None,
        },
        Limits::default(),
    )
    .expect("the real adapters");

    // The table: the in-memory adapters behind the guard.
    let audit: Audit = Arc::default();
    let (memory, mem) = Chat::in_memory(Limits::default());
    let table_side = enforce::guarded(
        &memory,
        Arc::new(Guard::new(allow_all().audited(audit.clone()), resources)),
    );

    let (u, u2) = (user("u"), user("v"));
    let c = connection("c");
    let r = room(RoomKind::Group, &u, 1_000);
    let owner = member(&r, &u, Role::Owner);
    let second = member(&r, &u2, Role::Member);
    let d = draft(&r.room_id, &u, "m1", "hello");
    let mut last: [Option<Message>; 2] = [None, None];

    let mut drift = Vec::new();
    for step in 0..59 {
        let mut asked: [Asked; 2] = [Asked::new(), Asked::new()];
        for (side, chat) in [&wire, &table_side].into_iter().enumerate() {
            lock(&record).clear();
            lock(&audit).clear();
            let what = run(
                step,
                chat,
                &mut last[side],
                Ctx {
                    mem: (side == 1).then_some(&mem),
                    u: &u,
                    u2: &u2,
                    c: &c,
                    r: &r,
                    owner: &owner,
                    second: &second,
                    d: &d,
                },
            )
            .await;
            asked[side] = if side == 0 {
                lock(&record)
                    .iter()
                    .map(|k| (k.needs.action.clone(), k.needs.resource.clone()))
                    .collect()
            } else {
                lock(&audit).iter().cloned().collect()
            };
            if side == 1 && asked[0] != asked[1] {
                drift.push(format!(
                    "{what}: the adapters send {:?}, the guard asks {:?}",
                    asked[0], asked[1]
                ));
            }
        }
    }
    assert!(
        drift.is_empty(),
        "enforce.rs and the adapters disagree:\n{}",
        drift.join("\n")
    );
}

struct Ctx<'a> {
    /// The in-memory side's store, which a client uploads to (the wire
    /// side's client uploads through the proxy, as S3 authorizes it).
    mem: Option<&'a chat_core::service::MemoryBackends>,
    u: &'a chat_core::ids::UserId,
    u2: &'a chat_core::ids::UserId,
    c: &'a chat_core::ids::ConnectionId,
    r: &'a chat_core::model::Room,
    owner: &'a chat_core::model::Membership,
    second: &'a chat_core::model::Membership,
    d: &'a chat_core::model::MessageDraft,
}

/// Port call number `step` on `chat`; its name. Results are not compared
/// (the contract suites do that): only what each side asks IAM.
async fn run(step: usize, chat: &Chat, last: &mut Option<Message>, x: Ctx<'_>) -> &'static str {
    let rid = &x.r.room_id;
    match step {
        0 => {
            let _ = chat.profiles.create_if_absent(&profile(x.u, "U")).await;
            "profiles.create_if_absent"
        }
        1 => {
            let _ = chat.profiles.get(x.u).await;
            "profiles.get"
        }
        2 => {
            let _ = chat.profiles.get_many(std::slice::from_ref(x.u)).await;
            "profiles.get_many"
        }
        3 => {
            let patch = ProfilePatch {
                display_name: None,
                avatar_url: None,
            };
            let _ = chat.profiles.update(x.u, &patch, 2_000).await;
            "profiles.update"
        }
        4 => {
            let _ = chat.connections.put(&conn_record(x.c, x.u, 5_000)).await;
            "connections.put"
        }
        5 => {
            let _ = chat.connections.get(x.c).await;
            "connections.get"
        }
        6 => {
            let _ = chat.connections.touch(x.c, 9_000).await;
            "connections.touch"
        }
        7 => {
            let _ = chat.connections.for_users(std::slice::from_ref(x.u)).await;
            "connections.for_users"
        }
        8 => {
            let _ = chat.connections.delete(x.c).await;
            "connections.delete"
        }
        9 => {
            let _ = chat.rooms.create(x.r, std::slice::from_ref(x.owner)).await;
            "rooms.create"
        }
        10 => {
            let _ = chat.rooms.get(rid).await;
            "rooms.get"
        }
        11 => {
            let _ = chat.rooms.get_many(std::slice::from_ref(rid)).await;
            "rooms.get_many"
        }
        12 => {
            let _ = chat.rooms.membership(rid, x.u).await;
            "rooms.membership"
        }
        13 => {
            let _ = chat.rooms.members(rid).await;
            "rooms.members"
        }
        14 => {
            let _ = chat.rooms.rooms_of(x.u).await;
            "rooms.rooms_of"
        }
        15 => {
            let _ = chat.rooms.add_member(x.second).await;
            "rooms.add_member"
        }
        16 => {
            let _ = chat
                .rooms
                .advance_cursor(rid, x.u, ReceiptStatus::Delivered, 1)
                .await;
            "rooms.advance_cursor"
        }
        17 => {
            let _ = chat.rooms.remove_member(rid, x.u2).await;
            "rooms.remove_member"
        }
        18 => {
            let _ = chat.rooms.list_channels(10).await;
            "rooms.list_channels"
        }
        19 => {
            if let Ok(r) = chat.messages.reserve(x.d.clone()).await {
                *last = Some(r.message().clone());
            }
            "messages.reserve"
        }
        20 => {
            let _ = chat.messages.last_seq(rid).await;
            "messages.last_seq"
        }
        21 => {
            let batch: Vec<Message> = last.iter().cloned().collect();
            let _ = chat.messages.put_batch(&batch).await;
            "messages.put_batch"
        }
        22 => {
            let q = RangeQuery {
                after: None,
                before: None,
                limit: 10,
                newest_first: true,
            };
            let _ = chat.messages.range(rid, q).await;
            "messages.range"
        }
        23 => {
            let _ = chat.messages.latest(std::slice::from_ref(rid)).await;
            "messages.latest"
        }
        24 => {
            // A seq nobody reserved: burned.
            let _ = chat.messages.settle(rid, 7).await;
            "messages.settle"
        }
        25 => {
            // The seq a message was reserved at: the slot comes back with
            // the failed condition.
            if let Some(m) = last {
                let _ = chat.messages.settle(rid, m.seq).await;
            }
            "messages.settle (reserved)"
        }
        26 => {
            // Too many members for one transaction: chunks guarded by a
            // ConditionCheck that the room is still absent.
            let big = room(RoomKind::Channel, x.u, 1_000);
            let members: Vec<_> = (0..chat_adapters::dynamo::MAX_TRANSACT)
                .map(|i| member(&big, &user(&format!("m{i}")), Role::Member))
                .collect();
            let _ = chat.rooms.create(&big, &members).await;
            "rooms.create (over one transaction)"
        }
        27 => {
            let entries: Vec<_> = last.iter().filter_map(IndexEntry::of).collect();
            let _ = chat.search.index(&entries).await;
            "search.index"
        }
        28 => {
            let q = SearchQuery::parse("hello").expect("a query");
            let _ = chat.search.search(rid, &q, None, 10).await;
            "search.search"
        }
        29 => {
            // An indexed message: the manifest read, then the deletes. (Of
            // a seq never indexed only the read goes out; the guard asks
            // for both either way.)
            if let Some(m) = last {
                let _ = chat.search.remove(rid, m.seq).await;
            }
            "search.remove"
        }
        // The attachments' bucket. A presigned request asks IAM when the
        // client sends it (the wire side sends it), the guard when the
        // function signs it: both must ask the same.
        30 => {
            let _ = chat.blobs.head("pending/xcheck").await;
            "blobs.head (missing: ListBucket too)"
        }
        31 => {
            let spec = chat_core::ports::UploadSpec {
                content_type: "image/png".into(),
                content_length: 3,
                metadata: [("owner".to_owned(), "u".to_owned())].into(),
            };
            let now = chat_core::contract::wall_clock();
            if let Ok(p) = chat
                .blobs
                .presign_put("pending/xcheck", &spec, now, 60_000)
                .await
            {
                match x.mem {
                    Some(mem) => {
                        let (key, query) = p
                            .url
                            .split_once("/blobs/")
                            .unwrap()
                            .1
                            .split_once('?')
                            .unwrap();
                        let meta = [("x-amz-meta-owner".to_owned(), "u".to_owned())].into();
                        let _ = mem.blobs.put_signed(
                            key,
                            query,
                            "image/png",
                            &meta,
                            b"abc".to_vec(),
                            now,
                        );
                    }
                    None => {
                        let mut req = reqwest::Client::new().put(&p.url).body(b"abc".to_vec());
                        for (k, v) in &p.headers {
                            req = req.header(k, v);
                        }
                        let _ = req.send().await;
                    }
                }
            }
            "blobs.presign_put, then the upload"
        }
        32 => {
            let _ = chat.blobs.head("pending/xcheck").await;
            "blobs.head"
        }
        33 => {
            let _ = chat
                .blobs
                .promote(
                    "pending/xcheck",
                    &format!("rooms/{rid}/xcheck"),
                    "image/png",
                    &Default::default(),
                )
                .await;
            "blobs.promote"
        }
        34 => {
            let spec = chat_core::ports::DownloadSpec {
                content_type: "image/png".into(),
                disposition: "inline".into(),
            };
            let key = format!("rooms/{rid}/xcheck");
            let now = chat_core::contract::wall_clock();
            if let Ok(url) = chat.blobs.presign_get(&key, &spec, now, 60_000).await {
                if x.mem.is_none() {
                    let _ = reqwest::get(&url).await;
                }
            }
            "blobs.presign_get, then the download"
        }
        35 => {
            let _ = chat.notify.put_device(&device(x.u)).await;
            "notify.put_device"
        }
        36 => {
            let _ = chat.notify.devices(x.u).await;
            "notify.devices"
        }
        37 => {
            let _ = chat.notify.devices_of(std::slice::from_ref(x.u)).await;
            "notify.devices_of"
        }
        38 => {
            let _ = chat.notify.remove_device(x.u, &device(x.u).device_id).await;
            "notify.remove_device"
        }
        39 => {
            let _ = chat.notify.put_policy(x.u, &Default::default()).await;
            "notify.put_policy"
        }
        40 => {
            let _ = chat.notify.policy(x.u).await;
            "notify.policy"
        }
        41 => {
            let _ = chat.notify.claim(x.u, rid, 1, 1_000_000, 30_000).await;
            "notify.claim"
        }
        42 => {
            let _ = chat.messages.get(rid, 1).await;
            "messages.get"
        }
        43 => {
            let _ = chat.messages.replies(rid, 1, None, 10).await;
            "messages.replies"
        }
        // Edits, deletes and reactions.
        44 => {
            let _ = chat.changes.last_change(rid).await;
            "changes.last_change"
        }
        45 => {
            let _ = chat
                .changes
                .commit(&chat_core::contract::state(rid, 1, 1))
                .await;
            "changes.commit"
        }
        46 => {
            let _ = chat.changes.state(rid, 1).await;
            "changes.state"
        }
        47 => {
            let _ = chat.changes.states(rid, 1, 10).await;
            "changes.states"
        }
        48 => {
            let _ = chat.changes.changes_after(rid, 0, 10).await;
            "changes.changes_after"
        }
        49 => {
            let _ = chat.blobs.delete(&format!("rooms/{rid}/xcheck")).await;
            "blobs.delete"
        }
        // Blocks.
        50 => {
            let block = chat_core::block::Block {
                user_id: x.u.clone(),
                target_id: user("blocked"),
                created_at: 1,
            };
            let _ = chat.blocks.block(&block).await;
            "blocks.block"
        }
        51 => {
            let _ = chat.blocks.relations(x.u).await;
            "blocks.relations"
        }
        52 => {
            let _ = chat.blocks.unblock(x.u, &user("blocked")).await;
            "blocks.unblock"
        }
        // Device keys of encrypted rooms, and the replay guard.
        53 => {
            let key = chat_core::e2ee::DeviceKey {
                user_id: x.u.clone(),
                device_id: chat_core::e2ee::DeviceId::parse("d1").unwrap(),
                public_key: chat_core::e2ee::PublicKey::parse(
                    "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU",
                )
                .unwrap(),
                created_at: 1,
            };
            let _ = chat.keys.put_key(&key).await;
            "keys.put_key"
        }
        54 => {
            let _ = chat.keys.keys(x.u).await;
            "keys.keys"
        }
        55 => {
            let d = chat_core::e2ee::DeviceId::parse("d1").unwrap();
            let _ = chat.keys.delete_key(x.u, &d).await;
            "keys.delete_key"
        }
        56 | 57 => {
            // The second claim of the same digest by another message
            // fails its condition: still one PutItem.
            let cmid = chat_core::ids::ClientMsgId::parse(&format!("c{step}")).unwrap();
            let _ = chat.keys.claim_seal(rid, "digest", x.u, &cmid).await;
            "keys.claim_seal"
        }
        _ => {
            let job = Job::MarkDelivered {
                room_id: rid.clone(),
                seq: 1,
                user_ids: vec![x.u.clone()],
                notify: vec![],
            };
            let _ = chat.queue.enqueue(&[job]).await;
            "queue.enqueue"
        }
    }
}

/// The persist function's cold-start read of the VAPID secret, through the
/// proxy: it asks IAM what `enforce::vapid_secret_read` says, and a role
/// granted another secret only is refused (Web Push then stays off).
#[tokio::test]
async fn the_vapid_secret_read_asks_iam_what_the_table_says_and_another_secrets_grant_is_refused() {
    use chat_adapters::vapid_secret::{load, VapidUnavailable};
    let moto = chat_testkit::moto().url("http");
    let admin = chat_adapters::aws::emulator_config(&moto).await;
    let secrets = aws_sdk_secretsmanager::Client::new(&admin);
    let value = json!({
        "publicKey": chat_adapters::webpush::DEV_VAPID_PUBLIC,
        "privateKey": chat_adapters::webpush::DEV_VAPID_PRIVATE,
        "subject": "mailto:ops@example.com",
    })
    .to_string();
    let arn = secrets
        .create_secret()
        .name(format!("vapid-{}", uuid::Uuid::now_v7().simple()))
        .secret_string(value)
        .send()
        .await
        .expect("creates the secret")
        .arn()
        .expect("an ARN")
        .to_owned();
    let resources = Resources {
        region: REGION.into(),
        table_name: "t".into(),
        queue_name: "q".into(),
        api_id: "local".into(),
        stage: "dev".into(),
        bucket_name: "b".into(),
    };
    let only = |resource: &str| {
        RolePolicies::new(
            "chat-persist",
            "PersistRole",
            vec![(
                "vapid".into(),
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
                    "Action":"secretsmanager:GetSecretValue","Resource":resource}]}),
            )],
            DenialLog::default(),
        )
        .expect("a valid policy")
    };
    let guard = |policies| Arc::new(Guard::new(policies, resources.clone()));
    let record: Arc<Mutex<Vec<Checked>>> = Arc::default();
    let roles = Roles::new(
        [
            ("probe".to_owned(), guard(only(&arn))),
            (
                "other".to_owned(),
                guard(only(
                    "arn:aws:secretsmanager:us-east-1:000000000000:secret:other-*",
                )),
            ),
        ]
        .into(),
    );
    let proxy = aws_proxy::serve(Arc::new(roles), &moto, Some(record.clone()))
        .await
        .expect("the proxy listens");
    let client = |key: &str| {
        let url = proxy.url();
        let key = key.to_owned();
        async move {
            let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .endpoint_url(url)
                .region(aws_config::Region::new(REGION))
                .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                    key, "local", None, None, "test",
                ))
                .load()
                .await;
            aws_sdk_secretsmanager::Client::new(&sdk)
        }
    };
    let vapid = load(&client("probe").await, &arn).await.expect("granted");
    assert_eq!(vapid.public_key(), chat_adapters::webpush::DEV_VAPID_PUBLIC);
    let asked: Asked = lock(&record)
        .iter()
        .map(|k| (k.needs.action.clone(), k.needs.resource.clone()))
        .collect();
    assert_eq!(asked, [enforce::vapid_secret_read(&arn)].into());
    // The in-process table says the same of both roles.
    assert!(guard(only(&arn)).read_vapid_secret(&arn).is_ok());
    assert!(guard(only(
        "arn:aws:secretsmanager:us-east-1:000000000000:secret:other-*"
    ))
    .read_vapid_secret(&arn)
    .is_err());
    let e = load(&client("other").await, &arn)
        .await
        .expect_err("another secret's grant");
    assert!(matches!(e, VapidUnavailable::Unreadable(_)), "{e}");
}

/// Mobile push's SNS calls (`chat_adapters::sns`) through the proxy ask
/// IAM what `enforce::sns_call` says the guard asks, step by step: create
/// (`CreatePlatformEndpoint` on the application, `SetEndpointAttributes`
/// on its endpoint), `Publish` and `DeleteEndpoint` on the endpoint. The
/// endpoint's ARN is each side's own (moto's, the in-memory twin's), so it
/// is compared as the endpoint the create step answered. A role granted
/// another application only is refused, as SNS refuses, and the refusal
/// is logged where `/dev/denied` lists it.
#[tokio::test]
async fn the_sns_calls_ask_iam_what_the_table_says_and_a_role_without_the_grant_is_refused() {
    use chat_core::mobile::{MobilePlatform, MobileToken};
    use chat_core::ports::MobilePush;
    let moto = chat_testkit::moto().url("http");
    let admin = chat_adapters::aws::emulator_config(&moto).await;
    let prefix = format!("xcheck-{}", uuid::Uuid::now_v7().simple());
    let apps = chat_adapters::sns::create_platform_applications(&admin, &prefix)
        .await
        .expect("creates the platform applications");
    let fcm_app = apps[&MobilePlatform::Fcm].clone();
    let resources = Resources {
        region: REGION.into(),
        table_name: "t".into(),
        queue_name: "q".into(),
        api_id: "local".into(),
        stage: "dev".into(),
        bucket_name: "b".into(),
    };
    let denials = DenialLog::default();
    let other = RolePolicies::new(
        "chat-users",
        "UsersRole",
        vec![(
            "sns".into(),
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
                "Action":["sns:CreatePlatformEndpoint","sns:SetEndpointAttributes","sns:Publish","sns:DeleteEndpoint"],
                "Resource":"arn:aws:sns:us-east-1:000000000000:app/GCM/another-app"}]}),
        )],
        denials.clone(),
    )
    .expect("a valid policy");
    let guard = |policies| Arc::new(Guard::new(policies, resources.clone()));
    let record: Arc<Mutex<Vec<Checked>>> = Arc::default();
    let roles = Roles::new(
        [
            ("probe".to_owned(), guard(allow_all())),
            ("other".to_owned(), guard(other)),
        ]
        .into(),
    );
    let proxy = aws_proxy::serve(Arc::new(roles), &moto, Some(record.clone()))
        .await
        .expect("the proxy listens");
    let sdk = |key: &str| {
        let url = proxy.url();
        let key = key.to_owned();
        async move {
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .endpoint_url(url)
                .region(aws_config::Region::new(REGION))
                .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                    key, "local", None, None, "test",
                ))
                .load()
                .await
        }
    };
    let wire: Arc<dyn MobilePush> = Arc::new(chat_adapters::sns::SnsMobilePush::new(
        &sdk("probe").await,
        apps.clone(),
    ));
    let audit: Audit = Arc::default();
    let table_side = enforce::guarded_mobile(
        Arc::new(chat_core::memory::MemoryMobile::default()),
        guard(allow_all().audited(audit.clone())),
        apps.clone(),
    );

    let token = MobileToken {
        platform: MobilePlatform::Fcm,
        token: format!("dQw4w9WgXcQ:APA91b{}", "x".repeat(40)),
    };
    let owner = user("u");
    let mut endpoint: [String; 2] = Default::default();
    for step in 0..3 {
        let mut asked: [Asked; 2] = [Asked::new(), Asked::new()];
        for (side, mobile) in [&wire, &table_side].into_iter().enumerate() {
            lock(&record).clear();
            lock(&audit).clear();
            match step {
                0 => {
                    endpoint[side] = mobile
                        .create_endpoint(&token, &owner)
                        .await
                        .expect("creates the endpoint");
                }
                1 => mobile
                    .publish(&endpoint[side], r#"{"default":"x","GCM":"{}"}"#)
                    .await
                    .expect("publishes"),
                _ => mobile
                    .delete_endpoint(&endpoint[side])
                    .await
                    .expect("deletes the endpoint"),
            }
            let got: Vec<(String, String)> = if side == 0 {
                lock(&record)
                    .iter()
                    .map(|k| (k.needs.action.clone(), k.needs.resource.clone()))
                    .collect()
            } else {
                lock(&audit).iter().cloned().collect()
            };
            asked[side] = got
                .into_iter()
                .map(|(a, r)| {
                    let r = if r == endpoint[side] {
                        "<endpoint>".to_owned()
                    } else {
                        r
                    };
                    (a, r)
                })
                .collect();
        }
        let expected: Asked = match step {
            0 => [
                enforce::sns_call("CreatePlatformEndpoint", &fcm_app),
                enforce::sns_call("SetEndpointAttributes", "<endpoint>"),
            ]
            .into(),
            1 => [enforce::sns_call("Publish", "<endpoint>")].into(),
            _ => [enforce::sns_call("DeleteEndpoint", "<endpoint>")].into(),
        };
        assert_eq!(asked[0], expected, "step {step}: the wire");
        assert_eq!(asked[1], expected, "step {step}: the guard");
    }

    // Without the grant: the SDK's AuthorizationError, logged as denied;
    // the guard refuses the same.
    let sns = aws_sdk_sns::Client::new(&sdk("other").await);
    let e = sns
        .create_platform_endpoint()
        .platform_application_arn(&fcm_app)
        .token(&token.token)
        .send()
        .await
        .expect_err("no grant on this application");
    assert!(
        e.as_service_error()
            .is_some_and(|s| s.is_authorization_error_exception()),
        "{e:?}"
    );
    let denied: Vec<(String, String)> = lock(&denials)
        .iter()
        .map(|d| (d.action.clone(), d.resource.clone()))
        .collect();
    assert_eq!(
        denied,
        [enforce::sns_call("CreatePlatformEndpoint", &fcm_app)]
    );
    let guarded_other = enforce::guarded_mobile(
        Arc::new(chat_core::memory::MemoryMobile::default()),
        guard(
            RolePolicies::new(
                "chat-users",
                "UsersRole",
                vec![(
                    "sns".into(),
                    json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
                        "Action":"sns:CreatePlatformEndpoint",
                        "Resource":"arn:aws:sns:us-east-1:000000000000:app/GCM/another-app"}]}),
                )],
                DenialLog::default(),
            )
            .expect("a valid policy"),
        ),
        apps,
    );
    assert!(matches!(
        guarded_other.create_endpoint(&token, &owner).await,
        Err(chat_core::error::MobilePushError::Failed(_))
    ));
}
