//! The audit trail: every read of protected fields and every mutation. Append-only and hash-chained: `hash` is
//! computed over the event's content and `prev_hash`, so removing or editing one event breaks the chain.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub occurred_at: DateTimeUtc,
    pub actor: String,
    pub roles: String,
    pub action: String,
    pub entity_type: String,
    pub region_code: String,
    pub request_id: String,
    pub purpose: Option<String>,
    pub detail: Option<String>,
    pub prev_hash: String,
    #[sea_orm(unique)]
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::audit_event_record::Entity")]
    Record,
}

impl Related<super::audit_event_record::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Record.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
