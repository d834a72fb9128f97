//! The adapters against real services: the shared contract suites of
//! `chat_core::contract` over DynamoDB (moto), DynamoDB behind the Redis
//! cache (redis-server), SQS (moto), the VAPID secret (moto's Secrets
//! Manager) and the API Gateway Management API (a
//! loopback stub), plus fault, fan-out and wiring tests. Everything runs on
//! loopback with servers the tests start themselves (see [`support`]).

mod cached;
mod counting;
mod dynamo;
mod fanout;
mod faults;
mod lagging;
mod pusher;
mod queue;
mod ratelimit;
mod s3;
mod sns;
mod support;
mod vapid;
mod wiring;
