//! Major projects and their social stability risk assessment since 2009 (重大事项社会稳定风险评估): the responsible
//! units of every district, the 709 projects carried out after a completed assessment (none of which caused an
//! instability incident, as the report says), the Dinghai Huangjinwan reservoir (定海黄金湾水库, 2009) among them,
//! whose ground-breaking waited for its assessment; projects started before the system or by units that skipped
//! it, flagged, with the vetoes of those units; and projects in progress at every step before the demo date.

use chrono::{Datelike, NaiveDate, TimeDelta};
use entities::major_project::{self, ProjectKind};
use entities::stability_assessment::{self, AssessmentStep, RiskRating};
use entities::{assessment_step, mitigation_measure, responsible_unit, unit_veto};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr, Iterable, Statement};

use super::progress::Progress;
use super::regions::RegionTree;
use super::rng::Rng;
use super::write::insert_all;
use super::{Ctx, SeedReport, local_time};

/// Projects carried out after a completed assessment, 2009 to 2025: the report's figure, at every scale.
pub const IMPLEMENTED_PROJECTS: usize = 709;
/// The first year of the assessments.
pub const FIRST_YEAR: i32 = 2009;
const LAST_FULL_YEAR: i32 = 2025;
/// Dinghai district, home of the Huangjinwan reservoir.
const DINGHAI: &str = "330902";

/// The departments every district has, as responsible units.
const DEPARTMENTS: &[&str] =
    &["水利局", "自然资源和规划局", "住房和城乡建设局", "交通运输局", "经济和信息化局", "发展和改革局"];

const KINDS: &[(ProjectKind, u32)] = &[
    (ProjectKind::Reservoir, 6),
    (ProjectKind::LandAcquisition, 22),
    (ProjectKind::Demolition, 14),
    (ProjectKind::Plant, 14),
    (ProjectKind::Transport, 22),
    (ProjectKind::Energy, 8),
    (ProjectKind::PublicPolicy, 8),
    (ProjectKind::Other, 6),
];

const RATINGS: &[(RiskRating, u32)] =
    &[(RiskRating::Low, 68), (RiskRating::Medium, 27), (RiskRating::High, 5)];

fn project_name(rng: &mut Rng, kind: ProjectKind, place: &str) -> String {
    let options: &[&str] = match kind {
        ProjectKind::Reservoir => &["水库扩容工程", "山塘水库加固工程", "引水工程"],
        ProjectKind::LandAcquisition => &["工业园区征地项目", "安置小区征地项目", "渔港建设征地项目"],
        ProjectKind::Demolition => &["旧城改造拆迁项目", "城中村改造项目", "危旧房改造项目"],
        ProjectKind::Plant => &["水产品加工厂项目", "船舶修造厂项目", "垃圾焚烧发电厂项目"],
        ProjectKind::Transport => &["跨海大桥接线工程", "公路拓宽工程", "客运码头改建工程"],
        ProjectKind::Energy => &["风电场项目", "输变电工程", "液化天然气接收站配套工程"],
        ProjectKind::PublicPolicy => &["渔民养老保障政策调整", "公交票价调整", "渔船减船转产政策"],
        ProjectKind::Other => &["海洋公园项目", "菜市场搬迁项目"],
    };
    format!("{place}{}", rng.pick(options))
}

fn findings(step: AssessmentStep, rating: Option<RiskRating>) -> String {
    match step {
        AssessmentStep::Application => "责任单位提交评估申请，附项目可行性研究报告及征求意见情况".into(),
        AssessmentStep::Investigation => {
            "走访受影响群众，召开听证会和座谈会，群众总体支持，对补偿标准有诉求".into()
        }
        AssessmentStep::JointReview => "政法委牵头组织发改、国土、住建、信访等部门会审，风险点已梳理".into(),
        AssessmentStep::Rating => match rating {
            Some(RiskRating::High) => {
                "评定为高风险：受影响户数多，补偿安置诉求集中，须落实化解措施后方可实施".into()
            }
            Some(RiskRating::Medium) => "评定为中风险：部分群众对补偿标准有异议，落实措施后可实施".into(),
            _ => "评定为低风险：群众普遍支持，可以实施".into(),
        },
        AssessmentStep::Feedback => "向责任单位反馈评估意见，明确化解责任和时限".into(),
        AssessmentStep::Measures => "责任单位制定风险防范化解措施，明确责任人和完成时限".into(),
    }
}

