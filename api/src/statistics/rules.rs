//! What a caller may ask of `statistics`: one set of rules that the field enforces ([`Allowance::check`]) and
//! `statisticsOptions` describes ([`Allowance::dimensions`], [`Allowance::region_levels`], …), so that a client
//! such as the statistics page offers exactly the choices the server will accept.

use std::collections::BTreeSet;

use async_graphql::{Context, Object, SimpleObject};
use entities::region;

use super::measures::{StatisticsMeasure, StatisticsPeriod, StatisticsUnit};
use super::query::StatisticsDimension;
use crate::auth::policy::{self, Role};
use crate::auth::{Action, Resource};
use crate::error::{ApiError, ApiResult};
use crate::regions::types::RegionLevel;
use crate::request::RequestData;

/// Every measure, in the order the schema lists them.
pub const MEASURES: [StatisticsMeasure; 30] = {
    use StatisticsMeasure as M;
    [
        M::RegisteredVolunteers,
        M::ActiveVolunteers,
        M::ServiceRecords,
        M::ServiceHours,
        M::CareSubjects,
        M::CareSubjectsByRiskLevel,
        M::CareSubjectsByStatus,
        M::CareVisits,
        M::VisitedWithin30DaysShare,
        M::CorrectionsReceived,
        M::CorrectionsReleased,
        M::CorrectionsUnderSupervision,
        M::MentorshipsActive,
        M::MentoringOutcomes,
        M::LegalAidApplications,
        M::LegalAidDisbursed,
        M::LegalAidRepaid,
        M::LegalAidOutstanding,
        M::FundBalances,
        M::DisputesReceived,
        M::DisputesByChannel,
        M::DisputesResolved,
        M::MediationSuccessRate,
        M::DisputesOverdueShare,
        M::DisputeEscalations,
        M::StabilityAssessmentsCompleted,
        M::StabilityProjectOutcomes,
        M::StabilityProjectsImplemented,
        M::StabilityIncidentsAfterImplementation,
        M::UnitVetoes,
    ]
};

/// Every period length, shortest first.
const PERIODS: [StatisticsPeriod; 5] = [
    StatisticsPeriod::Day,
    StatisticsPeriod::Week,
    StatisticsPeriod::Month,
    StatisticsPeriod::Quarter,
    StatisticsPeriod::Year,
];

/// The periods partners get sensitive measures by: each figure then lies within one calendar year.
const CONTROLLED_PERIODS: [StatisticsPeriod; 2] = [StatisticsPeriod::Month, StatisticsPeriod::Year];

/// The region level at a depth below the city (the grid for anything deeper).
pub fn level_at(depth: i16) -> region::RegionLevel {
    use region::RegionLevel as L;
    match depth {
        ..=0 => L::City,
        1 => L::District,
        2 => L::Township,
        3 => L::Community,
        _ => L::Grid,
    }
}

/// Whether roles `roles` get statistics only as a partner: `partner` is their only role that may read them.
pub fn only_partner(roles: &[Role]) -> bool {
    let exact = roles.iter().any(|role| {
        *role != Role::Partner && policy::decide(&[*role], Resource::Statistics, Action::Read).is_some()
    });
    roles.contains(&Role::Partner) && !exact
}

/// What one caller may ask of one measure.
#[derive(Debug, Clone, Copy)]
pub struct Allowance {
    pub measure: StatisticsMeasure,
    pub unit: StatisticsUnit,
    /// The caller gets statistics only as a partner: fixed queries over their whole region.
    pub partner: bool,
    /// The answer is under disclosure control: a partner asking for a sensitive measure.
    pub controlled: bool,
    has_period: bool,
    has_category: bool,
    /// Depth of the caller's region (0 for the city).
    scope_depth: i16,
}

/// The arguments of one `statistics` request that the rules look at.
pub struct Asked<'a> {
    pub dims: &'a BTreeSet<StatisticsDimension>,
    /// The region level asked for, if any.
    pub region_level: Option<region::RegionLevel>,
    pub period: StatisticsPeriod,
    /// `year`, `from` or `to` was given.
    pub dates: bool,
    /// `inRegion` was given.
    pub in_region: bool,
}

impl Allowance {
    pub fn new(roles: &[Role], measure: StatisticsMeasure, scope_depth: i16) -> Self {
        let spec = measure.spec();
        let partner = only_partner(roles);
        Self {
            measure,
            unit: spec.unit,
            partner,
            controlled: partner && spec.sensitive,
            has_period: spec.has_period(),
            has_category: spec.has_category(),
            scope_depth,
        }
    }

