//! The subscription root: live events, delivered over WebSocket (`graphql-transport-ws`, see
//! [`crate::http::ws`]). Each message a subscription pushes is resolved like a query's answer, with the
//! subscriber's own caller and policy, and its reads of protected fields are audited before it is sent.

use async_graphql::MergedSubscription;

/// Live events, over WebSocket at `/graphql` (subprotocol `graphql-transport-ws`; the token goes in the
/// `connection_init` payload as `{"Authorization": "Bearer <token>"}`).
#[derive(MergedSubscription, Default)]
pub struct Subscription(crate::disputes::subscription::DisputeSubscription);
