//! The youth programme (关爱青少年彩虹行动·人生导师): mentors, their pairings with at-risk youth, sessions and
//! outcomes. At scale 1 the outcomes are exactly the report's: 273 into employment, 12 back to school, 84
//! behavioural interventions, 306 skills trainings and 204 intellectually disabled youth whose families receive
//! long-term assistance.
//!
//! Everything is planned in memory first, because a young person's status and schooling depend on how their
//! mentoring went (employment makes them EMPLOYED, a return to school IN_SCHOOL).

use chrono::{Datelike, NaiveDate, TimeDelta};
use entities::care_subject::SubjectStatus;
use entities::mentor;
use entities::mentoring_outcome::{self, OutcomeKind};
use entities::mentoring_session;
use entities::mentorship::{self, MentorshipStatus};
use entities::youth_profile::{SchoolStatus, YouthKind};
use sea_orm::{DatabaseTransaction, DbErr};

use super::care::{self, Youth};
use super::names::{self, IdNumbers};
use super::progress::Progress;
use super::regions::RegionTree;
use super::rng::Rng;
use super::volunteers::birthday;
use super::write::insert_all;
use super::{Ctx, SeedReport};

/// Mentors at scale 1.
pub const MENTORS_AT_SCALE_1: u64 = 420;

/// The report's outcome figures.
pub const OUTCOMES_AT_SCALE_1: [(OutcomeKind, u64); 5] = [
    (OutcomeKind::Employment, 273),
    (OutcomeKind::BackToSchool, 12),
    (OutcomeKind::BehaviouralIntervention, 84),
    (OutcomeKind::SkillsTraining, 306),
    (OutcomeKind::FamilyAssistance, 204),
];

/// Young people in the programme at scale 1, by kind (raised when needed to carry the outcomes).
const YOUTH_AT_SCALE_1: [(YouthKind, u64); 3] =
    [(YouthKind::Idle, 700), (YouthKind::BehaviouralRisk, 300), (YouthKind::IntellectuallyDisabled, 240)];

const OCCUPATIONS: [(&str, u32); 8] = [
    ("教师", 25),
    ("社工", 15),
    ("律师", 12),
    ("企业家", 12),
    ("退休干部", 12),
    ("民警", 10),
    ("医生", 8),
    ("心理咨询师", 6),
];

/// The outcome counts for this scale: the report's figures scaled, at least one of each.
pub fn outcome_targets(ctx: &Ctx) -> [(OutcomeKind, u64); 5] {
    OUTCOMES_AT_SCALE_1.map(|(kind, n)| (kind, ctx.scaled_min1(n)))
}

fn target(targets: &[(OutcomeKind, u64)], kind: OutcomeKind) -> u64 {
    targets.iter().find(|(k, _)| *k == kind).map_or(0, |(_, n)| *n)
}

/// How many young people of each kind: the scaled programme, or more if the outcomes need them.
fn youth_counts(ctx: &Ctx, targets: &[(OutcomeKind, u64)]) -> [(YouthKind, u64); 3] {
    YOUTH_AT_SCALE_1.map(|(kind, n)| {
        let needed = match kind {
            YouthKind::Idle => {
                target(targets, OutcomeKind::Employment) + target(targets, OutcomeKind::BackToSchool)
            }
            YouthKind::BehaviouralRisk => target(targets, OutcomeKind::BehaviouralIntervention),
            YouthKind::IntellectuallyDisabled => target(targets, OutcomeKind::FamilyAssistance),
        };
        (kind, ctx.scaled(n).max(needed))
    })
}

/// Everything the programme consists of, ready to write.
pub struct Plan {
    pub youth: Vec<Youth>,
    pub fates: Vec<(SubjectStatus, SchoolStatus)>,
    pub mentors: Vec<mentor::Model>,
    pub mentorships: Vec<mentorship::Model>,
    pub sessions: Vec<mentoring_session::Model>,
    pub outcomes: Vec<mentoring_outcome::Model>,
}

