//! People under special-population care (特殊人群关爱): people with severe mental disorders and their
//! profiles, risk assessments, visits and care groups; community-corrections persons (exactly 3,718 received
//! since 2006, 3,144 of them released, at scale 1); and the at-risk youth of the mentoring programme, whose
//! rows are planned here but written by [`super::mentoring`] once their mentoring story is known.

use chrono::{Datelike, NaiveDate, TimeDelta};
use entities::care_group_member::{self, CareGroupRole};
use entities::care_subject::{self, CareCategory, SubjectStatus};
use entities::care_visit::{self, VisitKind};
use entities::common::Gender;
use entities::correction_profile::{self, CorrectionType, SupervisionStatus};
use entities::mental_health_profile;
use entities::risk_assessment;
use entities::youth_profile::{self, SchoolStatus, YouthKind};
use sea_orm::{DatabaseTransaction, DbErr};

use super::grid_teams::{Contact, GridTeam};
use super::names::{self, IdNumbers};
use super::progress::Progress;
use super::regions::RegionTree;
use super::rng::{Rng, WeightedTable};
use super::volunteers::{birth_date, birthday};
use super::write::insert_all;
use super::{Ctx, SeedReport, local_time};

/// People with severe mental disorders at scale 1.
pub const MENTAL_AT_SCALE_1: u64 = 4_600;
/// Community-corrections persons received since 2006 (the report's figure).
pub const CORRECTIONS_RECEIVED: u64 = 3_718;
/// … of whom released (the report's figure).
pub const CORRECTIONS_RELEASED: u64 = 3_144;

const DIAGNOSES: [(&str, u32); 6] = [
    ("精神分裂症", 58),
    ("双相情感障碍", 12),
    ("偏执性精神病", 5),
    ("分裂情感性障碍", 6),
    ("癫痫所致精神障碍", 8),
    ("精神发育迟滞伴发精神障碍", 11),
];

const FOUND_BY: [(&str, u32); 4] =
    [("常规筛查", 35), ("家属报告", 20), ("医疗机构转介", 30), ("社区排查", 15)];

/// Offences of community-corrections persons, with the date each became a crime (危险驾驶罪 came with the
/// 8th amendment of the Criminal Law in 2011, 帮助信息网络犯罪活动罪 with the 9th in 2015).
const OFFENCES: [(&str, u32, (i32, u32, u32)); 11] = [
    ("盗窃罪", 18, (1997, 10, 1)),
    ("危险驾驶罪", 24, (2011, 5, 1)),
    ("交通肇事罪", 10, (1997, 10, 1)),
    ("诈骗罪", 9, (1997, 10, 1)),
    ("故意伤害罪", 10, (1997, 10, 1)),
    ("开设赌场罪", 7, (2006, 6, 29)),
    ("非法捕捞水产品罪", 8, (1997, 10, 1)),
    ("寻衅滋事罪", 5, (1997, 10, 1)),
    ("帮助信息网络犯罪活动罪", 5, (2015, 11, 1)),
    ("走私普通货物罪", 2, (1997, 10, 1)),
    ("非法拘禁罪", 2, (1997, 10, 1)),
];

/// The first day counted by the report's "since 2006".
fn corrections_start(as_of: NaiveDate) -> NaiveDate {
    let start = NaiveDate::from_ymd_opt(2006, 1, 1).unwrap_or(as_of);
    start.min(as_of - TimeDelta::days(3_650))
}

/// Postal address of someone living in a grid: "舟山市定海区昌国街道香园路18号3幢201室" in town, "…田岙村45号"
/// in a village. Each community has a few roads of its own, so neighbours share street names.
fn address(rng: &mut Rng, seed: u64, tree: &RegionTree, grid: usize) -> String {
    let g = &tree.grids[grid];
    let community = &tree.communities[g.community];
    let prefix = tree.address_prefix(grid);
    if community.village {
        return format!("{prefix}{}{}号", community.name, rng.range(1, 260));
    }
    let mut roads = Rng::stream(seed, "roads", g.community as u64);
    let road_count = 3;
    let chosen = rng.below(road_count);
    let mut road = names::road_name(&mut roads);
    for _ in 0..chosen {
        road = names::road_name(&mut roads);
    }
    let number = rng.range(1, 320);
    if rng.chance(0.6) {
        format!("{prefix}{road}{number}号{}幢{}{:02}室", rng.range(1, 24), rng.range(1, 11), rng.range(1, 4))
    } else {
        format!("{prefix}{road}{number}号")
    }
}

