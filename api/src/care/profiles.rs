//! The category profiles of a care subject (mental health, community corrections, at-risk youth) and the
//! members of their care group. Each is decided by the policy on its own resource; audit notes use the
//! subject's id, since a profile's key is its subject.

use async_graphql::{Enum, Object};
use entities::{care_group_member, correction_profile, mental_health_profile, youth_profile};

use super::types::mask_keep_last_four;
use crate::auth::mask;
use crate::auth::viewer::Access;
use crate::error::ApiResult;

/// The four kinds of community correction in Chinese law.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entities::correction_profile::CorrectionType")]
pub enum CorrectionType {
    /// 缓刑: probation.
    Probation,
    /// 假释: parole.
    Parole,
    /// 暂予监外执行: temporary service of the sentence outside prison.
    TemporaryServiceOutside,
    /// 管制: public surveillance.
    PublicSurveillance,
}

/// Where a person is in their supervision.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entities::correction_profile::SupervisionStatus")]
pub enum SupervisionStatus {
    /// Still supervised.
    UnderSupervision,
    /// Supervision ended and the person was released.
    Released,
}

/// Why a young person is served by the youth programme.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entities::youth_profile::YouthKind")]
pub enum YouthKind {
    /// 闲散青少年: out of school and out of work.
    Idle,
    /// 智障青少年: intellectually disabled.
    IntellectuallyDisabled,
    /// Behaviour that has come to the attention of school or police.
    BehaviouralRisk,
}

/// What a young person does during the day.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entities::youth_profile::SchoolStatus")]
pub enum SchoolStatus {
    /// At school.
    InSchool,
    /// Left school without finishing.
    DroppedOut,
    /// In work.
    Employed,
    /// Out of school and out of work.
    Unemployed,
}

/// A care-group member's part in the group.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entities::care_group_member::CareGroupRole")]
pub enum CareGroupRole {
    /// The grid worker of the person's grid.
    GridWorker,
    /// The family doctor.
    Doctor,
    /// The community police officer.
    PoliceOfficer,
    /// A family member, usually the guardian.
    Family,
    /// A volunteer.
    Volunteer,
    /// A village or community cadre.
    Cadre,
}

/// The severe-mental-disorder profile: electronic health record, diagnosis, guardian, guardian liability
/// insurance. Sensitive fields are null with `FORBIDDEN` unless your role may see them and you stated a
/// purpose.
pub struct MentalHealthProfile {
    pub row: mental_health_profile::Model,
    pub access: Access,
}

/// The severe-mental-disorder profile: electronic health record, diagnosis, guardian, guardian liability
/// insurance. Sensitive fields are null with `FORBIDDEN` unless your role may see them and you stated a
/// purpose.
#[Object]
impl MentalHealthProfile {
    /// Number of the electronic health record (personal: only its last four characters when masked).
    async fn health_record_no(&self) -> String {
        self.access.personal(self.row.subject_id, &self.row.health_record_no, mask_keep_last_four)
    }

    /// Diagnosis (sensitive).
    async fn diagnosis(&self) -> ApiResult<Option<String>> {
        Ok(Some(self.access.sensitive(self.row.subject_id, self.row.diagnosis.clone())?))
    }

    /// How the person was found, e.g. 常规筛查 (routine screening).
    async fn found_by(&self) -> &str {
        &self.row.found_by
    }

    /// Name of the guardian (sensitive).
    async fn guardian_name(&self) -> ApiResult<Option<String>> {
        Ok(Some(self.access.sensitive(self.row.subject_id, self.row.guardian_name.clone())?))
    }

    /// Phone of the guardian (sensitive).
    async fn guardian_phone(&self) -> ApiResult<Option<String>> {
        Ok(Some(self.access.sensitive(self.row.subject_id, self.row.guardian_phone.clone())?))
    }

    /// The guardian's relation to the person, e.g. 父亲 (sensitive).
    async fn guardian_relation(&self) -> ApiResult<Option<String>> {
        Ok(Some(self.access.sensitive(self.row.subject_id, self.row.guardian_relation.clone())?))
    }

