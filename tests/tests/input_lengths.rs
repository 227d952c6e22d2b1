//! Every text input of every mutation, at its longest allowed value and at one character more, on both databases.
//! The longest value succeeds (so it fits its column on PostgreSQL, which enforces `varchar(N)`, and on SQLite,
//! whose triggers now do the same); one more character is a `BAD_USER_INPUT` naming the field, refused before
//! the database. Lengths are counted in characters: free text is sent in Chinese, three bytes a character.
//!
//! A last test reads the schema and fails when a mutation gains a `String` or `ID` input that no case here covers.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use std::collections::BTreeSet;

use govgraph_tests::{Fixture, TestServer, assert_no_errors, error_codes, token_for};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

const CITY: &str = "330900";
const PURPOSE: (&str, &str) = ("x-access-purpose", "input length checks");

/// How long a value of the field may be, and what "one more character" means for it.
#[derive(Debug, Clone, Copy)]
enum Limit {
    /// Free text of at most this many characters (stretched with Chinese characters).
    Chars(usize),
    /// An ASCII token of at most this many characters (idempotency keys).
    Ascii(usize),
    /// A phone number of at most this many digits.
    Digits(usize),
    /// The code of a row (grid, region, team, fund): the real code the case holds is the longest that names
    /// something; one character more than any code may have (32) is refused.
    Code,
    /// A value with a fixed form (identity number, phone, code, global ID): the valid value the case already
    /// holds is the longest allowed; the same value with one more character is refused.
    Form,
}

/// One mutation with a valid set of variables and the text inputs to stretch.
struct Case {
    mutation: &'static str,
    query: String,
    variables: Value,
}

/// Ids and codes of rows the cases act on.
struct World {
    grid: String,
    region: String,
    team: String,
    volunteer: String,
    subject: String,
    mentor: String,
    team_member: String,
    /// A mediator of the grid's community, and a mediation boat.
    mediator: String,
    boat: String,
    /// Two fishing vessels registered in the grid's community.
    vessels: [String; 2],
}

fn admin() -> String {
    token_for("length-checker", &["admin"], CITY)
}

async fn run(server: &TestServer, query: &str, variables: Value) -> Value {
    server.gql_with_headers(Some(&admin()), &[PURPOSE], query, variables).await
}

async fn ok(server: &TestServer, query: &str, variables: Value) -> Value {
    let response = run(server, query, variables).await;
    assert_no_errors(&response);
    response["data"].as_object().and_then(|data| data.values().next()).cloned().unwrap_or(Value::Null)
}

fn sequence() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(100);
    N.fetch_add(1, Ordering::Relaxed)
}

/// A valid identity card number of someone born on 2008-05-01 (a minor, so that youth registrations pass too),
/// distinct per call.
fn id_number() -> String {
    let first17 = format!("33090220080501{:03}", sequence() % 1000);
    format!("{first17}{}", govgraph::validate::id_check_char(&first17).expect("digits"))
}

fn key() -> String {
    format!("len-{}", sequence())
}

async fn world(server: &TestServer) -> World {
    let data = ok(
        server,
        r#"{ regions(filter: { level: GRID, inRegion: "330902" }, first: 1) { nodes { code parent { code } } } }"#,
        json!({}),
    )
    .await;
    let grid = data["nodes"][0]["code"].as_str().expect("a grid").to_owned();
    let region = data["nodes"][0]["parent"]["code"].as_str().expect("its community").to_owned();
    let team =
        ok(server, "{ volunteerTeams(first: 1) { nodes { code } } }", json!({})).await["nodes"][0]["code"]
            .as_str()
            .expect("a team")
            .to_owned();
    let volunteer = ok(
        server,
        "mutation($input: RegisterVolunteerInput!) { registerVolunteer(input: $input) { id } }",
        json!({ "input": { "name": "林海", "gender": "MALE", "idNumber": id_number(), "phone": "13905800001",
                "gridCode": grid } }),
    )
    .await["id"]
        .as_str()
        .expect("volunteer id")
        .to_owned();
    let subject = ok(
        server,
        "mutation($input: RegisterCareSubjectInput!) { registerCareSubject(input: $input) { id } }",
        json!({ "input": smd_input(&grid) }),
    )
    .await["id"]
        .as_str()
        .expect("subject id")
        .to_owned();
    let mentor = ok(
        server,
        "mutation($input: RegisterMentorInput!) { registerMentor(input: $input) { id } }",
        json!({ "input": { "name": "周老师", "phone": "13905800002", "occupation": "教师", "regionCode": region } }),
    )
    .await["id"]
        .as_str()
        .expect("mentor id")
        .to_owned();
    let team_member = ok(
        server,
        "mutation($input: AddGridTeamMemberInput!) { addGridTeamMember(input: $input) { id } }",
        json!({ "input": { "gridCode": grid, "role": "GRID_WORKER", "name": "郑网格", "phone": "13905800003" } }),
    )
    .await["id"]
        .as_str()
        .expect("team member id")
        .to_owned();
    let mediator = ok(
        server,
        "mutation($input: RegisterMediatorInput!) { registerMediator(input: $input) { code } }",
        json!({ "input": { "name": "王调解", "phone": "13905800012", "kind": "PEOPLES_MEDIATOR", "regionCode": region } }),
    )
    .await["code"]
        .as_str()
        .expect("mediator code")
        .to_owned();
    let mut vessels = Vec::new();
    for _ in 0..2 {
        let registration = ok(
            server,
            "mutation($input: RegisterFishingVesselInput!) { registerFishingVessel(input: $input) { registrationNo } }",
            json!({ "input": vessel_input(&region) }),
        )
        .await["registrationNo"]
            .as_str()
            .expect("registration")
            .to_owned();
        vessels.push(registration);
    }
    let vessels = [vessels[0].clone(), vessels[1].clone()];
    // Daishan's mediation boats are part of every seed.
    let boat = "NJC01".to_owned();
    World { grid, region, team, volunteer, subject, mentor, team_member, mediator, boat, vessels }
}

fn vessel_input(home_port: &str) -> Value {
    json!({ "registrationNo": format!("浙定渔{:05}", sequence()), "name": "海丰号", "homePortCode": home_port,
            "ownerName": "周海生", "ownerIdNumber": id_number(), "ownerPhone": "13905806666",
            "crewSize": 8, "safetyStars": 4 })
}

fn report_input(world: &World) -> Value {
    json!({
        "gridCode": world.grid, "channel": "MARITIME_PATROL", "category": "NEIGHBOURHOOD",
        "summary": "渔船作业区域重叠引发纠纷", "escalationRisk": "MEDIUM", "seaArea": "岱衢洋",
        "parties": [
            { "kind": "PERSON", "role": "APPLICANT", "name": "张海英", "idNumber": id_number(), "phone": "13905801234" },
            { "kind": "PERSON", "role": "RESPONDENT", "name": "李国强", "idNumber": id_number(), "phone": "13905805678" }
        ],
        "vesselRegistrationNos": world.vessels,
        "idempotencyKey": key()
    })
}