/// Staff of the township's judicial office (司法所), who take the check-ins of corrections persons.
fn judicial_staff(ctx: &Ctx, township: usize) -> [Contact; 2] {
    let mut rng = Rng::stream(ctx.seed, "judicial-office", township as u64);
    let person = |rng: &mut Rng| {
        let g = names::gender(rng, 0.5);
        let birth_year = ctx.as_of.year() - rng.range(26, 55) as i32;
        Contact { name: names::person_name(rng, g, birth_year), phone: names::mobile(rng) }
    };
    [person(&mut rng), person(&mut rng)]
}

/// The person behind a care subject.
struct Person {
    surname: &'static str,
    name: String,
    gender: Gender,
    birth: NaiveDate,
    id_number: String,
}

fn person(
    rng: &mut Rng,
    tree: &RegionTree,
    ids: &mut IdNumbers,
    grid: usize,
    gender: Gender,
    birth: NaiveDate,
) -> Person {
    let local = tree.district_code(tree.grids[grid].district).to_owned();
    let region6 =
        if rng.chance(0.9) { local } else { tree.district_code(rng.index(tree.districts.len())).to_owned() };
    let surname = names::surname(rng);
    let name = format!("{surname}{}", names::given_name(rng, gender, birth.year()));
    let id_number = ids.issue(rng, &region6, birth, gender);
    Person { surname, name, gender, birth, id_number }
}

/// A relative's name: children, siblings and fathers share the family name, spouses and mothers rarely do.
fn relative_name(rng: &mut Rng, surname: &str, relation: &str, gender: Gender, birth_year: i32) -> String {
    let given = names::given_name(rng, gender, birth_year);
    match relation {
        "父亲" | "子女" | "兄弟姐妹" => format!("{surname}{given}"),
        _ => format!("{}{given}", names::surname(rng)),
    }
}

/// Sorted random days in `[from, to]`.
fn days_between(rng: &mut Rng, from: NaiveDate, to: NaiveDate, count: usize) -> Vec<NaiveDate> {
    let span = (to - from).num_days().max(0);
    let mut days: Vec<NaiveDate> = (0..count).map(|_| from + TimeDelta::days(rng.range(0, span))).collect();
    days.sort_unstable();
    days
}

/// Rows of every care table, accumulated while the subjects are generated.
#[derive(Default)]
struct Rows {
    subjects: Vec<care_subject::Model>,
    mental: Vec<mental_health_profile::Model>,
    corrections: Vec<correction_profile::Model>,
    assessments: Vec<risk_assessment::Model>,
    visits: Vec<care_visit::Model>,
    groups: Vec<care_group_member::Model>,
}

impl Rows {
    fn assessment(
        &mut self,
        ctx: &Ctx,
        subject_id: i64,
        level: i16,
        on: NaiveDate,
        assessor: &str,
        notes: Option<String>,
    ) {
        self.assessments.push(risk_assessment::Model {
            id: self.assessments.len() as i64 + 1,
            subject_id,
            level,
            assessed_on: on,
            assessor: assessor.to_owned(),
            notes,
            created_at: ctx.stamp,
        });
    }

    #[expect(clippy::too_many_arguments, reason = "a visit row has that many independent fields")]
    fn visit(
        &mut self,
        ctx: &Ctx,
        rng: &mut Rng,
        subject_id: i64,
        kind: VisitKind,
        on: NaiveDate,
        visitor: &str,
        medication_taken: Option<bool>,
        notes: Option<String>,
    ) {
        let hour = rng.range(9, 16) as u32;
        self.visits.push(care_visit::Model {
            id: self.visits.len() as i64 + 1,
            subject_id,
            kind,
            visited_at: local_time(on, hour, rng.range(0, 11) as u32 * 5),
            visitor: visitor.to_owned(),
            medication_taken,
            notes,
            created_at: ctx.stamp,
        });
    }

    fn group_member(&mut self, ctx: &Ctx, subject_id: i64, role: CareGroupRole, who: &Contact) {
        self.groups.push(care_group_member::Model {
            id: self.groups.len() as i64 + 1,
            subject_id,
            role,
            name: who.name.clone(),
            phone: who.phone.clone(),
            created_at: ctx.stamp,
        });
    }
}

