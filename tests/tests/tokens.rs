//! Every way a token can be wrong answers `UNAUTHENTICATED` over HTTP, before any data is touched.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph::config::PublicKeyAlgorithm;
use govgraph_tests::{Fixture, TestServer, error_codes, hs256_args, key_fixture, shared_demo, sign_hs256};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const QUERY: &str = "{ volunteers { totalCount } }";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims() -> Value {
    json!({ "sub": "u1", "roles": ["admin"], "region": "330900", "exp": now() + 600 })
}

async fn refused(server: &TestServer, token: &str, why: &str) {
    let response = server.gql(Some(token), QUERY, json!({})).await;
    assert_eq!(error_codes(&response), ["UNAUTHENTICATED"], "{why}: {response}");
    assert_eq!(response["data"], Value::Null, "{why}");
}

#[tokio::test]
async fn malformed_forged_and_stale_hs256_tokens() {
    let server = shared_demo().await;
    assert_eq!(server.gql(Some(&sign_hs256(&claims())), QUERY, json!({})).await["errors"], Value::Null);

    refused(server, "garbage", "not a JWT").await;
    let good = sign_hs256(&claims());
    let mut parts: Vec<&str> = good.split('.').collect();
    let forged_signature = "AAAA".repeat(10);
    parts[2] = &forged_signature;
    refused(server, &parts.join("."), "bad signature").await;

    let payload = good.split('.').nth(1).unwrap();
    // {"alg":"none","typ":"JWT"}
    refused(server, &format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}."), "alg none").await;

    let other_key = EncodingKey::from_secret(b"some-other-secret-some-other-secret").unwrap();
    let foreign = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims(), &other_key).unwrap();
    refused(server, &foreign, "signed with another secret").await;

    let mut expired = claims();
    expired["exp"] = json!(now() - 3600);
    refused(server, &sign_hs256(&expired), "expired").await;

    let mut early = claims();
    early["nbf"] = json!(now() + 3600);
    refused(server, &sign_hs256(&early), "not yet valid").await;

    let mut no_exp = claims();
    no_exp.as_object_mut().unwrap().remove("exp");
    refused(server, &sign_hs256(&no_exp), "no exp").await;

    let mut text_exp = claims();
    text_exp["exp"] = json!((now() + 600).to_string());
    refused(server, &sign_hs256(&text_exp), "exp as a string").await;

    let mut no_region = claims();
    no_region.as_object_mut().unwrap().remove("region");
    refused(server, &sign_hs256(&no_region), "no region").await;

    let mut unknown_region = claims();
    unknown_region["region"] = json!("110000");
    refused(server, &sign_hs256(&unknown_region), "unknown region").await;

    // Not a bearer token at all.
    let response: Value = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .json(&json!({ "query": QUERY }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(error_codes(&response), ["UNAUTHENTICATED"]);
}

#[tokio::test]
async fn issuer_and_audience_are_enforced_when_configured() {
    let mut keys = hs256_args();
    keys.jwt_issuer = Some("https://idp.zhoushan.example".into());
    keys.jwt_audience = Some("govgraph".into());
    let server = TestServer::start_with_keys(Fixture::Demo(0.001), keys).await;
    let mut good = claims();
    good["iss"] = json!("https://idp.zhoushan.example");
    good["aud"] = json!("govgraph");
    let response = server.gql(Some(&sign_hs256(&good)), QUERY, json!({})).await;
    assert!(response.get("errors").is_none(), "{response}");

    refused(&server, &sign_hs256(&claims()), "no iss and aud").await;
    let mut wrong_iss = good.clone();
    wrong_iss["iss"] = json!("https://evil.example");
    refused(&server, &sign_hs256(&wrong_iss), "wrong iss").await;
    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = json!("another-api");
    refused(&server, &sign_hs256(&wrong_aud), "wrong aud").await;
}

#[tokio::test]
async fn an_rs256_configuration_refuses_hs256_tokens() {
    let mut keys = hs256_args();
    keys.jwt_secret = None;
    keys.jwt_public_key = Some(key_fixture("rsa-a.pub"));
    keys.jwt_algorithm = PublicKeyAlgorithm::Rs256;
    let server = TestServer::start_with_keys(Fixture::Demo(0.001), keys).await;

    let private = std::fs::read(key_fixture("rsa-a.key")).unwrap();
    let rs256 = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims(),
        &EncodingKey::from_rsa_pem(&private).unwrap(),
    )
    .unwrap();
    let response = server.gql(Some(&rs256), QUERY, json!({})).await;
    assert!(response.get("errors").is_none(), "{response}");

    // The classic confusion attack: HS256 "signed" with the server's public key.
    let public = std::fs::read(key_fixture("rsa-a.pub")).unwrap();
    let confused = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &EncodingKey::from_secret(&public).unwrap(),
    )
    .unwrap();
    refused(&server, &confused, "HS256 token against an RS256 key").await;
    refused(&server, &sign_hs256(&claims()), "HS256 token with the test secret").await;
}
