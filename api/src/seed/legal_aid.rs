//! The three legal-aid funds (三金), their applications and the append-only money ledger.
//!
//! The revolving fund (法律援助周转救助金, 2009, the first in China) lends to people waiting for a court award
//! and is repaid; the relief fund grants; the charity fund takes donations and grants. Applications are
//! simulated through their workflow, every money movement becomes a ledger entry, and the entries are then
//! replayed in time order: whenever a payment would overdraw a fund, a top-up (a government allocation, or a
//! donation for the charity fund) is booked just before it, so no balance is ever negative. Each fund's
//! `balance_fen` is the sum of its entries.
//!
//! `request_hash` is the hex SHA-256 of a canonical text of the entry's arguments (see [`request_hash`]),
//! excluding the idempotency key it is stored with, so a retried request with the same key and the same
//! arguments hashes the same.

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeDelta, Utc};
use entities::ledger_entry::{self, EntryKind};
use entities::legal_aid_application::{self, ApplicationState};
use entities::legal_aid_fund::{self, FundKind};
use sea_orm::{DatabaseTransaction, DbErr};
use sha2::{Digest, Sha256};

use super::names::{self, IdNumbers};
use super::progress::Progress;
use super::regions::RegionTree;
use super::rng::Rng;
use super::volunteers::birth_date;
use super::write::insert_all;
use super::{Ctx, SeedReport, local_time};

/// Applications at scale 1.
pub const APPLICATIONS_AT_SCALE_1: u64 = 640;

/// The actor of every seeded row.
const ACTOR: &str = "seed";

/// One of the three funds as configured.
struct FundSpec {
    code: &'static str,
    kind: FundKind,
    name: &'static str,
    /// Year, month, day.
    established: (i32, u32, u32),
}

const FUNDS: [FundSpec; 3] = [
    FundSpec {
        code: "REVOLVING",
        kind: FundKind::Revolving,
        name: "法律援助周转救助金",
        established: (2009, 3, 1),
    },
    FundSpec {
        code: "RELIEF", kind: FundKind::Relief, name: "法律援助救助金", established: (2010, 6, 1)
    },
    FundSpec {
        code: "CHARITY", kind: FundKind::Charity, name: "法律援助慈善金", established: (2013, 9, 1)
    },
];

/// Counties elsewhere in China that many of Zhoushan's migrant workers come from.
const MIGRANT_COUNTIES: [&str; 10] =
    ["341221", "341222", "342422", "411522", "411523", "511321", "511381", "522426", "362422", "430524"];

/// The report's case, booked as the first application of the revolving fund.
const REPORT_CASE: &str = "申请人系外来务工人员，其丈夫在交通事故中受伤住院，肇事方赔偿款尚未到位，家庭生活陷入困境。\
     经审核，从法律援助周转救助金中借支5000元，待法院判决的赔偿款执行到位后归还。";

fn case_summary(rng: &mut Rng, kind: FundKind, yuan: i64) -> String {
    let templates: &[&str] = match kind {
        FundKind::Revolving => &[
            "申请人在务工期间因工受伤，用人单位拒不支付工伤赔偿，诉讼期间生活困难，申请借支{}元，待赔偿款执行到位后归还。",
            "申请人之子在交通事故中受伤，肇事方赔偿款尚未执行到位，申请借支医疗费用{}元。",
            "申请人被拖欠劳动报酬，劳动仲裁裁决已生效但尚未执行，申请借支{}元维持基本生活。",
            "申请人系渔船船员，海上作业时受伤，与船东的赔偿纠纷正在诉讼中，申请借支{}元。",
            "申请人因医疗损害责任纠纷胜诉，判决款尚未执行到位，申请借支后续治疗费用{}元。",
        ],
        FundKind::Relief => &[
            "申请人系低保户，因医疗损害责任纠纷提起诉讼，无力承担鉴定费用，申请救助{}元。",
            "申请人家庭因交通事故失去主要劳动力，肇事方无赔偿能力，申请救助{}元。",
            "申请人系残疾人，因赡养纠纷申请法律援助，生活特别困难，申请救助{}元。",
            "申请人遭遇欠薪且身患重病，诉讼期间生活无着，申请救助{}元。",
        ],
        FundKind::Charity => &[
            "申请人系外来务工人员，遭遇欠薪且身患重病，申请慈善金救助{}元。",
            "申请人为未成年子女的监护人，抚养费纠纷诉讼期间生活困难，申请救助{}元。",
            "申请人为刑事案件被害人近亲属，加害人无赔偿能力，申请慈善金救助{}元。",
            "申请人系渔民家属，丈夫海上遇难，因赔偿纠纷诉讼期间生活困难，申请救助{}元。",
        ],
    };
    rng.pick(templates).replacen("{}", &yuan.to_string(), 1)
}

