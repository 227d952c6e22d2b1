//! Traces of the real `govgraph` binary, received by a small OTLP/HTTP receiver started here: one trace per
//! request continuing the caller's `traceparent`, its spans a tree (request, preparation, validation, execution,
//! root fields, loader batches, SQL statements with text, duration and rows), and no personal data, variable or
//! bound value anywhere in what was exported. Without `OTEL_EXPORTER_OTLP_ENDPOINT` nothing is sent. On SQLite,
//! or on PostgreSQL when `DATABASE_URL` names one.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use govgraph::auth::jwt::{Claims, mint_hs256};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

/// The name of the request's span: its method and route.
const REQUEST_SPAN: &str = "POST /graphql";
const SECRET: &str = "trace-test-secret-trace-test-secret!";
const CANARY_NAME: &str = "CANARY踪迹NAME";
const CANARY_PHONE: &str = "19987654321";
const CANARY_NEW_NAME: &str = "CANARY新登记NAME";
const CANARY_NEW_PHONE: &str = "19911112222";
const CANARY_CODE: &str = "CANARY-CODE-7c2e";
const CANARY_PURPOSE: &str = "CANARY-PURPOSE-91aa";

static SEQUENCE: AtomicU32 = AtomicU32::new(0);

/// What the receiver was sent: the raw bodies of `POST /v1/traces`.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Vec<u8>>>>);

impl Received {
    fn bodies(&self) -> Vec<Vec<u8>> {
        self.0.lock().unwrap().clone()
    }

    fn spans(&self) -> Vec<Span> {
        let mut spans = Vec::new();
        for body in self.bodies() {
            let request =
                ExportTraceServiceRequest::decode(body.as_slice()).expect("an OTLP protobuf request");
            for resource in request.resource_spans {
                let service = resource
                    .resource
                    .iter()
                    .flat_map(|resource| &resource.attributes)
                    .find(|attribute| attribute.key == "service.name")
                    .and_then(|attribute| attribute.value.as_ref())
                    .and_then(|value| value.value.clone());
                assert_eq!(service, Some(AnyValue::StringValue("govgraph-trace-test".into())));
                for scope in resource.scope_spans {
                    spans.extend(scope.spans);
                }
            }
        }
        spans
    }
}

/// Starts an OTLP/HTTP receiver on a free port; returns its base URL.
fn start_receiver(received: Received) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                let received = received.clone();
                App::new().app_data(web::PayloadConfig::new(64 << 20)).route(
                    "/v1/traces",
                    web::post().to(move |body: web::Bytes| {
                        let received = received.clone();
                        async move {
                            received.0.lock().unwrap().push(body.to_vec());
                            HttpResponse::Ok().content_type("application/x-protobuf").body(Vec::new())
                        }
                    }),
                )
            })
            .workers(1)
            .bind("127.0.0.1:0")
            .unwrap();
            tx.send(server.addrs()[0]).unwrap();
            server.run().await.unwrap();
        });
    });
    let addr = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    format!("http://{addr}")
}

/// A database of its own: a SQLite file, or a PostgreSQL database when `DATABASE_URL` names a server.
struct Database {
    url: String,
    dir: PathBuf,
    postgres: Option<(String, String)>,
}

