//! The compiled read path (top-level pages that carry their nested rows) against the loader path: for every
//! role, with and without a stated purpose, the same answers (data, masks, `FORBIDDEN` fields, errors) and the
//! same audit events, in fewer statements whose number the query's shape fixes.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph::auth::Role;
use govgraph::pagination::ReadPath;
use govgraph::server::DomainSettings;
use govgraph_tests::{Fixture, ServerConfig, TestServer, assert_no_errors, count, token_for};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

const PURPOSE: (&str, &str) = ("x-access-purpose", "follow-up of a risk report");

/// The benchmark's grid worker home screen.
const HOME: &str = "query GridHome($grid: String!) {
  region(code: $grid) {
    code name level volunteerCount activeCareSubjectCount
    team { role name phone duty }
  }
  careSubjects(filter: { inRegion: $grid, status: ACTIVE }, first: 20) {
    totalCount
    nodes { code name category currentRiskLevel daysSinceLastVisit }
  }
  serviceRecords(filter: { inRegion: $grid }, orderBy: { field: STARTED_AT, descending: true }, first: 10) {
    nodes { activity startedAt minutes volunteer { code name } }
  }
}";

/// The benchmark's volunteer profile.
const PROFILE: &str = "query VolunteerProfile($code: String!) {
  volunteer(code: $code) {
    code name status registeredOn
    grid { code name }
    teams { role joinedOn team { code name } }
    badges { badge grantedOn }
    serviceHours
    serviceRecords(first: 20) { totalCount nodes { activity startedAt minutes grid { code } } }
  }
}";

/// The benchmark's analyst cross-domain query.
const ANALYST: &str = "query CrossDomain($district: String!) {
  region(code: $district) {
    code name
    children { code name level children { code name } }
  }
  volunteers(filter: { inRegion: $district }, first: 20) {
    nodes { code status registeredOn grid { code name } serviceRecords(first: 5) { nodes { activity startedAt minutes } } }
  }
  careSubjects(filter: { inRegion: $district, category: AT_RISK_YOUTH }, first: 20) {
    nodes {
      code category status registeredOn grid { code }
      mentorships(first: 3) { nodes { status startedOn mentor { code occupation } } }
    }
  }
}";

/// Every field a page carries, through `nodes` and `edges`, forward and backward, by id and by a column, with
/// personal and sensitive fields of the carried rows.
const WIDE: &str = "query Wide($region: String!, $n: Int!, $after: String, $before: String) {
  serviceRecords(filter: { inRegion: $region }, orderBy: { field: STARTED_AT, descending: true }, first: $n, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id minutes volunteer { id code name phone idNumber status } grid { code name level } } }
  }
  byMinutes: serviceRecords(filter: { inRegion: $region }, orderBy: { field: MINUTES }, last: $n, before: $before) {
    pageInfo { hasPreviousPage startCursor }
    nodes { id minutes volunteer { code name } }
  }
  careSubjects(filter: { inRegion: $region }, first: $n) {
    totalCount pageInfo { endCursor }
    nodes { code name idNumber currentRiskLevel daysSinceLastVisit grid { code name } }
  }
  volunteers(filter: { inRegion: $region }, last: $n) {
    edges { cursor node { code name phone grid { code } } }
  }
}";

/// The other top-level lists' carried fields, among them an order by a computed value (a member's grid code).
const MORE: &str = "query More($region: String!, $n: Int!) {
  careVisits(filter: { inRegion: $region }, first: $n) {
    nodes { id kind visitor notes subject { code name idNumber currentRiskLevel grid { code } } }
  }
  riskAssessments(filter: { inRegion: $region }, last: $n) { edges { cursor node { id subject { code name } } } }
  mentorships(filter: { inRegion: $region }, first: $n) {
    nodes { id status mentor { code name phone } mentee { code name grid { code } } }
  }
  mentoringSessions(filter: { inRegion: $region }, first: $n) { nodes { id mentorship { id status } } }
  mentoringOutcomes(filter: { inRegion: $region }, last: $n) { nodes { id mentorship { id startedOn } } }
  gridTeamMembers(filter: { inRegion: $region }, orderBy: { field: GRID_CODE, descending: true }, first: $n) {
    totalCount pageInfo { endCursor } nodes { name phone grid { code name } }
  }
  byId: gridTeamMembers(filter: { inRegion: $region }, last: $n) { edges { cursor node { name grid { code } } } }
}";

