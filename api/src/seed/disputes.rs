//! Disputes and grid events since 2013 (矛盾纠纷多元化解, 海上枫桥): people's mediators in every township,
//! Daishan's mediation boats (娘舅船) with their crews, the fishing vessels of the island townships (一船一档),
//! and the disputes of every year with their whole history.
//!
//! In every year at least 97% of the disputes whose mediation ended were resolved (the report: "自2013年以来…
//! 调处成功率始终保持在97%以上"): of each year's finished cases, at most 2% are escalated out of mediation, and
//! some of the resolved ones were first unresolved at the community and resolved a level up. Disputes at sea
//! (fishing grounds, collisions, catch and gear) concentrate in the fishing townships and are mostly taken by
//! Daishan's boats. The last weeks before the demo date hold open cases at every stage, some past their due time.

use chrono::{Datelike, NaiveDate, TimeDelta};
use entities::dispute::{
    self, DisputeCategory, DisputeChannel, DisputeState, EscalationRisk, EscalationTarget, MediationOutcome,
};
use entities::dispute_event::{self, DisputeEventKind};
use entities::mediator::{self, MediatorKind};
use entities::{dispute_party, dispute_vessel, fishing_vessel, mediation_boat};
use sea_orm::{DatabaseTransaction, DbErr};

use super::grid_teams::GridTeam;
use super::names::{self, IdNumbers};
use super::progress::Progress;
use super::regions::{RegionTree, TownshipKind};
use super::rng::Rng;
use super::write::insert_all;
use super::{Ctx, SeedReport, local_time};
use crate::disputes::deadline::DisputeDeadlines;
use crate::validate::MAX_CODE_CHARS;

/// Disputes found each year at scale 1.
pub const DISPUTES_PER_YEAR_AT_SCALE_1: u64 = 3_000;
/// Fishing vessels at scale 1.
pub const VESSELS_AT_SCALE_1: u64 = 6_000;
/// The first year of the record.
pub const FIRST_YEAR: i32 = 2013;
/// Daishan, whose mediation boats settle disputes at sea.
const DAISHAN: &str = "330921";

/// Sea areas of the Zhoushan fishing grounds.
const SEA_AREAS: &[&str] =
    &["岱衢洋", "大目洋", "猫头洋", "黄大洋", "嵊山渔场", "洋山渔场", "中街山渔场", "东极海域"];

const LAND_CATEGORIES: &[(DisputeCategory, u32)] = &[
    (DisputeCategory::Neighbourhood, 30),
    (DisputeCategory::Family, 18),
    (DisputeCategory::LandAndHousing, 10),
    (DisputeCategory::LabourAndWages, 12),
    (DisputeCategory::Consumer, 6),
    (DisputeCategory::Traffic, 8),
    (DisputeCategory::Medical, 3),
    (DisputeCategory::PropertyManagement, 8),
    (DisputeCategory::Other, 5),
];

const SEA_CATEGORIES: &[(DisputeCategory, u32)] = &[
    (DisputeCategory::FishingGrounds, 40),
    (DisputeCategory::VesselCollision, 25),
    (DisputeCategory::CatchAndGear, 35),
];

const LAND_CHANNELS: &[(DisputeChannel, u32)] = &[
    (DisputeChannel::GridPatrol, 45),
    (DisputeChannel::Hotline, 15),
    (DisputeChannel::Petition, 8),
    (DisputeChannel::WalkIn, 20),
    (DisputeChannel::Referral, 7),
    (DisputeChannel::Online, 5),
];

