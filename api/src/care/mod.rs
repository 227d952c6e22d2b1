//! Special-population care (特殊人群关爱): people with severe mental disorders, community-corrections persons
//! and at-risk youth, with their profiles, risk assessments, visits and care groups.
//!
//! The most sensitive data in the system. Every object checks the policy for its own resource (a caller who
//! may read a care subject is not thereby allowed to read their mental-health profile), every statement
//! carries the caller's region scope on `care_subject.region_id`, and sensitive fields need a stated purpose.
//!
//! - [`types`]: the care subject and the domain's enums;
//! - [`profiles`]: the category profiles and the care group;
//! - [`visits`]: visits and risk assessments, the subject's two nested connections;
//! - [`filter`]: `CareSubjectFilter`, compiled into one SQL condition;
//! - [`lists`]: the filters and orderings of the top-level visit and risk-assessment lists;
//! - [`region_subjects`]: `Region.careSubjects`, a page of subjects per region in one statement;
//! - [`loader`]: the request's batched, scoped loaders;
//! - [`mutation`]: registration, assessments, visits, care groups and release from supervision;
//! - [`query`]: the root fields.

pub mod filter;
pub mod lists;
pub mod loader;
pub mod mutation;
pub mod profiles;
pub mod query;
pub mod region_subjects;
pub mod types;
pub mod visits;
