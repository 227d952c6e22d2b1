//! Every cell a controlled grouping has, whether or not any row falls in it. A partner must not be able to tell a
//! cell with no rows from a small one, so a controlled result lists the whole grid — each region at the level
//! in the caller's scope, each month or year from [`PARTNER_EPOCH_YEAR`] to today, each category the measure
//! can take (see [`super::cube`]).

use chrono::{Datelike, NaiveDate};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use super::measures::StatisticsPeriod;
use crate::error::ApiError;

/// The first year partners see of a sensitive measure. Records dated earlier are left out of their figures, so
/// that where a measure's history begins says nothing about the few records that might start it.
pub const PARTNER_EPOCH_YEAR: i32 = 2005;

/// The first day of [`PARTNER_EPOCH_YEAR`].
pub fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(PARTNER_EPOCH_YEAR, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// The labels of every `length` period from the epoch to `today`, oldest first, as the statements write them.
pub fn periods(length: StatisticsPeriod, today: NaiveDate) -> Vec<String> {
    use StatisticsPeriod as P;
    let mut labels = Vec::new();
    for year in PARTNER_EPOCH_YEAR..=today.year() {
        match length {
            P::Year => labels.push(year.to_string()),
            P::Month => {
                let last = if year == today.year() { today.month() } else { 12 };
                labels.extend((1..=last).map(|m| format!("{year}-{m:02}")));
            }
            // Partners get none of these for sensitive measures (see the query).
            P::Quarter | P::Week | P::Day => {}
        }
    }
    labels
}

/// The values a measure's category takes: an enumeration's, or the codes of the legal-aid funds.
pub enum Categories {
    Fixed(Vec<String>),
    FundCodes,
}

impl Categories {
    pub async fn values(&self, db: &DatabaseConnection) -> Result<Vec<String>, ApiError> {
        let mut values = match self {
            Self::Fixed(values) => values.clone(),
            Self::FundCodes => {
                // The funds are public: their codes and names are listed to anyone (`legalAidFunds`).
                let backend = db.get_database_backend();
                let rows = db
                    .query_all_raw(Statement::from_string(backend, "SELECT code FROM legal_aid_fund"))
                    .await?;
                rows.iter().map(|row| row.try_get::<String>("", "code")).collect::<Result<Vec<_>, _>>()?
            }
        };
        values.sort();
        values.dedup();
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_run_from_the_epoch_to_today() {
        let today = NaiveDate::from_ymd_opt(2026, 5, 2).unwrap();
        let years = periods(StatisticsPeriod::Year, today);
        assert_eq!(years.first().map(String::as_str), Some("2005"));
        assert_eq!(years.len(), 22);
        assert!(periods(StatisticsPeriod::Quarter, today).is_empty());
        let months = periods(StatisticsPeriod::Month, today);
        assert_eq!(months.len(), 21 * 12 + 5);
        assert_eq!(months.last().map(String::as_str), Some("2026-05"));
    }
}