fn summary(rng: &mut Rng, category: DisputeCategory) -> String {
    let options: &[&str] = match category {
        DisputeCategory::Neighbourhood => {
            &["楼上漏水引发邻里纠纷", "邻里因噪音发生争执", "违章搭建影响通行引发纠纷"]
        }
        DisputeCategory::Family => &["赡养老人费用分担纠纷", "家庭财产分割纠纷", "婚姻家庭矛盾"],
        DisputeCategory::LandAndHousing => &["宅基地界址纠纷", "房屋租赁合同纠纷", "征地补偿分配纠纷"],
        DisputeCategory::LabourAndWages => &["水产加工厂拖欠工资", "工地务工人员工资纠纷", "工伤赔偿纠纷"],
        DisputeCategory::Consumer => &["海鲜排档消费纠纷", "装修质量纠纷"],
        DisputeCategory::Traffic => &["电动车与行人碰擦赔偿纠纷", "交通事故赔偿纠纷"],
        DisputeCategory::Medical => &["诊疗费用纠纷", "医疗服务纠纷"],
        DisputeCategory::PropertyManagement => &["物业费收缴纠纷", "小区停车位纠纷"],
        DisputeCategory::FishingGrounds => &["渔船作业区域交叉引发纠纷", "定置网与流网作业冲突"],
        DisputeCategory::VesselCollision => &["两船夜间碰撞损坏船体", "渔船靠泊时发生碰擦"],
        DisputeCategory::CatchAndGear => &["渔网被拖损赔偿纠纷", "渔获分成纠纷"],
        DisputeCategory::Other => &["其他民间纠纷"],
    };
    (*rng.pick(options)).to_owned()
}

/// What the seed wrote.
pub struct Seeded {
    pub boats: Vec<mediation_boat::Model>,
    pub mediators: Vec<mediator::Model>,
    pub vessels: Vec<fishing_vessel::Model>,
    pub disputes: Vec<dispute::Model>,
    pub parties: Vec<dispute_party::Model>,
    pub links: Vec<dispute_vessel::Model>,
    pub events: Vec<dispute_event::Model>,
}

/// One step of a generated history.
struct Hop {
    kind: DisputeEventKind,
    to: DisputeState,
    days: i64,
}

/// Generates everything (pure, deterministic).
/// The first grid worker of a grid of `township`, chosen by the vessel's own stream.
fn linked_worker(
    ctx: &Ctx,
    tree: &RegionTree,
    teams: &[GridTeam],
    township: usize,
    vessel: i64,
) -> Option<i64> {
    let grids: Vec<usize> = (0..tree.grids.len()).filter(|&g| tree.grids[g].township == township).collect();
    if grids.is_empty() {
        return None;
    }
    let mut rng = Rng::stream(ctx.seed, "vessel-grid-worker", vessel as u64);
    teams.get(grids[rng.index(grids.len())]).map(|team| team.worker_id)
}