/// Mentors, each attached to a township or a community, most still active.
fn plan_mentors(ctx: &Ctx, tree: &RegionTree) -> (Vec<mentor::Model>, Vec<usize>) {
    let residents = tree.resident_table();
    let mut mentors = Vec::new();
    let mut districts = Vec::new();
    for i in 0..ctx.scaled_min1(MENTORS_AT_SCALE_1) {
        let mut rng = Rng::stream(ctx.seed, "mentor", i);
        let id = i as i64 + 1;
        let grid = &tree.grids[residents.sample(&mut rng)];
        let region_id = if rng.chance(0.6) {
            tree.townships[grid.township].id
        } else {
            tree.communities[grid.community].id
        };
        let gender = names::gender(&mut rng, 0.45);
        let birth_year = ctx.as_of.year() - rng.range(28, 68) as i32;
        mentors.push(mentor::Model {
            id,
            code: format!("M{id:05}"),
            name: names::person_name(&mut rng, gender, birth_year),
            phone: names::mobile(&mut rng),
            occupation: (*rng.weighted(&OCCUPATIONS)).to_owned(),
            region_id,
            active: rng.chance(0.92),
            created_at: ctx.stamp,
        });
        districts.push(grid.district);
    }
    (mentors, districts)
}

fn goal(rng: &mut Rng, kind: YouthKind) -> String {
    let options: &[&str] = match kind {
        YouthKind::Idle => {
            &["帮助稳定就业，培养一技之长", "引导树立职业目标，对接就业岗位", "培养劳动技能，融入社会"]
        }
        YouthKind::BehaviouralRisk => {
            &["矫正不良行为，重建规则意识", "远离不良交友，回归正常学习生活", "加强法治教育，预防违法犯罪"]
        }
        YouthKind::IntellectuallyDisabled => {
            &["提升生活自理能力，支持家庭长期照护", "康复训练与家庭帮扶相结合"]
        }
    };
    (*rng.pick(options)).to_owned()
}

fn topic(rng: &mut Rng, kind: YouthKind) -> String {
    let options: &[&str] = match kind {
        YouthKind::Idle => {
            &["职业规划谈心", "求职技巧辅导", "技能培训动员", "心理疏导", "家庭沟通", "创业项目参观"]
        }
        YouthKind::BehaviouralRisk => {
            &["法治教育", "心理疏导", "学业辅导", "家庭沟通", "不良交友干预", "禁毒知识学习"]
        }
        YouthKind::IntellectuallyDisabled => {
            &["生活自理训练", "康复训练指导", "家庭照护支持", "社交活动陪伴", "助残政策讲解"]
        }
    };
    (*rng.pick(options)).to_owned()
}

fn describe(rng: &mut Rng, kind: OutcomeKind) -> String {
    match kind {
        OutcomeKind::Employment => {
            let place = rng.pick(&[
                "本地水产加工企业",
                "船舶修造企业",
                "县城商超",
                "物流公司",
                "海岛民宿",
                "汽修店",
                "电商直播基地",
                "港口码头",
            ]);
            format!("经导师推荐，在{place}就业")
        }
        OutcomeKind::BackToSchool => format!("重返{}就读", rng.pick(&["职业高中", "普通高中", "技工学校"])),
        OutcomeKind::BehaviouralIntervention => {
            format!("开展{}次心理疏导和行为矫治，不良行为明显改善", rng.range(3, 12))
        }
        OutcomeKind::SkillsTraining => {
            let course = rng.pick(&[
                "电工",
                "焊工",
                "中式烹调",
                "汽车维修",
                "电子商务",
                "渔船船员",
                "美容美发",
                "中式面点",
            ]);
            format!("参加{course}职业技能培训并取得证书")
        }
        OutcomeKind::FamilyAssistance => {
            "为家庭提供长期帮扶：康复训练指导、生活照料支持和助残政策对接".to_owned()
        }
    }
}

/// One mentee's latest pairing and the window in which it can have achieved something.
#[derive(Clone, Copy)]
struct Candidate {
    youth: usize,
    mentorship: usize,
    from: NaiveDate,
    to: NaiveDate,
}

