//! `CHAT_E2E_FUNCTIONS=watch`: every test of this suite runs with the
//! platform on the `aws` backend (DynamoDB and SQS in moto, the Redis cache)
//! invoking the function **binaries** through a real `cargo lambda watch`,
//! as `chat-local --backend aws --lambda-endpoint …` does. Build the binaries
//! first (`cargo build --bins`): watch starts each one with `cargo run` on
//! its first invocation.
//!
//! **One `cargo lambda watch` per test.** The functions read their
//! configuration once, from watch's environment fixed when it starts, while
//! each test has its own table, queues, Redis and platform port (the
//! `@connections` endpoint the functions push to). The alternative, one
//! watch per test process over a shared table and queue with isolation by
//! unique ids, does not hold here: a push must reach the platform instance
//! that holds the socket, so the tests would have to share one platform and
//! its options (the idle timeout, the queue's redrive settings), and every
//! instance's event source would take the others' queue records. With the
//! binaries built, a watch costs its start plus, per function a test uses,
//! one `cargo run` freshness check (median 0.9 s, at most 2.2 s over 84
//! starts, measured on 2 busy cores) and a cold start of milliseconds: the
//! 20 tests took 41–76 s here against 20 s in-process on the same adapters.
//!
//! **With a template** (`CHAT_E2E_TEMPLATE`, or a template test's own edited
//! one) the platform starts the watches itself, one per function, each
//! with that function's environment from the template and its own
//! credentials, which its AWS proxy and `@connections` twin enforce the
//! function's role on ([`template_functions_under_watch`];
//! `chat_local::watch`). Eight watches per test: the 40 tests took 73 s
//! (4 threads) to 135 s (2 threads, load average 10-17 from other builds)
//! here.
//!
//! Tests that reach into the platform's own process (fault injection in
//! front of its message store, the manual clock) cannot reach functions in
//! other processes: they call [`in_process_only`], which logs why they skip,
//! or do the same through the queue ([`Watch::send_to_queue`]).

use std::sync::{Arc, Mutex};

use chat_core::config::{vars, AwsConfig, Limits};
use chat_local::{AwsBackend, Backend, Options};

const PROJECT_AT_TRACE: &str = "info,chat_core=trace,chat_adapters=trace,\
chat_authorizer=trace,chat_connect=trace,chat_message=trace,chat_disconnect=trace,\
chat_persist=trace,chat_history=trace,chat_users=trace,chat_rooms=trace";

/// Is the suite running its functions under `cargo lambda watch`?
pub fn enabled() -> bool {
    std::env::var("CHAT_E2E_FUNCTIONS").is_ok_and(|f| f == "watch")
}

/// True (and says why on stderr) when the calling test cannot run under
/// watch: it must then return without checking anything.
pub fn in_process_only(test: &str, reason: &str) -> bool {
    let skip = enabled();
    if skip {
        eprintln!("SKIPPED under CHAT_E2E_FUNCTIONS=watch: {test}: {reason}");
    }
    skip
}

/// The functions of one test under `cargo lambda watch`.
pub struct Watch {
    /// Stop watch, and with it the functions, when dropped: one for every
    /// function in template mode, else one for them all.
    servers: Arc<Mutex<Vec<chat_testkit::Server>>>,
    queue_name: String,
    sqs: aws_sdk_sqs::Client,
}

impl Watch {
    /// Everything the watches and their functions printed so far.
    pub fn logs(&self) -> String {
        self.servers
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.log())
            .collect()
    }

    /// Puts `body` on the queue the platform feeds to the persistence
    /// function, as if the message function had queued it.
    pub async fn send_to_queue(&self, body: &str) {
        let url = self
            .sqs
            .get_queue_url()
            .queue_name(&self.queue_name)
            .send()
            .await
            .expect("the platform's queue exists");
        self.sqs
            .send_message()
            .queue_url(url.queue_url().unwrap_or_default())
            .message_body(body)
            .send()
            .await
            .expect("sends to the queue");
    }
}

/// Template mode under watch: the platform starts one `cargo lambda watch`
/// per function with the template's environment for it (plus `RUST_LOG`,
/// as below) and creates the table and queues itself. `o` must be on the
/// `aws` backend and carry the template.
pub async fn template_functions_under_watch(o: &mut Options) -> Watch {
    let Backend::Aws(AwsBackend { config, .. }) = &o.backend else {
        panic!("watch mode needs the aws backend");
    };
    let endpoint = config
        .endpoint_url
        .clone()
        .expect("the aws backend of the e2e suite runs on moto");
    let sdk = chat_adapters::aws::emulator_config(&endpoint).await;
    let servers: Arc<Mutex<Vec<chat_testkit::Server>>> = Arc::default();
    let keep = servers.clone();
    o.watch = Some(Arc::new(move |_name: &str, env: &[(String, String)]| {
        let mut env = env.to_vec();
        if std::env::var_os("RUST_LOG").is_none() {
            env.retain(|(k, _)| k != "RUST_LOG");
            env.push(("RUST_LOG".into(), PROJECT_AT_TRACE.into()));
        }
        let server = chat_testkit::cargo_lambda_watch(&env);
        let launched = chat_local::watch::Launched {
            endpoint: server.url("http"),
            log: server.log_path().to_owned(),
            handle: Box::new(()),
        };
        keep.lock().unwrap().push(server);
        Ok(launched)
    }));
    Watch {
        servers,
        queue_name: format!("{}-messages", config.table_name),
        sqs: aws_sdk_sqs::Client::new(&sdk),
    }
}