/// A dispute reported in the world's grid and taken through `steps` (by an administrator).
async fn dispute_after(server: &TestServer, world: &World, steps: &[&str]) -> String {
    let id = ok(
        server,
        "mutation($input: ReportDisputeInput!) { reportDispute(input: $input) { id } }",
        json!({ "input": report_input(world) }),
    )
    .await["id"]
        .as_str()
        .expect("dispute id")
        .to_owned();
    for step in steps {
        let query = match *step {
            "accept" => "mutation($id: ID!) { acceptDispute(id: $id) { id } }".to_owned(),
            "assign" => format!(
                "mutation($id: ID!) {{ assignDispute(id: $id, mediatorCode: \"{}\") {{ id }} }}",
                world.mediator
            ),
            "mediate" => "mutation($id: ID!) { recordMediationSession(id: $id) { id } }".to_owned(),
            "resolve" => {
                "mutation($id: ID!) { resolveDispute(id: $id, agreement: \"和解\") { id } }".to_owned()
            }
            "fail" => "mutation($id: ID!) { markDisputeUnresolved(id: $id) { id } }".to_owned(),
            other => panic!("no step {other}"),
        };
        ok(server, &query, json!({ "id": id })).await;
    }
    id
}

/// A responsible unit of the world's region, new for each call (a unit is vetoed once a year); returns its id
/// and code.
async fn unit(server: &TestServer, world: &World) -> (String, String) {
    let unit = ok(
        server,
        "mutation($input: RegisterResponsibleUnitInput!) { registerResponsibleUnit(input: $input) { id code } }",
        json!({ "input": { "name": "测试局", "regionCode": world.region, "officerSubject": format!("unit-{}", sequence()) } }),
    )
    .await;
    (unit["id"].as_str().expect("unit id").to_owned(), unit["code"].as_str().expect("unit code").to_owned())
}

/// The assessment's steps, in their order, as mutations on `$id`.
const ASSESSMENT_STEPS: [&str; 5] = [
    "submitStabilityAssessment",
    "recordStabilityInvestigation",
    "recordStabilityJointReview",
    "rateStabilityRisk",
    "giveStabilityFeedback",
];

/// A major project of a new unit whose assessment took the first `steps` steps (by an administrator).
async fn project_after(server: &TestServer, world: &World, steps: usize) -> String {
    let (_, unit) = unit(server, world).await;
    let id = ok(
        server,
        "mutation($input: RegisterMajorProjectInput!) { registerMajorProject(input: $input) { id } }",
        json!({ "input": { "name": "测试工程", "kind": "PLANT", "regionCode": world.region, "unitCode": unit,
                "investment": "100.00", "plannedStart": "2027-01-01", "affectedHouseholds": 3 } }),
    )
    .await["id"]
        .as_str()
        .expect("project id")
        .to_owned();
    for name in &ASSESSMENT_STEPS[..steps] {
        let rating = if *name == "rateStabilityRisk" { ", rating: LOW" } else { "" };
        let query = format!(
            "mutation($id: ID!) {{ {name}(projectId: $id{rating}, input: {{ findings: \"可\" }}) {{ id }} }}"
        );
        ok(server, &query, json!({ "id": id })).await;
    }
    id
}

fn step_case(name: &'static str, rating: &str) -> String {
    format!(
        "mutation($id: ID!, $input: AssessmentStepInput!) {{ {name}(projectId: $id{rating}, input: $input) {{ id }} }}"
    )
}

fn smd_input(grid: &str) -> Value {
    json!({
        "category": "SEVERE_MENTAL_DISORDER", "name": "陈国栋", "gender": "MALE", "idNumber": id_number(),
        "birthDate": "2008-05-01", "phone": "13905801111", "address": "舟山市定海区环城南路88号", "gridCode": grid,
        "mentalHealth": {
            "healthRecordNo": format!("EHR-L-{}", sequence()), "diagnosis": "精神分裂症", "foundBy": "常规筛查",
            "guardianName": "陈建华", "guardianPhone": "13905802222", "guardianRelation": "父亲",
            "guardianInsured": true, "insurancePolicyNo": format!("JHZR-L-{}", sequence()),
            "insuranceExpiresOn": "2027-12-31"
        }
    })
}

fn youth_input(grid: &str) -> Value {
    json!({
        "category": "AT_RISK_YOUTH", "name": "王小军", "gender": "MALE", "idNumber": id_number(),
        "birthDate": "2008-05-01", "address": "舟山市定海区解放西路5号", "gridCode": grid,
        "youth": { "youthKind": "IDLE", "schoolStatus": "DROPPED_OUT", "guardianName": "王大海",
                   "guardianPhone": "13905803333" }
    })
}

async fn register_youth(server: &TestServer, grid: &str) -> String {
    ok(
        server,
        "mutation($input: RegisterCareSubjectInput!) { registerCareSubject(input: $input) { id } }",
        json!({ "input": youth_input(grid) }),
    )
    .await["id"]
        .as_str()
        .expect("subject id")
        .to_owned()
}

async fn new_mentorship(server: &TestServer, world: &World) -> String {
    let mentee = register_youth(server, &world.grid).await;
    ok(
        server,
        "mutation($m: ID!, $y: ID!) { pairMentor(mentorId: $m, menteeId: $y, startedOn: \"2026-01-01\") { id } }",
        json!({ "m": world.mentor, "y": mentee }),
    )
    .await["id"]
        .as_str()
        .expect("mentorship id")
        .to_owned()
}

fn submit_input(world: &World) -> Value {
    json!({ "fund": "REVOLVING", "regionCode": world.region, "applicantName": "陈桂芳",
            "applicantIdNumber": id_number(), "applicantPhone": "13905801234",
            "caseSummary": "工伤赔偿诉讼期间生活困难。", "amount": "100.00" })
}

async fn new_application(server: &TestServer, world: &World, approved: bool) -> String {
    let id = ok(
        server,
        "mutation($input: SubmitLegalAidApplicationInput!) { submitLegalAidApplication(input: $input) { id } }",
        json!({ "input": submit_input(world) }),
    )
    .await["id"]
        .as_str()
        .expect("application id")
        .to_owned();
    if approved {
        ok(server, "mutation($id: ID!) { approveLegalAidApplication(id: $id) { id } }", json!({ "id": id }))
            .await;
    }
    id
}

/// A disbursed loan, due yesterday (so that it can be written off).
async fn new_loan(server: &TestServer, world: &World) -> String {
    let id = new_application(server, world, true).await;
    ok(
        server,
        "mutation($id: ID!, $key: String!) { disburseLegalAidApplication(id: $id, idempotencyKey: $key, dueOn: \"2030-01-01\") { replayed } }",
        json!({ "id": id, "key": key() }),
    )
    .await;
    server
        .db
        .connect()
        .await
        .execute_unprepared(
            "UPDATE legal_aid_application SET due_on = '2020-01-01' WHERE due_on = '2030-01-01'",
        )
        .await
        .expect("make the loan overdue");
    id
}

async fn new_donation_entry(server: &TestServer) -> String {
    ok(
        server,
        "mutation($key: String!) { recordDonation(fund: \"CHARITY\", amount: \"10.00\", memo: \"捐赠\", idempotencyKey: $key) { entry { id } } }",
        json!({ "key": key() }),
    )
    .await["entry"]["id"]
        .as_str()
        .expect("entry id")
        .to_owned()
}

const T: Limit = Limit::Form;