const MEASURES: &[(&str, &str)] = &[
    ("公开补偿安置标准，逐户上门解释政策", "征收办"),
    ("设立群众诉求接待点，限时答复", "信访办"),
    ("施工期间错峰作业，控制噪音和扬尘", "施工单位项目部"),
    ("落实被征地农民养老保障", "人力社保局"),
    ("建立矛盾纠纷排查化解机制，网格员定期走访", "乡镇综治中心"),
];

/// What the seed writes.
#[derive(Default)]
struct Plan {
    units: Vec<responsible_unit::Model>,
    projects: Vec<major_project::Model>,
    assessments: Vec<stability_assessment::Model>,
    steps: Vec<assessment_step::Model>,
    measures: Vec<mitigation_measure::Model>,
    vetoes: Vec<unit_veto::Model>,
    /// Projects started without an assessment after 2009, whose disputes include instability incidents.
    skipped: Vec<(i64, String)>,
}

/// One project to plan: where, by whom, when, and how far its assessment got.
struct Spec {
    name: Option<String>,
    kind: Option<ProjectKind>,
    district: usize,
    unit: usize,
    planned_start: NaiveDate,
    /// How many of the six steps were taken.
    steps_taken: usize,
    rating: Option<RiskRating>,
    started_on: Option<NaiveDate>,
    /// Measures not done by the demo date (due before it).
    overdue: bool,
    households: Option<i32>,
}

impl Plan {
    fn add(&mut self, ctx: &Ctx, tree: &RegionTree, rng: &mut Rng, spec: Spec) -> i64 {
        let id = self.projects.len() as i64 + 1;
        let district = &tree.districts[spec.district];
        let townships: Vec<usize> =
            (0..tree.townships.len()).filter(|&t| tree.townships[t].district == spec.district).collect();
        let (region_id, place) = if townships.is_empty() || rng.chance(0.2) {
            (district.id, district.name.clone())
        } else {
            let township = &tree.townships[*rng.pick(&townships)];
            (township.id, township.name.clone())
        };
        let kind = spec.kind.unwrap_or_else(|| *rng.weighted(KINDS));
        let name = spec.name.unwrap_or_else(|| project_name(rng, kind, &place));
        let applied = match spec.started_on {
            Some(_) => spec.planned_start - TimeDelta::days(rng.range(80, 150)),
            // In progress: every step taken so far lies before the demo date.
            None => ctx.as_of - TimeDelta::days(18 * spec.steps_taken as i64 + rng.range(5, 20)),
        };
        let created_at = local_time(applied - TimeDelta::days(rng.range(5, 30)), 9, 0);
        let completely = spec.steps_taken == AssessmentStep::iter().count();
        self.projects.push(major_project::Model {
            id,
            code: format!("MP{}{id:06}", spec.planned_start.year()),
            name,
            kind,
            region_id,
            unit_id: self.units[spec.unit].id,
            investment_fen: rng.range(5_000, 3_000_000) * 100_000,
            planned_start: spec.planned_start,
            affected_households: spec.households.unwrap_or_else(|| rng.range(0, 600) as i32),
            started_on: spec.started_on,
            started_without_assessment: spec.started_on.is_some() && !completely,
            created_by: "seed".into(),
            created_at,
            updated_at: ctx.stamp,
        });
        if spec.steps_taken == 0 {
            return id;
        }
        let assessment_id = self.assessments.len() as i64 + 1;
        let mut at = local_time(applied, 10, 0);
        let mut rating = None;
        let mut last = AssessmentStep::Application;
        for step in AssessmentStep::iter().take(spec.steps_taken) {
            if step == AssessmentStep::Rating {
                rating = spec.rating.or_else(|| Some(*rng.weighted(RATINGS)));
            }
            let step_id = self.steps.len() as i64 + 1;
            let actor = match step {
                AssessmentStep::Application | AssessmentStep::Measures => {
                    self.units[spec.unit].officer_subject.clone().unwrap_or_default()
                }
                _ => format!("assessor-{}", district.code),
            };
            self.steps.push(assessment_step::Model {
                id: step_id,
                assessment_id,
                step,
                actor,
                occurred_at: at,
                findings: findings(step, rating),
                attachments: format!(
                    r#"["舟稳评〔{}〕{}号"]"#,
                    (at + TimeDelta::hours(8)).year(),
                    assessment_id * 10 + step_id % 10
                ),
            });
            if step == AssessmentStep::Measures {
                let count = if rating == Some(RiskRating::High) { 3 } else { rng.range(1, 2) as usize };
                for n in 0..count {
                    let (description, owner) = MEASURES[(assessment_id as usize + n) % MEASURES.len()];
                    let due_on = (at + TimeDelta::hours(8)).date_naive() + TimeDelta::days(rng.range(10, 40));
                    let done = match spec.started_on {
                        Some(start) => Some(due_on.min(start)),
                        None if spec.overdue => None,
                        None => (due_on < ctx.as_of).then_some(due_on),
                    };
                    let measure_id = self.measures.len() as i64 + 1;
                    self.measures.push(mitigation_measure::Model {
                        id: measure_id,
                        assessment_id,
                        description: description.into(),
                        owner: owner.into(),
                        due_on: if spec.overdue { ctx.as_of - TimeDelta::days(3 + n as i64) } else { due_on },
                        completed_on: done,
                        completed_by: done
                            .map(|_| self.units[spec.unit].officer_subject.clone().unwrap_or_default()),
                        created_at: at,
                    });
                }
            }
            last = step;
            at += TimeDelta::days(rng.range(6, 18)) + TimeDelta::minutes(rng.range(0, 300));
        }
        let completed_at = completely.then(|| self.steps.last().map_or(at, |step| step.occurred_at));
        self.assessments.push(stability_assessment::Model {
            id: assessment_id,
            project_id: id,
            step: last,
            rating,
            completed_at,
            created_at: local_time(applied, 10, 0),
            updated_at: completed_at.unwrap_or(at),
        });
        id
    }
}

