//! The 22,000+ registered peace volunteers (平安志愿者), their teams and their envoy badges.
//!
//! Volunteers live in a home grid, more of them in the populous districts 定海 and 普陀. Every volunteer belongs
//! to the peace volunteer team of their township; about one in seven also serves in a city-wide special team,
//! and many Daishan women in the fishermen's wives' team (岱山渔嫂志愿服务队).

use chrono::{Datelike, Months, NaiveDate, TimeDelta};
use entities::common::Gender;
use entities::volunteer::{self, VolunteerStatus};
use entities::volunteer_badge::{self, BadgeKind};
use entities::volunteer_team;
use entities::volunteer_team_membership::{self, MembershipRole};
use sea_orm::{DatabaseTransaction, DbErr};

use super::names::{self, IdNumbers};
use super::progress::Progress;
use super::regions::{RegionTree, TownshipKind};
use super::rng::{Rng, WeightedTable};
use super::write::insert_all;
use super::{Ctx, SeedReport};

/// Registered volunteers at scale 1: the report's "22,000+".
pub const VOLUNTEERS_AT_SCALE_1: u64 = 22_300;

/// The code of 岱山县, whose women make up the 渔嫂 team.
const DAISHAN: &str = "330921";

/// What the service-record generator needs to know about a volunteer.
#[derive(Debug, Clone)]
pub struct Volunteer {
    pub id: i64,
    /// Index into [`RegionTree::grids`].
    pub grid: usize,
    pub registered_on: NaiveDate,
    /// The day a suspended or withdrawn volunteer stopped serving.
    pub stopped_on: Option<NaiveDate>,
    /// Member of the traffic team: more rush-hour duty.
    pub traffic_team: bool,
    /// Member of the maritime team or the 渔嫂 team: more dock security checks and fishing-village patrols.
    pub maritime_team: bool,
}

/// The special (non-township) teams, after the 36 township teams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Special {
    Yusao,
    Maritime,
    AntiDrug,
    Traffic,
}

const SPECIALS: [(Special, &str, &str); 4] = [
    (
        Special::Yusao,
        "岱山渔嫂志愿服务队",
        "由岱山渔民的妻子（渔嫂）组成：丈夫出海时，她们在渔村、码头开展夜间平安巡逻，上船宣传安全生产，\
         调解邻里纠纷，关心留守老人和孩子。",
    ),
    (
        Special::Maritime,
        "海上平安志愿服务队",
        "由渔船船长、船员和渔业村干部组成，开展海上互助救援、涉渔矛盾纠纷调解和渔船安全检查。",
    ),
    (
        Special::AntiDrug,
        "禁毒志愿服务队",
        "禁毒使者进社区、进校园、进渔船，开展禁毒宣传教育和社区戒毒康复人员帮扶。",
    ),
    (
        Special::Traffic,
        "交通文明志愿服务队",
        "在早晚高峰协助交警维护路口和斑马线秩序，劝导电动车驾乘人员佩戴头盔。",
    ),
];

/// Age at `as_of`: mostly working-age, with students and active retirees.
fn age(rng: &mut Rng) -> i64 {
    match rng.below(100) {
        0..25 => rng.range(18, 29),
        25..85 => rng.range(30, 55),
        _ => rng.range(56, 72),
    }
}

/// A birth date of someone exactly `years` old on `as_of` (their last birthday up to 364 days ago).
pub fn birth_date(rng: &mut Rng, as_of: NaiveDate, years: i64) -> NaiveDate {
    let anniversary = as_of.checked_sub_months(Months::new(years.clamp(0, 150) as u32 * 12)).unwrap_or(as_of);
    anniversary - TimeDelta::days(rng.range(0, 364))
}

/// The day someone born on `birth` turns `years`.
pub fn birthday(birth: NaiveDate, years: u32) -> NaiveDate {
    birth.checked_add_months(Months::new(years * 12)).unwrap_or(birth)
}