/// The cases; those whose baseline consumes something (an application can be approved once) are built again for
/// every value they are run with.
async fn case(server: &TestServer, world: &World, mutation: &'static str) -> Case {
    let c = |query: &str, variables: Value| Case { mutation, query: query.to_owned(), variables };
    match mutation {
        "addGridTeamMember" => c(
            "mutation($input: AddGridTeamMemberInput!) { addGridTeamMember(input: $input) { id } }",
            json!({ "input": { "gridCode": world.grid, "role": "DOCTOR", "name": format!("孙医生{}", sequence()), "phone": "13905800004",
                    "duty": "签约家庭医生" } }),
        ),
        "updateGridTeamMember" => c(
            "mutation($id: ID!, $input: UpdateGridTeamMemberInput!) { updateGridTeamMember(id: $id, input: $input) { id } }",
            json!({ "id": world.team_member, "input": { "name": "郑网格", "phone": "13905800005", "duty": "巡查" } }),
        ),
        "removeGridTeamMember" => {
            let id = ok(
                server,
                "mutation($input: AddGridTeamMemberInput!) { addGridTeamMember(input: $input) { id } }",
                json!({ "input": { "gridCode": world.grid, "role": "VOLUNTEER", "name": "临时", "phone": "13905800006" } }),
            )
            .await["id"]
                .clone();
            c("mutation($id: ID!) { removeGridTeamMember(id: $id) { id } }", json!({ "id": id }))
        }
        "registerVolunteer" => c(
            "mutation($input: RegisterVolunteerInput!) { registerVolunteer(input: $input) { id code } }",
            json!({ "input": { "name": "林海", "gender": "FEMALE", "idNumber": id_number(), "phone": "13905800007",
                    "gridCode": world.grid } }),
        ),
        "updateVolunteer" => c(
            "mutation($id: ID!, $input: UpdateVolunteerInput!) { updateVolunteer(id: $id, input: $input) { id } }",
            json!({ "id": world.volunteer, "input": { "name": "林海", "phone": "13905800008", "gridCode": world.grid } }),
        ),
        "setVolunteerStatus" => {
            let status = ok(
                server,
                "query($id: ID!) { node(id: $id) { ... on Volunteer { status } } }",
                json!({ "id": world.volunteer }),
            )
            .await;
            let next = if status["status"] == "ACTIVE" { "SUSPENDED" } else { "ACTIVE" };
            c(
                "mutation($id: ID!, $status: VolunteerStatus!, $reason: String!) { setVolunteerStatus(id: $id, status: $status, reason: $reason) { id } }",
                json!({ "id": world.volunteer, "status": next, "reason": "暂停服务" }),
            )
        }
        "addVolunteerToTeam" => {
            let volunteer = ok(
                server,
                "mutation($input: RegisterVolunteerInput!) { registerVolunteer(input: $input) { id } }",
                json!({ "input": { "name": "入队", "gender": "MALE", "idNumber": id_number(), "phone": "13905800009",
                        "gridCode": world.grid } }),
            )
            .await["id"]
                .clone();
            c(
                "mutation($v: ID!, $team: String!) { addVolunteerToTeam(volunteerId: $v, teamCode: $team) { id } }",
                json!({ "v": volunteer, "team": world.team }),
            )
        }
        "removeVolunteerFromTeam" => {
            let volunteer = ok(
                server,
                "mutation($input: RegisterVolunteerInput!) { registerVolunteer(input: $input) { id } }",
                json!({ "input": { "name": "离队", "gender": "MALE", "idNumber": id_number(), "phone": "13905800010",
                        "gridCode": world.grid } }),
            )
            .await["id"]
                .clone();
            ok(
                server,
                "mutation($v: ID!, $team: String!) { addVolunteerToTeam(volunteerId: $v, teamCode: $team) { id } }",
                json!({ "v": volunteer, "team": world.team }),
            )
            .await;
            c(
                "mutation($v: ID!, $team: String!) { removeVolunteerFromTeam(volunteerId: $v, teamCode: $team) { id } }",
                json!({ "v": volunteer, "team": world.team }),
            )
        }
        "grantBadge" => {
            let volunteer = ok(
                server,
                "mutation($input: RegisterVolunteerInput!) { registerVolunteer(input: $input) { id } }",
                json!({ "input": { "name": "授章", "gender": "MALE", "idNumber": id_number(), "phone": "13905800011",
                        "gridCode": world.grid } }),
            )
            .await["id"]
                .clone();
            c(
                "mutation($v: ID!) { grantBadge(volunteerId: $v, badge: PEACE_ENVOY) { id } }",
                json!({ "v": volunteer }),
            )
        }
        "logService" => c(
            "mutation($input: LogServiceInput!) { logService(input: $input) { id } }",
            json!({ "input": { "volunteerId": world.volunteer, "gridCode": world.grid, "activity": "PATROL",
                    "startedAt": "2026-01-05T10:00:00Z", "minutes": 60, "note": "夜间巡逻" } }),
        ),
        "logServiceBatch" => c(
            "mutation($records: [LogServiceInput!]!) { logServiceBatch(records: $records) { id } }",
            json!({ "records": [
                { "volunteerId": world.volunteer, "gridCode": world.grid, "activity": "TRAFFIC",
                  "startedAt": "2026-01-06T00:30:00Z", "minutes": 45, "note": "斑马线文明劝导" },
                { "volunteerId": world.volunteer, "gridCode": world.grid, "activity": "PUBLICITY",
                  "startedAt": "2026-01-06T02:30:00Z", "minutes": 30, "note": "禁毒宣传" } ] }),
        ),
        "registerCareSubject" => {
            let smd = smd_input(&world.grid);
            c(
                "mutation($input: RegisterCareSubjectInput!) { registerCareSubject(input: $input) { id code } }",
                json!({ "input": smd }),
            )
        }
        "registerCareSubject/correction" => c(
            "mutation($input: RegisterCareSubjectInput!) { registerCareSubject(input: $input) { id code } }",
            json!({ "input": {
                "category": "COMMUNITY_CORRECTION", "name": "李明", "gender": "MALE", "idNumber": id_number(),
                "birthDate": "2008-05-01", "address": "舟山市定海区人民北路1号", "gridCode": world.grid,
                "correction": { "correctionType": "PROBATION", "offence": "危险驾驶罪", "receivedOn": "2026-06-01",
                                "supervisionStart": "2026-06-01", "supervisionEnd": "2027-06-01" } } }),
        ),
        "registerCareSubject/youth" => c(
            "mutation($input: RegisterCareSubjectInput!) { registerCareSubject(input: $input) { id code } }",
            json!({ "input": youth_input(&world.grid) }),
        ),
        "recordRiskAssessment" => c(
            "mutation($s: ID!, $notes: String) { recordRiskAssessment(subjectId: $s, level: 1, assessedOn: \"2026-11-01\", notes: $notes) { id } }",
            json!({ "s": world.subject, "notes": "情绪稳定" }),
        ),
        "recordVisit" => c(
            "mutation($s: ID!, $notes: String) { recordVisit(subjectId: $s, kind: HOME_VISIT, visitedAt: \"2026-11-01T02:00:00Z\", notes: $notes) { id } }",
            json!({ "s": world.subject, "notes": "入户走访" }),
        ),
        "addCareGroupMember" => c(
            "mutation($s: ID!, $name: String!, $phone: String!) { addCareGroupMember(subjectId: $s, role: FAMILY, name: $name, phone: $phone) { id } }",
            json!({ "s": world.subject, "name": format!("邻居{}", sequence()), "phone": "13905804444" }),
        ),
        "closeCorrectionSupervision" => {
            let subject = ok(
                server,
                "mutation($input: RegisterCareSubjectInput!) { registerCareSubject(input: $input) { id } }",
                json!({ "input": {
                    "category": "COMMUNITY_CORRECTION", "name": "刘强", "gender": "MALE", "idNumber": id_number(),
                    "birthDate": "2008-05-01", "address": "舟山市定海区人民北路2号", "gridCode": world.grid,
                    "correction": { "correctionType": "PAROLE", "offence": "盗窃罪", "receivedOn": "2026-01-01",
                                    "supervisionStart": "2026-01-01", "supervisionEnd": "2026-10-01" } } }),
            )
            .await["id"]
                .clone();
            c(
                "mutation($s: ID!) { closeCorrectionSupervision(subjectId: $s, releasedOn: \"2026-10-01\") { id } }",
                json!({ "s": subject }),
            )
        }
        "registerMentor" => c(
            "mutation($input: RegisterMentorInput!) { registerMentor(input: $input) { id code } }",
            json!({ "input": { "name": "吴老师", "phone": "13905805555", "occupation": "退休法官", "regionCode": world.region } }),
        ),
        "pairMentor" => {
            let mentee = register_youth(server, &world.grid).await;
            c(
                "mutation($m: ID!, $y: ID!, $goal: String) { pairMentor(mentorId: $m, menteeId: $y, goal: $goal) { id } }",
                json!({ "m": world.mentor, "y": mentee, "goal": "帮助就业" }),
            )
        }
        "recordMentoringSession" => c(
            "mutation($m: ID!, $topic: String!, $notes: String) { recordMentoringSession(mentorshipId: $m, heldOn: \"2026-11-02\", minutes: 60, topic: $topic, notes: $notes) { id } }",
            json!({ "m": new_mentorship(server, world).await, "topic": "职业规划", "notes": "谈心" }),
        ),
        "recordMentoringOutcome" => c(
            "mutation($m: ID!, $d: String) { recordMentoringOutcome(mentorshipId: $m, kind: SKILLS_TRAINING, achievedOn: \"2026-11-03\", description: $d) { id } }",
            json!({ "m": new_mentorship(server, world).await, "d": "完成培训" }),
        ),
        "closeMentorship" => c(
            "mutation($m: ID!) { closeMentorship(mentorshipId: $m, endedOn: \"2026-11-04\") { id } }",
            json!({ "m": new_mentorship(server, world).await }),
        ),
        "submitLegalAidApplication" => c(
            "mutation($input: SubmitLegalAidApplicationInput!) { submitLegalAidApplication(input: $input) { id code } }",
            json!({ "input": submit_input(world) }),
        ),
        "approveLegalAidApplication" => c(
            "mutation($id: ID!, $reason: String) { approveLegalAidApplication(id: $id, reason: $reason) { id } }",
            json!({ "id": new_application(server, world, false).await, "reason": "符合条件" }),
        ),
        "rejectLegalAidApplication" => c(
            "mutation($id: ID!, $reason: String!) { rejectLegalAidApplication(id: $id, reason: $reason) { id } }",
            json!({ "id": new_application(server, world, false).await, "reason": "不符合条件" }),
        ),
        "disburseLegalAidApplication" => c(
            "mutation($id: ID!, $key: String!) { disburseLegalAidApplication(id: $id, idempotencyKey: $key, dueOn: \"2030-01-01\") { replayed } }",
            json!({ "id": new_application(server, world, true).await, "key": key() }),
        ),
        "recordRepayment" => c(
            "mutation($id: ID!, $key: String!, $memo: String) { recordRepayment(applicationId: $id, amount: \"10.00\", idempotencyKey: $key, memo: $memo) { replayed } }",
            json!({ "id": new_loan(server, world).await, "key": key(), "memo": "部分还款" }),
        ),
        "writeOffLoan" => c(
            "mutation($id: ID!, $reason: String!, $key: String!) { writeOffLoan(applicationId: $id, reason: $reason, idempotencyKey: $key) { replayed } }",
            json!({ "id": new_loan(server, world).await, "reason": "无力偿还", "key": key() }),
        ),
        "recordDonation" => c(
            "mutation($fund: String!, $memo: String!, $key: String!) { recordDonation(fund: $fund, amount: \"10.00\", memo: $memo, idempotencyKey: $key) { replayed } }",
            json!({ "fund": "CHARITY", "memo": "爱心捐赠", "key": key() }),
        ),
        "reverseLedgerEntry" => c(
            "mutation($id: ID!, $reason: String!, $key: String!) { reverseLedgerEntry(entryId: $id, reason: $reason, idempotencyKey: $key) { replayed } }",
            json!({ "id": new_donation_entry(server).await, "reason": "录入错误", "key": key() }),
        ),
        "reportDispute" => c(
            "mutation($input: ReportDisputeInput!) { reportDispute(input: $input) { id code } }",
            json!({ "input": report_input(world) }),
        ),
        "acceptDispute" => c(
            "mutation($id: ID!, $note: String) { acceptDispute(id: $id, note: $note) { id } }",
            json!({ "id": dispute_after(server, world, &[]).await, "note": "受理" }),
        ),
        "assignDispute" => c(
            "mutation($id: ID!, $m: String, $note: String) { assignDispute(id: $id, mediatorCode: $m, note: $note) { id } }",
            json!({ "id": dispute_after(server, world, &["accept"]).await, "m": world.mediator, "note": "指派" }),
        ),
        "assignDispute/boat" => c(
            "mutation($id: ID!, $b: String) { assignDispute(id: $id, boatCode: $b) { id } }",
            json!({ "id": dispute_after(server, world, &["accept"]).await, "b": world.boat }),
        ),
        "recordMediationSession" => c(
            "mutation($id: ID!, $note: String) { recordMediationSession(id: $id, note: $note) { id } }",
            json!({ "id": dispute_after(server, world, &["accept", "assign"]).await, "note": "首次调解" }),
        ),
        "resolveDispute" => c(
            "mutation($id: ID!, $a: String!, $note: String) { resolveDispute(id: $id, agreement: $a, note: $note) { id } }",
            json!({ "id": dispute_after(server, world, &["accept", "assign", "mediate"]).await,
                    "a": "双方同意分摊损失", "note": "调解成功" }),
        ),
        "markDisputeUnresolved" => c(
            "mutation($id: ID!, $note: String) { markDisputeUnresolved(id: $id, note: $note) { id } }",
            json!({ "id": dispute_after(server, world, &["accept", "assign", "mediate"]).await, "note": "未达成一致" }),
        ),
        "escalateDispute" => c(
            "mutation($id: ID!, $note: String) { escalateDispute(id: $id, to: COURT, note: $note) { id } }",
            json!({ "id": dispute_after(server, world, &["accept", "assign", "mediate", "fail"]).await,
                    "note": "引导诉讼" }),
        ),
        "closeDispute" => c(
            "mutation($id: ID!, $note: String) { closeDispute(id: $id, note: $note) { id } }",
            json!({ "id": dispute_after(server, world, &["accept", "assign", "mediate", "resolve"]).await,
                    "note": "结案" }),
        ),
        "recordDisputeFollowUp" => c(
            "mutation($id: ID!, $note: String!) { recordDisputeFollowUp(id: $id, note: $note) { id } }",
            json!({ "id": dispute_after(server, world, &["accept", "assign", "mediate", "resolve"]).await,
                    "note": "协议履行良好" }),
        ),
        "registerFishingVessel" => c(
            "mutation($input: RegisterFishingVesselInput!) { registerFishingVessel(input: $input) { id } }",
            json!({ "input": vessel_input(&world.region) }),
        ),
        "updateFishingVessel" => {
            let vessel = ok(
                server,
                "query($r: String!) { fishingVessel(registrationNo: $r) { id } }",
                json!({ "r": world.vessels[0] }),
            )
            .await["id"]
                .clone();
            c(
                "mutation($id: ID!, $input: UpdateFishingVesselInput!) { updateFishingVessel(id: $id, input: $input) { id } }",
                json!({ "id": vessel, "input": { "ownerName": "周海生", "ownerPhone": "13905807777",
                        "gridWorkerId": world.team_member } }),
            )
        }
        "registerMediator" => c(
            "mutation($input: RegisterMediatorInput!) { registerMediator(input: $input) { id code } }",
            json!({ "input": { "name": "陈调解", "phone": "13905808888", "kind": "BOAT_CREW", "regionCode": world.region,
                    "subject": format!("mediator-{}", sequence()), "boatCode": world.boat } }),
        ),
        "registerResponsibleUnit" => c(
            "mutation($input: RegisterResponsibleUnitInput!) { registerResponsibleUnit(input: $input) { id } }",
            json!({ "input": { "name": "舟山市测试局", "regionCode": world.region,
                    "officerSubject": format!("unit-{}", sequence()) } }),
        ),
        "registerMajorProject" => {
            let (_, unit) = unit(server, world).await;
            c(
                "mutation($input: RegisterMajorProjectInput!) { registerMajorProject(input: $input) { id } }",
                json!({ "input": { "name": "测试工程", "kind": "PLANT", "regionCode": world.region, "unitCode": unit,
                        "investment": "100.00", "plannedStart": "2027-01-01", "affectedHouseholds": 3 } }),
            )
        }
        "submitStabilityAssessment"
        | "recordStabilityInvestigation"
        | "recordStabilityJointReview"
        | "rateStabilityRisk"
        | "giveStabilityFeedback" => {
            let taken = ASSESSMENT_STEPS.iter().position(|step| *step == mutation).expect("a step");
            let rating = if mutation == "rateStabilityRisk" { ", rating: MEDIUM" } else { "" };
            Case {
                mutation,
                query: step_case(mutation, rating),
                variables: json!({ "id": project_after(server, world, taken).await,
                                   "input": { "findings": "调研结论", "attachments": ["舟稳评〔2026〕1号", "舟稳评〔2026〕2号"] } }),
            }
        }
        "setMitigationMeasures" => c(
            "mutation($id: ID!, $m: [MitigationMeasureInput!]!, $input: AssessmentStepInput!) { setMitigationMeasures(projectId: $id, measures: $m, input: $input) { id } }",
            json!({ "id": project_after(server, world, 5).await,
                    "m": [{ "description": "入户解释", "owner": "征收办", "dueOn": "2027-01-01" },
                          { "description": "设接待点", "owner": "信访办", "dueOn": "2027-02-01" }],
                    "input": { "findings": "措施", "attachments": ["舟稳评〔2026〕1号", "舟稳评〔2026〕2号"] } }),
        ),
        "completeMitigationMeasure" => {
            let project = project_after(server, world, 5).await;
            let measure = ok(
                server,
                "mutation($id: ID!) { setMitigationMeasures(projectId: $id, measures: [{ description: \"入户解释\", owner: \"征收办\", dueOn: \"2027-01-01\" }], input: { findings: \"措施\" }) { assessment { measures { nodes { id } } } } }",
                json!({ "id": project }),
            )
            .await["assessment"]["measures"]["nodes"][0]["id"]
                .clone();
            c("mutation($id: ID!) { completeMitigationMeasure(id: $id) { id } }", json!({ "id": measure }))
        }
        "recordProjectStart" => c(
            "mutation($id: ID!) { recordProjectStart(projectId: $id, startedOn: \"2026-11-01\") { id } }",
            json!({ "id": project_after(server, world, 0).await }),
        ),
        "vetoResponsibleUnit" => {
            let (unit, _) = unit(server, world).await;
            c(
                "mutation($u: ID!, $r: String!, $p: ID) { vetoResponsibleUnit(unitId: $u, year: 2025, reason: $r, projectId: $p) { id } }",
                json!({ "u": unit, "r": "未评先建", "p": null }),
            )
        }
        "vetoResponsibleUnit/project" => {
            let (unit, code) = unit(server, world).await;
            let project = ok(
                server,
                "mutation($input: RegisterMajorProjectInput!) { registerMajorProject(input: $input) { id } }",
                json!({ "input": { "name": "测试工程", "kind": "PLANT", "regionCode": world.region, "unitCode": code,
                        "investment": "100.00", "plannedStart": "2027-01-01", "affectedHouseholds": 3 } }),
            )
            .await["id"]
                .clone();
            c(
                "mutation($u: ID!, $p: ID) { vetoResponsibleUnit(unitId: $u, year: 2025, reason: \"未评先建\", projectId: $p) { id } }",
                json!({ "u": unit, "p": project }),
            )
        }
        "linkDisputeToProject" => c(
            "mutation($d: ID!, $p: ID!) { linkDisputeToProject(disputeId: $d, projectId: $p, instabilityIncident: true) { id } }",
            json!({ "d": dispute_after(server, world, &[]).await, "p": project_after(server, world, 0).await }),
        ),
        other => panic!("no case for {other}"),
    }
}