/// Plans youth, mentors, pairings, sessions and outcomes. `first_subject_id` continues the care subjects.
pub fn plan(ctx: &Ctx, tree: &RegionTree, ids: &mut IdNumbers, first_subject_id: i64) -> Plan {
    let targets = outcome_targets(ctx);
    let youth = care::plan_youth(ctx, tree, ids, first_subject_id, &youth_counts(ctx, &targets));
    let (mentors, mentor_district) = plan_mentors(ctx, tree);
    let active_by_district: Vec<Vec<usize>> = (0..tree.districts.len())
        .map(|d| (0..mentors.len()).filter(|&m| mentors[m].active && mentor_district[m] == d).collect())
        .collect();
    let all_mentors: Vec<usize> = (0..mentors.len()).collect();

    // Pairings: every intellectually disabled young person and 90% of the others; some got a second mentor
    // after the first pairing ended. At most one ACTIVE pairing per young person, by construction.
    let mut mentorships: Vec<mentorship::Model> = Vec::new();
    let mut latest: Vec<Option<usize>> = vec![None; youth.len()];
    for (y, person) in youth.iter().enumerate() {
        let mut rng = Rng::stream(ctx.seed, "mentorship", y as u64);
        if person.kind != YouthKind::IntellectuallyDisabled && !rng.chance(0.9) {
            continue;
        }
        let local = &active_by_district[tree.grids[person.grid].district];
        let pick_mentor = |rng: &mut Rng| -> i64 {
            let pool = if local.is_empty() { &all_mentors } else { local };
            mentors[*rng.pick(pool)].id
        };
        let long_term = person.kind == YouthKind::IntellectuallyDisabled;
        let mut started_on = (person.subject.registered_on + TimeDelta::days(rng.range(7, 120)))
            .min(ctx.as_of - TimeDelta::days(7));
        let mut open = rng.chance(if long_term { 0.85 } else { 0.5 });
        for round in 0..2 {
            let mut ended_on = None;
            if !open {
                let end = started_on + TimeDelta::days(rng.range(120, 900));
                let room = (ctx.as_of - started_on).num_days();
                if end < ctx.as_of {
                    ended_on = Some(end);
                } else if room >= 60 {
                    ended_on = Some(ctx.as_of - TimeDelta::days(rng.range(1, 30)));
                } else {
                    open = true;
                }
            }
            latest[y] = Some(mentorships.len());
            mentorships.push(mentorship::Model {
                id: mentorships.len() as i64 + 1,
                mentor_id: pick_mentor(&mut rng),
                mentee_id: person.subject.id,
                status: if open { MentorshipStatus::Active } else { MentorshipStatus::Closed },
                goal: Some(goal(&mut rng, person.kind)),
                started_on,
                ended_on,
                created_at: ctx.stamp,
            });
            // A second mentor for some whose first pairing ended.
            let Some(end) = ended_on else { break };
            let next_start = end + TimeDelta::days(rng.range(10, 90));
            if round == 1 || !rng.chance(0.12) || next_start > ctx.as_of - TimeDelta::days(14) {
                break;
            }
            started_on = next_start;
            open = rng.chance(0.7);
        }
    }

    // Outcomes on the latest pairing of each mentee, exact counts; a kind's pool is cycled if it is smaller
    // than the target (only possible at tiny scales).
    let candidates: Vec<Candidate> = latest
        .iter()
        .enumerate()
        .filter_map(|(y, m)| {
            let m = (*m)?;
            let ms = &mentorships[m];
            let to = ms.ended_on.unwrap_or(ctx.as_of);
            let from = (ms.started_on + TimeDelta::days(30)).min(to);
            Some(Candidate { youth: y, mentorship: m, from, to })
        })
        .collect();
    let mut rng = Rng::stream(ctx.seed, "outcomes", 0);
    let age_day = |y: usize, years: u32| birthday(youth[y].subject.birth_date, years);
    let kind_of = |c: &Candidate| youth[c.youth].kind;
    let mut achieved: Vec<Vec<(OutcomeKind, NaiveDate)>> = vec![Vec::new(); youth.len()];
    let mut outcomes = Vec::new();
    let order = [
        OutcomeKind::FamilyAssistance,
        OutcomeKind::BehaviouralIntervention,
        OutcomeKind::Employment,
        OutcomeKind::BackToSchool,
        OutcomeKind::SkillsTraining,
    ];
    for kind in order {
        let has = |c: &Candidate, k: OutcomeKind| achieved[c.youth].iter().any(|(a, _)| *a == k);
        let date_of =
            |c: &Candidate, k: OutcomeKind| achieved[c.youth].iter().find(|(a, _)| *a == k).map(|(_, d)| *d);
        let mut pool: Vec<Candidate> = candidates
            .iter()
            .filter_map(|c| {
                let mut c = *c;
                let ok = match kind {
                    OutcomeKind::FamilyAssistance => kind_of(&c) == YouthKind::IntellectuallyDisabled,
                    OutcomeKind::BehaviouralIntervention => kind_of(&c) == YouthKind::BehaviouralRisk,
                    OutcomeKind::Employment => {
                        c.from = c.from.max(age_day(c.youth, 16));
                        kind_of(&c) != YouthKind::IntellectuallyDisabled
                    }
                    OutcomeKind::BackToSchool => {
                        c.to = c.to.min(age_day(c.youth, 18));
                        kind_of(&c) != YouthKind::IntellectuallyDisabled && !has(&c, OutcomeKind::Employment)
                    }
                    OutcomeKind::SkillsTraining => {
                        // Training comes before the job it led to.
                        if let Some(job) = date_of(&c, OutcomeKind::Employment) {
                            c.to = job;
                        }
                        !has(&c, OutcomeKind::BackToSchool)
                    }
                };
                (ok && c.from <= c.to).then_some(c)
            })
            .collect();
        if pool.is_empty() {
            pool = candidates.clone();
        }
        rng.shuffle(&mut pool);
        if pool.is_empty() {
            continue;
        }
        for n in 0..target(&targets, kind) as usize {
            let c = pool[n % pool.len()];
            let span = (c.to - c.from).num_days().max(0);
            let on = c.from + TimeDelta::days(rng.range(0, span));
            achieved[c.youth].push((kind, on));
            outcomes.push(mentoring_outcome::Model {
                id: 0,
                mentorship_id: mentorships[c.mentorship].id,
                kind,
                achieved_on: on,
                description: Some(describe(&mut rng, kind)),
                created_at: ctx.stamp,
            });
        }
    }
    outcomes.sort_by_key(|o| (o.mentorship_id, o.achieved_on, o.kind as u8));
    for (i, o) in outcomes.iter_mut().enumerate() {
        o.id = i as i64 + 1;
    }

    // Sessions: a few per pairing, more for long ones.
    let mut sessions = Vec::new();
    for m in &mentorships {
        let mut rng = Rng::stream(ctx.seed, "sessions", m.id as u64);
        let y = (m.mentee_id - first_subject_id) as usize;
        let to = m.ended_on.unwrap_or(ctx.as_of);
        let span = (to - m.started_on).num_days().max(0);
        let count = (2 + span / 90).min(12) as usize;
        let mut days: Vec<NaiveDate> =
            (0..count).map(|_| m.started_on + TimeDelta::days(rng.range(0, span))).collect();
        days.sort_unstable();
        for held_on in days {
            sessions.push(mentoring_session::Model {
                id: sessions.len() as i64 + 1,
                mentorship_id: m.id,
                held_on,
                minutes: rng.range(2, 12) as i32 * 15,
                topic: topic(&mut rng, youth[y].kind),
                notes: rng.chance(0.2).then(|| "导师与家长同步沟通了近期情况".to_owned()),
                created_at: ctx.stamp,
            });
        }
    }

    // Status and schooling follow from the story.
    let fates = youth
        .iter()
        .enumerate()
        .map(|(y, person)| {
            let mut rng = Rng::stream(ctx.seed, "youth-fate", y as u64);
            let status = match latest[y].map(|m| mentorships[m].status) {
                Some(MentorshipStatus::Closed) => SubjectStatus::Closed,
                _ => SubjectStatus::Active,
            };
            let done = |k: OutcomeKind| achieved[y].iter().any(|(a, _)| *a == k);
            let minor = birthday(person.subject.birth_date, 18) > ctx.as_of;
            let school = if done(OutcomeKind::Employment) {
                SchoolStatus::Employed
            } else if done(OutcomeKind::BackToSchool) {
                SchoolStatus::InSchool
            } else {
                match person.kind {
                    YouthKind::Idle if minor => SchoolStatus::DroppedOut,
                    YouthKind::Idle if rng.chance(0.2) => SchoolStatus::DroppedOut,
                    YouthKind::Idle => SchoolStatus::Unemployed,
                    YouthKind::BehaviouralRisk if minor && rng.chance(0.6) => SchoolStatus::InSchool,
                    YouthKind::BehaviouralRisk if minor => SchoolStatus::DroppedOut,
                    YouthKind::IntellectuallyDisabled if minor && rng.chance(0.5) => SchoolStatus::InSchool,
                    _ => SchoolStatus::Unemployed,
                }
            };
            (status, school)
        })
        .collect();

    Plan { youth, fates, mentors, mentorships, sessions, outcomes }
}

