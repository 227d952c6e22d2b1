//! The real `govgraph` binary: personal data never reaches its logs, `audit verify` reports through its exit
//! status, and the statistics page offers the demo token only under `serve --demo` on a loopback address.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use govgraph::auth::jwt::{Claims, mint_hs256};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

const SECRET: &str = "cli-test-secret-cli-test-secret-cli!";
const CANARY_NAME: &str = "CANARY金丝雀NAME";
const CANARY_PHONE: &str = "19912345678";
const CANARY_PURPOSE: &str = "CANARY-PURPOSE-5b1f";

fn govgraph(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_govgraph"));
    command.env("DATABASE_URL", database_url).env("GOVGRAPH_JWT_SECRET", SECRET).env_remove("GOVGRAPH_LOG");
    command
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("govgraph-cli-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("govgraph.db").display())
}

fn seed(database_url: &str) {
    let status = govgraph(database_url).args(["seed", "--scale", "0.001"]).status().unwrap();
    assert!(status.success());
}

fn admin_token() -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: "log-tester".into(),
        roles: vec!["admin".into()],
        region: Some("330900".into()),
        exp: now + 600,
        iat: Some(now),
        nbf: None,
        iss: None,
        aud: None,
        name: None,
        purpose: None,
    };
    mint_hs256(SECRET, &claims).unwrap()
}

/// Starts `serve` on a free port with the most verbose logging, returning the child and its base URL.
fn serve(database_url: &str, log: &Path) -> (Child, String) {
    serve_with(database_url, &["--log", "trace", "serve", "--bind", "127.0.0.1:0"], log)
}

/// Starts `govgraph` with `args` (a `serve` command), writing its log to `log`, returning the child and the
/// base URL it announces.
fn serve_with(database_url: &str, args: &[&str], log: &Path) -> (Child, String) {
    let log_file = std::fs::File::create(log).unwrap();
    let mut child =
        govgraph(database_url).args(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::Write;
        let mut log_file = log_file;
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            writeln!(log_file, "{line}").ok();
            if !sent && let Some(url) = line.strip_prefix("govgraph: serving GraphQL at ") {
                tx.send(url.trim_end_matches("/graphql").to_owned()).ok();
                sent = true;
            }
        }
    });
    let base = rx.recv_timeout(Duration::from_secs(60)).expect("the server announces its address");
    (child, base)
}