/// The text inputs of each case: JSON pointer into its variables, the field its error must name, the limit.
/// A text input: JSON pointer into the case's variables, the field name its error carries, its limit.
type TextInput = (&'static str, &'static str, Limit);

const FIELDS: &[(&str, &[TextInput])] = &[
    (
        "addGridTeamMember",
        &[
            ("/input/gridCode", "input.gridCode", Limit::Code),
            ("/input/name", "input.name", Limit::Chars(64)),
            ("/input/phone", "input.phone", Limit::Digits(20)),
            ("/input/duty", "input.duty", Limit::Chars(128)),
        ],
    ),
    (
        "updateGridTeamMember",
        &[
            ("/id", "id", T),
            ("/input/name", "input.name", Limit::Chars(64)),
            ("/input/phone", "input.phone", Limit::Digits(20)),
            ("/input/duty", "input.duty", Limit::Chars(128)),
        ],
    ),
    ("removeGridTeamMember", &[("/id", "id", T)]),
    (
        "registerVolunteer",
        &[
            ("/input/name", "input.name", Limit::Chars(64)),
            ("/input/idNumber", "input.idNumber", T),
            ("/input/phone", "input.phone", T),
            ("/input/gridCode", "input.gridCode", Limit::Code),
        ],
    ),
    (
        "updateVolunteer",
        &[
            ("/id", "id", T),
            ("/input/name", "input.name", Limit::Chars(64)),
            ("/input/phone", "input.phone", T),
            ("/input/gridCode", "input.gridCode", Limit::Code),
        ],
    ),
    ("setVolunteerStatus", &[("/id", "id", T), ("/reason", "reason", Limit::Chars(200))]),
    ("addVolunteerToTeam", &[("/v", "volunteerId", T), ("/team", "teamCode", Limit::Code)]),
    ("removeVolunteerFromTeam", &[("/v", "volunteerId", T), ("/team", "teamCode", Limit::Code)]),
    ("grantBadge", &[("/v", "volunteerId", T)]),
    (
        "logService",
        &[
            ("/input/volunteerId", "input.volunteerId", T),
            ("/input/gridCode", "input.gridCode", Limit::Code),
            ("/input/note", "input.note", Limit::Chars(500)),
        ],
    ),
    (
        "logServiceBatch",
        &[
            ("/records/1/volunteerId", "records[1].volunteerId", T),
            ("/records/1/gridCode", "records[1].gridCode", Limit::Code),
            ("/records/1/note", "records[1].note", Limit::Chars(500)),
        ],
    ),
    (
        "registerCareSubject",
        &[
            ("/input/name", "input.name", Limit::Chars(64)),
            ("/input/idNumber", "input.idNumber", T),
            ("/input/phone", "input.phone", T),
            ("/input/address", "input.address", Limit::Chars(255)),
            ("/input/gridCode", "input.gridCode", Limit::Code),
            ("/input/mentalHealth/healthRecordNo", "input.mentalHealth.healthRecordNo", Limit::Chars(32)),
            ("/input/mentalHealth/diagnosis", "input.mentalHealth.diagnosis", Limit::Chars(500)),
            ("/input/mentalHealth/foundBy", "input.mentalHealth.foundBy", Limit::Chars(64)),
            ("/input/mentalHealth/guardianName", "input.mentalHealth.guardianName", Limit::Chars(64)),
            ("/input/mentalHealth/guardianPhone", "input.mentalHealth.guardianPhone", T),
            ("/input/mentalHealth/guardianRelation", "input.mentalHealth.guardianRelation", Limit::Chars(32)),
            (
                "/input/mentalHealth/insurancePolicyNo",
                "input.mentalHealth.insurancePolicyNo",
                Limit::Chars(64),
            ),
        ],
    ),
    (
        "registerCareSubject/correction",
        &[("/input/correction/offence", "input.correction.offence", Limit::Chars(200))],
    ),
    (
        "registerCareSubject/youth",
        &[
            ("/input/youth/guardianName", "input.youth.guardianName", Limit::Chars(64)),
            ("/input/youth/guardianPhone", "input.youth.guardianPhone", T),
        ],
    ),
    ("recordRiskAssessment", &[("/s", "subjectId", T), ("/notes", "notes", Limit::Chars(1000))]),
    ("recordVisit", &[("/s", "subjectId", T), ("/notes", "notes", Limit::Chars(1000))]),
    (
        "addCareGroupMember",
        &[("/s", "subjectId", T), ("/name", "name", Limit::Chars(64)), ("/phone", "phone", T)],
    ),
    ("closeCorrectionSupervision", &[("/s", "subjectId", T)]),
    (
        "registerMentor",
        &[
            ("/input/name", "input.name", Limit::Chars(64)),
            ("/input/phone", "input.phone", T),
            ("/input/occupation", "input.occupation", Limit::Chars(64)),
            ("/input/regionCode", "input.regionCode", Limit::Code),
        ],
    ),
    ("pairMentor", &[("/m", "mentorId", T), ("/y", "menteeId", T), ("/goal", "goal", Limit::Chars(500))]),
    (
        "recordMentoringSession",
        &[
            ("/m", "mentorshipId", T),
            ("/topic", "topic", Limit::Chars(128)),
            ("/notes", "notes", Limit::Chars(2000)),
        ],
    ),
    ("recordMentoringOutcome", &[("/m", "mentorshipId", T), ("/d", "description", Limit::Chars(2000))]),
    ("closeMentorship", &[("/m", "mentorshipId", T)]),
    (
        "submitLegalAidApplication",
        &[
            ("/input/fund", "input.fund", Limit::Code),
            ("/input/regionCode", "input.regionCode", Limit::Code),
            ("/input/applicantName", "input.applicantName", Limit::Chars(64)),
            ("/input/applicantIdNumber", "input.applicantIdNumber", T),
            ("/input/applicantPhone", "input.applicantPhone", T),
            ("/input/caseSummary", "input.caseSummary", Limit::Chars(2000)),
        ],
    ),
    ("approveLegalAidApplication", &[("/id", "id", T), ("/reason", "reason", Limit::Chars(500))]),
    ("rejectLegalAidApplication", &[("/id", "id", T), ("/reason", "reason", Limit::Chars(500))]),
    ("disburseLegalAidApplication", &[("/id", "id", T), ("/key", "idempotencyKey", Limit::Ascii(128))]),
    (
        "recordRepayment",
        &[
            ("/id", "applicationId", T),
            ("/key", "idempotencyKey", Limit::Ascii(128)),
            ("/memo", "memo", Limit::Chars(200)),
        ],
    ),
    (
        "writeOffLoan",
        &[
            ("/id", "applicationId", T),
            ("/reason", "reason", Limit::Chars(500)),
            ("/key", "idempotencyKey", Limit::Ascii(128)),
        ],
    ),
    (
        "recordDonation",
        &[
            ("/fund", "fund", Limit::Code),
            ("/memo", "memo", Limit::Chars(200)),
            ("/key", "idempotencyKey", Limit::Ascii(128)),
        ],
    ),
    (
        "reverseLedgerEntry",
        &[
            ("/id", "entryId", T),
            ("/reason", "reason", Limit::Chars(500)),
            ("/key", "idempotencyKey", Limit::Ascii(128)),
        ],
    ),
    (
        "reportDispute",
        &[
            ("/input/gridCode", "input.gridCode", Limit::Code),
            ("/input/summary", "input.summary", Limit::Chars(2000)),
            ("/input/seaArea", "input.seaArea", Limit::Chars(64)),
            ("/input/parties/1/name", "input.parties[1].name", Limit::Chars(128)),
            ("/input/parties/1/idNumber", "input.parties[1].idNumber", T),
            ("/input/parties/1/phone", "input.parties[1].phone", T),
            ("/input/vesselRegistrationNos/1", "input.vesselRegistrationNos[1]", Limit::Code),
            ("/input/idempotencyKey", "input.idempotencyKey", Limit::Ascii(128)),
        ],
    ),
    ("acceptDispute", &[("/id", "id", T), ("/note", "note", Limit::Chars(2000))]),
    (
        "assignDispute",
        &[("/id", "id", T), ("/m", "mediatorCode", Limit::Code), ("/note", "note", Limit::Chars(2000))],
    ),
    ("assignDispute/boat", &[("/b", "boatCode", Limit::Code)]),
    ("recordMediationSession", &[("/id", "id", T), ("/note", "note", Limit::Chars(2000))]),
    (
        "resolveDispute",
        &[("/id", "id", T), ("/a", "agreement", Limit::Chars(2000)), ("/note", "note", Limit::Chars(2000))],
    ),
    ("markDisputeUnresolved", &[("/id", "id", T), ("/note", "note", Limit::Chars(2000))]),
    ("escalateDispute", &[("/id", "id", T), ("/note", "note", Limit::Chars(2000))]),
    ("closeDispute", &[("/id", "id", T), ("/note", "note", Limit::Chars(2000))]),
    ("recordDisputeFollowUp", &[("/id", "id", T), ("/note", "note", Limit::Chars(2000))]),
    (
        "registerFishingVessel",
        &[
            ("/input/registrationNo", "input.registrationNo", Limit::Code),
            ("/input/name", "input.name", Limit::Chars(64)),
            ("/input/homePortCode", "input.homePortCode", Limit::Code),
            ("/input/ownerName", "input.ownerName", Limit::Chars(64)),
            ("/input/ownerIdNumber", "input.ownerIdNumber", T),
            ("/input/ownerPhone", "input.ownerPhone", T),
        ],
    ),
    (
        "updateFishingVessel",
        &[
            ("/id", "id", T),
            ("/input/ownerName", "input.ownerName", Limit::Chars(64)),
            ("/input/ownerPhone", "input.ownerPhone", T),
            ("/input/gridWorkerId", "input.gridWorkerId", T),
        ],
    ),
    (
        "registerMediator",
        &[
            ("/input/name", "input.name", Limit::Chars(64)),
            ("/input/phone", "input.phone", T),
            ("/input/regionCode", "input.regionCode", Limit::Code),
            ("/input/subject", "input.subject", Limit::Chars(64)),
            ("/input/boatCode", "input.boatCode", Limit::Code),
        ],
    ),
    (
        "registerResponsibleUnit",
        &[
            ("/input/name", "input.name", Limit::Chars(128)),
            ("/input/regionCode", "input.regionCode", Limit::Code),
            ("/input/officerSubject", "input.officerSubject", Limit::Chars(64)),
        ],
    ),
    (
        "registerMajorProject",
        &[
            ("/input/name", "input.name", Limit::Chars(128)),
            ("/input/regionCode", "input.regionCode", Limit::Code),
            ("/input/unitCode", "input.unitCode", Limit::Code),
        ],
    ),
    ("submitStabilityAssessment", STEP_FIELDS),
    ("recordStabilityInvestigation", STEP_FIELDS),
    ("recordStabilityJointReview", STEP_FIELDS),
    ("rateStabilityRisk", STEP_FIELDS),
    ("giveStabilityFeedback", STEP_FIELDS),
    (
        "setMitigationMeasures",
        &[
            ("/id", "projectId", T),
            ("/input/findings", "input.findings", Limit::Chars(2000)),
            ("/input/attachments/1", "input.attachments[1]", Limit::Chars(256)),
            ("/m/1/description", "measures[1].description", Limit::Chars(500)),
            ("/m/1/owner", "measures[1].owner", Limit::Chars(64)),
        ],
    ),
    ("completeMitigationMeasure", &[("/id", "id", T)]),
    ("recordProjectStart", &[("/id", "projectId", T)]),
    ("vetoResponsibleUnit", &[("/u", "unitId", T), ("/r", "reason", Limit::Chars(500))]),
    ("vetoResponsibleUnit/project", &[("/p", "projectId", T)]),
    ("linkDisputeToProject", &[("/d", "disputeId", T), ("/p", "projectId", T)]),
];

