//! `disputeEvents`: disputes reported, assigned or changing state, as they happen, within the subscriber's region
//! scope (and an `inRegion` subtree). The events come from [`crate::events`], published by the disputes'
//! mutations when they commit; each one is resolved for the subscriber like any query answer: `dispute` loads the
//! case through the subscriber's scoped loader, so its fields are masked by the subscriber's policy, and the
//! personal fields it shows in clear are in the subscriber's read log, which the WebSocket layer writes to the
//! audit trail before the message leaves. A mediator (whose grant covers only the cases assigned to them) gets
//! the events of those cases only: each event is checked against the scoped read before it is delivered.

use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, ID, Object, Subscription};
use entities::dispute;
use futures_util::{Stream, StreamExt};
use sea_orm::{ActiveEnum, ColumnTrait, PaginatorTrait, QueryFilter};

use super::types::{Dispute, DisputeEventKind};
use crate::auth::{Action, Resource};
use crate::error::{ApiError, ApiResult, code};
use crate::events::{DomainEvent, Received};
use crate::node::{NodeType, global_id};
use crate::request::RequestData;
use crate::scalars::Timestamp;

/// The event topic of disputes.
pub const TOPIC: &str = "dispute";

/// The event a dispute's step publishes: its kind as stored in `dispute_event.kind`, the dispute, and the path
/// of the grid it arose in (every region that handles it lies above the grid, so the grid decides who sees it).
pub fn announcement(
    kind: entities::dispute_event::DisputeEventKind,
    dispute_id: i64,
    grid_path: &str,
) -> DomainEvent {
    DomainEvent::now(TOPIC, &kind.to_value(), dispute_id, grid_path)
}

/// One event of a dispute.
pub struct DisputeEventMessage {
    event: Arc<DomainEvent>,
}

impl DisputeEventMessage {
    /// The dispute's row id, for fields that load it through the subscriber's loaders.
    pub fn record_id(&self) -> i64 {
        self.event.record_id
    }
}

/// One event of a dispute: what happened, to which dispute, when and where.
#[Object]
impl DisputeEventMessage {
    /// What happened, as in the dispute's `events`.
    async fn kind(&self) -> ApiResult<DisputeEventKind> {
        entities::dispute_event::DisputeEventKind::try_from_value(&self.event.kind)
            .map(Into::into)
            .map_err(|_| ApiError::Internal(format!("an event of unknown kind {}", self.event.kind)).into())
    }

    /// Opaque global ID of the dispute.
    async fn dispute_id(&self) -> ID {
        global_id(NodeType::Dispute, self.event.record_id)
    }

    /// The dispute as it is now, read with your rights (null if it has since left your scope).
    async fn dispute(&self, ctx: &Context<'_>) -> ApiResult<Option<Dispute>> {
        RequestData::of(ctx)?.disputes().dispute_by_id(self.event.record_id).await
    }

    /// When it happened.
    async fn occurred_at(&self) -> Timestamp {
        Timestamp(self.event.occurred_at)
    }

    /// Code of the dispute's region.
    async fn region_code(&self) -> &str {
        self.event.region_code()
    }
}

/// The disputes' live events.
#[derive(Default)]
pub struct DisputeSubscription;

#[Subscription]
impl DisputeSubscription {
    /// Events of the disputes in your region scope as they happen (over WebSocket, `graphql-transport-ws`).
    /// Delivery is at most once: after a reconnect, or an error saying events were missed, re-read the disputes.
    async fn dispute_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only events under the region with this code, within your scope.")]
        in_region: Option<String>,
    ) -> Result<impl Stream<Item = ApiResult<DisputeEventMessage>>, async_graphql::Error> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Dispute, Action::Read).await?;
        let scope = access.scope.as_ref().map(|scope| scope.path.clone());
        let narrowed = match in_region {
            Some(code) => {
                let found =
                    request.viewer.regions().find(&request.db, &code).await.map_err(ApiError::from)?;
                let region =
                    found.ok_or_else(|| ApiError::bad_input("inRegion", "no region has this code"))?;
                Some(region.path)
            }
            None => None,
        };
        let events = request.events.subscribe(TOPIC).await.map_err(|err| unavailable(err.to_string()))?;
        // A region outside the scope is not an error: like a filter, it just matches nothing.
        let wanted = move |event: &DomainEvent| {
            scope.as_deref().is_none_or(|path| event.within(path))
                && narrowed.as_deref().is_none_or(|path| event.within(path))
        };
        // Whose grant covers only some rows of the scope (a mediator's assigned cases) has each event checked
        // against the scoped read, so that not even the existence of another case reaches them.
        let row_checked = access.assigned_to.is_some().then(|| (access.clone(), request.db.clone()));
        Ok(events.filter_map(move |received| {
            let row_checked = row_checked.clone();
            let in_region = match &received {
                Received::Event(event) => wanted(event),
                Received::Missed(_) => true,
            };
            async move {
                match received {
                    Received::Event(_) if !in_region => None,
                    Received::Event(event) => match row_checked {
                        None => Some(Ok(DisputeEventMessage { event })),
                        Some((access, db)) => {
                            let visible = crate::scope::read::<dispute::Entity>(&access)
                                .filter(dispute::Column::Id.eq(event.record_id))
                                .count(&db)
                                .await;
                            match visible {
                                Ok(0) => None,
                                Ok(_) => Some(Ok(DisputeEventMessage { event })),
                                Err(err) => Some(Err(unavailable(format!("could not check the event: {err}")))),
                            }
                        }
                    },
                    Received::Missed(missed) => Some(Err(unavailable(format!(
                        "this subscription fell behind and missed {missed} events: re-read the disputes to catch up"
                    )))),
                }
            }
        }))
    }
}

fn unavailable(message: String) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, ext| ext.set("code", code::UNAVAILABLE))
}