/// [`MORE`] without the fields of carried rows that their loaders read (a subject's or a mentee's grid): sibling
/// lists reach those at different moments, so how many batches they take varies.
const MORE_CARRIED: &str = "query More($region: String!, $n: Int!) {
  careVisits(filter: { inRegion: $region }, first: $n) { nodes { id visitor subject { code name currentRiskLevel } } }
  riskAssessments(filter: { inRegion: $region }, last: $n) { edges { cursor node { id subject { code name } } } }
  mentorships(filter: { inRegion: $region }, first: $n) { nodes { id mentor { code name } mentee { code name } } }
  mentoringSessions(filter: { inRegion: $region }, first: $n) { nodes { id mentorship { id status } } }
  mentoringOutcomes(filter: { inRegion: $region }, last: $n) { nodes { id mentorship { id startedOn } } }
  gridTeamMembers(filter: { inRegion: $region }, orderBy: { field: GRID_CODE, descending: true }, first: $n) {
    nodes { name grid { code name } }
  }
  byId: gridTeamMembers(filter: { inRegion: $region }, last: $n) { nodes { name grid { code } } }
}";

/// A server on the compiled path and one on the loader path, sharing one demo database.
struct Pair {
    compiled: TestServer,
    loaders: TestServer,
}

impl Pair {
    async fn start() -> Pair {
        let compiled = TestServer::start(Fixture::Demo(0.02)).await;
        let settings = DomainSettings { read_path: ReadPath::Loaders, ..DomainSettings::default() };
        let loaders = compiled.start_beside(ServerConfig { settings, ..ServerConfig::default() }).await;
        Pair { compiled, loaders }
    }

    /// One text `sql` selects.
    async fn text(&self, sql: &str) -> String {
        let db = self.compiled.db.connect().await;
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("a row from {sql}"));
        row.try_get_by_index::<String>(0).unwrap()
    }

    /// The audit events after event `after`, without what differs between any two requests (ids, instants,
    /// request ids, hashes): who, in what role, did what to which records, for what purpose.
    async fn events_after(&self, after: i64) -> Vec<String> {
        let db = self.compiled.db.connect().await;
        let sql = format!(
            "SELECT e.actor, e.roles, e.action, e.entity_type, e.region_code, COALESCE(e.purpose, ''), \
             COALESCE(e.detail, ''), r.entity_type, r.entity_id FROM audit_event e \
             LEFT JOIN audit_event_record r ON r.event_id = e.id WHERE e.id > {after} \
             ORDER BY e.action, e.entity_type, r.entity_type, r.entity_id"
        );
        let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
        rows.iter()
            .map(|row| {
                let text = |i| row.try_get_by_index::<String>(i).unwrap();
                let record = row.try_get_by_index::<Option<i64>>(8).unwrap();
                let record_type = row.try_get_by_index::<Option<String>>(7).unwrap().unwrap_or_default();
                format!(
                    "{} {} {} {} {} {} {} {record_type} {record:?}",
                    text(0),
                    text(1),
                    text(2),
                    text(3),
                    text(4),
                    text(5),
                    text(6)
                )
            })
            .collect()
    }

    async fn last_event(&self) -> i64 {
        count(&self.compiled, "SELECT COALESCE(MAX(id), 0) FROM audit_event").await
    }

    /// `query` on both servers: the responses must be equal, and so must the events each one appended. Returns
    /// the response and the statements each path took.
    async fn compare(
        &self,
        label: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        query: &str,
        variables: Value,
    ) -> (Value, u64, u64) {
        let mut answers = Vec::new();
        for server in [&self.loaders, &self.compiled] {
            let before = self.last_event().await;
            let statements = server.statement_count();
            let response = server.gql_with_headers(token, headers, query, variables.clone()).await;
            let statements = server.statement_count() - statements;
            answers.push((response, statements, self.events_after(before).await));
        }
        let (mut compiled, mut loaders) = (answers.pop().unwrap(), answers.pop().unwrap());
        // Sibling fields fail in whichever order they are resolved: errors are compared as a set.
        for response in [&mut compiled.0, &mut loaders.0] {
            if let Some(errors) = response.get_mut("errors").and_then(Value::as_array_mut) {
                errors.sort_by_key(ToString::to_string);
            }
        }
        assert_eq!(compiled.0, loaders.0, "{label}: the compiled path answered otherwise");
        assert_eq!(compiled.2, loaders.2, "{label}: the compiled path audited otherwise");
        (compiled.0, compiled.1, loaders.1)
    }
}