impl Database {
    async fn create(name: &str) -> Database {
        let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("govgraph-trace-{name}-{}-{n}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).unwrap();
        match std::env::var("DATABASE_URL").ok().filter(|url| url.starts_with("postgres")) {
            Some(admin_url) => {
                let database = format!("govgraph_trace_{}_{n}", std::process::id());
                let admin = govgraph::db::connect(&admin_url, 1, None).await.unwrap();
                admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{database}\"")).await.unwrap();
                admin.execute_unprepared(&format!("CREATE DATABASE \"{database}\"")).await.unwrap();
                admin.close().await.ok();
                let (base, query) = admin_url.split_once('?').unwrap_or((&admin_url, ""));
                let root =
                    &base[..base.rfind('/').filter(|&at| at > "postgres://".len()).unwrap_or(base.len())];
                let url = if query.is_empty() {
                    format!("{root}/{database}")
                } else {
                    format!("{root}/{database}?{query}")
                };
                Database { url, dir, postgres: Some((admin_url, database)) }
            }
            None => {
                let url = format!("sqlite://{}?mode=rwc", dir.join("govgraph.db").display());
                Database { url, dir, postgres: None }
            }
        }
    }

    async fn remove(self) {
        if let Some((admin_url, database)) = &self.postgres {
            let admin = govgraph::db::connect(admin_url, 1, None).await.unwrap();
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"))
                .await
                .ok();
            admin.close().await.ok();
        }
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

fn govgraph(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_govgraph"));
    command
        .env("DATABASE_URL", database_url)
        .env("GOVGRAPH_JWT_SECRET", SECRET)
        .env_remove("GOVGRAPH_LOG")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env_remove("OTEL_SERVICE_NAME");
    command
}

/// Seeds the demo data and plants the canaries in the first volunteer; returns a grid's code.
async fn seed_with_canaries(database: &Database) -> String {
    let status = govgraph(&database.url).args(["seed", "--scale", "0.001"]).status().unwrap();
    assert!(status.success());
    let db = govgraph::db::connect(&database.url, 1, None).await.unwrap();
    db.execute_unprepared(&format!(
        "UPDATE volunteer SET name = '{CANARY_NAME}', phone = '{CANARY_PHONE}' WHERE id = 1"
    ))
    .await
    .unwrap();
    let grid = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT code FROM region WHERE level = 'GRID' ORDER BY id LIMIT 1",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<String>("", "code")
        .unwrap();
    db.close().await.unwrap();
    grid
}

/// A running server: the process, its base URL, and the lines it logs (all of them once it stopped).
struct Server {
    child: Child,
    base: String,
    log: std::thread::JoinHandle<Vec<String>>,
}

/// Starts `serve` on a free port with `env` and the most verbose logging.
fn serve(database_url: &str, env: &[(&str, &str)]) -> Server {
    let mut command = govgraph(database_url);
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command
        .args(["--log", "trace", "serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let log = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("govgraph: serving GraphQL at ") {
                tx.send(url.trim_end_matches("/graphql").to_owned()).ok();
            }
            lines.push(line);
        }
        lines
    });
    let base = rx.recv_timeout(Duration::from_secs(60)).expect("the server announces its address");
    Server { child, base, log }
}

/// Stops the server with SIGTERM (it exports its queued spans on the way out).
fn stop(mut child: Child) {
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().ok();
    for _ in 0..200 {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().ok();
    child.wait().ok();
}

fn admin_token() -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: "trace-tester".into(),
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

fn id_number(birth: &str, sequence: u32) -> String {
    let first17 = format!("330902{birth}{:03}", sequence % 1000);
    let check = govgraph::validate::id_check_char(&first17).unwrap();
    format!("{first17}{check}")
}

/// The operations each request sends, with the trace and span ids of the caller's `traceparent`.
struct Call {
    trace_id: String,
    parent_span_id: String,
    query: &'static str,
    variables: Value,
}

fn call(n: u8, query: &'static str, variables: Value) -> Call {
    Call {
        trace_id: format!("4bf92f3577b34da6a3ce929d0e0e47{n:02x}"),
        parent_span_id: format!("00f067aa0ba902{n:02x}"),
        query,
        variables,
    }
}

async fn send(client: &reqwest::Client, base: &str, token: &str, call: &Call) -> Value {
    client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .header("x-access-purpose", CANARY_PURPOSE)
        .header("traceparent", format!("00-{}-{}-01", call.trace_id, call.parent_span_id))
        .json(&json!({ "query": call.query, "variables": call.variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn attribute<'a>(span: &'a Span, key: &str) -> Option<&'a AnyValue> {
    span.attributes
        .iter()
        .find(|attribute| attribute.key == key)
        .and_then(|attribute| attribute.value.as_ref())
        .and_then(|value| value.value.as_ref())
}

fn string_attribute<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    match attribute(span, key) {
        Some(AnyValue::StringValue(value)) => Some(value),
        _ => None,
    }
}

fn is_sql(span: &Span) -> bool {
    span.name.starts_with("sea_orm.")
}

/// The spans of one trace, checked to form a tree rooted at the request's span, itself the child of the
/// caller's span; returns the spans by id and each span's parent.
fn tree<'a>(spans: &[&'a Span], call: &Call) -> (HashMap<String, &'a Span>, HashMap<String, String>) {
    let by_id: HashMap<String, &Span> = spans.iter().map(|span| (hex(&span.span_id), *span)).collect();
    assert_eq!(by_id.len(), spans.len(), "span ids are unique");
    let roots: Vec<&&Span> = spans.iter().filter(|span| span.name == REQUEST_SPAN).collect();
    assert_eq!(roots.len(), 1, "one request span per trace");
    assert_eq!(hex(&roots[0].parent_span_id), call.parent_span_id, "the request continues the caller's span");
    let mut parents = HashMap::new();
    for span in spans {
        assert!(span.end_time_unix_nano >= span.start_time_unix_nano, "{} has a duration", span.name);
        if span.name == REQUEST_SPAN {
            continue;
        }
        let parent = hex(&span.parent_span_id);
        assert!(by_id.contains_key(&parent), "the parent of {} is in the trace", span.name);
        parents.insert(hex(&span.span_id), parent);
    }
    // Every span reaches the root: no cycles.
    for span in spans {
        let mut at = hex(&span.span_id);
        for _ in 0..=spans.len() {
            match parents.get(&at) {
                Some(parent) => at = parent.clone(),
                None => break,
            }
        }
        assert_eq!(by_id[&at].name, REQUEST_SPAN, "{} hangs under the request", span.name);
    }
    (by_id, parents)
}