/// The text inputs of every step of the assessment.
const STEP_FIELDS: &[TextInput] = &[
    ("/id", "projectId", T),
    ("/input/findings", "input.findings", Limit::Chars(2000)),
    ("/input/attachments/1", "input.attachments[1]", Limit::Chars(256)),
];

/// Every case, by the mutation it exercises (some mutations have several, one per variant of their input).
const CASES: &[&str] = &[
    "addGridTeamMember",
    "updateGridTeamMember",
    "removeGridTeamMember",
    "registerVolunteer",
    "updateVolunteer",
    "setVolunteerStatus",
    "addVolunteerToTeam",
    "removeVolunteerFromTeam",
    "grantBadge",
    "logService",
    "logServiceBatch",
    "registerCareSubject",
    "registerCareSubject/correction",
    "registerCareSubject/youth",
    "recordRiskAssessment",
    "recordVisit",
    "addCareGroupMember",
    "closeCorrectionSupervision",
    "registerMentor",
    "pairMentor",
    "recordMentoringSession",
    "recordMentoringOutcome",
    "closeMentorship",
    "submitLegalAidApplication",
    "approveLegalAidApplication",
    "rejectLegalAidApplication",
    "disburseLegalAidApplication",
    "recordRepayment",
    "writeOffLoan",
    "recordDonation",
    "reverseLedgerEntry",
    "reportDispute",
    "acceptDispute",
    "assignDispute",
    "assignDispute/boat",
    "recordMediationSession",
    "resolveDispute",
    "markDisputeUnresolved",
    "escalateDispute",
    "closeDispute",
    "recordDisputeFollowUp",
    "registerFishingVessel",
    "updateFishingVessel",
    "registerMediator",
    "registerResponsibleUnit",
    "registerMajorProject",
    "submitStabilityAssessment",
    "recordStabilityInvestigation",
    "recordStabilityJointReview",
    "rateStabilityRisk",
    "giveStabilityFeedback",
    "setMitigationMeasures",
    "completeMitigationMeasure",
    "recordProjectStart",
    "vetoResponsibleUnit",
    "vetoResponsibleUnit/project",
    "linkDisputeToProject",
];