fn plan(ctx: &Ctx, tree: &RegionTree) -> Plan {
    let mut plan = Plan::default();
    let mut rng = Rng::stream(ctx.seed, "stability", 0);
    // Units: the departments of every district, each with its officer's token subject.
    let mut units_of: Vec<Vec<usize>> = vec![Vec::new(); tree.districts.len()];
    for (d, district) in tree.districts.iter().enumerate() {
        for department in DEPARTMENTS {
            let id = plan.units.len() as i64 + 1;
            units_of[d].push(plan.units.len());
            plan.units.push(responsible_unit::Model {
                id,
                code: format!("RU{id:05}"),
                name: format!("{}{department}", district.name),
                region_id: district.id,
                officer_subject: Some(format!("unit-RU{id:05}")),
                created_at: local_time(NaiveDate::from_ymd_opt(FIRST_YEAR, 1, 5).unwrap_or_default(), 9, 0),
            });
        }
    }
    let dinghai = tree.districts.iter().position(|d| d.code == DINGHAI).unwrap_or(0);
    let day = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let done = AssessmentStep::iter().count();

    // The Huangjinwan reservoir: planned for March 2009, started in July once its assessment was complete.
    plan.add(
        ctx,
        tree,
        &mut rng,
        Spec {
            name: Some("定海黄金湾水库工程".into()),
            kind: Some(ProjectKind::Reservoir),
            district: dinghai,
            unit: units_of[dinghai][0],
            planned_start: day(2009, 3, 1),
            steps_taken: done,
            rating: Some(RiskRating::Medium),
            started_on: Some(day(2009, 7, 18)),
            overdue: false,
            households: Some(326),
        },
    );
    // The rest of the 709, spread over the years and the districts, more each year.
    let years = (LAST_FULL_YEAR - FIRST_YEAR + 1) as usize;
    let weights: Vec<usize> = (0..years).map(|y| 20 + 2 * y).collect();
    let total: usize = weights.iter().sum();
    let mut remaining = IMPLEMENTED_PROJECTS - 1;
    for (y, weight) in weights.iter().enumerate() {
        let n = if y + 1 == years { remaining } else { (IMPLEMENTED_PROJECTS - 1) * weight / total };
        remaining -= n;
        let year = FIRST_YEAR + y as i32;
        for _ in 0..n {
            let district = rng.index(tree.districts.len());
            let planned_start = day(year, 1, 1) + TimeDelta::days(rng.range(150, 330));
            let started_on = planned_start + TimeDelta::days(rng.range(0, 30));
            let unit = *rng.pick(&units_of[district]);
            plan.add(
                ctx,
                tree,
                &mut rng,
                Spec {
                    name: None,
                    kind: None,
                    district,
                    unit,
                    planned_start,
                    steps_taken: done,
                    rating: None,
                    started_on: Some(started_on),
                    overdue: false,
                    households: None,
                },
            );
        }
    }
    // Started before the assessments began (historical data): flagged.
    for n in 0..8 {
        let district = n % tree.districts.len();
        let planned_start = day(2006 + (n as i32 % 3), 4 + n as u32, 10);
        plan.add(
            ctx,
            tree,
            &mut rng,
            Spec {
                name: None,
                kind: None,
                district,
                unit: units_of[district][n % DEPARTMENTS.len()],
                planned_start,
                steps_taken: 0,
                rating: None,
                started_on: Some(planned_start),
                overdue: false,
                households: None,
            },
        );
    }
    // Units that skipped the assessment, vetoed in that year's evaluation; their projects caused incidents.
    for (n, year) in [2012, 2016, 2021].into_iter().enumerate() {
        let district = (n + 1) % tree.districts.len();
        let unit = units_of[district][(n + 2) % DEPARTMENTS.len()];
        let planned_start = day(year, 5, 20);
        let project = plan.add(
            ctx,
            tree,
            &mut rng,
            Spec {
                name: None,
                kind: Some(ProjectKind::LandAcquisition),
                district,
                unit,
                planned_start,
                steps_taken: if n == 1 { 2 } else { 0 },
                rating: None,
                started_on: Some(planned_start),
                overdue: false,
                households: None,
            },
        );
        let veto_id = plan.vetoes.len() as i64 + 1;
        plan.vetoes.push(unit_veto::Model {
            id: veto_id,
            unit_id: plan.units[unit].id,
            year,
            reason: "重大项目未经社会稳定风险评估即开工，引发群体性上访".into(),
            project_id: Some(project),
            recorded_by: "assessor-330900".into(),
            recorded_at: local_time(day(year, 12, 28), 10, 0),
        });
        plan.skipped.push((project, tree.districts[district].code.clone()));
    }
    // A unit that did not carry out the measures it set.
    {
        let district = 3 % tree.districts.len();
        let unit = units_of[district][1];
        let veto_id = plan.vetoes.len() as i64 + 1;
        plan.vetoes.push(unit_veto::Model {
            id: veto_id,
            unit_id: plan.units[unit].id,
            year: 2018,
            reason: "评估提出的风险化解措施未按期落实".into(),
            project_id: None,
            recorded_by: "assessor-330900".into(),
            recorded_at: local_time(day(2018, 12, 27), 10, 0),
        });
    }
    // In progress before the demo date: registered, and at every step; one rated HIGH waits for its measures,
    // one has a measure past its deadline.
    for steps_taken in 0..=done {
        for n in 0..2 {
            let district = (steps_taken + n) % tree.districts.len();
            let planned_start = ctx.as_of + TimeDelta::days(rng.range(30, 120));
            let high = n == 0 && steps_taken >= 4;
            let unit = *rng.pick(&units_of[district]);
            plan.add(
                ctx,
                tree,
                &mut rng,
                Spec {
                    name: None,
                    kind: None,
                    district,
                    unit,
                    planned_start,
                    steps_taken,
                    rating: high.then_some(RiskRating::High),
                    started_on: None,
                    overdue: steps_taken == done && n == 1,
                    households: None,
                },
            );
        }
    }
    plan
}

