//! Region codes resolved to their row id and materialized path, remembered by the server.
//!
//! Nearly every request names regions by code: the token's `region` claim, `inRegion` filters, `region(code:)`.
//! Resolving them is one statement each time, often the same one several times per request, and for a simple
//! lookup it is half of the database work. The region tree is not changed through the API, so a resolved code
//! is kept for [`TTL`]: a change made directly in the database (a new path for a code) reaches a running
//! server within that time. Only codes that exist are kept; an unknown code is looked up again every time, so
//! a region added to the database is usable at once.
//!
//! The directory only turns codes into paths. Which rows a caller may see is still decided in SQL from the
//! path, in every statement.

use std::collections::{BTreeSet, HashMap};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use entities::region;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, QueryFilter};

/// How long a resolved code is trusted.
pub const TTL: Duration = Duration::from_secs(30);

/// Most codes kept; past it the directory starts over (the city has about 2,600 regions).
const CAPACITY: usize = 16_384;

/// A region as scopes and filters need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionRef {
    pub id: i64,
    pub code: String,
    pub path: String,
}

/// Resolved codes of one server, shared by its requests.
#[derive(Debug)]
pub struct RegionDirectory {
    entries: RwLock<HashMap<String, (RegionRef, Instant)>>,
    ttl: Duration,
}

impl Default for RegionDirectory {
    fn default() -> Self {
        Self::with_ttl(TTL)
    }
}

impl RegionDirectory {
    pub fn with_ttl(ttl: Duration) -> Self {
        Self { entries: RwLock::default(), ttl }
    }

    /// The region with `code`, if it exists.
    pub async fn find(&self, db: &DatabaseConnection, code: &str) -> Result<Option<RegionRef>, DbErr> {
        let mut found = self.resolve(db, std::iter::once(code.to_owned()).collect()).await?;
        Ok(found.remove(code))
    }

    /// The regions with these codes; codes of no region are absent from the map.
    pub async fn resolve(
        &self,
        db: &DatabaseConnection,
        codes: BTreeSet<String>,
    ) -> Result<HashMap<String, RegionRef>, DbErr> {
        let now = Instant::now();
        let mut resolved = HashMap::with_capacity(codes.len());
        let mut missing = Vec::new();
        {
            let entries = self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            for code in codes {
                match entries.get(&code) {
                    Some((region, at)) if now.duration_since(*at) < self.ttl => {
                        resolved.insert(code, region.clone());
                    }
                    _ => missing.push(code),
                }
            }
        }
        if missing.is_empty() {
            return Ok(resolved);
        }
        let rows = crate::scope::unscoped::<region::Entity>(crate::scope::Unscoped::RegionDirectory)
            .filter(region::Column::Code.is_in(missing))
            .all(db)
            .await?;
        let mut entries = self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() + rows.len() > CAPACITY {
            entries.clear();
        }
        for row in rows {
            let region = RegionRef { id: row.id, code: row.code, path: row.path };
            entries.insert(region.code.clone(), (region.clone(), now));
            resolved.insert(region.code.clone(), region);
        }
        Ok(resolved)
    }
}
