use chat_core::config::Env;
use lambda_http::{run, service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    chat_lambda::telemetry::init();
    let chat = chat_adapters::wiring::chat_for(&Env, &chat_rooms::FUNCTION).await?;
    let verifier = chat_adapters::wiring::verifier_for(&Env, &chat_rooms::FUNCTION)?;
    run(service_fn(|req: Request| async {
        Ok::<_, Error>(chat_rooms::handle(&chat, verifier.as_ref(), req).await)
    }))
    .await
}