/// Creates this test's table and queues, starts `cargo lambda watch` with
/// the environment the deployed functions get from the stack, and points
/// the platform at it. `o` must already be on the `aws` backend.
pub async fn functions_under_watch(o: &mut Options) -> Watch {
    assert_eq!(
        o.limits,
        Limits::default(),
        "watch mode passes no CHAT_* limits to the functions: pass the tweaked ones in `env` below"
    );
    let Backend::Aws(AwsBackend { config, .. }) = &o.backend else {
        panic!("watch mode needs the aws backend");
    };
    let endpoint = config
        .endpoint_url
        .clone()
        .expect("the aws backend of the e2e suite runs on moto");
    let sdk = chat_adapters::aws::emulator_config(&endpoint).await;
    chat_adapters::dynamo::create_table(&aws_sdk_dynamodb::Client::new(&sdk), &config.table_name)
        .await
        .expect("creates the table");
    if let Some(bucket) = &config.bucket_name {
        chat_adapters::s3::create_bucket(&sdk, bucket)
            .await
            .expect("creates the bucket");
    }
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let (queue_url, dlq_url) = chat_local::sqs_source::create_queues(
        &sqs,
        &format!("{}-messages", config.table_name),
        o.queue.visibility_timeout,
        o.queue.max_receive_count,
    )
    .await
    .expect("creates the queues");
    // Mobile push: platform applications in moto, whose ARNs the functions
    // get as the template gives them to the users and persist functions.
    let apps = chat_adapters::sns::create_platform_applications(&sdk, &config.table_name)
        .await
        .expect("creates the platform applications");
    // The functions need the platform's `@connections` endpoint before it
    // starts, and the platform needs watch's address: fix the port first.
    o.port = chat_testkit::free_port();
    let config = AwsConfig {
        queue_url: Some(queue_url),
        dlq_url: Some(dlq_url),
        ws_endpoint: Some(format!("http://127.0.0.1:{}/{}", o.port, o.stage)),
        ..config.clone()
    };
    let mut env = vec![
        (vars::BACKEND, "aws".to_owned()),
        (vars::TABLE_NAME, config.table_name.clone()),
        (vars::JWT_SECRET, o.secret.clone()),
        (vars::AWS_ENDPOINT_URL, endpoint),
        ("AWS_REGION", chat_adapters::aws::EMULATOR_REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
    ];
    let optional = [
        (vars::QUEUE_URL, config.queue_url.clone()),
        (vars::DLQ_URL, config.dlq_url.clone()),
        (vars::WS_ENDPOINT, config.ws_endpoint.clone()),
        (vars::BUCKET_NAME, config.bucket_name.clone()),
        // The persist function reads the VAPID secret at cold start: none
        // is in moto, so its Web Push is off (WebPushDisabled), as in a
        // stack whose secret was never filled.
        (
            vars::VAPID_SECRET_ARN,
            Some(config.vapid_secret_arn.clone().unwrap_or_else(|| {
                "arn:aws:secretsmanager:us-east-1:000000000000:secret:chat-vapid-unset".to_owned()
            })),
        ),
        (
            vars::SNS_FCM_APP_ARN,
            apps.get(&chat_core::mobile::MobilePlatform::Fcm).cloned(),
        ),
        (
            vars::SNS_APNS_APP_ARN,
            apps.get(&chat_core::mobile::MobilePlatform::Apns).cloned(),
        ),
        (
            vars::REDIS_URL,
            config.redis.as_ref().map(|r| r.url.expose().to_owned()),
        ),
        (
            chat_core::deploy::settings().redis_timeout_ms.env.as_str(),
            config.redis.as_ref().map(|r| r.timeout_ms.to_string()),
        ),
        (
            chat_core::deploy::settings()
                .redis_index_hold_ms
                .env
                .as_str(),
            config.redis.as_ref().map(|r| r.index_hold_ms.to_string()),
        ),
        (
            vars::REDIS_MODE,
            config.redis.as_ref().map(|r| r.mode.as_str().to_owned()),
        ),
    ];
    env.extend(optional.into_iter().filter_map(|(k, v)| Some((k, v?))));
    // The project's own code at TRACE, like the in-process functions of the
    // log tests; a RUST_LOG of the test run wins.
    if std::env::var_os("RUST_LOG").is_none() {
        env.push(("RUST_LOG", PROJECT_AT_TRACE.to_owned()));
    }
    let env: Vec<(String, String)> = env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let server = chat_testkit::cargo_lambda_watch(&env);
    o.lambda_endpoint = Some(server.url("http"));
    o.backend = Backend::Aws(AwsBackend {
        config: config.clone(),
        create_resources: false,
    });
    Watch {
        servers: Arc::new(Mutex::new(vec![server])),
        queue_name: format!("{}-messages", config.table_name),
        sqs,
    }
}