/// Generates and writes volunteers, teams, memberships and badges; returns the roster for service records.
pub async fn insert(
    txn: &DatabaseTransaction,
    ctx: &Ctx,
    tree: &RegionTree,
    ids: &mut IdNumbers,
    progress: &Progress,
    report: &mut SeedReport,
) -> Result<Vec<Volunteer>, DbErr> {
    let count = ctx.scaled(VOLUNTEERS_AT_SCALE_1);
    let bar = progress.phase("volunteers", count);

    // Denser in the populous districts, varying from grid to grid.
    let grid_weights = {
        let mut rng = Rng::stream(ctx.seed, "volunteer-grid-weights", 0);
        WeightedTable::new(tree.grids.iter().map(|g| {
            let district = match tree.district_code(g.district) {
                "330902" => 1.15,
                "330903" => 1.1,
                DAISHAN => 0.9,
                _ => 0.8,
            };
            (1_000.0 * district * (0.6 + 0.8 * rng.unit())) as u64
        }))
    };

    let mut rows = Vec::with_capacity(count as usize);
    let mut roster = Vec::with_capacity(count as usize);
    let mut special_of: Vec<Option<Special>> = Vec::with_capacity(count as usize);
    let mut women_of_daishan = Vec::new();
    for i in 0..count {
        let mut rng = Rng::stream(ctx.seed, "volunteer", i);
        let id = i as i64 + 1;
        let grid = grid_weights.sample(&mut rng);
        let g = &tree.grids[grid];
        let district_code = tree.district_code(g.district);
        let daishan = district_code == DAISHAN;
        let gender = names::gender(&mut rng, if daishan { 0.62 } else { 0.5 });
        let years = age(&mut rng);
        let birth = birth_date(&mut rng, ctx.as_of, years);
        let id_region = if rng.chance(0.85) {
            district_code.to_owned()
        } else {
            tree.district_code(rng.index(tree.districts.len())).to_owned()
        };
        let name = names::person_name(&mut rng, gender, birth.year());
        let phone = names::mobile(&mut rng);
        let status = match rng.below(100) {
            0..93 => VolunteerStatus::Active,
            93..98 => VolunteerStatus::Suspended,
            _ => VolunteerStatus::Withdrawn,
        };
        // Registrations grew over the years: the minimum of two uniforms favours recent dates.
        let days_ago = rng.below(8 * 365).min(rng.below(8 * 365)) as i64;
        let adult_on = birthday(birth, 18);
        let registered_on = (ctx.as_of - TimeDelta::days(days_ago)).max(adult_on).min(ctx.as_of);
        let stopped_on = (status != VolunteerStatus::Active).then(|| {
            let served = (ctx.as_of - registered_on).num_days();
            registered_on + TimeDelta::days(served * rng.range(20, 95) / 100)
        });
        let id_number = ids.issue(&mut rng, &id_region, birth, gender);

        // A special team for ~15% of all: Daishan women mostly in the 渔嫂 team.
        let special = if daishan && gender == Gender::Female && rng.chance(0.38) {
            Some(Special::Yusao)
        } else if rng.chance(0.12) {
            let coastal = tree.townships[g.township].kind != TownshipKind::Street;
            Some(*rng.weighted(&[
                (Special::Maritime, if coastal { 45 } else { 15 }),
                (Special::AntiDrug, 30),
                (Special::Traffic, if coastal { 15 } else { 45 }),
            ]))
        } else {
            None
        };
        if daishan && gender == Gender::Female {
            women_of_daishan.push(i as usize);
        }

        rows.push(volunteer::Model {
            id,
            code: format!("V{id:07}"),
            name,
            gender,
            id_number,
            phone,
            region_id: g.id,
            status,
            registered_on,
            created_at: ctx.stamp,
            updated_at: ctx.stamp,
        });
        roster.push(Volunteer {
            id,
            grid,
            registered_on,
            stopped_on,
            traffic_team: special == Some(Special::Traffic),
            maritime_team: matches!(special, Some(Special::Maritime | Special::Yusao)),
        });
        special_of.push(special);
    }
    // Even a tiny demo shows the 渔嫂 team with someone in it.
    if !special_of.contains(&Some(Special::Yusao))
        && let Some(&first) = women_of_daishan.first()
    {
        special_of[first] = Some(Special::Yusao);
        roster[first].maritime_team = true;
    }

    report.volunteers = insert_all(txn, rows.clone(), &bar).await?;
    bar.finish();

    let (team_rows, memberships, badges) = teams_and_badges(ctx, tree, &rows, &roster, &special_of);
    let bar = progress.phase("teams and badges", (team_rows.len() + memberships.len() + badges.len()) as u64);
    report.volunteer_teams = insert_all(txn, team_rows, &bar).await?;
    insert_all(txn, memberships, &bar).await?;
    insert_all(txn, badges, &bar).await?;
    bar.finish();
    Ok(roster)
}

type TeamRows =
    (Vec<volunteer_team::Model>, Vec<volunteer_team_membership::Model>, Vec<volunteer_badge::Model>);