/// The canonical text of a ledger request, hashed into `request_hash`: one `name=value` line per argument,
/// in this fixed order, empty values for absent ones.
pub fn request_hash(
    fund_code: &str,
    kind: &str,
    direction: i16,
    amount_fen: i64,
    application_code: Option<&str>,
    reverses_key: Option<&str>,
    memo: Option<&str>,
) -> String {
    let canonical = format!(
        "fund={fund_code}\nkind={kind}\ndirection={direction}\namount_fen={amount_fen}\napplication={}\n\
         reverses={}\nactor={ACTOR}\nmemo={}",
        application_code.unwrap_or(""),
        reverses_key.unwrap_or(""),
        memo.unwrap_or(""),
    );
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

fn kind_name(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Donation => "DONATION",
        EntryKind::Allocation => "ALLOCATION",
        EntryKind::Disbursement => "DISBURSEMENT",
        EntryKind::Repayment => "REPAYMENT",
        EntryKind::WriteOff => "WRITE_OFF",
        EntryKind::Reversal => "REVERSAL",
    }
}

/// A money movement before it has an id.
#[derive(Debug, Clone)]
struct Movement {
    at: DateTime<Utc>,
    fund: usize,
    kind: EntryKind,
    direction: i16,
    amount_fen: i64,
    /// Index into the applications.
    application: Option<usize>,
    /// Index into the movements, for a reversal.
    reverses: Option<usize>,
    memo: String,
}

/// An application and the movements its workflow caused.
struct Planned {
    row: legal_aid_application::Model,
    movements: Vec<Movement>,
}

/// Rounds fen down to whole hundreds of yuan, the unit amounts are granted in.
fn hundreds_of_yuan(fen: i64) -> i64 {
    fen / 10_000 * 10_000
}

