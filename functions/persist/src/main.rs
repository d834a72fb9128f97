use chat_adapters::trace::TraceContext;
use chat_adapters::wiring;
use chat_core::config::Env;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    chat_lambda::telemetry::init();
    let chat = &wiring::chat_for(&Env, &chat_persist::FUNCTION).await?;
    run(service_fn(|event: LambdaEvent<_>| {
        // The invocation's ids travel with the jobs it queues.
        let ctx = &event.context;
        let trace = TraceContext::new(&ctx.request_id, ctx.xray_trace_id.as_deref());
        async move { Ok::<_, Error>(trace.scope(chat_persist::handle(chat, event.payload)).await) }
    }))
    .await
}
