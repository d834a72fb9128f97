//! The reference for the cold-start table: the smallest useful
//! `lambda_runtime` binary (echoes its event), built with the workspace's
//! release profile like the functions.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<_, Error>(event.payload)
    }))
    .await
}
