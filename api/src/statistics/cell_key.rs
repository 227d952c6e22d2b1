//! The cell key method (as in the Australian Bureau of Statistics' TableBuilder and the 2021 European censuses):
//! every record has a secret, fixed record key; a cell's key is the sum of its records' keys; the noise added to
//! a cell is a keyed hash of its cell key. The same records therefore always get the same noise, in whatever
//! query, grouping or order they are asked for, so asking again or differently averages nothing away.
//!
//! What partners see of a sensitive measure is [`Protection::publish`]: nothing for a cell of fewer than
//! `min_cell` persons (empty cells included, so that a suppressed cell does not say "someone is here"), and for
//! the others the value plus a noise of at most `max_noise` units, never below `min_cell`.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::error::ApiError;

/// The modulus of record and cell keys: the largest prime below 2³¹, so that a key squared fits in 63 bits and a
/// sum of millions of keys in 64.
pub const KEY_MODULUS: i64 = 2_147_483_629;

/// The deployment's secret, from which record keys and noise derive. Created once, on the first controlled
/// statistic, and kept in the database so that every server process and every restart perturbs alike.
#[derive(Clone)]
pub struct DisclosureKey {
    secret: [u8; 32],
    multiplier: i64,
    offset: i64,
}

impl std::fmt::Debug for DisclosureKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DisclosureKey(…)")
    }
}

impl DisclosureKey {
    pub fn from_secret(secret: [u8; 32]) -> Self {
        let derive = |label: &[u8]| {
            let digest = Sha256::new().chain_update(secret).chain_update(label).finalize();
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&digest[..8]);
            // Never 0: a zero multiplier would give every record the same key.
            1 + i64::try_from(u64::from_le_bytes(bytes) % (KEY_MODULUS as u64 - 1)).unwrap_or(0)
        };
        Self { secret, multiplier: derive(b"record multiplier"), offset: derive(b"record offset") }
    }

    /// SQL for the record key of the row whose id is `id`: a keyed, non-linear function of the id in
    /// `[0, KEY_MODULUS)`. The constants are integers of our own, written into the statement.
    pub fn record_key_sql(&self, id: &str) -> String {
        let (a, b, p) = (self.multiplier, self.offset, KEY_MODULUS);
        let affine = format!("((CAST({id} AS BIGINT) * {a} + {b}) % {p})");
        format!("(({affine} * {affine}) % {p})")
    }

    /// A noise in `[-max, max]` for the cell with key `cell_key`; `stream` tells apart the independent noises
    /// one cell needs (a share's numerator and denominator).
    pub fn noise(&self, cell_key: i64, stream: u8, max: i64) -> i64 {
        if max <= 0 {
            return 0;
        }
        let digest = Sha256::new()
            .chain_update(self.secret)
            .chain_update(b"cell noise")
            .chain_update(cell_key.rem_euclid(KEY_MODULUS).to_le_bytes())
            .chain_update([stream])
            .finalize();
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        let span = u64::try_from(2 * max + 1).unwrap_or(1);
        i64::try_from(u64::from_le_bytes(bytes) % span).unwrap_or(0) - max
    }
}

/// The disclosure key of one database, read or created on first use.
#[derive(Clone, Default)]
pub struct KeyCache(Arc<OnceCell<DisclosureKey>>);

impl KeyCache {
    pub async fn get(&self, db: &DatabaseConnection) -> Result<&DisclosureKey, ApiError> {
        self.0.get_or_try_init(|| load_or_create(db)).await
    }
}

async fn read_secret(db: &DatabaseConnection) -> Result<Option<[u8; 32]>, ApiError> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(backend, "SELECT secret FROM disclosure_key WHERE id = 1"))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let text: String = row.try_get("", "secret")?;
    let bytes = hex::decode(text.trim()).ok().and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
    bytes
        .map(Some)
        .ok_or_else(|| ApiError::Internal("the disclosure key in the database is malformed".into()))
}

async fn load_or_create(db: &DatabaseConnection) -> Result<DisclosureKey, ApiError> {
    if let Some(secret) = read_secret(db).await? {
        return Ok(DisclosureKey::from_secret(secret));
    }
    let mut secret = [0u8; 32];
    std::io::Read::read_exact(
        &mut std::fs::File::open("/dev/urandom")
            .map_err(|err| ApiError::Internal(format!("no randomness for the disclosure key: {err}")))?,
        &mut secret,
    )
    .map_err(|err| ApiError::Internal(format!("no randomness for the disclosure key: {err}")))?;
    let backend = db.get_database_backend();
    let sql = crate::statistics::measures::numbered(
        backend,
        "INSERT INTO disclosure_key (id, secret, created_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING",
    );
    let values = [hex::encode(secret).into(), chrono::Utc::now().into()];
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    // Another process may have won the race: the stored secret is the one.
    let stored = read_secret(db).await?;
    stored
        .map(DisclosureKey::from_secret)
        .ok_or_else(|| ApiError::Internal("the disclosure key could not be stored".into()))
}

/// What the method hides and how much noise it adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protection {
    /// Cells of fewer persons are not shown.
    pub min_cell: i64,
    /// The largest noise, in persons (counts) or in 1 % steps of the value (amounts, hours).
    pub max_noise: i64,
}

/// One cell before disclosure control: its value in the measure's base unit, the persons it counts, and its
/// cell key; for shares, the value is the numerator and `persons` the denominator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrueCell {
    pub value: i64,
    pub persons: i64,
    pub cell_key: i64,
}

/// What a partner is shown of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// Fewer than `min_cell` persons, none included: not shown.
    Suppressed,
    /// The perturbed value; for shares, the perturbed numerator and denominator.
    Value { value: i64, persons: i64 },
}

