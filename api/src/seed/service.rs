//! A year of volunteer service records, the largest table (about a million rows at scale 1).
//!
//! Each volunteer's records come from their own PRNG stream, so the table is generated volunteer by volunteer
//! and written in chunks without ever holding the whole year in memory. The shape follows the report: night
//! patrols of streets and fishing villages, rush-hour duty at zebra crossings, security checks at the docks.

use chrono::{TimeDelta, Timelike};
use entities::service_record::{self, ActivityType};
use indicatif::ProgressBar;
use sea_orm::{DatabaseTransaction, DbErr};

use super::progress::Progress;
use super::regions::{RegionTree, TownshipKind};
use super::rng::Rng;
use super::volunteers::Volunteer;
use super::write::insert_all;
use super::{Ctx, SeedReport, local_time};

/// Records per year of a volunteer of average zeal; after newcomers, leavers and suspensions the whole roster
/// averages about 45 a year, as busy as the report's volunteers are.
const RECORDS_PER_YEAR: f64 = 53.0;

/// Rows generated before they are written: a few statements' worth, bounded memory.
const FLUSH_ROWS: usize = 24_000;

const ACTIVITIES: [ActivityType; 7] = [
    ActivityType::Patrol,
    ActivityType::Traffic,
    ActivityType::SecurityCheck,
    ActivityType::Publicity,
    ActivityType::EventSecurity,
    ActivityType::CareVisit,
    ActivityType::Mediation,
];

/// Occasional remarks; most records have none.
fn note(rng: &mut Rng, activity: ActivityType) -> Option<String> {
    if !rng.chance(0.03) {
        return None;
    }
    let options: &[&str] = match activity {
        ActivityType::Patrol => &[
            "发现一处消防通道堵塞，已上报网格员",
            "劝离深夜滞留海边的游客",
            "协助寻回走失老人一名",
            "发现路灯损坏两处，已上报",
            "提醒渔船船主加固缆绳",
        ],
        ActivityType::Traffic => &["劝导电动车驾乘人员佩戴头盔", "协助学生安全通过斑马线", "劝阻行人闯红灯"],
        ActivityType::SecurityCheck => &["协助码头安检，疏导客流", "发现旅客携带违禁刀具一把，已移交民警"],
        ActivityType::Publicity => &["发放反诈宣传资料", "开展禁毒知识宣传", "讲解渔船安全生产常识"],
        ActivityType::EventSecurity => &["协助维持活动现场秩序", "引导人流疏散"],
        ActivityType::CareVisit => &["走访独居老人，情况良好", "为困难家庭送去慰问品"],
        ActivityType::Mediation => &["邻里噪音纠纷当场化解", "协助调解渔船停泊纠纷", "物业费纠纷已调解"],
    };
    Some((*rng.pick(options)).to_owned())
}

/// Start time (local hour, minute) and duration in minutes for an activity.
fn timing(rng: &mut Rng, activity: ActivityType) -> (u32, u32, i32) {
    let quarter = |rng: &mut Rng| rng.range(0, 3) as u32 * 15;
    let minutes = |rng: &mut Rng, lo: i64, hi: i64| (rng.range(lo / 5, hi / 5) * 5) as i32;
    match activity {
        ActivityType::Patrol => {
            let roll = rng.below(100);
            let hour = match roll {
                0..55 => rng.range(19, 22) as u32,
                55..70 => *rng.pick(&[23, 0, 1, 2]),
                _ => rng.range(8, 16) as u32,
            };
            (hour, quarter(rng), minutes(rng, 60, 180))
        }
        // Rush hours: start between 7:00 and 8:30 or 17:00 and 18:30.
        ActivityType::Traffic => {
            let hour = if rng.chance(0.5) { rng.range(7, 8) } else { rng.range(17, 18) } as u32;
            let minute = if hour == 8 || hour == 18 { rng.range(0, 2) as u32 * 15 } else { quarter(rng) };
            (hour, minute, minutes(rng, 30, 120))
        }
        ActivityType::SecurityCheck => (rng.range(6, 16) as u32, quarter(rng), minutes(rng, 60, 240)),
        ActivityType::Publicity => (rng.range(9, 16) as u32, quarter(rng), minutes(rng, 60, 180)),
        ActivityType::EventSecurity => (rng.range(8, 19) as u32, quarter(rng), minutes(rng, 120, 240)),
        ActivityType::CareVisit => (rng.range(9, 16) as u32, quarter(rng), minutes(rng, 30, 120)),
        ActivityType::Mediation => (rng.range(9, 19) as u32, quarter(rng), minutes(rng, 30, 180)),
    }
}