fn parent_name<'a>(
    span: &Span,
    by_id: &HashMap<String, &'a Span>,
    parents: &HashMap<String, String>,
) -> &'a str {
    by_id[&parents[&hex(&span.span_id)]].name.as_str()
}

#[actix_web::test]
async fn each_request_is_one_trace_of_spans_without_personal_data() {
    let database = Database::create("spans").await;
    let grid = seed_with_canaries(&database).await;
    let received = Received::default();
    let receiver = start_receiver(received.clone());
    let Server { child, base, log } = serve(
        &database.url,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.as_str()),
            ("OTEL_SERVICE_NAME", "govgraph-trace-test"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );
    let client = reqwest::Client::new();
    let token = admin_token();
    let new_id_number = id_number("19900101", 917);

    let read = call(
        1,
        "{ volunteers(first: 5) { edges { node { id name phone idNumber grid { name } teams { role } badges { badge } } } }
           region(code: \"330900\") { name } }",
        json!({}),
    );
    let register = call(
        2,
        "mutation($input: RegisterVolunteerInput!) { registerVolunteer(input: $input) { id name phone } }",
        json!({ "input": { "name": CANARY_NEW_NAME, "gender": "FEMALE", "idNumber": new_id_number,
                           "phone": CANARY_NEW_PHONE, "gridCode": grid } }),
    );
    let lookup =
        call(3, "query($code: String) { volunteer(code: $code) { name } }", json!({ "code": CANARY_CODE }));
    let first = send(&client, &base, &token, &read).await;
    assert!(first.to_string().contains(CANARY_NAME), "the canary is really served: {first}");
    let registered = send(&client, &base, &token, &register).await;
    assert_eq!(registered["data"]["registerVolunteer"]["name"], CANARY_NEW_NAME, "{registered}");
    // The same identity card number again: a refused insert whose error must not carry it either.
    let again = call(4, register.query, register.variables.clone());
    let refused = send(&client, &base, &token, &again).await;
    assert!(refused["errors"].is_array(), "{refused}");
    let looked_up = send(&client, &base, &token, &lookup).await;
    assert!(looked_up["data"].is_object(), "{looked_up}");

    let calls = [&read, &register, &again, &lookup];
    let expected: HashSet<&str> = calls.iter().map(|call| call.trace_id.as_str()).collect();
    // The batches leave every 100 ms; the server is stopped once all requests' spans arrived, then exports what
    // it still had queued.
    for _ in 0..200 {
        let requests: HashSet<String> = received
            .spans()
            .iter()
            .filter(|span| span.name == REQUEST_SPAN)
            .map(|span| hex(&span.trace_id))
            .collect();
        if expected.iter().all(|trace| requests.contains(*trace)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop(child);
    let spans = received.spans();
    // The spans made for traces stay out of the log lines, even at the most verbose level.
    let log = log.join().unwrap();
    assert!(log.iter().any(|line| line.contains("duration_ms")), "requests were logged");
    for name in ["graphql.execute", "graphql.field", "loader.batch", "sea_orm.query", "govgraph::trace"] {
        assert!(!log.iter().any(|line| line.contains(name)), "{name} in the log");
    }

    // One trace per request, each the caller's; nothing outside them (no background work's trace).
    let traces: HashSet<String> = spans.iter().map(|span| hex(&span.trace_id)).collect();
    assert_eq!(traces, expected.iter().map(|trace| (*trace).to_owned()).collect::<HashSet<_>>());

    let of = |call: &Call| -> Vec<&Span> {
        spans.iter().filter(|span| hex(&span.trace_id) == call.trace_id).collect()
    };
    let read_spans = of(&read);
    let (by_id, parents) = tree(&read_spans, &read);
    let names: Vec<&str> = read_spans.iter().map(|span| span.name.as_str()).collect();
    for expected in ["graphql.prepare", "graphql.validate", "graphql.execute"] {
        assert_eq!(names.iter().filter(|name| **name == expected).count(), 1, "one {expected} in {names:?}");
    }
    let mut fields: Vec<&str> = read_spans
        .iter()
        .filter(|span| span.name == "Query.volunteers" || span.name == "Query.region")
        .map(|span| span.name.as_str())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["Query.region", "Query.volunteers"], "one span per root field: {names:?}");
    for field in read_spans.iter().filter(|span| span.name.starts_with("Query.")) {
        assert_eq!(parent_name(field, &by_id, &parents), "graphql.execute");
    }
    let batches: Vec<&&Span> = read_spans.iter().filter(|span| span.name.starts_with("load ")).collect();
    for batch in &batches {
        let field = parent_name(batch, &by_id, &parents);
        assert!(field.starts_with("Query."), "{} runs under {field}", batch.name);
        let keys = attribute(batch, "keys");
        assert!(matches!(keys, Some(AnyValue::IntValue(keys)) if *keys >= 1), "{:?}", batch.attributes);
    }
    let volunteers_batches =
        batches.iter().filter(|batch| parent_name(batch, &by_id, &parents) == "Query.volunteers").count();
    // The grids come with the page's own statement (README, "How a list is read"); teams and badges are batched.
    assert!(volunteers_batches >= 2, "the teams' and the badges' batches of the volunteers: {names:?}");
    let statements: Vec<&&Span> = read_spans.iter().filter(|span| is_sql(span)).collect();
    assert!(!statements.is_empty(), "{names:?}");
    for statement in &statements {
        let text = string_attribute(statement, "db.query.text").expect("the statement's text");
        assert!(text.contains("SELECT"), "{text}");
        assert!(
            matches!(attribute(statement, "db.response.returned_rows"), Some(AnyValue::IntValue(rows)) if *rows >= 0)
        );
        assert!(
            matches!(attribute(statement, "db.duration_ms"), Some(AnyValue::DoubleValue(ms)) if *ms >= 0.0)
        );
        let parent = parent_name(statement, &by_id, &parents);
        assert!(parent.starts_with("Query.") || parent.starts_with("load "), "a statement under {parent}");
    }
    assert!(
        statements.iter().any(|statement| parent_name(statement, &by_id, &parents).starts_with("load ")),
        "the batches' statements sit under them"
    );
    assert!(
        statements.iter().any(|statement| matches!(attribute(statement, "db.response.returned_rows"), Some(AnyValue::IntValue(rows)) if *rows >= 1)),
        "rows are counted"
    );

    let register_spans = of(&register);
    tree(&register_spans, &register);
    assert!(register_spans.iter().any(|span| span.name == "Mutation.registerVolunteer"));
    assert!(register_spans.iter().any(|span| is_sql(span)
        && string_attribute(span, "db.query.text").is_some_and(|text| text.contains("INSERT"))
        && matches!(attribute(span, "db.response.affected_rows"), Some(AnyValue::IntValue(1)))));
    tree(&of(&again), &again);
    tree(&of(&lookup), &lookup);

    // Not a byte of personal data, variable or bound value in what was exported.
    let exported: Vec<u8> = received.bodies().concat();
    for canary in [
        CANARY_NAME,
        CANARY_PHONE,
        CANARY_NEW_NAME,
        CANARY_NEW_PHONE,
        CANARY_CODE,
        CANARY_PURPOSE,
        &new_id_number,
        &token,
    ] {
        assert!(
            !exported.windows(canary.len()).any(|window| window == canary.as_bytes()),
            "{canary} was exported"
        );
    }
    database.remove().await;
}

#[actix_web::test]
async fn without_the_endpoint_nothing_is_exported() {
    let database = Database::create("off").await;
    seed_with_canaries(&database).await;
    let received = Received::default();
    let receiver = start_receiver(received.clone());
    // The traces' own endpoint variable alone does not turn tracing on.
    let traces_endpoint = format!("{receiver}/v1/traces");
    let Server { child, base, log } = serve(
        &database.url,
        &[
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces_endpoint.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );
    let client = reqwest::Client::new();
    let token = admin_token();
    let read = call(9, "{ volunteers(first: 5) { edges { node { name grid { name } } } } }", json!({}));
    let response = send(&client, &base, &token, &read).await;
    assert!(response.to_string().contains(CANARY_NAME), "{response}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop(child);
    drop(log);
    assert!(received.bodies().is_empty(), "nothing was sent to the receiver");
    database.remove().await;
}