/// People with severe mental disorders: profile, 2–6 risk assessments, roughly monthly visits, care group.
fn mental_health(
    ctx: &Ctx,
    tree: &RegionTree,
    teams: &[GridTeam],
    residents: &WeightedTable,
    ids: &mut IdNumbers,
    rows: &mut Rows,
) {
    let count = ctx.scaled(MENTAL_AT_SCALE_1);
    let earliest =
        NaiveDate::from_ymd_opt(2008, 1, 1).unwrap_or(ctx.as_of).min(ctx.as_of - TimeDelta::days(3_650));
    for i in 0..count {
        let mut rng = Rng::stream(ctx.seed, "mental-health", i);
        let id = rows.subjects.len() as i64 + 1;
        let grid = residents.sample(&mut rng);
        let team = &teams[grid];
        let gender = names::gender(&mut rng, 0.47);
        let age = match rng.below(100) {
            0..35 => rng.range(18, 39),
            35..80 => rng.range(40, 59),
            _ => rng.range(60, 85),
        };
        let birth = birth_date(&mut rng, ctx.as_of, age);
        let p = person(&mut rng, tree, ids, grid, gender, birth);
        let registered_on =
            days_between(&mut rng, earliest.max(birthday(birth, 18)), ctx.as_of - TimeDelta::days(30), 1)
                .first()
                .copied()
                .unwrap_or(ctx.as_of);
        let status = if rng.chance(0.96) { SubjectStatus::Active } else { SubjectStatus::Closed };

        // Risk assessments drift slowly from a level that is usually low; the latest one is the current level.
        let n_assessments = rng.range(2, 6) as usize;
        let from = registered_on.max(ctx.as_of - TimeDelta::days(4 * 365));
        let mut level = *rng.weighted(&[(0i16, 40), (1, 25), (2, 15), (3, 10), (4, 6), (5, 4)]);
        for on in days_between(&mut rng, from, ctx.as_of - TimeDelta::days(3), n_assessments) {
            let notes = (level >= 3).then(|| format!("评估为{level}级，纳入重点监护，落实监护人看护责任"));
            rows.assessment(ctx, id, level, on, &team.doctor.name, notes);
            level = (level + rng.weighted(&[(-1i16, 25), (0, 55), (1, 20)])).clamp(0, 5);
        }
        let current = rows.assessments.last().map(|a| a.level);

        // Guardian, as suits the patient's age.
        let relations: &[(&str, u32)] = if age >= 55 {
            &[("配偶", 45), ("子女", 35), ("兄弟姐妹", 15), ("其他亲属", 5)]
        } else if age < 30 {
            &[("父亲", 40), ("母亲", 45), ("兄弟姐妹", 10), ("其他亲属", 5)]
        } else {
            &[("配偶", 40), ("父亲", 15), ("母亲", 20), ("兄弟姐妹", 15), ("子女", 5), ("其他亲属", 5)]
        };
        let relation = *rng.weighted(relations);
        let guardian_gender = match relation {
            "父亲" => Gender::Male,
            "母亲" => Gender::Female,
            "配偶" if gender == Gender::Male => Gender::Female,
            "配偶" => Gender::Male,
            _ => names::gender(&mut rng, 0.5),
        };
        let guardian_year = match relation {
            "父亲" | "母亲" => birth.year() - rng.range(20, 35) as i32,
            "子女" => birth.year() + rng.range(20, 35) as i32,
            _ => birth.year() + rng.range(-8, 8) as i32,
        };
        let guardian = Contact {
            name: relative_name(&mut rng, p.surname, relation, guardian_gender, guardian_year),
            phone: names::mobile(&mut rng),
        };
        let insured = rng.chance(0.93);
        rows.mental.push(mental_health_profile::Model {
            subject_id: id,
            health_record_no: format!("EHR330900{:08}", 10_000_000 + i * 7 + rng.below(7)),
            diagnosis: (*rng.weighted(&DIAGNOSES)).to_owned(),
            found_by: (*rng.weighted(&FOUND_BY)).to_owned(),
            guardian_name: guardian.name.clone(),
            guardian_phone: guardian.phone.clone(),
            guardian_relation: relation.to_owned(),
            guardian_insured: insured,
            insurance_policy_no: insured.then(|| format!("JHZR{}{:07}", ctx.as_of.year(), i + 1)),
            // The city buys the guardian liability insurance by calendar year.
            insurance_expires_on: insured
                .then(|| NaiveDate::from_ymd_opt(ctx.as_of.year(), 12, 31).unwrap_or(ctx.as_of)),
            created_at: ctx.stamp,
        });

        // The care group: a grid worker, the doctor, and a relative or, for high risk, the police officer.
        let worker = &team.workers[rng.index(2)];
        rows.group_member(ctx, id, CareGroupRole::GridWorker, worker);
        rows.group_member(ctx, id, CareGroupRole::Doctor, &team.doctor);
        if current.unwrap_or(0) >= 3 {
            rows.group_member(ctx, id, CareGroupRole::PoliceOfficer, &team.police);
        } else {
            rows.group_member(ctx, id, CareGroupRole::Family, &guardian);
        }

        // Visits roughly monthly (every two weeks at high risk) over the last year; about 8% of the active
        // are overdue (no visit in the last 30 days), and the closed were last seen months ago.
        let interval = if current.unwrap_or(0) >= 3 { 14 } else { 30 };
        let last = match status {
            SubjectStatus::Active if rng.chance(0.08) => ctx.as_of - TimeDelta::days(rng.range(31, 75)),
            SubjectStatus::Active => ctx.as_of - TimeDelta::days(rng.range(0, 29)),
            SubjectStatus::Closed => ctx.as_of - TimeDelta::days(rng.range(60, 330)),
        };
        let first = registered_on.max(ctx.as_of - TimeDelta::days(364));
        let mut on = last;
        let mut visits = Vec::new();
        while on >= first {
            visits.push(on);
            on -= TimeDelta::days(interval + rng.range(-5, 5));
        }
        for on in visits.into_iter().rev() {
            let kind = *rng.weighted(&[
                (VisitKind::FollowUp, 40),
                (VisitKind::MedicationSupervision, 30),
                (VisitKind::HealthEducation, 15),
                (VisitKind::HomeVisit, 15),
            ]);
            let (visitor, taken, notes) = match kind {
                VisitKind::MedicationSupervision => {
                    let taken = rng.chance(0.92);
                    let note = if taken {
                        "按医嘱规律服药"
                    } else {
                        "未按时服药，已督促家属监护服药"
                    };
                    (&team.doctor.name, Some(taken), Some(note.to_owned()))
                }
                VisitKind::HomeVisit => {
                    (&worker.name, None, rng.chance(0.4).then(|| "家庭监护到位，居住环境安全".to_owned()))
                }
                VisitKind::HealthEducation => {
                    (&team.doctor.name, None, Some("讲解规律服药和按时复诊的重要性".to_owned()))
                }
                _ => {
                    let who = if rng.chance(0.5) { &team.doctor.name } else { &worker.name };
                    let note = rng.chance(0.4).then(|| {
                        (*rng.pick(&["病情稳定", "情绪平稳，睡眠良好", "情绪波动，建议近期复诊"])).to_owned()
                    });
                    (who, None, note)
                }
            };
            rows.visit(ctx, &mut rng, id, kind, on, visitor, taken, notes);
        }

        rows.subjects.push(care_subject::Model {
            id,
            code: format!("CS{id:07}"),
            category: CareCategory::SevereMentalDisorder,
            name: p.name,
            gender: p.gender,
            id_number: p.id_number,
            birth_date: p.birth,
            phone: rng.chance(0.7).then(|| names::mobile(&mut rng)),
            address: address(&mut rng, ctx.seed, tree, grid),
            region_id: tree.grids[grid].id,
            status,
            current_risk_level: current,
            registered_on,
            created_at: ctx.stamp,
            updated_at: ctx.stamp,
        });
    }
}

