//! A party to a dispute: a person (name, identity card number and phone are personal data) or an organisation.

use sea_orm::entity::prelude::*;

/// Whether a party is a person or an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(12))")]
pub enum PartyKind {
    #[sea_orm(string_value = "PERSON")]
    Person,
    #[sea_orm(string_value = "ORGANISATION")]
    Organisation,
}

/// The side a party is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(10))")]
pub enum PartyRole {
    #[sea_orm(string_value = "APPLICANT")]
    Applicant,
    #[sea_orm(string_value = "RESPONDENT")]
    Respondent,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dispute_party")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dispute_id: i64,
    pub kind: PartyKind,
    pub role: PartyRole,
    pub name: String,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::dispute::Entity",
        from = "Column::DisputeId",
        to = "super::dispute::Column::Id"
    )]
    Dispute,
}

impl ActiveModelBehavior for ActiveModel {}