/// The longest allowed value of a field (`extra` = 0) or one with `extra` more characters; free text ends in a
/// number unique to the call, so that no value repeats an earlier one (a care-group member's name, a key).
fn sized(value: &Value, limit: Limit, extra: usize) -> Value {
    let (unit, max) = match limit {
        Limit::Chars(max) => ("张", max),
        Limit::Ascii(max) => ("k", max),
        Limit::Digits(max) => ("1", max),
        Limit::Form | Limit::Code if extra == 0 => return value.clone(),
        Limit::Code => {
            return json!(format!("{:X<width$}", value.as_str().unwrap_or_default(), width = 32 + extra));
        }
        Limit::Form => return json!(format!("{}{}", value.as_str().unwrap_or_default(), "9".repeat(extra))),
    };
    let tail = match limit {
        Limit::Digits(_) => format!("{:07}", sequence()),
        _ => sequence().to_string(),
    };
    json!(format!("{}{tail}", unit.repeat(max + extra - tail.chars().count())))
}

fn fields_of(name: &str) -> &'static [TextInput] {
    FIELDS
        .iter()
        .find(|(case, _)| *case == name)
        .map(|(_, fields)| *fields)
        .unwrap_or_else(|| panic!("no fields for {name}"))
}

#[tokio::test]
async fn every_text_input_takes_its_longest_value_and_refuses_one_more_character() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let world = world(&server).await;
    let mut checked = 0;
    for name in CASES {
        for (pointer, field, limit) in fields_of(name) {
            // The longest allowed value succeeds. Each run gets a fresh baseline: many consume theirs (an
            // application is approved once).
            let base = case(&server, &world, name).await;
            assert_eq!(base.mutation, *name);
            let mut variables = base.variables.clone();
            let original =
                variables.pointer(pointer).unwrap_or_else(|| panic!("{name}: no {pointer}")).clone();
            *variables.pointer_mut(pointer).expect("pointer") = sized(&original, *limit, 0);
            let response = run(&server, &base.query, variables).await;
            assert!(
                response.get("errors").is_none(),
                "{name}: the longest {field} ({limit:?}) was refused: {response:#}"
            );

            // One more character is refused before the database, naming the field.
            let base = case(&server, &world, name).await;
            let mut variables = base.variables.clone();
            *variables.pointer_mut(pointer).expect("pointer") = sized(&original, *limit, 1);
            let response = run(&server, &base.query, variables).await;
            assert_eq!(
                error_codes(&response),
                ["BAD_USER_INPUT"],
                "{name}: {field} one too long: {response:#}"
            );
            assert_eq!(
                response["errors"][0]["extensions"]["field"], *field,
                "{name}: the error names the field: {response:#}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 60, "only {checked} inputs checked");
}

/// Every `String` or `ID` input of every mutation, as `mutation:field.path`, read from the schema.
fn text_inputs_in_schema() -> BTreeSet<String> {
    use async_graphql::parser::types::{BaseType, TypeKind, TypeSystemDefinition};
    use std::collections::HashMap;

    fn base_name(base: &BaseType) -> String {
        match base {
            BaseType::Named(name) => name.to_string(),
            BaseType::List(inner) => base_name(&inner.base),
        }
    }
    fn walk(
        inputs: &HashMap<String, Vec<(String, String)>>,
        prefix: &str,
        ty: &str,
        out: &mut BTreeSet<String>,
    ) {
        if ty == "String" || ty == "ID" {
            out.insert(prefix.to_owned());
        } else if let Some(fields) = inputs.get(ty) {
            for (name, field_ty) in fields {
                walk(inputs, &format!("{prefix}.{name}"), field_ty, out);
            }
        }
    }

    let sdl = govgraph::schema::sdl();
    let document = async_graphql::parser::parse_schema(&sdl).expect("the schema parses");
    let mut inputs = HashMap::new();
    let mut mutation_fields = Vec::new();
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else { continue };
        match &ty.node.kind {
            TypeKind::InputObject(object) => {
                let fields = object
                    .fields
                    .iter()
                    .map(|field| (field.node.name.node.to_string(), base_name(&field.node.ty.node.base)))
                    .collect::<Vec<_>>();
                inputs.insert(ty.node.name.node.to_string(), fields);
            }
            TypeKind::Object(object) if ty.node.name.node == "Mutation" => {
                for field in &object.fields {
                    for argument in &field.node.arguments {
                        mutation_fields.push((
                            format!("{}:{}", field.node.name.node, argument.node.name.node),
                            base_name(&argument.node.ty.node.base),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    for (prefix, ty) in mutation_fields {
        walk(&inputs, &prefix, &ty, &mut out);
    }
    out
}

#[test]
fn no_text_input_of_a_mutation_goes_unchecked() {
    let covered: BTreeSet<String> = CASES
        .iter()
        .flat_map(|name| {
            let mutation = name.split('/').next().unwrap_or(name);
            // `records[1].note` stands for every record's `note`.
            fields_of(name)
                .iter()
                .map(move |(_, field, _)| format!("{mutation}:{}", field.replace("[1]", "")))
        })
        .collect();
    let missing: Vec<String> = text_inputs_in_schema().difference(&covered).cloned().collect();
    assert!(missing.is_empty(), "text inputs without a length case in tests/input_lengths.rs: {missing:?}");
    assert!(covered.len() >= 60);
}

/// A registration's code derives from its row id in the same insert, never from a placeholder built from the
/// request id: a caller's (or a proxy's) `X-Request-Id` of any accepted length, and concurrent submissions,
/// all get their codes (a placeholder `pending-<request id>-<micros>` overflowed `varchar(32)` on PostgreSQL).
#[tokio::test]
async fn codes_come_from_row_ids_whatever_the_request_id() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let world = world(&server).await;
    let request_id = format!("{}-{}", uuid_like(1), "a".repeat(64 - 37));
    assert_eq!(request_id.len(), 64);
    let headers = [PURPOSE, ("x-request-id", request_id.as_str())];
    let registrations = [
        (
            "mutation($input: RegisterVolunteerInput!) { registerVolunteer(input: $input) { code } }",
            json!({ "input": { "name": "林海", "gender": "MALE", "idNumber": id_number(), "phone": "13905800021",
                    "gridCode": world.grid } }),
            "V",
            7,
        ),
        (
            "mutation($input: RegisterCareSubjectInput!) { registerCareSubject(input: $input) { code } }",
            json!({ "input": youth_input(&world.grid) }),
            "CS",
            7,
        ),
        (
            "mutation($input: RegisterMentorInput!) { registerMentor(input: $input) { code } }",
            json!({ "input": { "name": "许老师", "phone": "13905800022", "occupation": "律师", "regionCode": world.region } }),
            "M",
            5,
        ),
        (
            "mutation($input: SubmitLegalAidApplicationInput!) { submitLegalAidApplication(input: $input) { code } }",
            json!({ "input": submit_input(&world) }),
            "LA",
            10,
        ),
    ];
    for (query, variables, prefix, digits) in registrations {
        let response = server.gql_with_headers(Some(&admin()), &headers, query, variables).await;
        assert_no_errors(&response);
        let code = response["data"].as_object().and_then(|data| data.values().next()).expect("a row")["code"]
            .as_str()
            .expect("a code")
            .to_owned();
        let number = code.strip_prefix(prefix).unwrap_or_else(|| panic!("{code} starts with {prefix}"));
        assert!(number.len() == digits && number.chars().all(|c| c.is_ascii_digit()), "{code}");
    }

    // Eight clients at once, each with its own request id: every submission gets its own code.
    let submissions = (0..8).map(|n| {
        let server = &server;
        let world = &world;
        async move {
            let request_id = uuid_like(n);
            let headers = [PURPOSE, ("x-request-id", request_id.as_str())];
            server
                .gql_with_headers(
                    Some(&admin()),
                    &headers,
                    "mutation($input: SubmitLegalAidApplicationInput!) { submitLegalAidApplication(input: $input) { code } }",
                    json!({ "input": submit_input(world) }),
                )
                .await
        }
    });
    let mut codes = BTreeSet::new();
    for response in futures_util::future::join_all(submissions).await {
        assert_no_errors(&response);
        codes
            .insert(response["data"]["submitLegalAidApplication"]["code"].as_str().expect("code").to_owned());
    }
    assert_eq!(codes.len(), 8, "{codes:?}");
}

/// A UUID-shaped request id (36 characters), as clients and proxies send them.
fn uuid_like(n: u32) -> String {
    format!("{n:08x}-1234-4abc-8def-{:012x}", u64::from(n) * 7919)
}

/// What a token or a header brings into the audit trail fits it: a purpose of up to 200 characters is recorded
/// whole, a longer one is refused (never cut short); a subject longer than 64 characters refuses the token.
#[tokio::test]
async fn purposes_and_subjects_fit_the_audit_trail() {
    let server = TestServer::start(Fixture::Demo(0.01)).await;
    let query = "{ volunteers(first: 1) { nodes { name phone } } }";
    let purpose = "核".repeat(200);
    let response =
        server.gql_with_headers(Some(&admin()), &[("x-access-purpose", &purpose)], query, json!({})).await;
    assert_no_errors(&response);
    let stored = server
        .db
        .connect()
        .await
        .query_one_raw(sea_orm::Statement::from_string(
            server.db.connect().await.get_database_backend(),
            "SELECT purpose FROM audit_event WHERE action = 'READ' ORDER BY id DESC LIMIT 1",
        ))
        .await
        .expect("query")
        .expect("an event")
        .try_get::<String>("", "purpose")
        .expect("purpose");
    assert_eq!(stored, purpose);

    let too_long = "核".repeat(201);
    let response =
        server.gql_with_headers(Some(&admin()), &[("x-access-purpose", &too_long)], query, json!({})).await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{response:#}");

    let long_subject = token_for(&"s".repeat(65), &["admin"], CITY);
    let response = server.gql(Some(&long_subject), query, json!({})).await;
    assert_eq!(error_codes(&response), ["UNAUTHENTICATED"], "{response:#}");
    let longest_subject = token_for(&"审".repeat(64), &["admin"], CITY);
    let response = server.gql_with_headers(Some(&longest_subject), &[PURPOSE], query, json!({})).await;
    assert_no_errors(&response);
}