fn plan_application(
    ctx: &Ctx,
    tree: &RegionTree,
    ids: &mut IdNumbers,
    established: &[NaiveDate; 3],
    i: u64,
    write_off_done: &mut bool,
) -> Planned {
    let mut rng = Rng::stream(ctx.seed, "legal-aid-application", i);
    let report_case = i == 0;
    let fund = if report_case { 0 } else { *rng.weighted(&[(0usize, 45), (1, 35), (2, 20)]) };
    let kind = FUNDS[fund].kind;

    // Submitted between the fund's start and as_of, more in later years; a few very recent ones are pending.
    let first = established[fund] + TimeDelta::days(30);
    let span = (ctx.as_of - first).num_days().max(0);
    let submitted_on = if report_case {
        (established[0] + TimeDelta::days(400)).min(ctx.as_of)
    } else if rng.chance(0.04) {
        ctx.as_of - TimeDelta::days(rng.range(0, 25).min(span))
    } else {
        first + TimeDelta::days(rng.range(0, span).max(rng.range(0, span)))
    };
    let submitted_at = local_time(submitted_on, rng.range(8, 16) as u32, rng.range(0, 59) as u32);

    // The applicant: many are migrant workers from other provinces.
    let residents = tree.resident_table();
    let grid = residents.sample(&mut rng);
    let region_id =
        if rng.chance(0.7) { tree.grids[grid].id } else { tree.townships[tree.grids[grid].township].id };
    let migrant = report_case || rng.chance(0.4);
    let gender = if report_case { entities::common::Gender::Female } else { names::gender(&mut rng, 0.45) };
    let county = if migrant {
        (*rng.pick(&MIGRANT_COUNTIES)).to_owned()
    } else {
        tree.district_code(tree.grids[grid].district).to_owned()
    };
    let years = rng.range(22, 62);
    let birth = birth_date(&mut rng, submitted_on, years);
    let applicant_id_number = ids.issue(&mut rng, &county, birth, gender);
    let applicant_name = names::person_name(&mut rng, gender, birth.year());

    let amount_fen = if report_case {
        500_000
    } else {
        let yuan_hundreds = match kind {
            FundKind::Revolving => rng.range(20, 200).min(rng.range(20, 300)),
            FundKind::Relief => rng.range(10, 100),
            FundKind::Charity => rng.range(10, 300).min(rng.range(10, 300)),
        };
        (yuan_hundreds * 10_000).clamp(100_000, 3_000_000)
    };
    let case_summary =
        if report_case { REPORT_CASE.to_owned() } else { case_summary(&mut rng, kind, amount_fen / 100) };

    let mut row = legal_aid_application::Model {
        id: 0,
        code: String::new(),
        fund_id: fund as i64 + 1,
        region_id,
        applicant_name,
        applicant_id_number,
        applicant_phone: names::mobile(&mut rng),
        case_summary,
        amount_fen,
        state: ApplicationState::Submitted,
        submitted_at,
        submitted_by: ACTOR.to_owned(),
        decided_at: None,
        decided_by: None,
        decision_reason: None,
        disbursed_at: None,
        disbursed_by: None,
        due_on: None,
        repaid_fen: 0,
        closed_at: None,
        updated_at: submitted_at,
    };
    let mut movements = Vec::new();

    // Decision a few days later.
    let decided_on = submitted_on + TimeDelta::days(rng.range(2, 15));
    if decided_on > ctx.as_of {
        return Planned { row, movements };
    }
    let decided_at = local_time(decided_on, rng.range(9, 17) as u32, rng.range(0, 59) as u32);
    row.decided_at = Some(decided_at);
    row.decided_by = Some(ACTOR.to_owned());
    row.updated_at = decided_at;
    if !report_case && rng.chance(0.12) {
        row.state = ApplicationState::Rejected;
        let reason =
            rng.pick(&["申请人经济状况不符合救助条件", "案件不属于法律援助范围", "申请材料不全，逾期未补正"]);
        row.decision_reason = Some((*reason).to_owned());
        row.closed_at = Some(decided_at);
        return Planned { row, movements };
    }
    row.state = ApplicationState::Approved;
    row.decision_reason = Some(format!("经审查符合{}使用条件，同意", FUNDS[fund].name));

    // Paid out within a week.
    let disbursed_on = decided_on + TimeDelta::days(rng.range(1, 7));
    if disbursed_on > ctx.as_of {
        return Planned { row, movements };
    }
    let disbursed_at = local_time(disbursed_on, rng.range(9, 17) as u32, rng.range(0, 59) as u32);
    row.state = ApplicationState::Disbursed;
    row.disbursed_at = Some(disbursed_at);
    row.disbursed_by = Some(ACTOR.to_owned());
    row.updated_at = disbursed_at;
    movements.push(Movement {
        at: disbursed_at,
        fund,
        kind: EntryKind::Disbursement,
        direction: -1,
        amount_fen,
        application: None,
        reverses: None,
        memo: format!("向申请人{}发放", row.applicant_name),
    });
    if kind != FundKind::Revolving {
        // A grant is complete once paid.
        row.closed_at = Some(disbursed_at);
        return Planned { row, movements };
    }

    // A loan: due 6–24 months later, repaid in instalments once the award is collected.
    let due_on =
        disbursed_on.checked_add_months(Months::new(rng.range(6, 24) as u32)).unwrap_or(disbursed_on);
    row.due_on = Some(due_on);
    let earliest = disbursed_on + TimeDelta::days(30);
    let matured = due_on <= ctx.as_of;
    let write_off = !report_case && !*write_off_done && due_on <= ctx.as_of - TimeDelta::days(400);
    let partial = write_off || (matured && due_on > ctx.as_of - TimeDelta::days(730) && rng.chance(0.15));
    let to_repay = if report_case || (matured && !partial) {
        amount_fen
    } else if partial || rng.chance(0.5) {
        hundreds_of_yuan(amount_fen * rng.range(20, 80) / 100).max(10_000)
    } else {
        0
    };
    let last_day = if matured { (due_on + TimeDelta::days(60)).min(ctx.as_of) } else { ctx.as_of };
    if to_repay > 0 && earliest <= last_day {
        let instalments = rng.range(1, 3);
        let mut days: Vec<NaiveDate> = (0..instalments)
            .map(|_| earliest + TimeDelta::days(rng.range(0, (last_day - earliest).num_days())))
            .collect();
        days.sort_unstable();
        let share = hundreds_of_yuan(to_repay / instalments).max(10_000).min(to_repay);
        let mut left = to_repay;
        for (n, day) in days.iter().enumerate() {
            let amount = if n + 1 == days.len() { left } else { share.min(left) };
            if amount == 0 {
                continue;
            }
            left -= amount;
            let at = local_time(*day, rng.range(9, 17) as u32, rng.range(0, 59) as u32);
            movements.push(Movement {
                at,
                fund,
                kind: EntryKind::Repayment,
                direction: 1,
                amount_fen: amount,
                application: None,
                reverses: None,
                memo: format!("{}归还借款", row.applicant_name),
            });
            row.repaid_fen += amount;
            row.updated_at = at;
        }
        row.state = if row.repaid_fen == amount_fen {
            row.closed_at = Some(row.updated_at);
            ApplicationState::Repaid
        } else {
            ApplicationState::Repaying
        };
    }
    if write_off && row.repaid_fen < amount_fen {
        // The one loan the fund gave up on: the award proved uncollectable. The money is already out of the
        // fund, so the write-off moves nothing (direction 0) and only closes the debt.
        let day = (due_on + TimeDelta::days(rng.range(365, 500))).min(ctx.as_of);
        let at = local_time(day, 10, 0).max(row.updated_at + TimeDelta::minutes(1));
        movements.push(Movement {
            at,
            fund,
            kind: EntryKind::WriteOff,
            direction: 0,
            amount_fen: amount_fen - row.repaid_fen,
            application: None,
            reverses: None,
            memo: "被执行人无财产可供执行，经集体研究核销".to_owned(),
        });
        row.state = ApplicationState::WrittenOff;
        row.closed_at = Some(at);
        row.updated_at = at;
        *write_off_done = true;
    }
    Planned { row, movements }
}