    /// The dimensions cells may be grouped by.
    pub fn dimensions(&self) -> Vec<StatisticsDimension> {
        let mut dims = vec![StatisticsDimension::Region];
        if self.has_period {
            dims.push(StatisticsDimension::Period);
        }
        if self.has_category {
            dims.push(StatisticsDimension::Category);
        }
        dims
    }

    /// The deepest level regions may be grouped at: the community for controlled answers, else the grid.
    fn deepest(&self) -> i16 {
        if self.controlled {
            region::RegionLevel::Community.depth()
        } else {
            region::RegionLevel::Grid.depth()
        }
    }

    /// The region levels that may be asked for, from the caller's region down.
    pub fn region_levels(&self) -> Vec<region::RegionLevel> {
        (self.scope_depth.max(0)..=self.deepest()).map(level_at).collect()
    }

    /// The region level used when none is asked for: one below the caller's region, as deep as allowed.
    pub fn default_region_level(&self) -> region::RegionLevel {
        level_at((self.scope_depth + 1).min(self.deepest()))
    }

    /// The period lengths that may be asked for; none for a measure without a date.
    pub fn periods(&self) -> Vec<StatisticsPeriod> {
        match (self.has_period, self.controlled) {
            (false, _) => Vec::new(),
            (true, true) => CONTROLLED_PERIODS.to_vec(),
            (true, false) => PERIODS.to_vec(),
        }
    }

    /// Whether cells must be grouped by period: partners see sensitive dated measures period by period.
    pub fn period_required(&self) -> bool {
        self.controlled && self.has_period
    }

    /// Whether `year`, `from` and `to` may be given.
    pub fn may_restrict_dates(&self) -> bool {
        self.has_period && !self.partner
    }

    /// Whether `inRegion` may be given.
    pub fn may_restrict_region(&self) -> bool {
        !self.partner
    }

    /// The region level of the answer: the one asked for, checked, or the default.
    pub fn check(&self, asked: &Asked<'_>) -> Result<region::RegionLevel, ApiError> {
        if asked.dims.contains(&StatisticsDimension::Category) && !self.has_category {
            return Err(ApiError::bad_input("groupBy", "this measure has no categories"));
        }
        if asked.dims.contains(&StatisticsDimension::Period) && !self.has_period {
            return Err(ApiError::bad_input("groupBy", "this measure has no period: it is a current figure"));
        }
        if asked.dates && !self.has_period {
            return Err(ApiError::bad_input("year", "this measure has no date to restrict"));
        }
        if asked.dates && !self.may_restrict_dates() {
            return Err(ApiError::Forbidden(
                "partners may not restrict dates (`from`, `to`, `year`): group by `period` instead".into(),
            ));
        }
        if asked.in_region && !self.may_restrict_region() {
            return Err(ApiError::Forbidden(
                "partners get figures for their whole region only; group by region instead of `inRegion`"
                    .into(),
            ));
        }
        let level = asked.region_level.unwrap_or_else(|| self.default_region_level());
        if level.depth() < self.scope_depth {
            return Err(ApiError::bad_input("regionLevel", "above the region your token is scoped to"));
        }
        if level.depth() > self.deepest() {
            return Err(ApiError::Forbidden(
                "partners may not group sensitive measures below the community level".into(),
            ));
        }
        if self.period_required() {
            if !asked.dims.contains(&StatisticsDimension::Period) {
                return Err(ApiError::Forbidden(
                    "partners see sensitive measures period by period: group by PERIOD (MONTH or YEAR)"
                        .into(),
                ));
            }
            if !self.periods().contains(&asked.period) {
                return Err(ApiError::Forbidden(
                    "partners see sensitive measures by MONTH or YEAR only".into(),
                ));
            }
        }
        Ok(level)
    }
}

/// What the caller may ask of `statistics` for one measure: the rules the field enforces, so that a client
/// offers only what will be accepted.
#[derive(SimpleObject, Debug, Clone)]
pub struct StatisticsOptions {
    /// The measure.
    pub measure: StatisticsMeasure,
    /// What its values are.
    pub unit: StatisticsUnit,
    /// Whether answers for this caller are under disclosure control (a partner asking for a sensitive measure):
    /// small cells suppressed, the others perturbed.
    pub disclosure_controlled: bool,
    /// The dimensions `groupBy` may name: at most 3.
    pub dimensions: Vec<StatisticsDimension>,
    /// The levels `regionLevel` may take, from the caller's region down: at most 5.
    pub region_levels: Vec<RegionLevel>,
    /// The level used when `regionLevel` is not given.
    pub default_region_level: RegionLevel,
    /// The lengths `period` may take, shortest first; none for a measure without a date: at most 5.
    pub periods: Vec<StatisticsPeriod>,
    /// Whether `groupBy` must include `PERIOD`.
    pub period_required: bool,
    /// Whether `year`, `from` and `to` may be given.
    pub may_restrict_dates: bool,
    /// Whether `inRegion` may be given.
    pub may_restrict_region: bool,
}