/// The 36 township teams and the 4 special teams, every volunteer's memberships (one leader per team) and the
/// badges.
fn teams_and_badges(
    ctx: &Ctx,
    tree: &RegionTree,
    volunteers: &[volunteer::Model],
    roster: &[Volunteer],
    special_of: &[Option<Special>],
) -> TeamRows {
    let mut teams = Vec::with_capacity(tree.townships.len() + SPECIALS.len());
    for t in &tree.townships {
        teams.push(volunteer_team::Model {
            id: teams.len() as i64 + 1,
            code: format!("VT{:03}", teams.len() + 1),
            name: format!("{}平安志愿服务队", t.name),
            region_id: t.id,
            description: Some(format!(
                "{}的平安志愿者队伍，开展夜间巡逻、平安宣传、矛盾纠纷排查和重点时段治安守护。",
                t.name
            )),
            created_at: ctx.stamp,
        });
    }
    let daishan_id = tree.districts.iter().find(|d| d.code == DAISHAN).map_or(tree.city_id, |d| d.id);
    let first_special = teams.len();
    for (kind, name, description) in SPECIALS {
        teams.push(volunteer_team::Model {
            id: teams.len() as i64 + 1,
            code: format!("VT{:03}", teams.len() + 1),
            name: name.to_owned(),
            region_id: if kind == Special::Yusao { daishan_id } else { tree.city_id },
            description: Some(description.to_owned()),
            created_at: ctx.stamp,
        });
    }
    let special_team = |s: Special| {
        let offset = SPECIALS.iter().position(|(k, _, _)| *k == s).unwrap_or(0);
        first_special + offset
    };

    let mut memberships = Vec::with_capacity(volunteers.len() * 115 / 100);
    let mut members_of: Vec<Vec<usize>> = vec![Vec::new(); teams.len()];
    let mut badges = Vec::new();
    for (i, (v, brief)) in volunteers.iter().zip(roster).enumerate() {
        let mut rng = Rng::stream(ctx.seed, "volunteer-teams", i as u64);
        let township_team = tree.grids[brief.grid].township;
        let mut joins = vec![(township_team, v.registered_on)];
        if let Some(s) = special_of[i] {
            let later = rng.range(0, (ctx.as_of - v.registered_on).num_days().min(365));
            joins.push((special_team(s), v.registered_on + TimeDelta::days(later)));
        }
        for (team, joined_on) in joins {
            members_of[team].push(memberships.len());
            memberships.push(volunteer_team_membership::Model {
                id: memberships.len() as i64 + 1,
                team_id: teams[team].id,
                volunteer_id: v.id,
                role: MembershipRole::Member,
                joined_on,
                created_at: ctx.stamp,
            });
        }

        // ~35% carry one or two envoy badges; the anti-drug team's members are anti-drug envoys.
        if rng.chance(0.35) || special_of[i] == Some(Special::AntiDrug) {
            let mut kinds = Vec::with_capacity(2);
            if special_of[i] == Some(Special::AntiDrug) {
                kinds.push(BadgeKind::AntiDrugEnvoy);
            }
            let wanted = if rng.chance(0.3) { 2 } else { 1 };
            while kinds.len() < wanted {
                let k = *rng.weighted(&[
                    (BadgeKind::PeaceEnvoy, 50),
                    (BadgeKind::CareEnvoy, 32),
                    (BadgeKind::AntiDrugEnvoy, 18),
                ]);
                if !kinds.contains(&k) {
                    kinds.push(k);
                }
            }
            for badge in kinds {
                let served = (ctx.as_of - v.registered_on).num_days();
                badges.push(volunteer_badge::Model {
                    id: badges.len() as i64 + 1,
                    volunteer_id: v.id,
                    badge,
                    granted_on: v.registered_on + TimeDelta::days(rng.range(served.min(30), served)),
                    created_at: ctx.stamp,
                });
            }
        }
    }

    // One leader per team, preferably someone still active and long-serving.
    for (team, members) in members_of.iter().enumerate() {
        let mut rng = Rng::stream(ctx.seed, "team-leader", team as u64);
        let eligible: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&m| {
                let v = (memberships[m].volunteer_id - 1) as usize;
                volunteers[v].status == VolunteerStatus::Active
            })
            .collect();
        let pool = if eligible.is_empty() { members } else { &eligible };
        if pool.is_empty() {
            continue;
        }
        // The earliest joiner among a few random candidates.
        let leader =
            (0..4).map(|_| *rng.pick(pool)).min_by_key(|&m| (memberships[m].joined_on, m)).unwrap_or(pool[0]);
        memberships[leader].role = MembershipRole::Leader;
    }
    (teams, memberships, badges)
}