/// Government money and donations that do not belong to an application.
fn income(ctx: &Ctx, established: &[NaiveDate; 3]) -> Vec<Movement> {
    let mut rng = Rng::stream(ctx.seed, "legal-aid-income", 0);
    let mut out = Vec::new();
    let yuan = |y: i64| y * 100;
    out.push(Movement {
        at: local_time(established[0], 10, 0),
        fund: 0,
        kind: EntryKind::Allocation,
        direction: 1,
        amount_fen: yuan(1_000_000),
        application: None,
        reverses: None,
        memo: "市财政首期拨付周转救助金".to_owned(),
    });
    out.push(Movement {
        at: local_time(established[1], 10, 0),
        fund: 1,
        kind: EntryKind::Allocation,
        direction: 1,
        amount_fen: yuan(200_000),
        application: None,
        reverses: None,
        memo: "市财政首期拨付救助金".to_owned(),
    });
    // The relief fund's yearly budget.
    let annual = yuan(((100_000.0 * ctx.scale).round() as i64).max(10_000));
    for year in established[1].year() + 1..=ctx.as_of.year() {
        let Some(day) = NaiveDate::from_ymd_opt(year, 1, 15) else { continue };
        if day <= ctx.as_of {
            out.push(Movement {
                at: local_time(day, 10, 0),
                fund: 1,
                kind: EntryKind::Allocation,
                direction: 1,
                amount_fen: annual,
                application: None,
                reverses: None,
                memo: format!("{year}年度财政预算拨款"),
            });
        }
    }
    // Donations to the charity fund, one or two a quarter.
    let mut day = established[2];
    while day <= ctx.as_of {
        for _ in 0..rng.range(1, 2) {
            let on = (day + TimeDelta::days(rng.range(0, 80))).min(ctx.as_of);
            let amount =
                yuan((rng.range(30, 300) as f64 * 100.0 * ctx.scale).round() as i64).max(yuan(1_000));
            let donor = match rng.below(5) {
                0 => "舟山市慈善总会拨付".to_owned(),
                1 => format!("{}水产有限公司捐赠", names::place_name(&mut rng)),
                2 => format!("{}律师事务所捐赠", names::place_name(&mut rng)),
                3 => format!("爱心人士{}先生捐赠", names::surname(&mut rng)),
                _ => "舟山市律师协会募集".to_owned(),
            };
            out.push(Movement {
                at: local_time(on, rng.range(9, 16) as u32, rng.range(0, 59) as u32),
                fund: 2,
                kind: EntryKind::Donation,
                direction: 1,
                amount_fen: amount,
                application: None,
                reverses: None,
                memo: donor,
            });
        }
        day = day.checked_add_months(Months::new(3)).unwrap_or(ctx.as_of + TimeDelta::days(1));
    }
    // One donation booked twice by mistake and reversed the next day: the ledger corrects, never edits.
    if let Some(original) = out.iter().filter(|m| m.kind == EntryKind::Donation).nth(5).cloned() {
        let duplicate = Movement {
            at: original.at + TimeDelta::minutes(3),
            memo: format!("{}（重复录入）", original.memo),
            ..original.clone()
        };
        let reversal_at = (duplicate.at + TimeDelta::days(1)).min(ctx.stamp - TimeDelta::minutes(1));
        out.push(duplicate);
        out.push(Movement {
            at: reversal_at,
            fund: 2,
            kind: EntryKind::Reversal,
            direction: -1,
            amount_fen: original.amount_fen,
            application: None,
            reverses: Some(out.len() - 1),
            memo: "冲正：撤销重复录入的捐赠".to_owned(),
        });
    }
    out
}

