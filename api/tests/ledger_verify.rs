//! `govgraph ledger verify` against the real binary: it passes on freshly seeded demo data and fails, with a
//! non-zero exit status and a message naming the problem, on copies corrupted behind the ledger's back.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sea_orm::ConnectionTrait;

fn govgraph(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_govgraph"));
    command.env("DATABASE_URL", database_url).env_remove("GOVGRAPH_LOG");
    command
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("govgraph-ledger-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sqlite_url(file: &Path) -> String {
    format!("sqlite://{}?mode=rwc", file.display())
}

fn verify(url: &str) -> Output {
    govgraph(url).args(["ledger", "verify"]).output().unwrap()
}

/// A copy of the seeded database with `statements` applied to it.
async fn corrupted_copy(dir: &Path, seeded: &Path, name: &str, statements: &[&str]) -> String {
    let copy = dir.join(format!("{name}.db"));
    std::fs::copy(seeded, &copy).unwrap();
    let url = sqlite_url(&copy);
    let db = govgraph::db::connect(&url, 1, None).await.unwrap();
    for statement in statements {
        db.execute_unprepared(statement).await.unwrap_or_else(|err| panic!("{statement}: {err}"));
    }
    db.close().await.unwrap();
    url
}

#[tokio::test]
async fn ledger_verify_passes_on_demo_data_and_fails_on_corrupted_copies() {
    let dir = scratch_dir("verify");
    let seeded = dir.join("govgraph.db");
    let url = sqlite_url(&seeded);
    let status = govgraph(&url).args(["seed", "--scale", "0.01"]).status().unwrap();
    assert!(status.success());

    let sound = verify(&url);
    let stdout = String::from_utf8_lossy(&sound.stdout);
    assert!(sound.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&sound.stderr));
    for code in ["REVOLVING", "RELIEF", "CHARITY"] {
        assert!(stdout.lines().any(|line| line.starts_with(code) && line.ends_with("ok")), "{stdout}");
    }
    assert!(stdout.contains("ledger consistent"), "{stdout}");

    let cases: [(&str, &[&str], &str); 5] = [
        (
            "cached-balance",
            &["UPDATE legal_aid_fund SET balance_fen = balance_fen + 1 WHERE code = 'RELIEF'"],
            "fund RELIEF: cached balance",
        ),
        (
            "altered-amount",
            &[
                "DROP TRIGGER ledger_entry_reject_update",
                "UPDATE ledger_entry SET amount_fen = amount_fen + 100 \
                 WHERE id = (SELECT MIN(id) FROM ledger_entry WHERE kind = 'DISBURSEMENT')",
            ],
            "request_hash does not match",
        ),
        (
            "removed-entry",
            &[
                "DROP TRIGGER ledger_entry_reject_delete",
                "DELETE FROM ledger_entry WHERE id = (SELECT MIN(id) FROM ledger_entry WHERE kind = 'ALLOCATION')",
            ],
            "below zero",
        ),
        (
            "altered-repaid",
            &["UPDATE legal_aid_application SET repaid_fen = repaid_fen + 1 \
               WHERE id = (SELECT MIN(id) FROM legal_aid_application)"],
            "repaid_fen",
        ),
        (
            "paid-twice",
            &[
                "INSERT INTO ledger_entry (fund_id, application_id, kind, direction, amount_fen, reverses_entry_id, \
                 idempotency_key, request_hash, actor, memo, created_at) \
                 SELECT fund_id, application_id, kind, direction, 1, NULL, idempotency_key || '-again', request_hash, \
                 actor, memo, created_at FROM ledger_entry WHERE kind = 'DISBURSEMENT' ORDER BY id LIMIT 1",
            ],
            "disbursed for it",
        ),
    ];
    for (name, statements, expected) in cases {
        let corrupted = corrupted_copy(&dir, &seeded, name, statements).await;
        let output = verify(&corrupted);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(!output.status.success(), "{name}: verify passed on a corrupted copy:\n{stdout}");
        assert!(stderr.contains("ledger verify failed"), "{name}: {stderr}");
        assert!(stderr.contains(expected), "{name}: expected {expected:?} in\n{stderr}\n{stdout}");
    }
    // The original is untouched and still verifies.
    assert!(verify(&url).status.success());
    std::fs::remove_dir_all(&dir).ok();
}