struct Places {
    grid: String,
    district: String,
    volunteer: String,
}

async fn places(pair: &Pair) -> Places {
    // A grid whose active care subjects have been visited, and with the most service records.
    let grid = pair
        .text(
            "SELECT r.code FROM region r JOIN service_record s ON s.grid_id = r.id \
             WHERE EXISTS (SELECT 1 FROM care_subject c JOIN care_visit cv ON cv.subject_id = c.id \
                           WHERE c.region_id = r.id AND c.status = 'ACTIVE') \
             GROUP BY r.code ORDER BY COUNT(*) DESC, r.code LIMIT 1",
        )
        .await;
    // Its newest service record given by a volunteer of another district, so that every token below the city
    // meets a volunteer outside its scope at the top of the grid's page.
    let db = pair.compiled.db.connect().await;
    let insert = format!(
        "INSERT INTO service_record (volunteer_id, grid_id, activity, started_at, minutes, note, created_at) \
         SELECT (SELECT MIN(v.id) FROM volunteer v JOIN region g ON g.id = v.region_id WHERE g.code NOT LIKE '{}%'), \
                (SELECT id FROM region WHERE code = '{grid}'), activity, started_at, minutes, note, created_at \
         FROM service_record ORDER BY started_at DESC, id DESC LIMIT 1",
        &grid[..6]
    );
    db.execute_raw(Statement::from_string(db.get_database_backend(), insert)).await.unwrap();
    let volunteer = pair
        .text(
            "SELECT v.code FROM volunteer v JOIN service_record s ON s.volunteer_id = v.id \
             GROUP BY v.code ORDER BY COUNT(*) DESC, v.code LIMIT 1",
        )
        .await;
    Places { district: grid[..6].to_owned(), grid, volunteer }
}

/// The tokens compared: every role at the district, the grid roles at the grid, and no token.
fn callers(places: &Places) -> Vec<(String, Option<String>)> {
    let mut callers: Vec<(String, Option<String>)> = Role::TOKEN_ROLES
        .iter()
        .map(|role| {
            (format!("{role}@district"), Some(token_for("caller", &[role.as_str()], &places.district)))
        })
        .collect();
    for roles in [&["grid_worker"][..], &["care_worker"], &["grid_worker", "care_worker"], &["admin"]] {
        callers.push((format!("{roles:?}@grid"), Some(token_for("caller", roles, &places.grid))));
    }
    callers.push(("admin@city".to_owned(), Some(token_for("caller", &["admin"], "330900"))));
    callers.push(("no token".to_owned(), None));
    callers
}

#[tokio::test]
async fn every_role_gets_the_same_answers_and_audit_events_from_both_read_paths() {
    let pair = Pair::start().await;
    let places = places(&pair).await;
    let mut compared = 0;
    let mut carried_out_of_scope = false;
    for (caller, token) in callers(&places) {
        let token = token.as_deref();
        for headers in [&[][..], &[PURPOSE]] {
            let label = |query: &str| format!("{caller} {query} purpose={}", !headers.is_empty());
            pair.compare(&label("home"), token, headers, HOME, json!({ "grid": places.grid })).await;
            pair.compare(&label("profile"), token, headers, PROFILE, json!({ "code": places.volunteer }))
                .await;
            pair.compare(&label("analyst"), token, headers, ANALYST, json!({ "district": places.district }))
                .await;
            for region in [&places.grid, &places.district] {
                let variables = json!({ "region": region, "n": 7 });
                pair.compare(&label("more"), token, headers, MORE, variables.clone()).await;
                let (first, ..) = pair.compare(&label("wide"), token, headers, WIDE, variables).await;
                let records = &first["data"]["serviceRecords"];
                carried_out_of_scope |= records["edges"]
                    .as_array()
                    .is_some_and(|edges| edges.iter().any(|edge| edge["node"]["volunteer"].is_null()));
                let after = records["pageInfo"]["endCursor"].clone();
                let before = first["data"]["byMinutes"]["pageInfo"]["startCursor"].clone();
                if after.is_string() && before.is_string() {
                    let variables = json!({ "region": region, "n": 7, "after": after, "before": before });
                    pair.compare(&label("wide, next pages"), token, headers, WIDE, variables).await;
                }
            }
            compared += 1;
        }
    }
    assert_eq!(compared, callers(&places).len() * 2);
    assert!(carried_out_of_scope, "some page should carry a volunteer outside its caller's scope (as null)");
}