/// The ledger being written: entries so far, running balances and per-fund key counters.
#[derive(Default)]
struct Ledger {
    entries: Vec<ledger_entry::Model>,
    balances: [i64; 3],
    counters: [u32; 3],
}

impl Ledger {
    /// Appends the entry for `m`; returns its index.
    fn book(
        &mut self,
        m: &Movement,
        application: Option<&legal_aid_application::Model>,
        reverses: Option<usize>,
    ) -> usize {
        let code = FUNDS[m.fund].code;
        self.counters[m.fund] += 1;
        let key = format!("seed-{code}-{:06}", self.counters[m.fund]);
        let reverses = reverses.map(|e| &self.entries[e]);
        let hash = request_hash(
            code,
            kind_name(m.kind),
            m.direction,
            m.amount_fen,
            application.map(|a| a.code.as_str()),
            reverses.map(|r| r.idempotency_key.as_str()),
            Some(&m.memo),
        );
        let reverses_entry_id = reverses.map(|r| r.id);
        self.balances[m.fund] += i64::from(m.direction) * m.amount_fen;
        self.entries.push(ledger_entry::Model {
            id: self.entries.len() as i64 + 1,
            fund_id: m.fund as i64 + 1,
            application_id: application.map(|a| a.id),
            kind: m.kind,
            direction: m.direction,
            amount_fen: m.amount_fen,
            reverses_entry_id,
            idempotency_key: key,
            request_hash: hash,
            actor: ACTOR.to_owned(),
            memo: Some(m.memo.clone()),
            created_at: m.at,
        });
        self.entries.len() - 1
    }
}

