//! One running subscription: its results, each resolved with the subscriber's own caller and policy, audited and
//! only then handed to the connection. A result whose reads cannot be audited is not sent: an error with
//! `UNAVAILABLE` or `INTERNAL` takes its place, and the subscription goes on.

use std::sync::Arc;

use async_graphql::Response;
use futures_util::FutureExt;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tokio::sync::mpsc;

use super::connection::Outgoing;
use super::protocol;
use crate::auth::Viewer;
use crate::http::AppState;
use crate::http::graphql::{audit_reads, classify_errors};
use crate::http::metrics::Open;

/// A subscription the connection started.
pub(super) struct Subscription {
    /// The client's id of the operation.
    pub id: String,
    /// The connection's number for it (ids may be reused after an operation ends).
    pub ordinal: u64,
    /// Its results, as the schema resolves them.
    pub stream: BoxStream<'static, Response>,
    /// The subscriber, whose read log each result's reads are noted in.
    pub viewer: Arc<Viewer>,
    pub state: Arc<AppState>,
    /// Where its messages go.
    pub out: mpsc::Sender<Outgoing>,
    /// Counts it among the open subscriptions while it runs.
    pub open: Open,
}

/// The connection is gone: nothing more can be sent.
struct Gone;

impl Subscription {
    /// Sends every result as `next`, then `complete`; or, when the operation fails before it produces anything
    /// (invalid, forbidden, a bad argument), one `error`.
    pub async fn drive(mut self) {
        let _ = self.results().await;
        let ended = Outgoing::Ended { id: self.id.clone(), ordinal: self.ordinal };
        let _ = self.out.send(ended).await;
        drop(self.open);
    }

    async fn results(&mut self) -> Result<(), Gone> {
        let mut first = true;
        while let Some(response) = self.stream.next().await {
            let mut batch = vec![response];
            let mut failed_at_start = false;
            if first && batch[0].data == async_graphql::Value::Null && !batch[0].errors.is_empty() {
                // An operation that failed before it started ends at once; a stream that goes on had only an
                // error in its first result.
                match self.stream.next().now_or_never() {
                    Some(None) => failed_at_start = true,
                    Some(Some(following)) => batch.push(following),
                    None => {}
                }
            }
            first = false;
            // Everything read in clear for these results is audited before any of them leaves.
            let withheld = audit_reads(&self.state, &self.viewer).await.err();
            if let Some(error) = &withheld {
                for response in &mut batch {
                    *response = Response::from_errors(vec![error.clone()]);
                }
            }
            for mut response in batch {
                classify_errors(&mut response);
                if failed_at_start {
                    self.send(protocol::error(&self.id, &response.errors)).await?;
                    return Ok(());
                }
                self.state.metrics.record_subscription_message(withheld.is_none());
                self.send(protocol::next(&self.id, &response)).await?;
            }
        }
        self.send(protocol::complete(&self.id)).await
    }

    async fn send(&mut self, text: String) -> Result<(), Gone> {
        let message = Outgoing::Message { id: self.id.clone(), ordinal: self.ordinal, text };
        self.out.send(message).await.map_err(|_| Gone)
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::value;
    use chrono::Utc;
    use entities::region;
    use futures_util::stream;
    use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

    use super::*;
    use crate::auth::jwt::{Claims, TokenVerifier};
    use crate::auth::viewer::Identity;
    use crate::auth::{Action, Resource, Role};
    use crate::config::{JwtArgs, PublicKeyAlgorithm};

    async fn audit_events(db: &sea_orm::DatabaseConnection) -> i64 {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) FROM audit_event",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<i64>(0).unwrap()
    }

    fn admin() -> Identity {
        let claims = Claims {
            sub: "admin-1".into(),
            roles: vec!["admin".into()],
            region: Some("330900".into()),
            exp: Utc::now().timestamp() + 600,
            iat: None,
            nbf: None,
            iss: None,
            aud: None,
            name: None,
            purpose: None,
        };
        Identity::Token { claims: Box::new(claims), roles: vec![Role::Admin] }
    }

    /// The message `outgoing` receives next, as JSON (`None` once the subscription ended).
    async fn next_message(outgoing: &mut mpsc::Receiver<Outgoing>) -> Option<serde_json::Value> {
        match outgoing.recv().await? {
            Outgoing::Message { text, .. } => serde_json::from_str(&text).ok(),
            Outgoing::Ended { .. } => None,
        }
    }

    #[tokio::test]
    async fn reads_are_audited_before_their_result_leaves_and_withheld_when_they_cannot_be() {
        let db = crate::db::connect("sqlite::memory:", 1, None).await.unwrap();
        crate::db::migrate_up(&db).await.unwrap();
        region::ActiveModel {
            code: Set("330900".into()),
            name: Set("舟山市".into()),
            level: Set(region::RegionLevel::City),
            parent_id: Set(None),
            path: Set("/330900/".into()),
            depth: Set(0),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        let jwt = JwtArgs {
            jwt_secret: Some("0123456789abcdef0123456789abcdef".into()),
            jwt_public_key: None,
            jwt_jwks: None,
            jwt_algorithm: PublicKeyAlgorithm::Rs256,
            jwt_issuer: None,
            jwt_audience: None,
        };
        let verifier = Arc::new(TokenVerifier::from_config(&jwt, None).unwrap());
        let state = Arc::new(crate::server::app_state(db.clone(), verifier, Arc::default()));
        let viewer =
            Arc::new(Viewer::new(admin(), Some("test".into()), "req-1".into(), state.regions.clone()));
        let access = viewer.authorize(&db, Resource::Volunteer, Action::Read).await.unwrap();
        // Each result reads a person's name in clear, as a resolver does through the subscriber's access; the
        // test decides when each one comes.
        let (feed, fed) = mpsc::channel::<i64>(1);
        let results = stream::unfold(fed, |mut fed| async move { fed.recv().await.map(|id| (id, fed)) })
            .map(move |id| {
                let name = access.personal(id, "张三", crate::auth::mask::name);
                Response::new(value!({ "name": name }))
            })
            .boxed();
        let (out, mut outgoing) = mpsc::channel(1);
        let subscription = Subscription {
            id: "1".into(),
            ordinal: 1,
            stream: results,
            viewer,
            state: state.clone(),
            out,
            open: state.metrics.subscription_opened(),
        };
        let running = tokio::spawn(subscription.drive());

        for id in 1..=2 {
            feed.send(id).await.unwrap();
            let message = next_message(&mut outgoing).await.unwrap();
            assert_eq!(message["payload"]["data"]["name"], "张三");
            // Its audit event was committed before the message was handed over.
            assert_eq!(audit_events(&db).await, id);
        }
        // The audit trail breaks: the next result is withheld, an error in its place.
        db.execute_unprepared("DROP TABLE audit_event_record").await.unwrap();
        feed.send(3).await.unwrap();
        let message = next_message(&mut outgoing).await.unwrap();
        assert_eq!(message["type"], "next");
        assert_eq!(message["payload"]["errors"][0]["extensions"]["code"], "INTERNAL");
        assert!(!message.to_string().contains("张三"), "{message}");
        drop(feed);
        assert_eq!(
            next_message(&mut outgoing).await.map(|message| message["type"].clone()),
            Some("complete".into())
        );
        assert!(next_message(&mut outgoing).await.is_none());
        running.await.unwrap();
        assert_eq!(state.metrics.open_subscriptions(), 0);
    }
}