/// How a measure's value is perturbed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perturbation {
    /// A count of persons or records: plus a noise in `[-max_noise, max_noise]`, never below `min_cell`.
    Count,
    /// An amount or a duration: times `1 + noise/100`.
    Magnitude,
    /// A share: numerator and denominator each perturbed as counts (both must reach `min_cell`).
    Share,
}

impl Protection {
    /// The figure a partner sees of `cell`, the same every time the same records are asked for.
    pub fn publish(&self, key: &DisclosureKey, kind: Perturbation, cell: TrueCell) -> Published {
        let TrueCell { value, persons, cell_key } = cell;
        let noise = |stream| key.noise(cell_key, stream, self.max_noise);
        match kind {
            Perturbation::Count if persons < self.min_cell => Published::Suppressed,
            Perturbation::Count => {
                // A count of records (visits) is at least the persons it counts.
                Published::Value { value: (value + noise(0)).max(self.min_cell), persons }
            }
            Perturbation::Magnitude if persons < self.min_cell => Published::Suppressed,
            Perturbation::Magnitude => {
                let scaled = i128::from(value) * i128::from(100 + noise(0));
                let rounded = (scaled + 50).div_euclid(100);
                Published::Value { value: i64::try_from(rounded.max(0)).unwrap_or(i64::MAX), persons }
            }
            Perturbation::Share if persons < self.min_cell || value < self.min_cell => Published::Suppressed,
            Perturbation::Share => {
                let denominator = (persons + noise(1)).max(self.min_cell);
                let numerator = (value + noise(0)).clamp(self.min_cell, denominator);
                Published::Value { value: numerator, persons: denominator }
            }
        }
    }
}

/// The largest noise unless configured (`GOVGRAPH_STATS_MAX_NOISE`).
pub const DEFAULT_MAX_NOISE: i64 = 2;

/// On SQLite and PostgreSQL alike: the remainder of a sum of record keys, as the cell key.
pub fn cell_key_of(sum_of_record_keys: i64) -> i64 {
    sum_of_record_keys.rem_euclid(KEY_MODULUS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DisclosureKey {
        DisclosureKey::from_secret([7; 32])
    }

    const PROTECTION: Protection = Protection { min_cell: 5, max_noise: 2 };

    fn count(value: i64, cell_key: i64) -> Published {
        PROTECTION.publish(&key(), Perturbation::Count, TrueCell { value, persons: value, cell_key })
    }

    #[test]
    fn small_and_empty_cells_look_alike() {
        for value in 0..5 {
            assert_eq!(count(value, 12_345), Published::Suppressed);
        }
        assert!(matches!(count(5, 12_345), Published::Value { .. }));
    }

    #[test]
    fn noise_is_bounded_spread_and_fixed_by_the_cell_key() {
        let mut seen = std::collections::BTreeMap::new();
        for cell_key in 0..5_000 {
            let noise = key().noise(cell_key, 0, 2);
            assert!((-2..=2).contains(&noise));
            assert_eq!(noise, key().noise(cell_key, 0, 2));
            *seen.entry(noise).or_insert(0) += 1;
        }
        // Every noise value occurs, none much more than a fifth of the time.
        assert_eq!(seen.len(), 5);
        assert!(seen.values().all(|&n| (800..1200).contains(&n)), "{seen:?}");
        assert_eq!(key().noise(1, 0, 0), 0);
        assert_ne!(
            (0..50).map(|c| key().noise(c, 0, 2)).collect::<Vec<_>>(),
            (0..50).map(|c| DisclosureKey::from_secret([8; 32]).noise(c, 0, 2)).collect::<Vec<_>>(),
            "another deployment's secret gives other noise"
        );
    }

    #[test]
    fn published_counts_stay_at_or_above_the_threshold() {
        for cell_key in 0..500 {
            let Published::Value { value, .. } = count(5, cell_key) else { panic!() };
            assert!((5..=7).contains(&value));
            let Published::Value { value, .. } = count(100, cell_key) else { panic!() };
            assert!((98..=102).contains(&value));
        }
    }

    #[test]
    fn amounts_move_by_whole_percents_and_shares_need_both_parts() {
        let magnitude = |value, persons, cell_key| {
            PROTECTION.publish(&key(), Perturbation::Magnitude, TrueCell { value, persons, cell_key })
        };
        assert_eq!(magnitude(10_000, 4, 1), Published::Suppressed);
        let Published::Value { value, .. } = magnitude(10_000, 5, 1) else { panic!() };
        assert!([9_800, 9_900, 10_000, 10_100, 10_200].contains(&value), "{value}");
        let share = |value, persons| {
            PROTECTION.publish(&key(), Perturbation::Share, TrueCell { value, persons, cell_key: 9 })
        };
        assert_eq!(share(3, 40), Published::Suppressed);
        assert_eq!(share(40, 4), Published::Suppressed);
        let Published::Value { value, persons } = share(39, 40) else { panic!() };
        assert!(value <= persons && (37..=41).contains(&value) && (38..=42).contains(&persons));
    }

    #[test]
    fn record_keys_stay_in_range_in_sql_arithmetic() {
        let key = key();
        let sql = key.record_key_sql("t.id");
        assert!(sql.contains("CAST(t.id AS BIGINT)"), "{sql}");
        for id in [1_i64, 2, 1_000_000, i64::from(i32::MAX)] {
            let affine = (id * key.multiplier + key.offset) % KEY_MODULUS;
            let record = (affine * affine) % KEY_MODULUS;
            assert!((0..KEY_MODULUS).contains(&record));
        }
        assert_eq!(cell_key_of(-1), KEY_MODULUS - 1);
    }
}