/// Writes the plan, and links disputes to the projects that skipped their assessment: the instability
/// incidents they caused.
pub async fn insert(
    txn: &DatabaseTransaction,
    ctx: &Ctx,
    tree: &RegionTree,
    progress: &Progress,
    report: &mut SeedReport,
) -> Result<(), DbErr> {
    let plan = plan(ctx, tree);
    let total = plan.units.len()
        + plan.projects.len()
        + plan.assessments.len()
        + plan.steps.len()
        + plan.measures.len()
        + plan.vetoes.len();
    let bar = progress.phase("stability", total as u64);
    insert_all(txn, plan.units, &bar).await?;
    report.major_projects = insert_all(txn, plan.projects, &bar).await?;
    insert_all(txn, plan.assessments, &bar).await?;
    insert_all(txn, plan.steps, &bar).await?;
    insert_all(txn, plan.measures, &bar).await?;
    insert_all(txn, plan.vetoes, &bar).await?;
    let backend = txn.get_database_backend();
    let sql = crate::statistics::measures::numbered(
        backend,
        "UPDATE dispute SET major_project_id = ?, instability_incident = ? WHERE id IN \
         (SELECT d.id FROM dispute d JOIN region g ON g.id = d.grid_id \
          WHERE d.major_project_id IS NULL AND d.category = 'LAND_AND_HOUSING' AND g.path LIKE ? \
          ORDER BY d.id LIMIT 2)",
    );
    for (project, district) in plan.skipped {
        let pattern = format!("%/{district}/%");
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            sql.clone(),
            [project.into(), true.into(), pattern.into()],
        ))
        .await?;
    }
    bar.finish();
    Ok(())
}