/// Appends one volunteer's records for the year before `as_of` to `out`, ids from `next_id`.
fn volunteer_records(
    ctx: &Ctx,
    tree: &RegionTree,
    v: &Volunteer,
    next_id: &mut i64,
    out: &mut Vec<service_record::Model>,
) {
    let mut rng = Rng::stream(ctx.seed, "service", v.id as u64);
    let first = (ctx.as_of - TimeDelta::days(364)).max(v.registered_on);
    let last = v.stopped_on.unwrap_or(ctx.as_of).min(ctx.as_of);
    if last < first {
        return;
    }
    let days = (last - first).num_days() + 1;

    // A few very active volunteers, many regular ones, some who rarely come.
    let zeal = match rng.below(100) {
        0..20 => 2.0 + 0.5 * rng.unit(),
        20..70 => 0.7 + 0.6 * rng.unit(),
        _ => 0.15 + 0.2 * rng.unit(),
    };
    let expected = RECORDS_PER_YEAR * zeal * days as f64 / 365.0;
    let count = (expected + rng.unit()).floor() as usize;

    let township = &tree.townships[tree.grids[v.grid].township];
    let islands = township.kind != TownshipKind::Street;
    let mut weights: [(ActivityType, u32); 7] = [
        (ActivityType::Patrol, 36),
        (ActivityType::Traffic, if islands { 8 } else { 16 }),
        (ActivityType::SecurityCheck, if islands { 14 } else { 6 }),
        (ActivityType::Publicity, 14),
        (ActivityType::EventSecurity, 8),
        (ActivityType::CareVisit, 13),
        (ActivityType::Mediation, 7),
    ];
    let favourite = rng.index(ACTIVITIES.len());
    weights[favourite].1 += 25;
    if v.traffic_team {
        weights[1].1 += 40;
    }
    if v.maritime_team {
        weights[0].1 += 10;
        weights[2].1 += 25;
    }

    let start = out.len();
    for _ in 0..count {
        let activity = *rng.weighted(&weights);
        let (hour, minute, minutes) = timing(&mut rng, activity);
        let mut day = first + TimeDelta::days(rng.range(0, days - 1));
        let mut started_at = local_time(day, hour, minute);
        // Nothing may still be going on when the data set was cut.
        while started_at + TimeDelta::minutes(i64::from(minutes)) > ctx.stamp && day > first {
            day -= TimeDelta::days(1);
            started_at = local_time(day, hour, minute);
        }
        let grid = if rng.chance(0.85) { v.grid } else { township.grids[rng.index(township.grids.len())] };
        out.push(service_record::Model {
            id: 0,
            volunteer_id: v.id,
            grid_id: tree.grids[grid].id,
            activity,
            started_at: started_at.with_nanosecond(0).unwrap_or(started_at),
            minutes,
            note: note(&mut rng, activity),
            created_at: ctx.stamp,
        });
    }
    out[start..].sort_by_key(|r| r.started_at);
    for r in &mut out[start..] {
        r.id = *next_id;
        *next_id += 1;
    }
}

/// Generates and writes the service records, volunteer by volunteer.
pub async fn insert(
    txn: &DatabaseTransaction,
    ctx: &Ctx,
    tree: &RegionTree,
    roster: &[Volunteer],
    progress: &Progress,
    report: &mut SeedReport,
) -> Result<(), DbErr> {
    let bar = progress.phase("service records", roster.len() as u64);
    let quiet = ProgressBar::hidden();
    let mut buffer = Vec::with_capacity(FLUSH_ROWS + 1_000);
    let mut next_id = 1i64;
    let mut written = 0u64;
    for v in roster {
        volunteer_records(ctx, tree, v, &mut next_id, &mut buffer);
        if buffer.len() >= FLUSH_ROWS {
            written += insert_all(txn, std::mem::take(&mut buffer), &quiet).await?;
        }
        bar.inc(1);
    }
    written += insert_all(txn, buffer, &quiet).await?;
    report.service_records = written;
    bar.finish();
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    fn local_hour(t: DateTime<Utc>) -> u32 {
        (t + TimeDelta::hours(8)).hour()
    }

    #[test]
    fn timings_are_realistic() {
        let mut rng = Rng::new(5);
        for _ in 0..5_000 {
            for activity in ACTIVITIES {
                let (hour, minute, minutes) = timing(&mut rng, activity);
                assert!(hour < 24 && minute < 60);
                assert!((30..=240).contains(&minutes) && minutes % 5 == 0);
                if activity == ActivityType::Traffic {
                    assert!((7..=8).contains(&hour) || (17..=18).contains(&hour));
                    assert!(hour % 10 != 8 || minute <= 30);
                }
            }
        }
        let at = local_time(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default(), 7, 30);
        assert_eq!(local_hour(at), 7);
    }
}