#[tokio::test]
async fn the_compiled_path_reads_nested_rows_in_the_page_statement_whatever_the_page_size() {
    let pair = Pair::start().await;
    let places = places(&pair).await;
    let token = token_for("caller", &["grid_worker", "care_worker"], &places.grid);
    for server in [&pair.compiled, &pair.loaders] {
        server.warm_up(&token).await;
    }
    let home = json!({ "grid": places.grid });
    let (response, compiled, loaders) = pair.compare("home", Some(&token), &[PURPOSE], HOME, home).await;
    assert_no_errors(&response);
    println!("home screen: {compiled} statements compiled, {loaders} on the loader path");
    // The volunteers of the records and the subjects' newest visits come with their pages.
    assert_eq!(compiled + 2, loaders, "home screen: {compiled} compiled, {loaders} through loaders");

    let admin = token_for("caller", &["admin"], &places.district);
    for server in [&pair.compiled, &pair.loaders] {
        server.warm_up(&admin).await;
    }
    let mut counts = Vec::new();
    for n in [1, 3, 20] {
        let variables = json!({ "region": places.district, "n": n });
        let (response, compiled, loaders) =
            pair.compare("wide", Some(&admin), &[PURPOSE], WIDE, variables).await;
        assert_no_errors(&response);
        let volunteers = response["data"]["serviceRecords"]["edges"].as_array().unwrap().len();
        assert_eq!(volunteers, n, "a full page");
        counts.push((n, compiled, loaders));
    }
    println!("wide query (page size, compiled, loaders): {counts:?}");
    // Four page statements and the audit's append, whatever the page size; the loader path adds at least the
    // volunteers of the records, the grids and the subjects' newest visits, in as many batches as the sibling
    // pages happen to resolve in.
    let (_, first, _) = counts[0];
    assert!(
        counts.iter().all(|&(_, compiled, loaders)| compiled == first && compiled + 3 <= loaders),
        "{counts:?}"
    );
    // PostgreSQL's append is one statement; SQLite's a write transaction: the chain's end, the events, the records.
    let audit = if pair.compiled.db.url.starts_with("postgres") { 1 } else { 3 };
    assert_eq!(first, 4 + audit, "{counts:?}");

    let mut counts = Vec::new();
    for n in [2, 20] {
        let variables = json!({ "region": places.district, "n": n });
        let (response, compiled, loaders) =
            pair.compare("more", Some(&admin), &[PURPOSE], MORE_CARRIED, variables).await;
        assert_no_errors(&response);
        let carried = [
            ("careVisits", "subject"),
            ("mentorships", "mentor"),
            ("mentorships", "mentee"),
            ("mentoringSessions", "mentorship"),
            ("mentoringOutcomes", "mentorship"),
            ("gridTeamMembers", "grid"),
        ];
        for (list, field) in carried {
            let nodes = response["data"][list]["nodes"].as_array().unwrap();
            assert!(
                !nodes.is_empty() && nodes.iter().all(|node| node[field].is_object()),
                "{list}.{field}: {response}"
            );
        }
        counts.push((n, compiled, loaders));
    }
    println!("other lists (page size, compiled, loaders): {counts:?}");
    // Seven pages and the audit's append; the loader path adds the subjects, mentors, mentees, mentorships and
    // grids (some of them in shared batches).
    assert!(
        counts.iter().all(|&(_, compiled, loaders)| compiled == 7 + audit && compiled + 4 <= loaders),
        "{counts:?}"
    );
}
