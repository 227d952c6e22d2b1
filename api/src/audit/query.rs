//! `auditEvents`: who did what to which records, when and why, for auditors and administrators in scope.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, InputObject, Object};
use entities::{audit_event, audit_event_record};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder};

use crate::auth::{Action, Resource};
use crate::error::{ApiError, ApiResult};
use crate::loader_batch::{RequestLoader, batched};
use crate::node::parse_global_id;
use crate::pagination::{
    CursorKey, NestedKey, Nesting, Page, PageRequest, SortKey, fetch_page, load_nested_pages,
};
use crate::request::{RequestData, loader_error};

/// One entry of the audit trail.
pub struct AuditEvent {
    row: audit_event::Model,
}

/// One entry of the audit trail: a read of protected fields or a change.
#[Object]
impl AuditEvent {
    /// Position in the chain (ascending).
    async fn sequence(&self) -> i64 {
        self.row.id
    }

    /// When it happened (UTC).
    async fn occurred_at(&self) -> crate::scalars::Timestamp {
        crate::scalars::Timestamp(self.row.occurred_at)
    }

    /// The token subject of the caller.
    async fn actor(&self) -> &str {
        &self.row.actor
    }

    /// The caller's roles, comma-separated.
    async fn roles(&self) -> &str {
        &self.row.roles
    }

    /// READ for reads of protected fields; the mutation's name for changes.
    async fn action(&self) -> &str {
        &self.row.action
    }

    /// The kind of record, e.g. `volunteer` or `care_subject`.
    async fn entity_type(&self) -> &str {
        &self.row.entity_type
    }

    /// Code of the region the caller's token was scoped to.
    async fn region_code(&self) -> &str {
        &self.row.region_code
    }

    /// The HTTP request the event belongs to (also in the server log).
    async fn request_id(&self) -> &str {
        &self.row.request_id
    }

    /// The purpose of access the caller stated.
    async fn purpose(&self) -> Option<&str> {
        self.row.purpose.as_deref()
    }

    /// Free-form detail, e.g. the most protected field class returned.
    async fn detail(&self) -> Option<&str> {
        self.row.detail.as_deref()
    }

    /// Hash of the previous event in the chain.
    async fn prev_hash(&self) -> &str {
        &self.row.prev_hash
    }

    /// SHA-256 over this event and the previous hash.
    async fn hash(&self) -> &str {
        &self.row.hash
    }

    /// The records this event is about, a page at a time, in the order they were recorded.
    async fn records_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<AuditRecordConnection> {
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let request = RequestData::of(ctx)?;
        let loader = request.audit_record_pages.get_or_init(|| {
            batched(RecordPagesByEvent { db: request.db.clone(), viewer: request.viewer.clone() })
        });
        let key = NestedKey { parent: self.row.id, args: page.clone() };
        let found = loader.load_one(key).await.map_err(loader_error)?;
        Ok(AuditRecordConnection::from_page(found.unwrap_or_else(Page::empty), |row| AuditRecord { row }))
    }

    /// The records this event is about, all at once: an event of a request that read many records lists them
    /// all, without bound, so page through `recordsConnection` instead.
    #[graphql(deprecation = "unbounded: use `recordsConnection`, which pages")]
    async fn records(&self, ctx: &Context<'_>) -> ApiResult<Vec<AuditRecord>> {
        let request = RequestData::of(ctx)?;
        let loader = request.audit_records.get_or_init(|| {
            batched(RecordsByEvent { db: request.db.clone(), viewer: request.viewer.clone() })
        });
        let rows = loader.load_one(self.row.id).await.map_err(loader_error)?.unwrap_or_default();
        Ok(rows.into_iter().map(|row| AuditRecord { row }).collect())
    }
}

/// A record an audit event is about.
pub struct AuditRecord {
    row: audit_event_record::Model,
}

/// A record an audit event is about.
#[Object]
impl AuditRecord {
    /// The kind of record, e.g. `volunteer`.
    async fn entity_type(&self) -> &str {
        &self.row.entity_type
    }

    /// The record's database id.
    async fn entity_id(&self) -> i64 {
        self.row.entity_id
    }
}

crate::connection_type!(AuditEventConnection, AuditEventEdge, AuditEvent, "audit events");
crate::connection_type!(AuditRecordConnection, AuditRecordEdge, AuditRecord, "records of an audit event");

