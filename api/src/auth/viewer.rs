//! The caller of one request: decoded once in the HTTP handler, attached to the GraphQL request as data.
//!
//! "No token" and "bad token" are different states: the first may still read public data, the second is
//! refused with `UNAUTHENTICATED` as soon as it touches anything. The region scope is resolved from the
//! database at most once per request, and only when a resolver needs it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::OnceCell;

use super::jwt::{Claims, TokenError};
use super::policy::{self, Action, FieldClass, Resource, Role};
use crate::directory::RegionDirectory;
use crate::error::ApiError;

/// How the request identified itself.
#[derive(Debug, Clone)]
pub enum Identity {
    /// No `Authorization` header: public data only.
    Anonymous,
    /// A header was sent but the token was refused.
    Refused(TokenError),
    /// A verified token.
    Token { claims: Box<Claims>, roles: Vec<Role> },
}

/// The region subtree a token may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub region_id: i64,
    pub region_code: String,
    /// Materialized path of the scope's root region.
    pub path: String,
}

impl Scope {
    pub fn new(region_id: i64, region_code: String, path: String) -> Self {
        Self { region_id, region_code, path }
    }
}

/// Which records' protected fields a request returned in clear, for its audit event.
#[derive(Debug, Default)]
pub struct ReadLog {
    inner: std::sync::Mutex<ReadLogInner>,
}

#[derive(Debug, Default)]
struct ReadLogInner {
    records: BTreeMap<&'static str, BTreeSet<i64>>,
    most_protected: Option<FieldClass>,
    statistics: Vec<String>,
}

/// What a request read in clear, grouped by resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadRecords {
    /// Record ids by kind of record.
    pub records: BTreeMap<&'static str, BTreeSet<i64>>,
    /// `Sensitive` when any sensitive field was returned.
    pub most_protected: FieldClass,
    /// The statistics a partner was given, each as the arguments that asked for it.
    pub statistics: Vec<String>,
}

impl ReadLog {
    fn note(&self, entity: &'static str, id: i64, class: FieldClass) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.records.entry(entity).or_default().insert(id);
            inner.most_protected = inner.most_protected.max(Some(class));
        }
    }

    /// Notes a statistic given to a partner, described by what was asked.
    pub fn note_statistics(&self, asked: String) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.statistics.push(asked);
        }
    }

    /// Takes what was logged so far; `None` when nothing protected was returned and no partner statistic was
    /// given.
    pub fn take(&self) -> Option<ReadRecords> {
        let mut inner = self.inner.lock().ok()?;
        let taken = std::mem::take(&mut *inner);
        if taken.most_protected.is_none() && taken.statistics.is_empty() {
            return None;
        }
        Some(ReadRecords {
            records: taken.records,
            most_protected: taken.most_protected.unwrap_or(FieldClass::Public),
            statistics: taken.statistics,
        })
    }
}

/// What an authorized caller may see of one resource.
#[derive(Debug, Clone)]
pub struct Access {
    /// The resource this access was granted on.
    pub resource: Resource,
    /// The most protected field class shown in clear.
    pub fields: FieldClass,
    /// `None` only for public data read without a token: every row of the city.
    pub scope: Option<Arc<Scope>>,
    /// Whether the caller stated a purpose of access (needed for sensitive fields).
    pub has_purpose: bool,
    /// When the caller's grants reach only the records assigned to them: their token's subject, which the
    /// entity's relationship rule matches (see `crate::scope::Scoped::relationship`).
    pub assigned_to: Option<String>,
    /// The kind of record the ids given to `personal`/`sensitive` belong to, as written in the audit trail.
    audit_entity: &'static str,
    read_log: Arc<ReadLog>,
}

impl Access {
    /// An access to `resource` within `scope` showing public fields, for unit tests of what the scope renders.
    #[cfg(test)]
    pub fn for_tests(resource: Resource, scope: Option<Scope>) -> Self {
        Self {
            resource,
            fields: FieldClass::Public,
            scope: scope.map(Arc::new),
            has_purpose: false,
            assigned_to: None,
            audit_entity: resource.as_str(),
            read_log: Arc::default(),
        }
    }

    /// The same access, auditing the records it reveals as records of kind `entity` (for example a profile,
    /// keyed by its subject's id, is recorded as part of the `care_subject`).
    pub fn recorded_as(mut self, entity: &'static str) -> Self {
        self.audit_entity = entity;
        self
    }

    /// A personal field of record `id`: in clear for callers granted personal fields (and noted for the
    /// audit trail), otherwise in its masked form.
    pub fn personal(&self, id: i64, value: &str, mask: fn(&str) -> String) -> String {
        if self.fields >= FieldClass::Personal {
            self.read_log.note(self.audit_entity, id, FieldClass::Personal);
            value.to_owned()
        } else {
            mask(value)
        }
    }