    /// Whether the city's guardian liability insurance (监护人责任险) covers the guardian.
    async fn guardian_insured(&self) -> bool {
        self.row.guardian_insured
    }

    /// Number of the insurance policy, if insured (personal: only its last four characters when masked).
    async fn insurance_policy_no(&self) -> Option<String> {
        self.row
            .insurance_policy_no
            .as_deref()
            .map(|number| self.access.personal(self.row.subject_id, number, mask_keep_last_four))
    }

    /// Last day the insurance covers, if insured.
    async fn insurance_expires_on(&self) -> Option<crate::scalars::Date> {
        self.row.insurance_expires_on.map(crate::scalars::Date)
    }
}

/// The community-corrections profile (社区矫正): kind of correction, offence, supervision period.
pub struct CorrectionProfile {
    pub row: correction_profile::Model,
    pub access: Access,
}

/// The community-corrections profile (社区矫正): kind of correction, offence, supervision period.
#[Object]
impl CorrectionProfile {
    /// Kind of community correction.
    async fn correction_type(&self) -> CorrectionType {
        self.row.correction_type.into()
    }

    /// The offence, e.g. 危险驾驶罪 (sensitive).
    async fn offence(&self) -> ApiResult<Option<String>> {
        Ok(Some(self.access.sensitive(self.row.subject_id, self.row.offence.clone())?))
    }

    /// Day the person was received by the judicial office.
    async fn received_on(&self) -> crate::scalars::Date {
        crate::scalars::Date(self.row.received_on)
    }

    /// First day of supervision.
    async fn supervision_start(&self) -> crate::scalars::Date {
        crate::scalars::Date(self.row.supervision_start)
    }

    /// Last day of supervision.
    async fn supervision_end(&self) -> crate::scalars::Date {
        crate::scalars::Date(self.row.supervision_end)
    }

    /// Day of release; null while still supervised.
    async fn released_on(&self) -> Option<crate::scalars::Date> {
        self.row.released_on.map(crate::scalars::Date)
    }

    /// Whether supervision is ongoing.
    async fn status(&self) -> SupervisionStatus {
        self.row.status.into()
    }
}

/// The at-risk youth profile: why the young person is in the programme, schooling, guardian.
pub struct YouthProfile {
    pub row: youth_profile::Model,
    pub access: Access,
}

/// The at-risk youth profile: why the young person is in the programme, schooling, guardian.
#[Object]
impl YouthProfile {
    /// Why the young person is in the programme (sensitive).
    async fn youth_kind(&self) -> ApiResult<Option<YouthKind>> {
        Ok(Some(self.access.sensitive(self.row.subject_id, self.row.youth_kind.into())?))
    }

    /// What the young person does during the day.
    async fn school_status(&self) -> SchoolStatus {
        self.row.school_status.into()
    }

    /// Name of the guardian (sensitive).
    async fn guardian_name(&self) -> ApiResult<Option<String>> {
        Ok(Some(self.access.sensitive(self.row.subject_id, self.row.guardian_name.clone())?))
    }

    /// Phone of the guardian (sensitive).
    async fn guardian_phone(&self) -> ApiResult<Option<String>> {
        Ok(Some(self.access.sensitive(self.row.subject_id, self.row.guardian_phone.clone())?))
    }
}

/// A member of a person's care/help group (关爱帮扶小组).
pub struct CareGroupMember {
    pub row: care_group_member::Model,
    pub access: Access,
}

/// A member of a person's care/help group (关爱帮扶小组).
#[Object]
impl CareGroupMember {
    /// The member's part in the group.
    async fn role(&self) -> CareGroupRole {
        self.row.role.into()
    }

    /// Full name (personal: masked as 张* for roles without personal access).
    async fn name(&self) -> String {
        self.access.personal(self.row.subject_id, &self.row.name, mask::name)
    }

    /// Mobile phone (personal: masked as 138****5678 for roles without personal access).
    async fn phone(&self) -> String {
        self.access.personal(self.row.subject_id, &self.row.phone, mask::phone)
    }
}
