use chat_shared::config::Env;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    chat_shared::telemetry::init();
    let chat = chat_shared::wiring::chat(&Env)?;
    run(service_fn(|event: LambdaEvent<_>| async {
        Ok::<_, Error>(chat_persist::handle(&chat, event.payload).await)
    }))
    .await
}
