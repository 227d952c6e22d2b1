//! Builders for the rows tests need, made through the API as a city administrator (so they pass the same
//! validation, scope and audit as any client's), each with sensible defaults and a unique identity:
//! `VolunteerBuilder::new(grid).named("林海").build(&server).await` returns the new volunteer's global ID.

use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Value, json};

use crate::{TestServer, admin, assert_no_errors, id_number};

static SEQUENCE: AtomicU32 = AtomicU32::new(1);

/// A number distinct per call in this test binary.
pub fn unique() -> u32 {
    SEQUENCE.fetch_add(1, Ordering::Relaxed)
}

/// Runs a mutation as a city administrator and returns the `id` of the row it answers with.
async fn create(server: &TestServer, mutation: &str, input: Value) -> String {
    let response = server
        .gql_with_headers(
            Some(&admin()),
            &[("x-access-purpose", "test set-up")],
            mutation,
            json!({ "input": input }),
        )
        .await;
    assert_no_errors(&response);
    let created =
        response["data"].as_object().and_then(|data| data.values().next()).cloned().unwrap_or_default();
    created["id"].as_str().unwrap_or_default().to_owned()
}

/// A volunteer of a grid.
pub struct VolunteerBuilder {
    grid: String,
    name: String,
    phone: String,
}

impl VolunteerBuilder {
    /// A volunteer of the grid with code `grid`.
    pub fn new(grid: &str) -> Self {
        Self { grid: grid.to_owned(), name: "林海".into(), phone: "13905800001".into() }
    }

    /// With this name.
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_owned();
        self
    }

    /// Registers the volunteer; returns their global ID.
    pub async fn build(self, server: &TestServer) -> String {
        let input = json!({ "name": self.name, "gender": "MALE", "idNumber": id_number("19900101", unique()),
                            "phone": self.phone, "gridCode": self.grid });
        create(
            server,
            "mutation($input: RegisterVolunteerInput!) { registerVolunteer(input: $input) { id } }",
            input,
        )
        .await
    }
}

/// What kind of care subject to register.
#[derive(Debug, Clone, Copy)]
pub enum CareKind {
    SevereMentalDisorder,
    CommunityCorrection,
    AtRiskYouth,
}

/// A care subject of a grid, with the profile of their programme.
pub struct CareSubjectBuilder {
    grid: String,
    kind: CareKind,
    name: String,
}

impl CareSubjectBuilder {
    /// A care subject of the grid with code `grid` in programme `kind`.
    pub fn new(grid: &str, kind: CareKind) -> Self {
        Self { grid: grid.to_owned(), kind, name: "王小军".into() }
    }

    /// With this name.
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_owned();
        self
    }

    /// Registers the subject; returns their global ID.
    pub async fn build(self, server: &TestServer) -> String {
        let n = unique();
        let mut input = json!({ "name": self.name, "gender": "MALE", "address": "舟山市定海区解放西路5号",
                                "gridCode": self.grid });
        let (category, birth) = match self.kind {
            CareKind::SevereMentalDisorder => ("SEVERE_MENTAL_DISORDER", "19800101"),
            CareKind::CommunityCorrection => ("COMMUNITY_CORRECTION", "19850101"),
            CareKind::AtRiskYouth => ("AT_RISK_YOUTH", "20080501"),
        };
        input["category"] = json!(category);
        input["idNumber"] = json!(id_number(birth, n));
        input["birthDate"] = json!(format!("{}-{}-{}", &birth[..4], &birth[4..6], &birth[6..]));
        match self.kind {
            CareKind::SevereMentalDisorder => {
                input["mentalHealth"] = json!({
                    "healthRecordNo": format!("EHR-B-{n}"), "diagnosis": "精神分裂症", "foundBy": "常规筛查",
                    "guardianName": "陈建华", "guardianPhone": "13905802222", "guardianRelation": "父亲",
                    "guardianInsured": false });
            }
            CareKind::CommunityCorrection => {
                input["correction"] = json!({ "correctionType": "PROBATION", "offence": "危险驾驶罪",
                    "receivedOn": "2026-06-01", "supervisionStart": "2026-06-01", "supervisionEnd": "2027-06-01" });
            }
            CareKind::AtRiskYouth => {
                input["youth"] = json!({ "youthKind": "IDLE", "schoolStatus": "DROPPED_OUT",
                    "guardianName": "王大海", "guardianPhone": "13905803333" });
            }
        }
        create(
            server,
            "mutation($input: RegisterCareSubjectInput!) { registerCareSubject(input: $input) { id } }",
            input,
        )
        .await
    }
}

/// A life mentor of a region.
pub struct MentorBuilder {
    region: String,
}

impl MentorBuilder {
    /// A mentor attached to the region with code `region`.
    pub fn new(region: &str) -> Self {
        Self { region: region.to_owned() }
    }

    /// Registers the mentor; returns their global ID.
    pub async fn build(self, server: &TestServer) -> String {
        let input = json!({ "name": "周老师", "phone": "13905800002", "occupation": "教师", "regionCode": self.region });
        create(
            server,
            "mutation($input: RegisterMentorInput!) { registerMentor(input: $input) { id } }",
            input,
        )
        .await
    }
}

/// A member of a grid's service team.
pub struct GridTeamMemberBuilder {
    grid: String,
    role: String,
}

impl GridTeamMemberBuilder {
    /// A member of the team of the grid with code `grid`, in `role` (a `TeamRole` value such as `GRID_WORKER`).
    pub fn new(grid: &str, role: &str) -> Self {
        Self { grid: grid.to_owned(), role: role.to_owned() }
    }

    /// Adds the member; returns their global ID.
    pub async fn build(self, server: &TestServer) -> String {
        let input = json!({ "gridCode": self.grid, "role": self.role, "name": format!("队员{}", unique()),
                            "phone": "13905800003" });
        create(
            server,
            "mutation($input: AddGridTeamMemberInput!) { addGridTeamMember(input: $input) { id } }",
            input,
        )
        .await
    }
}