/// Generates and writes funds, applications and ledger.
pub async fn insert(
    txn: &DatabaseTransaction,
    ctx: &Ctx,
    tree: &RegionTree,
    ids: &mut IdNumbers,
    progress: &Progress,
    report: &mut SeedReport,
) -> Result<(), DbErr> {
    let (funds, applications, entries) = plan(ctx, tree, ids);
    let bar = progress.phase("legal aid", (funds.len() + applications.len() + entries.len()) as u64);
    insert_all(txn, funds, &bar).await?;
    report.applications = insert_all(txn, applications, &bar).await?;
    report.ledger_entries = insert_all(txn, entries, &bar).await?;
    bar.finish();
    Ok(())
}

type LegalAidRows = (Vec<legal_aid_fund::Model>, Vec<legal_aid_application::Model>, Vec<ledger_entry::Model>);

/// Plans funds, applications and the ledger, replaying the ledger to keep every balance non-negative.
fn plan(ctx: &Ctx, tree: &RegionTree, ids: &mut IdNumbers) -> LegalAidRows {
    let latest_start = ctx.as_of - TimeDelta::days(365);
    let established = FUNDS.each_ref().map(|f| {
        let (y, m, d) = f.established;
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or(latest_start).min(latest_start)
    });

    // Applications, numbered per year of submission in submission order: LA2010-0001 style codes.
    let mut write_off_done = false;
    let mut planned: Vec<Planned> = (0..ctx.scaled(APPLICATIONS_AT_SCALE_1))
        .map(|i| plan_application(ctx, tree, ids, &established, i, &mut write_off_done))
        .collect();
    planned.sort_by_key(|p| p.row.submitted_at);
    let mut per_year: Vec<(i32, u32)> = Vec::new();
    for (i, p) in planned.iter_mut().enumerate() {
        let year = (p.row.submitted_at + TimeDelta::hours(8)).year();
        let n = match per_year.iter_mut().find(|(y, _)| *y == year) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                per_year.push((year, 1));
                1
            }
        };
        p.row.id = i as i64 + 1;
        p.row.code = format!("LA{year}{n:04}");
    }

    // All movements, then in time order (ties: the order they were planned in).
    let mut movements = income(ctx, &established);
    for (a, p) in planned.iter().enumerate() {
        movements.extend(p.movements.iter().cloned().map(|m| Movement { application: Some(a), ..m }));
    }
    let mut order: Vec<usize> = (0..movements.len()).collect();
    order.sort_by_key(|&i| (movements[i].at, i));

    let mut ledger = Ledger::default();
    let mut entry_of: Vec<Option<usize>> = vec![None; movements.len()];
    for i in order {
        let m = &movements[i];
        let after = ledger.balances[m.fund] + i64::from(m.direction) * m.amount_fen;
        if after < 0 {
            // Top up an hour earlier, in round sums: 100,000 yuan from the budget, 10,000 from the charity.
            let (kind, unit, memo) = match FUNDS[m.fund].kind {
                FundKind::Charity => (EntryKind::Donation, 1_000_000, "市慈善总会追加拨付"),
                _ => (EntryKind::Allocation, 10_000_000, "市财政追加拨款"),
            };
            let top_up = Movement {
                at: m.at - TimeDelta::hours(1),
                fund: m.fund,
                kind,
                direction: 1,
                amount_fen: (-after + unit - 1) / unit * unit,
                application: None,
                reverses: None,
                memo: memo.to_owned(),
            };
            ledger.book(&top_up, None, None);
        }
        let application = m.application.map(|a| &planned[a].row);
        let reverses = m.reverses.and_then(|r| entry_of[r]);
        entry_of[i] = Some(ledger.book(m, application, reverses));
    }
    let entries = ledger.entries;

    let funds = FUNDS
        .iter()
        .enumerate()
        .map(|(f, spec)| legal_aid_fund::Model {
            id: f as i64 + 1,
            code: spec.code.to_owned(),
            kind: spec.kind,
            name: spec.name.to_owned(),
            region_id: tree.city_id,
            balance_fen: entries.iter().filter(|e| e.fund_id == f as i64 + 1).map(|e| e.signed_fen()).sum(),
            established_on: established[f],
            created_at: ctx.stamp,
        })
        .collect();
    (funds, planned.into_iter().map(|p| p.row).collect(), entries)
}