/// Plans and writes the programme: the young people (as care subjects), then mentors, pairings, sessions and
/// outcomes.
pub async fn insert(
    txn: &DatabaseTransaction,
    ctx: &Ctx,
    tree: &RegionTree,
    ids: &mut IdNumbers,
    first_subject_id: i64,
    progress: &Progress,
    report: &mut SeedReport,
) -> Result<(), DbErr> {
    let plan = plan(ctx, tree, ids, first_subject_id);
    care::insert_youth(txn, ctx, &plan.youth, &plan.fates, progress, report).await?;
    let total = plan.mentors.len() + plan.mentorships.len() + plan.sessions.len() + plan.outcomes.len();
    let bar = progress.phase("mentoring", total as u64);
    insert_all(txn, plan.mentors, &bar).await?;
    report.mentorships = insert_all(txn, plan.mentorships, &bar).await?;
    insert_all(txn, plan.sessions, &bar).await?;
    report.mentoring_outcomes = insert_all(txn, plan.outcomes, &bar).await?;
    bar.finish();
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::SeedOptions;
    use super::*;

    fn plan_at(scale: f64) -> Plan {
        let ctx = Ctx::new(&SeedOptions { scale, ..SeedOptions::default() });
        let tree = RegionTree::build(&ctx);
        plan(&ctx, &tree, &mut IdNumbers::new(), 10_001)
    }

    fn count(plan: &Plan, kind: OutcomeKind) -> usize {
        plan.outcomes.iter().filter(|o| o.kind == kind).count()
    }

    #[test]
    fn outcome_targets_are_exact_at_scale_1() {
        let p = plan_at(1.0);
        assert_eq!(count(&p, OutcomeKind::Employment), 273);
        assert_eq!(count(&p, OutcomeKind::BackToSchool), 12);
        assert_eq!(count(&p, OutcomeKind::BehaviouralIntervention), 84);
        assert_eq!(count(&p, OutcomeKind::SkillsTraining), 306);
        assert_eq!(count(&p, OutcomeKind::FamilyAssistance), 204);
        assert_eq!(p.mentors.len(), 420);
        let disabled = p.youth.iter().filter(|y| y.kind == YouthKind::IntellectuallyDisabled).count();
        assert!(disabled >= 210);
    }

    #[test]
    fn outcomes_are_consistent() {
        let p = plan_at(1.0);
        let by_id: HashMap<i64, &mentorship::Model> = p.mentorships.iter().map(|m| (m.id, m)).collect();
        let youth_by_id: HashMap<i64, &Youth> = p.youth.iter().map(|y| (y.subject.id, y)).collect();
        for o in &p.outcomes {
            let Some(m) = by_id.get(&o.mentorship_id) else { panic!("dangling outcome") };
            assert!(o.achieved_on >= m.started_on && o.achieved_on <= m.ended_on.unwrap_or(NaiveDate::MAX));
            let Some(y) = youth_by_id.get(&m.mentee_id) else { panic!("mentee is not a youth") };
            if o.kind == OutcomeKind::FamilyAssistance {
                assert_eq!(y.kind, YouthKind::IntellectuallyDisabled);
            }
        }
        // At most one active pairing per mentee; closed ones have an end.
        let mut active: HashMap<i64, usize> = HashMap::new();
        for m in &p.mentorships {
            match m.status {
                MentorshipStatus::Active => {
                    assert!(m.ended_on.is_none());
                    *active.entry(m.mentee_id).or_default() += 1;
                }
                MentorshipStatus::Closed => assert!(m.ended_on.is_some_and(|e| e > m.started_on)),
            }
        }
        assert!(active.values().all(|&n| n == 1));
        let ctx = Ctx::new(&SeedOptions::default());
        for y in &p.youth {
            let age = ctx.as_of.years_since(y.subject.birth_date).unwrap_or(0);
            assert!((14..=25).contains(&age), "{age}");
        }
        assert!(p.sessions.iter().all(|s| s.minutes > 0));
    }

    #[test]
    fn small_scales_keep_at_least_one_of_each_outcome() {
        let p = plan_at(0.01);
        for (kind, _) in OUTCOMES_AT_SCALE_1 {
            assert!(count(&p, kind) >= 1, "{kind:?}");
        }
        assert_eq!(count(&p, OutcomeKind::Employment), 3);
    }
}
