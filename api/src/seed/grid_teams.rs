//! The management-service team of every grid (网格管理服务团队): a grid leader, two full-time grid workers, the
//! community police officer, a doctor and a lawyer or mediator.
//!
//! As in real life, the police officer and the doctor serve a whole community and the lawyers/mediators a whole
//! township, so the same person (same name and phone) appears in the teams of several grids. The care module
//! reuses these people as care-group members and visitors, which keeps the demo data telling one story.

use entities::grid_team_member::{self, TeamRole};
use sea_orm::{DatabaseTransaction, DbErr};

use super::names;
use super::progress::Progress;
use super::regions::RegionTree;
use super::rng::Rng;
use super::write::insert_all;
use super::{Ctx, SeedReport};

/// Someone whose name and number are public.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub name: String,
    pub phone: String,
}

/// The people of one grid's team that other generators refer to.
#[derive(Debug, Clone)]
pub struct GridTeam {
    /// Row id of the team's first grid worker.
    pub worker_id: i64,
    pub workers: [Contact; 2],
    pub police: Contact,
    pub doctor: Contact,
}

fn contact(rng: &mut Rng, female_share: f64, birth_year: i32) -> Contact {
    let gender = names::gender(rng, female_share);
    Contact { name: names::person_name(rng, gender, birth_year), phone: names::mobile(rng) }
}

fn birth_year(rng: &mut Rng, ctx: &Ctx, min_age: i64, max_age: i64) -> i32 {
    use chrono::Datelike;
    ctx.as_of.year() - rng.range(min_age, max_age) as i32
}

/// Generates and writes the teams; returns them indexed like [`RegionTree::grids`].
pub async fn insert(
    txn: &DatabaseTransaction,
    ctx: &Ctx,
    tree: &RegionTree,
    progress: &Progress,
    report: &mut SeedReport,
) -> Result<Vec<GridTeam>, DbErr> {
    // People shared by several grids: officer and doctor per community, lawyers/mediators per township.
    let community_staff: Vec<(Contact, Contact)> = (0..tree.communities.len())
        .map(|c| {
            let mut rng = Rng::stream(ctx.seed, "community-staff", c as u64);
            let by = birth_year(&mut rng, ctx, 28, 55);
            let police = contact(&mut rng, 0.15, by);
            let by = birth_year(&mut rng, ctx, 30, 60);
            let doctor = contact(&mut rng, 0.55, by);
            (police, doctor)
        })
        .collect();
    let township_counsel: Vec<Vec<(TeamRole, Contact)>> = (0..tree.townships.len())
        .map(|t| {
            let mut rng = Rng::stream(ctx.seed, "township-counsel", t as u64);
            (0..rng.range(3, 6))
                .map(|_| {
                    let role = if rng.chance(0.55) { TeamRole::Lawyer } else { TeamRole::Mediator };
                    let by = birth_year(&mut rng, ctx, 30, 65);
                    (role, contact(&mut rng, 0.4, by))
                })
                .collect()
        })
        .collect();

    let mut teams = Vec::with_capacity(tree.grids.len());
    let mut rows = Vec::with_capacity(tree.grids.len() * 6);
    for (g, grid) in tree.grids.iter().enumerate() {
        let mut rng = Rng::stream(ctx.seed, "grid-team", g as u64);
        let by = birth_year(&mut rng, ctx, 35, 58);
        let leader = contact(&mut rng, 0.45, by);
        let by = birth_year(&mut rng, ctx, 24, 50);
        let first = contact(&mut rng, 0.6, by);
        let by = birth_year(&mut rng, ctx, 24, 50);
        let second = contact(&mut rng, 0.6, by);
        let (police, doctor) = community_staff[grid.community].clone();
        let counsel = &township_counsel[grid.township];
        let (counsel_role, counsel_contact) = counsel[rng.index(counsel.len())].clone();

        let community = &tree.communities[grid.community].name;
        let members = [
            (
                TeamRole::GridLeader,
                &leader,
                format!("{community}网格长，统筹网格日常管理，牵头矛盾纠纷排查化解"),
            ),
            (
                TeamRole::GridWorker,
                &first,
                "专职网格员，负责入户走访、信息采集、隐患排查和事件上报".to_owned(),
            ),
            (TeamRole::GridWorker, &second, "专职网格员，负责特殊人群服务管理和政策宣传".to_owned()),
            (TeamRole::PoliceOfficer, &police, format!("{community}社区民警，负责治安防范和警情处置")),
            (TeamRole::Doctor, &doctor, "家庭签约医生，负责健康随访和服药指导".to_owned()),
            (
                counsel_role,
                &counsel_contact,
                match counsel_role {
                    TeamRole::Lawyer => "法律顾问，提供法律咨询和法律援助指引".to_owned(),
                    _ => "人民调解员，负责邻里、家庭等矛盾纠纷调解".to_owned(),
                },
            ),
        ];
        // The leader's row comes first, the first grid worker's next.
        let worker_id = rows.len() as i64 + 2;
        for (role, person, duty) in members {
            rows.push(grid_team_member::Model {
                id: rows.len() as i64 + 1,
                grid_id: grid.id,
                role,
                name: person.name.clone(),
                phone: person.phone.clone(),
                duty: Some(duty),
                created_at: ctx.stamp,
            });
        }
        teams.push(GridTeam { worker_id, workers: [first, second], police, doctor });
    }

    let bar = progress.phase("grid teams", rows.len() as u64);
    report.grid_team_members = insert_all(txn, rows, &bar).await?;
    bar.finish();
    Ok(teams)
}