/// When and how long one corrections person was (or is) supervised.
struct CorrectionPlan {
    kind: CorrectionType,
    received_on: NaiveDate,
    supervision_end: NaiveDate,
    released: bool,
    stream: u64,
}

/// Received/end dates for exactly `received` persons of whom exactly `released` are released: the released
/// ones finished on or before `as_of`, the others are still supervised after it. Sorted by reception.
fn correction_plans(ctx: &Ctx, received: u64, released: u64) -> Vec<CorrectionPlan> {
    let start = corrections_start(ctx.as_of);
    let mut plans: Vec<CorrectionPlan> = (0..received)
        .map(|i| {
            let mut rng = Rng::stream(ctx.seed, "correction-plan", i);
            let kind = *rng.weighted(&[
                (CorrectionType::Probation, 72),
                (CorrectionType::Parole, 14),
                (CorrectionType::TemporaryServiceOutside, 6),
                (CorrectionType::PublicSurveillance, 8),
            ]);
            let months = match kind {
                CorrectionType::Probation => rng.range(6, 60),
                CorrectionType::Parole => rng.range(6, 36),
                _ => rng.range(6, 24),
            } as u32;
            let add = |d: NaiveDate| d.checked_add_months(chrono::Months::new(months)).unwrap_or(d);
            let is_released = i < released;
            let received_on = if is_released {
                // Ends on or before as_of; later years received more people (max of two uniforms).
                let latest =
                    ctx.as_of.checked_sub_months(chrono::Months::new(months)).unwrap_or(start).max(start);
                let span = (latest - start).num_days();
                start + TimeDelta::days(rng.range(0, span).max(rng.range(0, span)))
            } else {
                // Still supervised: received less than `months` before as_of (28-day months keep it strict).
                ctx.as_of - TimeDelta::days(rng.range(0, i64::from(months) * 28 - 1))
            };
            CorrectionPlan {
                kind,
                received_on,
                supervision_end: add(received_on),
                released: is_released,
                stream: i,
            }
        })
        .collect();
    plans.sort_by_key(|p| (p.received_on, p.stream));
    plans
}