pub fn plan(ctx: &Ctx, tree: &RegionTree, teams: &[GridTeam], ids: &mut IdNumbers) -> Seeded {
    let mut rng = Rng::stream(ctx.seed, "disputes", 0);
    let stamp = ctx.stamp;
    let mut seeded = Seeded {
        boats: Vec::new(),
        mediators: Vec::new(),
        vessels: Vec::new(),
        disputes: Vec::new(),
        parties: Vec::new(),
        links: Vec::new(),
        events: Vec::new(),
    };
    // Mediators: two people's mediators in every township, whose tokens' subjects are `mediator-<township>-1|2`.
    for township in &tree.townships {
        for n in 1..=2 {
            let id = seeded.mediators.len() as i64 + 1;
            seeded.mediators.push(mediator::Model {
                id,
                code: format!("MR{id:05}"),
                name: names::person_name(&mut rng, entities::common::Gender::Female, 1970),
                phone: names::mobile(&mut rng),
                kind: MediatorKind::PeoplesMediator,
                region_id: township.id,
                subject: Some(format!("mediator-{}-{n}", township.code)),
                mediation_boat_id: None,
                active: true,
                created_at: stamp,
            });
        }
    }
    // Daishan's mediation boats, one per township, each with a crew of three mediators.
    for township in tree.townships.iter().filter(|t| tree.districts[t.district].code == DAISHAN) {
        let boat_id = seeded.boats.len() as i64 + 1;
        seeded.boats.push(mediation_boat::Model {
            id: boat_id,
            code: format!("NJC{boat_id:02}"),
            name: format!("{}海上娘舅船", township.name),
            region_id: township.id,
            captain_name: names::person_name(&mut rng, entities::common::Gender::Male, 1965),
            phone: names::mobile(&mut rng),
            active: true,
            created_at: stamp,
        });
        for n in 1..=3 {
            let id = seeded.mediators.len() as i64 + 1;
            seeded.mediators.push(mediator::Model {
                id,
                code: format!("MR{id:05}"),
                name: names::person_name(&mut rng, entities::common::Gender::Male, 1968),
                phone: names::mobile(&mut rng),
                kind: MediatorKind::BoatCrew,
                region_id: township.id,
                subject: Some(format!("boat-{}-{n}", township.code)),
                mediation_boat_id: Some(boat_id),
                active: true,
                created_at: stamp,
            });
        }
    }
    // Fishing vessels of the island townships, the most in Daishan and Shengsi.
    let ports: Vec<usize> =
        (0..tree.townships.len()).filter(|&t| tree.townships[t].kind != TownshipKind::Street).collect();
    let port_weights: Vec<(usize, u32)> = ports
        .iter()
        .map(|&t| {
            let district = &tree.districts[tree.townships[t].district].code;
            (t, if district == DAISHAN || district == "330922" { 3 } else { 1 })
        })
        .collect();
    let mut vessels_of: Vec<Vec<i64>> = vec![Vec::new(); tree.townships.len()];
    for n in 0..ctx.scaled_min1(VESSELS_AT_SCALE_1).max(port_weights.len() as u64) {
        let township = if (n as usize) < port_weights.len() {
            port_weights[n as usize].0
        } else {
            *rng.weighted(&port_weights)
        };
        let id = seeded.vessels.len() as i64 + 1;
        let district = &tree.districts[tree.townships[township].district];
        let prefix = match district.code.as_str() {
            DAISHAN => "浙岱渔",
            "330922" => "浙嵊渔",
            "330903" => "浙普渔",
            _ => "浙定渔",
        };
        let birth = NaiveDate::from_ymd_opt(
            1960 + rng.range(0, 30) as i32,
            1 + rng.below(12) as u32,
            1 + rng.below(28) as u32,
        )
        .unwrap_or_default();
        seeded.vessels.push(fishing_vessel::Model {
            id,
            registration_no: format!("{prefix}{id:05}"),
            name: format!("{}{}号", names::place_name(&mut rng), rng.range(1, 99)),
            home_port_id: tree.townships[township].id,
            owner_name: names::person_name(&mut rng, entities::common::Gender::Male, birth.year()),
            owner_id_number: ids.issue(&mut rng, &district.code, birth, entities::common::Gender::Male),
            owner_phone: names::mobile(&mut rng),
            crew_size: rng.range(3, 30) as i16,
            safety_stars: *rng.weighted(&[(3i16, 3), (4, 5), (5, 3), (2, 1)]),
            // 定人联船: a grid worker of a grid in the home port's township looks after it.
            grid_worker_id: linked_worker(ctx, tree, teams, township, id),
            created_at: stamp,
            updated_at: stamp,
        });
        vessels_of[township].push(id);
    }
    let mediators_of = |township: i64, mediators: &[mediator::Model]| -> Vec<i64> {
        mediators
            .iter()
            .filter(|m| m.region_id == township && m.kind == MediatorKind::PeoplesMediator)
            .map(|m| m.id)
            .collect()
    };
    let deadlines = DisputeDeadlines::default();
    let grid_count = tree.grids.len();
    let last_day = ctx.as_of;
    for year in FIRST_YEAR..=last_day.year() {
        let year_start = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
        let year_end = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default().min(last_day);
        let days = (year_end - year_start).num_days().max(0) + 1;
        let per_year = ctx.scaled_min1(DISPUTES_PER_YEAR_AT_SCALE_1) * days as u64 / 365;
        // At most 2% of the year's cases leave mediation unresolved.
        let escalated_out = per_year / 50;
        for n in 0..per_year.max(1) {
            let grid = &tree.grids[rng.index(grid_count)];
            let township = &tree.townships[grid.township];
            let community_id = tree.communities[grid.community].id;
            let island = township.kind != TownshipKind::Street;
            let at_sea = island && rng.chance(0.3);
            let day = year_start + TimeDelta::days(rng.below(days as u64) as i64);
            let reported_at = local_time(day, 7 + rng.below(13) as u32, rng.below(60) as u32);
            let age_days = (last_day - day).num_days();
            let (category, channel, sea_area) = if at_sea {
                (
                    *rng.weighted(SEA_CATEGORIES),
                    DisputeChannel::MaritimePatrol,
                    Some((*rng.pick(SEA_AREAS)).to_owned()),
                )
            } else {
                (*rng.weighted(LAND_CATEGORIES), *rng.weighted(LAND_CHANNELS), None)
            };
            let id = seeded.disputes.len() as i64 + 1;
            // The path the case takes: open cases in the last weeks, else resolved (some a level up) or, for a
            // few per year, escalated out of mediation.
            let out = n < escalated_out && age_days > 45;
            let second_level = !out && rng.chance(0.04);
            let open_stage = (age_days <= 40).then(|| rng.below(4));
            let mut hops = vec![
                Hop { kind: DisputeEventKind::Accepted, to: DisputeState::Accepted, days: 0 },
                Hop { kind: DisputeEventKind::Assigned, to: DisputeState::Assigned, days: rng.range(0, 2) },
                Hop {
                    kind: DisputeEventKind::MediationSession,
                    to: DisputeState::Mediating,
                    days: rng.range(1, 5),
                },
            ];
            if second_level || out {
                hops.push(Hop {
                    kind: DisputeEventKind::Unresolved,
                    to: DisputeState::Unresolved,
                    days: rng.range(5, 20),
                });
            }
            if second_level {
                hops.push(Hop { kind: DisputeEventKind::Escalated, to: DisputeState::Accepted, days: 1 });
                hops.push(Hop { kind: DisputeEventKind::Assigned, to: DisputeState::Assigned, days: 1 });
                hops.push(Hop {
                    kind: DisputeEventKind::MediationSession,
                    to: DisputeState::Mediating,
                    days: rng.range(1, 4),
                });
            }
            if out {
                hops.push(Hop { kind: DisputeEventKind::Escalated, to: DisputeState::Escalated, days: 1 });
            } else {
                hops.push(Hop {
                    kind: DisputeEventKind::Resolved,
                    to: DisputeState::Resolved,
                    days: rng.range(1, 15),
                });
                if rng.chance(0.6) {
                    hops.push(Hop {
                        kind: DisputeEventKind::FollowUp,
                        to: DisputeState::Resolved,
                        days: rng.range(7, 30),
                    });
                }
            }
            hops.push(Hop {
                kind: DisputeEventKind::Closed,
                to: DisputeState::Closed,
                days: rng.range(1, 20),
            });
            if let Some(stage) = open_stage {
                // 0: reported, 1: accepted, 2: assigned, 3: in mediation.
                hops.truncate(stage as usize);
            }
            let boat = at_sea && tree.districts[township.district].code == DAISHAN;
            let assignee_mediator =
                if boat { None } else { mediators_of(township.id, &seeded.mediators).first().copied() };
            let assignee_boat = if boat {
                seeded.boats.iter().find(|b| b.region_id == township.id).map(|b| b.id)
            } else {
                None
            };
            let mut row = dispute::Model {
                id,
                code: format!("MD{}{id:06}", (reported_at + TimeDelta::hours(8)).year()),
                grid_id: grid.id,
                region_id: community_id,
                sea_area,
                reported_at,
                channel,
                category,
                summary: summary(&mut rng, category),
                escalation_risk: *rng.weighted(&[
                    (EscalationRisk::Low, 60),
                    (EscalationRisk::Medium, 30),
                    (EscalationRisk::High, 8),
                    (EscalationRisk::Critical, 2),
                ]),
                state: DisputeState::Reported,
                stage_started_at: reported_at,
                due_at: deadlines.due(DisputeState::Reported, reported_at),
                first_mediated_at: None,
                assignee_mediator_id: None,
                assignee_boat_id: None,
                escalated_to: None,
                agreement: None,
                outcome: None,
                resolved_at: None,
                closed_at: None,
                major_project_id: None,
                instability_incident: false,
                idempotency_key: format!("seed-{id}"),
                reported_by: format!("grid-worker-{}", grid.code),
                created_at: reported_at,
                updated_at: reported_at,
            };
            debug_assert!(row.code.chars().count() <= MAX_CODE_CHARS);
            let push_event =
                |events: &mut Vec<dispute_event::Model>, kind, from, to, region, at, note: Option<String>| {
                    let event_id = events.len() as i64 + 1;
                    events.push(dispute_event::Model {
                        id: event_id,
                        dispute_id: id,
                        kind,
                        from_state: from,
                        to_state: Some(to),
                        region_id: region,
                        actor: "seed".into(),
                        occurred_at: at,
                        note,
                    });
                };
            push_event(
                &mut seeded.events,
                DisputeEventKind::Reported,
                None,
                DisputeState::Reported,
                community_id,
                reported_at,
                None,
            );
            let mut at = reported_at + TimeDelta::hours(rng.range(1, 20));
            for hop in hops {
                at += TimeDelta::days(hop.days) + TimeDelta::minutes(rng.range(5, 600));
                if at >= stamp {
                    at = stamp - TimeDelta::minutes(rng.range(1, 600));
                }
                let from = row.state;
                match hop.kind {
                    DisputeEventKind::Accepted => {}
                    DisputeEventKind::Assigned => {
                        row.assignee_mediator_id = assignee_mediator;
                        row.assignee_boat_id = assignee_boat;
                    }
                    DisputeEventKind::MediationSession => {
                        row.first_mediated_at.get_or_insert(at);
                    }
                    DisputeEventKind::Unresolved => row.outcome = Some(MediationOutcome::Unresolved),
                    DisputeEventKind::Escalated if hop.to == DisputeState::Accepted => {
                        row.region_id = township.id;
                        row.escalated_to = Some(EscalationTarget::NextLevel);
                        row.outcome = None;
                        row.assignee_mediator_id = None;
                        row.assignee_boat_id = None;
                        row.first_mediated_at = None;
                    }
                    DisputeEventKind::Escalated => {
                        row.escalated_to = Some(*rng.pick(&[
                            EscalationTarget::Arbitration,
                            EscalationTarget::Court,
                            EscalationTarget::PetitionOffice,
                        ]));
                        row.outcome = Some(MediationOutcome::EscalatedOut);
                    }
                    DisputeEventKind::Resolved => {
                        row.outcome = Some(MediationOutcome::Resolved);
                        row.resolved_at = Some(at);
                        row.agreement = Some("双方自愿达成调解协议".into());
                    }
                    DisputeEventKind::Closed => row.closed_at = Some(at),
                    DisputeEventKind::FollowUp | DisputeEventKind::Reported => {}
                }
                row.state = hop.to;
                if hop.kind != DisputeEventKind::FollowUp
                    && deadlines.days(hop.to).is_some()
                    && from != hop.to
                {
                    // A stage begins: acceptance (or re-acceptance) and the first session restart the clock.
                    if matches!(hop.kind, DisputeEventKind::Accepted | DisputeEventKind::Escalated)
                        || (hop.kind == DisputeEventKind::MediationSession && from == DisputeState::Assigned)
                    {
                        row.stage_started_at = at;
                        row.due_at = deadlines.due(hop.to, at);
                    }
                }
                let note = (hop.kind == DisputeEventKind::FollowUp).then(|| "回访：协议履行良好".to_owned());
                push_event(&mut seeded.events, hop.kind, Some(from), hop.to, row.region_id, at, note);
                row.updated_at = at;
            }
            if !crate::disputes::workflow::is_open(row.state) {
                row.due_at = None;
            }
            // Parties: two people, or a person and a company in labour disputes.
            for (role, kind) in [
                (dispute_party::PartyRole::Applicant, dispute_party::PartyKind::Person),
                (
                    dispute_party::PartyRole::Respondent,
                    if category == DisputeCategory::LabourAndWages {
                        dispute_party::PartyKind::Organisation
                    } else {
                        dispute_party::PartyKind::Person
                    },
                ),
            ] {
                let party_id = seeded.parties.len() as i64 + 1;
                let person = kind == dispute_party::PartyKind::Person;
                let birth = NaiveDate::from_ymd_opt(
                    1955 + rng.range(0, 45) as i32,
                    1 + rng.below(12) as u32,
                    1 + rng.below(28) as u32,
                )
                .unwrap_or_default();
                let gender = if rng.chance(0.5) {
                    entities::common::Gender::Male
                } else {
                    entities::common::Gender::Female
                };
                seeded.parties.push(dispute_party::Model {
                    id: party_id,
                    dispute_id: id,
                    kind,
                    role,
                    name: if person {
                        names::person_name(&mut rng, gender, birth.year())
                    } else {
                        format!("舟山{}水产有限公司", names::place_name(&mut rng))
                    },
                    id_number: (person && rng.chance(0.7))
                        .then(|| ids.issue(&mut rng, &tree.districts[township.district].code, birth, gender)),
                    phone: Some(names::mobile(&mut rng)),
                    created_at: reported_at,
                });
            }
            if at_sea {
                let fleet = &vessels_of[grid.township];
                for _ in 0..fleet.len().min(if category == DisputeCategory::VesselCollision { 2 } else { 1 })
                {
                    let vessel = *rng.pick(fleet);
                    if !seeded.links.iter().rev().take(2).any(|l| l.dispute_id == id && l.vessel_id == vessel)
                    {
                        let link_id = seeded.links.len() as i64 + 1;
                        seeded.links.push(dispute_vessel::Model {
                            id: link_id,
                            dispute_id: id,
                            vessel_id: vessel,
                        });
                    }
                }
            }
            seeded.disputes.push(row);
        }
    }
    seeded
}

/// Writes the plan.
pub async fn insert(
    txn: &DatabaseTransaction,
    ctx: &Ctx,
    tree: &RegionTree,
    teams: &[GridTeam],
    ids: &mut IdNumbers,
    progress: &Progress,
    report: &mut SeedReport,
) -> Result<(), DbErr> {
    let seeded = plan(ctx, tree, teams, ids);
    let total = seeded.boats.len()
        + seeded.mediators.len()
        + seeded.vessels.len()
        + seeded.disputes.len()
        + seeded.parties.len()
        + seeded.links.len()
        + seeded.events.len();
    let bar = progress.phase("disputes", total as u64);
    insert_all(txn, seeded.boats, &bar).await?;
    insert_all(txn, seeded.mediators, &bar).await?;
    insert_all(txn, seeded.vessels, &bar).await?;
    report.disputes = insert_all(txn, seeded.disputes, &bar).await?;
    insert_all(txn, seeded.parties, &bar).await?;
    insert_all(txn, seeded.links, &bar).await?;
    report.dispute_events = insert_all(txn, seeded.events, &bar).await?;
    bar.finish();
    Ok(())
}