#[cfg(test)]
mod tests {
    use super::super::SeedOptions;
    use super::*;

    #[test]
    fn ledger_is_consistent() {
        let ctx = Ctx::new(&SeedOptions::default());
        let tree = RegionTree::build(&ctx);
        let (funds, apps, entries) = plan(&ctx, &tree, &mut IdNumbers::new());
        assert_eq!(apps.len(), 640);
        // Balances never dip below zero when replayed in time order, and match the cached balance.
        let mut running = [0i64; 3];
        let mut sorted: Vec<&ledger_entry::Model> = entries.iter().collect();
        sorted.sort_by_key(|e| (e.created_at, e.id));
        for e in sorted {
            assert!(e.amount_fen > 0);
            running[(e.fund_id - 1) as usize] += e.signed_fen();
            assert!(running.iter().all(|&b| b >= 0), "{running:?} at {}", e.idempotency_key);
            let expected = match e.kind {
                EntryKind::Donation | EntryKind::Allocation | EntryKind::Repayment => 1,
                EntryKind::Disbursement => -1,
                EntryKind::WriteOff => 0,
                EntryKind::Reversal => e.direction,
            };
            assert_eq!(e.direction, expected);
            assert_eq!(e.request_hash.len(), 64);
        }
        for f in &funds {
            assert_eq!(f.balance_fen, running[(f.id - 1) as usize]);
        }
        assert_eq!(entries.iter().filter(|e| e.kind == EntryKind::WriteOff).count(), 1);
        assert_eq!(entries.iter().filter(|e| e.kind == EntryKind::Reversal).count(), 1);
        // Repaid amounts match the repayment entries; only the revolving fund lends.
        for a in &apps {
            let repaid: i64 = entries
                .iter()
                .filter(|e| e.application_id == Some(a.id) && e.kind == EntryKind::Repayment)
                .map(|e| e.amount_fen)
                .sum();
            assert_eq!(repaid, a.repaid_fen, "{}", a.code);
            assert!((100_000..=3_000_000).contains(&a.amount_fen));
            if a.fund_id != 1 {
                assert!(!matches!(
                    a.state,
                    ApplicationState::Repaying | ApplicationState::Repaid | ApplicationState::WrittenOff
                ));
                assert!(a.due_on.is_none());
            }
        }
        let case = apps.iter().find(|a| a.amount_fen == 500_000 && a.case_summary.contains("交通事故"));
        assert!(case.is_some_and(|a| a.state == ApplicationState::Repaid && a.fund_id == 1));
        for state in [
            ApplicationState::Submitted,
            ApplicationState::Rejected,
            ApplicationState::Disbursed,
            ApplicationState::Repaying,
            ApplicationState::Repaid,
            ApplicationState::WrittenOff,
        ] {
            assert!(apps.iter().any(|a| a.state == state), "{state:?}");
        }
    }
}