/// Community-corrections persons: profile; for those still supervised a risk assessment at intake, weekly
/// (first three months) or monthly check-ins over the last three months, and a care group.
fn corrections(
    ctx: &Ctx,
    tree: &RegionTree,
    teams: &[GridTeam],
    residents: &WeightedTable,
    ids: &mut IdNumbers,
    rows: &mut Rows,
) {
    let plans = correction_plans(ctx, ctx.scaled(CORRECTIONS_RECEIVED), ctx.scaled(CORRECTIONS_RELEASED));
    let staff: Vec<[Contact; 2]> = (0..tree.townships.len()).map(|t| judicial_staff(ctx, t)).collect();
    for plan in plans {
        let mut rng = Rng::stream(ctx.seed, "correction", plan.stream);
        let id = rows.subjects.len() as i64 + 1;
        let grid = residents.sample(&mut rng);
        let team = &teams[grid];
        let officer = &staff[tree.grids[grid].township][rng.index(2)];
        let gender = names::gender(&mut rng, 0.12);
        let age = if rng.chance(0.7) { rng.range(25, 45) } else { rng.range(18, 65) };
        let birth = birth_date(&mut rng, plan.received_on, age);
        let p = person(&mut rng, tree, ids, grid, gender, birth);

        let offences: Vec<(&str, u32)> = OFFENCES
            .iter()
            .filter(|(_, _, (y, m, d))| {
                NaiveDate::from_ymd_opt(*y, *m, *d).is_some_and(|since| since <= plan.received_on)
            })
            .map(|(o, w, _)| (*o, *w))
            .collect();
        let offence = if offences.is_empty() { "盗窃罪" } else { *rng.weighted(&offences) };

        let mut current = None;
        if !plan.released {
            let on = (plan.received_on + TimeDelta::days(rng.range(0, 14))).min(ctx.as_of);
            let level = *rng.weighted(&[(0i16, 50), (1, 30), (2, 15), (3, 5)]);
            rows.assessment(ctx, id, level, on, &officer.name, Some("入矫风险评估".to_owned()));
            current = Some(level);

            // Check-ins over the last three months: weekly in the first three months of supervision.
            let weekly_until = plan.received_on + TimeDelta::days(90);
            let mut on = plan.received_on.max(ctx.as_of - TimeDelta::days(89));
            while on <= ctx.as_of {
                let note = *rng.pick(&[
                    "到司法所当面报到",
                    "提交书面思想汇报",
                    "电子定位核查正常",
                    "参加集中教育学习",
                ]);
                rows.visit(
                    ctx,
                    &mut rng,
                    id,
                    VisitKind::CheckIn,
                    on,
                    &officer.name,
                    None,
                    Some(note.to_owned()),
                );
                on += TimeDelta::days(if on < weekly_until { 7 } else { rng.range(28, 31) });
            }

            let relation = if rng.chance(0.5) { "配偶" } else { "父亲" };
            let relative_gender = names::gender(&mut rng, 0.6);
            let relative = Contact {
                name: relative_name(&mut rng, p.surname, relation, relative_gender, birth.year()),
                phone: names::mobile(&mut rng),
            };
            rows.group_member(ctx, id, CareGroupRole::GridWorker, &team.workers[rng.index(2)]);
            rows.group_member(ctx, id, CareGroupRole::PoliceOfficer, &team.police);
            rows.group_member(ctx, id, CareGroupRole::Family, &relative);
        }

        rows.corrections.push(correction_profile::Model {
            subject_id: id,
            correction_type: plan.kind,
            offence: offence.to_owned(),
            received_on: plan.received_on,
            supervision_start: plan.received_on,
            supervision_end: plan.supervision_end,
            released_on: plan.released.then_some(plan.supervision_end),
            status: if plan.released {
                SupervisionStatus::Released
            } else {
                SupervisionStatus::UnderSupervision
            },
            created_at: ctx.stamp,
        });
        rows.subjects.push(care_subject::Model {
            id,
            code: format!("CS{id:07}"),
            category: CareCategory::CommunityCorrection,
            name: p.name,
            gender: p.gender,
            id_number: p.id_number,
            birth_date: p.birth,
            phone: rng.chance(0.95).then(|| names::mobile(&mut rng)),
            address: address(&mut rng, ctx.seed, tree, grid),
            region_id: tree.grids[grid].id,
            status: if plan.released { SubjectStatus::Closed } else { SubjectStatus::Active },
            current_risk_level: current,
            registered_on: plan.received_on,
            created_at: ctx.stamp,
            updated_at: ctx.stamp,
        });
    }
}

