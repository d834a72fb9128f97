//! The SQS queue (moto): what the persistence worker receives is exactly
//! what the in-memory queue would hold, with the tracing attributes.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::MessageSystemAttributeName;
use chat_adapters::sqs::SqsQueue;
use chat_adapters::trace::TraceContext;
use chat_core::contract::*;
use chat_core::model::Job;
use chat_core::ports::JobQueue;

use crate::support;

struct Received {
    body: String,
    attributes: HashMap<String, String>,
}

async fn receive(client: &aws_sdk_sqs::Client, url: &str, n: usize) -> Vec<Received> {
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while out.len() < n && Instant::now() < deadline {
        let got = client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for m in got.messages.unwrap_or_default() {
            let attributes = m
                .message_attributes
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(k, v)| v.string_value.map(|s| (k, s)))
                .collect();
            out.push(Received {
                body: m.body.unwrap_or_default(),
                attributes,
            });
        }
    }
    out
}

fn jobs(n: usize) -> Vec<Job> {
    let (r, u) = (room_id(), user("u"));
    (0..n)
        .map(|i| {
            if i % 3 == 2 {
                Job::MarkDelivered {
                    room_id: r.clone(),
                    seq: i as u64,
                    user_ids: vec![u.clone()],
                    notify: vec![],
                }
            } else {
                Job::PersistMessage {
                    message: draft(&r, &u, &format!("c{i}"), "héllo\n\"quoted\"")
                        .with_seq(i as u64 + 1),
                }
            }
        })
        .collect()
}

#[tokio::test]
async fn one_job_arrives_byte_identical_with_its_trace_attributes() {
    let sdk = support::sdk().await;
    let url = support::queue_url(&sdk).await;
    let queue = SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), url.clone());
    let job = jobs(1).remove(0);
    TraceContext::new(
        "req-123",
        Some("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"),
    )
    .scope(queue.enqueue(std::slice::from_ref(&job)))
    .await
    .unwrap();
    let got = receive(&aws_sdk_sqs::Client::new(&sdk), &url, 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, serde_json::to_string(&job).unwrap());
    assert_eq!(
        got[0].attributes.get("requestId").map(String::as_str),
        Some("req-123")
    );
    assert_eq!(
        got[0].attributes.get("traceId").map(String::as_str),
        Some("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
    );
}

#[tokio::test]
async fn twenty_three_jobs_go_in_batches_and_all_arrive_byte_identical() {
    let sdk = support::sdk().await;
    let url = support::queue_url(&sdk).await;
    let queue = SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), url.clone());
    let jobs = jobs(23);
    TraceContext::new("req-batch", None)
        .scope(queue.enqueue(&jobs))
        .await
        .unwrap();
    let got = receive(&aws_sdk_sqs::Client::new(&sdk), &url, 23).await;
    let mut bodies: Vec<String> = got.iter().map(|r| r.body.clone()).collect();
    let mut want: Vec<String> = jobs
        .iter()
        .map(|j| serde_json::to_string(j).unwrap())
        .collect();
    bodies.sort();
    want.sort();
    assert_eq!(bodies, want);
    assert!(got
        .iter()
        .all(|r| r.attributes.get("requestId").map(String::as_str) == Some("req-batch")));
    assert!(got.iter().all(
        |r| !r.attributes.contains_key("traceId") || std::env::var("_X_AMZN_TRACE_ID").is_ok()
    ));
    assert!(queue.enqueue(&[]).await.is_ok());
}

#[tokio::test]
async fn a_queue_that_does_not_exist_is_an_error_for_one_job_and_for_a_batch() {
    let sdk = support::sdk().await;
    let missing = format!(
        "{}/000000000000/missing-{}",
        support::moto().url("http"),
        unique()
    );
    let queue = SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), missing);
    assert!(queue.enqueue(&jobs(1)).await.is_err());
    assert!(queue.enqueue(&jobs(12)).await.is_err());
}
