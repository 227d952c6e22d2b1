//! Events through Redis pub/sub: published on the shared connection right after the commit, received on one
//! subscribed connection per process. The channel carries the deployment's key prefix
//! (`GOVGRAPH_REDIS_KEY_PREFIX`), so deployments sharing a Redis do not see each other's events.

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::sync::watch;

use super::{DomainEvent, EventBus, PublishError, RECONNECT_DELAY};
use crate::http::shared_store::SharedStore;

/// The channel's name after the key prefix.
pub const CHANNEL: &str = "events";

/// Publishes `events` on the deployment's channel.
pub async fn publish(shared: &SharedStore, events: &[DomainEvent]) -> Result<(), PublishError> {
    let mut connection = shared.connection().await.map_err(PublishError::Redis)?;
    let channel = shared.key(CHANNEL);
    for event in events {
        let payload = event.to_json()?;
        let published: Result<i64, _> =
            redis::cmd("PUBLISH").arg(&channel).arg(payload).query_async(&mut connection).await;
        if let Err(err) = published {
            let message = err.to_string();
            shared.failed("publishing events", &message);
            return Err(PublishError::Redis(message));
        }
    }
    Ok(())
}

/// Receives the events of every process of the deployment and hands them to `bus`'s subscribers, reconnecting
/// after a lost connection; `ready` tells whether it is subscribed. Runs until its runtime stops.
pub async fn listen(shared: Arc<SharedStore>, bus: EventBus, ready: watch::Sender<bool>) {
    let channel = shared.key(CHANNEL);
    loop {
        match shared.pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    ready.send_replace(true);
                    let mut messages = pubsub.into_on_message();
                    while let Some(message) = messages.next().await {
                        bus.deliver_json(&String::from_utf8_lossy(message.get_payload_bytes()));
                    }
                    tracing::warn!(target: "govgraph::events", "the Redis subscription was lost; reconnecting");
                }
                Err(err) => shared.failed("receiving events", &err.to_string()),
            },
            Err(err) => shared.failed("receiving events", &err),
        }
        ready.send_replace(false);
        tokio::time::sleep(RECONNECT_DELAY).await;
    }
}