/// Generates and writes the mental-health and corrections subjects with everything hanging off them. Returns
/// the next free care-subject id, where the youth of the mentoring programme continue.
pub async fn insert(
    txn: &DatabaseTransaction,
    ctx: &Ctx,
    tree: &RegionTree,
    teams: &[GridTeam],
    ids: &mut IdNumbers,
    progress: &Progress,
    report: &mut SeedReport,
) -> Result<i64, DbErr> {
    let residents = tree.resident_table();
    let mut rows = Rows::default();
    mental_health(ctx, tree, teams, &residents, ids, &mut rows);
    corrections(ctx, tree, teams, &residents, ids, &mut rows);

    report.corrections_received = rows.corrections.len() as u64;
    report.corrections_released =
        rows.corrections.iter().filter(|c| c.status == SupervisionStatus::Released).count() as u64;
    let next_id = rows.subjects.len() as i64 + 1;
    let total = rows.subjects.len()
        + rows.mental.len()
        + rows.corrections.len()
        + rows.assessments.len()
        + rows.visits.len()
        + rows.groups.len();
    let bar = progress.phase("care subjects", total as u64);
    report.care_subjects = insert_all(txn, rows.subjects, &bar).await?;
    insert_all(txn, rows.mental, &bar).await?;
    insert_all(txn, rows.corrections, &bar).await?;
    insert_all(txn, rows.assessments, &bar).await?;
    insert_all(txn, rows.visits, &bar).await?;
    insert_all(txn, rows.groups, &bar).await?;
    bar.finish();
    Ok(next_id)
}

/// A young person of the mentoring programme, before their mentoring story decides status and schooling.
#[derive(Debug, Clone)]
pub struct Youth {
    pub subject: care_subject::Model,
    pub kind: YouthKind,
    pub guardian: Contact,
    /// Index into [`RegionTree::grids`].
    pub grid: usize,
}