impl From<Allowance> for StatisticsOptions {
    fn from(allowance: Allowance) -> Self {
        Self {
            measure: allowance.measure,
            unit: allowance.unit,
            disclosure_controlled: allowance.controlled,
            dimensions: allowance.dimensions(),
            region_levels: allowance.region_levels().into_iter().map(RegionLevel::from).collect(),
            default_region_level: allowance.default_region_level().into(),
            periods: allowance.periods(),
            period_required: allowance.period_required(),
            may_restrict_dates: allowance.may_restrict_dates(),
            may_restrict_region: allowance.may_restrict_region(),
        }
    }
}

/// The `statisticsOptions` root field.
#[derive(Default)]
pub struct StatisticsOptionsQuery;

#[Object]
impl StatisticsOptionsQuery {
    /// What the caller may ask of `statistics`, measure by measure (at most 30): the dimensions, region levels
    /// and periods their role may use, whether dates and regions may be restricted, and whether answers are
    /// under disclosure control. The same rules `statistics` enforces; needs a token that may read statistics.
    async fn statistics_options(&self, ctx: &Context<'_>) -> ApiResult<Vec<StatisticsOptions>> {
        let request = RequestData::of(ctx)?;
        let access = request.authorize(Resource::Statistics, Action::Read).await?;
        let scope = access.scope.ok_or_else(|| ApiError::Forbidden("statistics need a token".into()))?;
        let scope_depth = region::path_depth(&scope.path);
        let roles = request.viewer.roles();
        Ok(MEASURES.iter().map(|&measure| Allowance::new(roles, measure, scope_depth).into()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(
        dims: &BTreeSet<StatisticsDimension>,
        level: region::RegionLevel,
        period: StatisticsPeriod,
    ) -> Asked<'_> {
        Asked { dims, region_level: Some(level), period, dates: false, in_region: false }
    }

    #[test]
    fn every_measure_is_listed_once() {
        let listed: std::collections::HashSet<_> = MEASURES.iter().collect();
        assert_eq!(listed.len(), MEASURES.len());
        assert_eq!(
            MEASURES.len(),
            <StatisticsMeasure as async_graphql::resolver_utils::EnumType>::items().len()
        );
    }

    #[test]
    fn what_is_offered_is_accepted_and_nothing_else() {
        let all_dims = BTreeSet::from([
            StatisticsDimension::Region,
            StatisticsDimension::Period,
            StatisticsDimension::Category,
        ]);
        for roles in [&[Role::Partner][..], &[Role::Analyst][..], &[Role::Admin][..]] {
            for scope_depth in 0..=2 {
                for measure in MEASURES {
                    let allowance = Allowance::new(roles, measure, scope_depth);
                    let dims: BTreeSet<_> = allowance.dimensions().into_iter().collect();
                    for depth in 0..=4 {
                        let level = level_at(depth);
                        for period in PERIODS {
                            let offered = allowance.region_levels().contains(&level)
                                && (!allowance.period_required() || allowance.periods().contains(&period));
                            let result = allowance.check(&asked(&dims, level, period));
                            assert_eq!(
                                result.is_ok(),
                                offered,
                                "{roles:?} {measure:?} at depth {scope_depth}: {level:?} by {period:?}"
                            );
                        }
                    }
                    let extra: BTreeSet<_> = all_dims.difference(&dims).copied().collect();
                    for dim in extra {
                        let level = allowance.default_region_level();
                        let with = BTreeSet::from([StatisticsDimension::Region, dim]);
                        assert!(allowance.check(&asked(&with, level, StatisticsPeriod::Year)).is_err());
                    }
                }
            }
        }
    }

    #[test]
    fn partners_get_sensitive_measures_by_month_or_year_down_to_communities() {
        let allowance = Allowance::new(&[Role::Partner], StatisticsMeasure::CareSubjects, 1);
        assert!(allowance.controlled && allowance.period_required() && !allowance.may_restrict_dates());
        assert_eq!(allowance.periods(), CONTROLLED_PERIODS.to_vec());
        assert_eq!(allowance.region_levels().last(), Some(&region::RegionLevel::Community));
        let open = Allowance::new(&[Role::Partner], StatisticsMeasure::ServiceHours, 1);
        assert!(!open.controlled && !open.may_restrict_dates() && !open.may_restrict_region());
        assert_eq!(open.region_levels().last(), Some(&region::RegionLevel::Grid));
        let exact = Allowance::new(&[Role::Partner, Role::Analyst], StatisticsMeasure::CareSubjects, 1);
        assert!(!exact.controlled && exact.may_restrict_dates() && exact.periods().len() == 5);
    }
}
