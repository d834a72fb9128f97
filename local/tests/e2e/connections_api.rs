//! The `@connections` Management API of the twin, driven by the unchanged
//! AWS SDK client with only an endpoint override.

use aws_sdk_apigatewaymanagement::primitives::Blob;
use chat_core::ids::UserId;

use crate::spawn;

async fn sdk_client(endpoint: &str) -> aws_sdk_apigatewaymanagement::Client {
    use aws_config::{BehaviorVersion, Region};
    use aws_sdk_apigatewaymanagement::config::Credentials;
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .load()
        .await;
    let conf = aws_sdk_apigatewaymanagement::config::Builder::from(&conf)
        .endpoint_url(endpoint)
        .build();
    aws_sdk_apigatewaymanagement::Client::from_conf(conf)
}

#[tokio::test]
async fn the_aws_sdk_posts_gets_and_deletes_connections_and_sees_gone() {
    let e = spawn().await;
    let mut alice = e.connect("alice").await;
    let conn =
        e.p.chat
            .connections
            .for_users(&[UserId::parse("alice").unwrap()])
            .await
            .unwrap()[0]
            .connection_id
            .to_string();
    let api = sdk_client(&e.p.connections_endpoint()).await;

    api.post_to_connection()
        .connection_id(&conn)
        .data(Blob::new(br#"{"type":"pong"}"#.to_vec()))
        .send()
        .await
        .unwrap();
    alice.next_of("pong").await.unwrap();

    let info = api
        .get_connection()
        .connection_id(&conn)
        .send()
        .await
        .unwrap();
    assert!(info.connected_at().is_some() && info.last_active_at().is_some());
    assert_eq!(
        info.identity().and_then(|i| i.source_ip()),
        Some("127.0.0.1")
    );

    api.delete_connection()
        .connection_id(&conn)
        .send()
        .await
        .unwrap();
    let closed = alice.wait_closed().await.unwrap();
    assert_eq!(closed.code, Some(1000));
    e.wait_disconnected("alice").await;

    let post = api
        .post_to_connection()
        .connection_id(&conn)
        .data(Blob::new(b"x".to_vec()))
        .send()
        .await;
    assert!(post.unwrap_err().into_service_error().is_gone_exception());
    let get = api.get_connection().connection_id(&conn).send().await;
    assert!(get.unwrap_err().into_service_error().is_gone_exception());
    let delete = api
        .delete_connection()
        .connection_id("NeverExisted0=")
        .send()
        .await;
    assert!(delete.unwrap_err().into_service_error().is_gone_exception());
}