    /// A sensitive field of record `id`: returned (and noted for the audit trail) only to callers granted
    /// sensitive fields who stated a purpose of access; otherwise a `FORBIDDEN` error and null.
    pub fn sensitive<T>(&self, id: i64, value: T) -> Result<T, ApiError> {
        if self.fields < FieldClass::Sensitive {
            return Err(ApiError::Forbidden(format!(
                "this field of {} is sensitive and your roles do not allow reading it",
                self.resource.as_str()
            )));
        }
        if !self.has_purpose {
            return Err(ApiError::Forbidden(
                "reading sensitive fields requires a stated purpose: send the `X-Access-Purpose` header"
                    .into(),
            ));
        }
        self.read_log.note(self.audit_entity, id, FieldClass::Sensitive);
        Ok(value)
    }
}

/// The caller of the current request.
#[derive(Debug)]
pub struct Viewer {
    pub identity: Identity,
    /// Purpose of access from the `X-Access-Purpose` header, else the token's `purpose` claim.
    pub purpose: Option<String>,
    /// Correlates log lines and audit events of one request.
    pub request_id: String,
    /// Protected fields returned in clear during this request.
    pub read_log: Arc<ReadLog>,
    scope: OnceCell<Result<Arc<Scope>, TokenError>>,
    /// Region codes already resolved: the server's directory, or this request's own.
    regions: Arc<RegionDirectory>,
}

impl Viewer {
    /// The caller of one request, resolving region codes through `regions` (the server's shared directory).
    pub fn new(
        identity: Identity,
        purpose_header: Option<String>,
        request_id: String,
        regions: Arc<RegionDirectory>,
    ) -> Self {
        let purpose = purpose_header.filter(|p| !p.trim().is_empty()).or_else(|| match &identity {
            Identity::Token { claims, .. } => claims.purpose.clone(),
            _ => None,
        });
        Self { identity, purpose, request_id, read_log: Arc::default(), scope: OnceCell::new(), regions }
    }

    /// Where this request resolves region codes.
    pub fn regions(&self) -> &RegionDirectory {
        &self.regions
    }

    /// The roles the caller holds: none for a refused token, the pseudo-role `anonymous` without a token.
    pub fn roles(&self) -> &[Role] {
        match &self.identity {
            Identity::Anonymous => &[Role::Anonymous],
            Identity::Refused(_) => &[],
            Identity::Token { roles, .. } => roles,
        }
    }

    /// The roles as they are written in the audit trail.
    pub fn role_names(&self) -> String {
        let names: Vec<&str> = self.roles().iter().map(|role| role.as_str()).collect();
        names.join(",")
    }

    /// Code of the token's region; empty without a token.
    pub fn region_code(&self) -> &str {
        match &self.identity {
            Identity::Token { claims, .. } => claims.region.as_deref().unwrap_or_default(),
            _ => "",
        }
    }

    /// The token's subject, `anonymous` without one.
    pub fn subject(&self) -> &str {
        match &self.identity {
            Identity::Token { claims, .. } => &claims.sub,
            _ => "anonymous",
        }
    }

    /// The caller's region scope, resolved from the `region` claim on first use.
    pub async fn scope(&self, db: &DatabaseConnection) -> Result<Arc<Scope>, ApiError> {
        let Identity::Token { claims, .. } = &self.identity else {
            return Err(self.unauthenticated());
        };
        let resolved = self
            .scope
            .get_or_try_init(|| async {
                let Some(code) = claims.region.as_deref() else {
                    return Ok::<_, ApiError>(Err(TokenError::BadClaims));
                };
                let found = self.regions.find(db, code).await?;
                Ok(match found {
                    Some(region) => Ok(Arc::new(Scope::new(region.id, region.code, region.path))),
                    None => Err(TokenError::BadClaims),
                })
            })
            .await?;
        resolved.as_ref().map(Arc::clone).map_err(|_| {
            ApiError::Unauthenticated("the token's `region` claim is missing or names no known region".into())
        })
    }

    /// The one authorization function: may the caller perform `action` on `resource`, and what do they see?
    pub async fn authorize(
        &self,
        db: &DatabaseConnection,
        resource: Resource,
        action: Action,
    ) -> Result<Access, ApiError> {
        if let Identity::Refused(reason) = &self.identity {
            return Err(ApiError::Unauthenticated(reason.to_string()));
        }
        let Some(fields) = policy::decide(self.roles(), resource, action) else {
            return Err(match self.identity {
                Identity::Anonymous => self.unauthenticated(),
                _ => ApiError::Forbidden(format!(
                    "your roles do not allow {} on {}",
                    action.as_str(),
                    resource.as_str()
                )),
            });
        };
        let scope = match self.identity {
            Identity::Anonymous => None,
            _ => Some(self.scope(db).await?),
        };
        let assigned_to =
            policy::assigned_only(self.roles(), resource, action).then(|| self.subject().to_owned());
        Ok(Access {
            resource,
            fields,
            scope,
            has_purpose: self.purpose.is_some(),
            assigned_to,
            audit_entity: resource.as_str(),
            read_log: self.read_log.clone(),
        })
    }

    fn unauthenticated(&self) -> ApiError {
        match &self.identity {
            Identity::Refused(reason) => ApiError::Unauthenticated(reason.to_string()),
            _ => ApiError::Unauthenticated("send `Authorization: Bearer <token>`".into()),
        }
    }
}
