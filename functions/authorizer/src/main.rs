use chat_core::config::Env;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    chat_lambda::telemetry::init();
    let verifier = chat_adapters::wiring::verifier_for(&Env, &chat_authorizer::FUNCTION)?;
    run(service_fn(|event: LambdaEvent<_>| async {
        Ok::<_, Error>(chat_authorizer::handle(verifier.as_ref(), event.payload).await?)
    }))
    .await
}
