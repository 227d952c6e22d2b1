//! Managing the grids' service teams. Each mutation runs in one transaction with its audit event.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::Utc;
use entities::{grid_team_member, region};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveEnum, ActiveModelTrait, ColumnTrait, ModelTrait, QueryFilter};

use super::types::{GridTeamMember, TeamRole};
use crate::auth::{Action, Resource};
use crate::error::{ApiError, ApiResult};
use crate::lookup::grid_in_scope;
use crate::node::{NodeType, parse_typed_id};
use crate::request::RequestData;
use crate::validate;

/// A new member of a grid's service team.
#[derive(InputObject)]
pub struct AddGridTeamMemberInput {
    /// Code of the grid, which must lie in your scope.
    pub grid_code: String,
    /// The member's role in the team.
    pub role: TeamRole,
    /// Full name (public contact information).
    pub name: String,
    /// Contact phone (public contact information): a mobile or a landline.
    pub phone: String,
    /// What the member takes care of (at most 128 characters).
    pub duty: Option<String>,
}

/// Changes to a team member; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateGridTeamMemberInput {
    /// New role.
    pub role: Option<TeamRole>,
    /// New name.
    pub name: Option<String>,
    /// New contact phone.
    pub phone: Option<String>,
    /// New description of duties.
    pub duty: Option<String>,
}

/// The most members a grid's service team may have: `Region.team` and `gridTeam` promise it.
pub const MAX_TEAM_MEMBERS: u64 = 30;

/// Mutations of the grid teams.
#[derive(Default)]
pub struct RegionsMutation;

fn phone(field: &str, value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    let digits = value.chars().filter(char::is_ascii_digit).count();
    if (7..=20).contains(&value.len())
        && digits >= 7
        && value.chars().all(|c| c.is_ascii_digit() || c == '-' || c == ' ')
    {
        Ok(value.to_owned())
    } else {
        Err(ApiError::bad_input(field, "not a phone number"))
    }
}

async fn member_in_scope(
    request: &RequestData,
    txn: &sea_orm::DatabaseTransaction,
    id: &ID,
) -> Result<(grid_team_member::Model, crate::auth::viewer::Access), ApiError> {
    let access = request.authorize(Resource::GridTeam, Action::Update).await?;
    let id = parse_typed_id(id, NodeType::GridTeamMember, "id")?;
    let row = crate::scope::read::<grid_team_member::Entity>(&access)
        .filter(grid_team_member::Column::Id.eq(id))
        .one(txn)
        .await?
        .ok_or(ApiError::NotFound("grid team member"))?;
    Ok((row, access))
}

#[Object]
impl RegionsMutation {
    /// Adds a member to the service team of a grid in your scope.
    async fn add_grid_team_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member: grid, role, name, phone and duties.")] input: AddGridTeamMemberInput,
    ) -> ApiResult<GridTeamMember> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::GridTeam, Action::Create).await?;
        let name = validate::text("input.name", &input.name, 64)?;
        let phone = phone("input.phone", &input.phone)?;
        let duty = validate::optional_text("input.duty", input.duty.as_deref(), 128)?;
        let changed = crate::frame::write(request, async |txn| {
            let grid = grid_in_scope(txn, &access, &input.grid_code, "input.gridCode").await?;
            let team = crate::scope::read::<grid_team_member::Entity>(&access)
                .filter(grid_team_member::Column::GridId.eq(grid.id));
            crate::db::ensure_room::<region::Entity, _, _>(
                txn,
                grid.id,
                team,
                MAX_TEAM_MEMBERS,
                "the grid's team",
            )
            .await?;
            let duplicate = crate::scope::read::<grid_team_member::Entity>(&access)
                .filter(grid_team_member::Column::GridId.eq(grid.id))
                .filter(grid_team_member::Column::Name.eq(name.as_str()))
                .filter(grid_team_member::Column::Role.eq(grid_team_member::TeamRole::from(input.role)))
                .one(txn)
                .await
                .map_err(ApiError::from)?;
            if duplicate.is_some() {
                return Err(ApiError::Conflict(
                    "this person already has this role in the grid's team".into(),
                ));
            }
            let row = grid_team_member::ActiveModel {
                id: NotSet,
                grid_id: Set(grid.id),
                role: Set(input.role.into()),
                name: Set(name),
                phone: Set(phone),
                duty: Set(duty),
                created_at: Set(Utc::now()),
            }
            .insert(txn)
            .await
            .map_err(ApiError::from)?;
            let detail = Some(format!("grid {}", grid.code));
            let id = row.id;
            Ok(crate::frame::Outcome::Changed(
                row,
                crate::frame::Change::of("addGridTeamMember", Resource::GridTeam, [id], detail),
            ))
        })
        .await?;
        Ok(GridTeamMember { row: changed })
    }

    /// Changes a team member's role, name, phone or duties.
    async fn update_grid_team_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the team member.")] id: ID,
        #[graphql(desc = "The fields to change; omitted ones stay as they are (at least one).")]
        input: UpdateGridTeamMemberInput,
    ) -> ApiResult<GridTeamMember> {
        let request = RequestData::of(ctx)?;
        let name = input.name.as_deref().map(|name| validate::text("input.name", name, 64)).transpose()?;
        let phone = input.phone.as_deref().map(|value| phone("input.phone", value)).transpose()?;
        let duty = validate::optional_text("input.duty", input.duty.as_deref(), 128)?;
        if name.is_none() && phone.is_none() && input.role.is_none() && input.duty.is_none() {
            return Err(ApiError::bad_input("input", "at least one field to change").into());
        }
        let changed = crate::frame::write(request, async |txn| {
            let (row, _) = member_in_scope(request, txn, &id).await?;
            let mut changed: grid_team_member::ActiveModel = row.clone().into();
            if let Some(role) = input.role {
                changed.role = Set(role.into());
            }
            if let Some(name) = name {
                changed.name = Set(name);
            }
            if let Some(phone) = phone {
                changed.phone = Set(phone);
            }
            if input.duty.is_some() {
                changed.duty = Set(duty);
            }
            let row = changed.update(txn).await.map_err(ApiError::from)?;
            let id = row.id;
            Ok(crate::frame::Outcome::Changed(
                row,
                crate::frame::Change::of("updateGridTeamMember", Resource::GridTeam, [id], None),
            ))
        })
        .await?;
        Ok(GridTeamMember { row: changed })
    }

    /// Removes a member from a grid's team; returns the removed member as they were.
    async fn remove_grid_team_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the team member.")] id: ID,
    ) -> ApiResult<GridTeamMember> {
        let request = RequestData::of(ctx)?;
        let changed = crate::frame::write(request, async |txn| {
            let (row, _) = member_in_scope(request, txn, &id).await?;
            row.clone().delete(txn).await.map_err(ApiError::from)?;
            let detail = Some(format!("{} {}", row.role.to_value(), row.name));
            let id = row.id;
            Ok(crate::frame::Outcome::Changed(
                row,
                crate::frame::Change::of("removeGridTeamMember", Resource::GridTeam, [id], detail),
            ))
        })
        .await?;
        Ok(GridTeamMember { row: changed })
    }
}