/// The young people: `counts` of each kind, aged 14–25 at `as_of`, ids from `first_id`.
pub fn plan_youth(
    ctx: &Ctx,
    tree: &RegionTree,
    ids: &mut IdNumbers,
    first_id: i64,
    counts: &[(YouthKind, u64)],
) -> Vec<Youth> {
    let residents = tree.resident_table();
    let mut youth = Vec::new();
    for &(kind, count) in counts {
        for _ in 0..count {
            let i = youth.len() as u64;
            let mut rng = Rng::stream(ctx.seed, "youth", i);
            let id = first_id + i as i64;
            let grid = residents.sample(&mut rng);
            let gender = names::gender(&mut rng, if kind == YouthKind::BehaviouralRisk { 0.25 } else { 0.4 });
            let age = match kind {
                YouthKind::Idle => rng.range(16, 25),
                YouthKind::BehaviouralRisk => rng.range(14, 22),
                YouthKind::IntellectuallyDisabled => rng.range(14, 25),
            };
            let birth = birth_date(&mut rng, ctx.as_of, age);
            let p = person(&mut rng, tree, ids, grid, gender, birth);
            // Registered at 13 or older, within the programme's eight years.
            let from = birthday(birth, 13).max(ctx.as_of - TimeDelta::days(8 * 365));
            let registered_on = days_between(&mut rng, from, ctx.as_of - TimeDelta::days(30), 1)
                .first()
                .copied()
                .unwrap_or(ctx.as_of);
            let relation = if rng.chance(0.55) { "父亲" } else { "母亲" };
            let parent_gender = if relation == "父亲" { Gender::Male } else { Gender::Female };
            let parent_year = birth.year() - rng.range(22, 34) as i32;
            let guardian = Contact {
                name: relative_name(&mut rng, p.surname, relation, parent_gender, parent_year),
                phone: names::mobile(&mut rng),
            };
            youth.push(Youth {
                subject: care_subject::Model {
                    id,
                    code: format!("CS{id:07}"),
                    category: CareCategory::AtRiskYouth,
                    name: p.name,
                    gender: p.gender,
                    id_number: p.id_number,
                    birth_date: p.birth,
                    phone: rng.chance(0.5).then(|| names::mobile(&mut rng)),
                    address: address(&mut rng, ctx.seed, tree, grid),
                    region_id: tree.grids[grid].id,
                    status: SubjectStatus::Active,
                    current_risk_level: None,
                    registered_on,
                    created_at: ctx.stamp,
                    updated_at: ctx.stamp,
                },
                kind,
                guardian,
                grid,
            });
        }
    }
    youth
}

/// Writes the young people with the status and schooling their mentoring gave them.
pub async fn insert_youth(
    txn: &DatabaseTransaction,
    ctx: &Ctx,
    youth: &[Youth],
    fates: &[(SubjectStatus, SchoolStatus)],
    progress: &Progress,
    report: &mut SeedReport,
) -> Result<(), DbErr> {
    let bar = progress.phase("youth", (youth.len() * 2) as u64);
    let mut subjects = Vec::with_capacity(youth.len());
    let mut profiles = Vec::with_capacity(youth.len());
    for (y, &(status, school_status)) in youth.iter().zip(fates) {
        subjects.push(care_subject::Model { status, ..y.subject.clone() });
        profiles.push(youth_profile::Model {
            subject_id: y.subject.id,
            youth_kind: y.kind,
            school_status,
            guardian_name: y.guardian.name.clone(),
            guardian_phone: y.guardian.phone.clone(),
            created_at: ctx.stamp,
        });
    }
    report.care_subjects += insert_all(txn, subjects, &bar).await?;
    insert_all(txn, profiles, &bar).await?;
    bar.finish();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::SeedOptions;
    use super::*;

    #[test]
    fn corrections_targets_are_exact_and_consistent() {
        let ctx = Ctx::new(&SeedOptions::default());
        let plans =
            correction_plans(&ctx, ctx.scaled(CORRECTIONS_RECEIVED), ctx.scaled(CORRECTIONS_RELEASED));
        assert_eq!(plans.len(), 3_718);
        assert_eq!(plans.iter().filter(|p| p.released).count(), 3_144);
        let start = NaiveDate::from_ymd_opt(2006, 1, 1).unwrap_or_default();
        for p in &plans {
            assert!(p.received_on >= start && p.received_on <= ctx.as_of);
            assert!(p.supervision_end > p.received_on);
            let months = (p.supervision_end - p.received_on).num_days();
            assert!((6 * 28..=5 * 366 + 1).contains(&months), "{months}");
            if p.released {
                assert!(p.supervision_end <= ctx.as_of);
            } else {
                assert!(p.supervision_end > ctx.as_of);
            }
        }
        assert!(plans.windows(2).all(|w| w[0].received_on <= w[1].received_on));
        // Spread over the years since 2006.
        assert!(plans.iter().any(|p| p.received_on.year() <= 2008));

        let half = Ctx::new(&SeedOptions { scale: 0.5, ..SeedOptions::default() });
        let plans =
            correction_plans(&half, half.scaled(CORRECTIONS_RECEIVED), half.scaled(CORRECTIONS_RELEASED));
        assert_eq!((plans.len(), plans.iter().filter(|p| p.released).count()), (1_859, 1_572));
    }
}