fn stop(mut child: Child) {
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().ok();
    for _ in 0..100 {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().ok();
    child.wait().ok();
}

#[tokio::test]
async fn personal_data_never_reaches_the_log() {
    let dir = scratch_dir("canary");
    let url = sqlite_url(&dir);
    seed(&url);
    {
        let db = govgraph::db::connect(&url, 1, None).await.unwrap();
        db.execute_unprepared(&format!(
            "UPDATE volunteer SET name = '{CANARY_NAME}', phone = '{CANARY_PHONE}' WHERE id = 1"
        ))
        .await
        .unwrap();
        db.close().await.unwrap();
    }
    let log = dir.join("serve.log");
    let (child, base) = serve(&url, &log);
    let client = reqwest::Client::new();
    let token = admin_token();
    for (query, variables) in [
        ("{ volunteers(first: 5) { edges { node { id name phone idNumber } } } }", json!({})),
        (
            "query($code: String!) { volunteer(code: $code) { name } }",
            json!({ "code": format!("{CANARY_NAME}-as-a-variable") }),
        ),
        ("{ this is not graphql", json!({})),
    ] {
        let response: Value = client
            .post(format!("{base}/graphql"))
            .bearer_auth(&token)
            .header("x-access-purpose", CANARY_PURPOSE)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(response.get("data").is_some() || response.get("errors").is_some());
    }
    let first = client
        .post(format!("{base}/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ volunteers(first: 1) { edges { node { name phone } } } }" }))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(first.contains(CANARY_NAME), "the canary is really served: {first}");
    stop(child);

    let written = std::fs::read_to_string(&log).unwrap();
    assert!(written.contains("duration_ms"), "request lines were logged:\n{written}");
    assert!(written.lines().count() > 10, "trace logging was on");
    for canary in [CANARY_NAME, CANARY_PHONE, CANARY_PURPOSE, &token] {
        assert!(!written.contains(canary), "{canary} leaked into the log");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn audit_verify_reports_through_its_exit_status() {
    let dir = scratch_dir("verify");
    let url = sqlite_url(&dir);
    seed(&url);
    let log = dir.join("serve.log");
    let (child, base) = serve(&url, &log);
    let client = reqwest::Client::new();
    for _ in 0..3 {
        client
            .post(format!("{base}/graphql"))
            .bearer_auth(admin_token())
            .json(&json!({ "query": "{ volunteers(first: 2) { edges { node { name } } } }" }))
            .send()
            .await
            .unwrap();
    }
    stop(child);

    let intact = govgraph(&url).args(["audit", "verify"]).output().unwrap();
    assert!(intact.status.success(), "{}", String::from_utf8_lossy(&intact.stderr));
    assert!(String::from_utf8_lossy(&intact.stdout).contains("intact: 3 events"));

    {
        let db = govgraph::db::connect(&url, 1, None).await.unwrap();
        db.execute_unprepared("DROP TRIGGER audit_event_reject_delete").await.unwrap();
        db.execute_unprepared("DELETE FROM audit_event_record WHERE event_id = 2").await.ok();
        db.execute_unprepared("PRAGMA foreign_keys = OFF").await.unwrap();
        db.execute_unprepared("DELETE FROM audit_event WHERE id = 2").await.unwrap();
        db.close().await.unwrap();
    }
    let broken = govgraph(&url).args(["audit", "verify"]).output().unwrap();
    assert!(!broken.status.success());
    assert!(String::from_utf8_lossy(&broken.stderr).contains("broken at event 3"));
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn stats_verify_reports_through_its_exit_status() {
    let dir = scratch_dir("stats");
    let url = sqlite_url(&dir);
    seed(&url);
    let intact = govgraph(&url).args(["stats", "verify"]).output().unwrap();
    assert!(intact.status.success(), "{}", String::from_utf8_lossy(&intact.stderr));
    assert!(String::from_utf8_lossy(&intact.stdout).contains("service rollup consistent"));

    {
        let db = govgraph::db::connect(&url, 1, None).await.unwrap();
        db.execute_unprepared(
            "UPDATE service_rollup SET minutes = minutes + 1 WHERE region_id = \
             (SELECT id FROM region WHERE code = '330900') AND day = (SELECT MIN(day) FROM service_rollup) \
             AND activity = (SELECT MIN(activity) FROM service_rollup WHERE day = \
             (SELECT MIN(day) FROM service_rollup))",
        )
        .await
        .unwrap();
        db.close().await.unwrap();
    }
    let broken = govgraph(&url).args(["stats", "verify"]).output().unwrap();
    assert!(!broken.status.success());
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(stderr.contains("stats verify failed: 1 service rollup cell(s) differ"), "{stderr}");
    assert!(stderr.contains("region 330900 day "), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Starts `serve` with the default log filter and returns what it wrote to stderr up to its address line.
fn start_quietly(database_url: &str) -> (Child, Vec<String>) {
    let mut child = govgraph(database_url)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env_remove("GOVGRAPH_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        let done = line.starts_with("govgraph: serving GraphQL at ");
        lines.push(line);
        if done {
            break;
        }
    }
    (child, lines)
}

#[test]
fn serve_says_in_one_line_how_many_migrations_it_applied() {
    let dir = scratch_dir("quiet");
    let url = sqlite_url(&dir);
    let total = <migration::Migrator as sea_orm_migration::MigratorTrait>::migrations().len();
    let (child, lines) = start_quietly(&url);
    stop(child);
    let about_migrations: Vec<&String> =
        lines.iter().filter(|line| line.to_lowercase().contains("migration")).collect();
    assert_eq!(about_migrations.len(), 1, "{lines:#?}");
    assert!(about_migrations[0].contains(&format!("applied {total} migration(s)")), "{lines:#?}");

    let (child, lines) = start_quietly(&url);
    stop(child);
    let about_schema: Vec<&String> = lines
        .iter()
        .filter(|line| line.to_lowercase().contains("migration") || line.contains("schema"))
        .collect();
    assert_eq!(about_schema.len(), 1, "{lines:#?}");
    assert!(about_schema[0].contains("up to date"), "{lines:#?}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_development_secret_is_ignored_by_git_and_refused_outside_the_demo() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    for file in ["govgraph.db.dev-secret", "data/city.sqlite.dev-secret", "govgraph.dev-secret"] {
        let ignored = Command::new("git")
            .args(["check-ignore", "--no-index", "-q", file])
            .current_dir(repo)
            .status()
            .unwrap();
        assert!(ignored.success(), "git would pick up {file}");
    }

    let dir = scratch_dir("devsecret");
    let url = sqlite_url(&dir);
    let development = "d".repeat(64);
    std::fs::write(dir.join("govgraph.db.dev-secret"), &development).unwrap();
    let output = govgraph(&url)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("GOVGRAPH_JWT_SECRET", &development)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("development secret"), "{stderr}");
    std::fs::remove_dir_all(dir).ok();
}

/// The statistics page as `serve` with `args` answers it at `/stats`, over the loopback address whatever the bind.
async fn stats_page_of(database_url: &str, args: &[&str], log: &Path) -> String {
    let (child, base) = serve_with(database_url, args, log);
    let base = base.replace("0.0.0.0", "127.0.0.1");
    let response = reqwest::get(format!("{base}/stats")).await.unwrap();
    let status = response.status();
    let page = response.text().await.unwrap();
    if let Some(token) = demo_token(&page) {
        // The button's token is the demo administrator's, and the server accepts it.
        let viewer: Value = reqwest::Client::new()
            .post(format!("{base}/graphql"))
            .bearer_auth(token)
            .json(&json!({ "query": "{ viewer { subject roles } }" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(viewer["data"]["viewer"]["subject"], "demo-admin", "{viewer}");
    }
    stop(child);
    assert_eq!(status, 200, "{page}");
    page
}

/// The token the page's demo button signs in with, if it has that button.
fn demo_token(page: &str) -> Option<&str> {
    let (_, rest) = page.split_once("id=\"demo\" data-token=\"")?;
    rest.split_once('"').map(|(token, _)| token)
}

#[tokio::test]
async fn the_statistics_page_offers_the_demo_token_only_in_the_demo_on_a_loopback_address() {
    let dir = scratch_dir("statspage");
    let url = sqlite_url(&dir);
    seed(&url);
    let log = dir.join("serve.log");
    let demo = stats_page_of(&url, &["serve", "--demo", "--bind", "127.0.0.1:0"], &log).await;
    assert!(demo_token(&demo).is_some_and(|token| token.len() > 40), "no demo button: {demo}");
    let plain = stats_page_of(&url, &["serve", "--bind", "127.0.0.1:0"], &log).await;
    assert!(plain.contains("id=\"sign-in\"") && demo_token(&plain).is_none(), "{plain}");
    let exposed = stats_page_of(&url, &["serve", "--demo", "--bind", "0.0.0.0:0"], &log).await;
    assert!(exposed.contains("id=\"sign-in\"") && demo_token(&exposed).is_none(), "{exposed}");
    assert!(!exposed.contains("data-token"), "{exposed}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn serve_refuses_an_unknown_read_path_naming_the_ones_it_knows() {
    let dir = scratch_dir("readpath");
    let url = sqlite_url(&dir);
    for (env, flag) in [(Some("compiledd"), None), (None, Some("LOADERS"))] {
        let mut command = govgraph(&url);
        command.arg("serve").args(["--bind", "127.0.0.1:0"]);
        if let Some(value) = env {
            command.env("GOVGRAPH_READ_PATH", value);
        }
        if let Some(value) = flag {
            command.args(["--read-path", value]);
        }
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("--read-path") && stderr.contains("[possible values: compiled, loaders]"),
            "{stderr}"
        );
    }
    assert!(!dir.join("govgraph.db").exists(), "nothing was created before the arguments were checked");
    std::fs::remove_dir_all(&dir).ok();
}