/// A page of audit records per event, in the caller's scope.
pub struct RecordPagesByEvent {
    db: DatabaseConnection,
    viewer: Arc<crate::auth::Viewer>,
}

/// The per-request loader of pages of audit records.
pub type RecordPagesLoader = RequestLoader<RecordPagesByEvent>;

impl Loader<NestedKey<PageRequest>> for RecordPagesByEvent {
    type Value = Page<audit_event_record::Model>;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[NestedKey<PageRequest>],
    ) -> Result<HashMap<NestedKey<PageRequest>, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::AuditEvent, Action::Read).await?;
        let select_for = |_: &PageRequest| crate::scope::read::<audit_event_record::Entity>(&access);
        let nesting = || Nesting {
            parent: audit_event_record::Column::EventId,
            key: audit_event_record::Column::Id,
            key_of: |row: &audit_event_record::Model| row.id,
        };
        Ok(load_nested_pages(&self.db, keys, |page| page, select_for, nesting).await?)
    }
}

/// Audit records by event id.
pub struct RecordsByEvent {
    db: DatabaseConnection,
    viewer: Arc<crate::auth::Viewer>,
}

/// The per-request loader of audit records.
pub type RecordsLoader = RequestLoader<RecordsByEvent>;

impl Loader<i64> for RecordsByEvent {
    type Value = Vec<audit_event_record::Model>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let access = self.viewer.authorize(&self.db, Resource::AuditEvent, Action::Read).await?;
        let rows = crate::scope::read::<audit_event_record::Entity>(&access)
            .filter(audit_event_record::Column::EventId.is_in(keys.iter().copied()))
            .order_by_asc(audit_event_record::Column::Id)
            .all(&self.db)
            .await
            .map_err(ApiError::from)?;
        let mut grouped: HashMap<i64, Vec<audit_event_record::Model>> = HashMap::new();
        for row in rows {
            grouped.entry(row.event_id).or_default().push(row);
        }
        Ok(grouped)
    }
}

/// Which audit events to return; all conditions combine with AND.
#[derive(InputObject, Default)]
pub struct AuditEventFilter {
    /// Only events about this record (the global ID of a volunteer, care subject, …).
    pub about: Option<ID>,
    /// Only events of this caller (token subject).
    pub actor: Option<String>,
    /// Only events with this action, e.g. READ.
    pub action: Option<String>,
    /// Only events at or after this instant.
    pub from: Option<crate::scalars::Timestamp>,
    /// Only events before this instant.
    pub to: Option<crate::scalars::Timestamp>,
}

/// Root field of the audit trail.
#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The audit trail in your scope, oldest first: answers "who read this person's record, when, and why".
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on the events.")] filter: Option<AuditEventFilter>,
        #[graphql(desc = "Page size from the start (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 500).")] last: Option<i32>,
        #[graphql(desc = "Cursor before which the page ends.")] before: Option<String>,
    ) -> ApiResult<AuditEventConnection> {
        let request = RequestData::of(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(ctx);
        let access = request.authorize(Resource::AuditEvent, Action::Read).await?;
        let filter = filter.unwrap_or_default();
        let mut select = crate::scope::read::<audit_event::Entity>(&access);
        if let Some(about) = &filter.about {
            let (node_type, id) = parse_global_id(about, "filter.about")?;
            let events_about = Query::select()
                .column(audit_event_record::Column::EventId)
                .from(audit_event_record::Entity)
                .and_where(audit_event_record::Column::EntityType.eq(node_type.audit_entity()))
                .and_where(audit_event_record::Column::EntityId.eq(id))
                .to_owned();
            select = select.filter(audit_event::Column::Id.in_subquery(events_about));
        }
        if let Some(actor) = filter.actor {
            select = select.filter(audit_event::Column::Actor.eq(actor));
        }
        if let Some(action) = filter.action {
            select = select.filter(audit_event::Column::Action.eq(action));
        }
        if let Some(from) = filter.from {
            select = select.filter(audit_event::Column::OccurredAt.gte(from));
        }
        if let Some(to) = filter.to {
            select = select.filter(audit_event::Column::OccurredAt.lt(to));
        }
        let page = fetch_page(
            &request.db,
            select,
            SortKey::unique(audit_event::Column::Id, |row: &audit_event::Model| CursorKey::Int(row.id)),
            &page,
        )
        .await?;
        Ok(AuditEventConnection::from_page(page, |row| AuditEvent { row }))
    }
}
