//! `GET /export/statistics.csv`: the `statistics` field as a spreadsheet. The URL's parameters become the
//! variables of one fixed query, run exactly as `GET /graphql` runs a query — the same token, scope, disclosure
//! control, query limits, rate limit and audit — so an export can never show more than the API does.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value};

use super::AppState;
use super::graphql::{self, ResponseType, Transport};
use crate::error::code;
use crate::limits::analysis::Rejection;

/// The one query behind the export.
pub const STATISTICS_EXPORT_QUERY: &str = "query StatisticsExport($measure: StatisticsMeasure!, \
     $groupBy: [StatisticsDimension!]!, $regionLevel: RegionLevel, $period: StatisticsPeriod, $year: Int, \
     $from: Date, $to: Date, $inRegion: String, $withTotals: Boolean!) { statistics(measure: $measure, \
     groupBy: $groupBy, regionLevel: $regionLevel, period: $period, year: $year, from: $from, to: $to, \
     inRegion: $inRegion, withTotals: $withTotals) { measure \
     cells { regionCode regionName period category value suppressed } \
     totals { regionCode regionName period category value suppressed } } }";

/// The columns of the file, in order.
const COLUMNS: [&str; 7] = ["row", "region_code", "region_name", "period", "category", "value", "suppressed"];

/// The variables of the export query from the URL's parameters, or what is wrong with them.
fn variables(parameters: &[(String, String)]) -> Result<Value, Rejection> {
    let mut variables = Map::new();
    variables.insert("groupBy".into(), Value::Array(Vec::new()));
    variables.insert("withTotals".into(), Value::Bool(false));
    let mut seen = std::collections::BTreeSet::new();
    for (name, value) in parameters {
        if !seen.insert(name.as_str()) {
            return Err(Rejection::bad_input(format!("`{name}` is given twice")));
        }
        let parsed = match name.as_str() {
            "measure" | "regionLevel" | "period" | "from" | "to" | "inRegion" => Value::String(value.clone()),
            "groupBy" => Value::Array(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .map(|d| Value::String(d.into()))
                    .collect(),
            ),
            "year" => value
                .parse::<i32>()
                .map(Value::from)
                .map_err(|_| Rejection::bad_input(format!("`year` must be a whole number, not `{value}`")))?,
            "withTotals" => match value.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err(Rejection::bad_input("`withTotals` must be `true` or `false`")),
            },
            other => {
                return Err(Rejection::bad_input(format!(
                    "unknown parameter `{other}`: the parameters are those of `statistics` (measure, groupBy, \
                     regionLevel, period, year, from, to, inRegion, withTotals)"
                )));
            }
        };
        variables.insert(name.clone(), parsed);
    }
    if !variables.contains_key("measure") {
        return Err(Rejection::bad_input("`measure` is required"));
    }
    Ok(Value::Object(variables))
}

/// One CSV field: quoted when it holds a separator, a quote or a line break.
pub(super) fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The file: a byte-order mark (spreadsheet programs then read the Chinese names as UTF-8), a header, the cells,
/// then the totals.
fn csv(statistics: &Value) -> String {
    let mut out = String::from('\u{feff}');
    out.push_str(&COLUMNS.join(","));
    out.push_str("\r\n");
    for (kind, list) in [("cell", "cells"), ("total", "totals")] {
        for cell in statistics[list].as_array().into_iter().flatten() {
            let text = |name: &str| cell[name].as_str().map(field).unwrap_or_default();
            let suppressed = if cell["suppressed"] == Value::Bool(true) { "true" } else { "false" };
            let row = [
                kind.to_owned(),
                text("regionCode"),
                text("regionName"),
                text("period"),
                text("category"),
                text("value"),
                suppressed.to_owned(),
            ];
            out.push_str(&row.join(","));
            out.push_str("\r\n");
        }
    }
    out
}

/// The HTTP status of an export that failed with `code`.
pub(super) fn status_of(code: &str) -> StatusCode {
    match code {
        code::UNAUTHENTICATED => StatusCode::UNAUTHORIZED,
        code::FORBIDDEN => StatusCode::FORBIDDEN,
        code::UNAVAILABLE => StatusCode::SERVICE_UNAVAILABLE,
        code::INTERNAL => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// `GET /export/statistics.csv?measure=…&groupBy=REGION,PERIOD&…`.
pub async fn statistics_csv(
    state: web::Data<AppState>,
    http: HttpRequest,
    parameters: Result<web::Query<Vec<(String, String)>>, actix_web::Error>,
) -> HttpResponse {
    let parameters = match parameters {
        Ok(parameters) => parameters.into_inner(),
        Err(err) => {
            let rejection = Rejection::bad_input(format!("the parameters cannot be read: {err}"));
            return graphql::http_error(StatusCode::BAD_REQUEST, ResponseType::Json, &rejection);
        }
    };
    let variables = match variables(&parameters) {
        Ok(variables) => variables,
        Err(rejection) => {
            return graphql::http_error(StatusCode::BAD_REQUEST, ResponseType::Json, &rejection);
        }
    };
    let identity = graphql::identify(&state, &http);
    if let Some(refused) = graphql::throttle(&state, &http, &identity, 1, ResponseType::Json).await {
        return refused;
    }
    let request = async_graphql::Request::new(STATISTICS_EXPORT_QUERY)
        .variables(async_graphql::Variables::from_json(variables));
    let outcome = graphql::run(&state, &http, &identity, request, Transport::Export).await;
    if let Some(error) = outcome.response.errors.first() {
        let error_code = error
            .extensions
            .as_ref()
            .and_then(|extensions| extensions.get("code"))
            .and_then(|value| match value {
                async_graphql::Value::String(text) => Some(text.clone()),
                _ => None,
            })
            .unwrap_or_else(|| code::INTERNAL.to_owned());
        let mut response = graphql::respond(ResponseType::Json, outcome);
        *response.status_mut() = status_of(&error_code);
        return response;
    }
    let data = outcome.response.data.into_json().unwrap_or_default();
    let measure = data["statistics"]["measure"].as_str().unwrap_or("statistics").to_ascii_lowercase();
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"statistics-{measure}.csv\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(csv(&data["statistics"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn parameters_become_variables_and_bad_ones_are_named() {
        let parsed = variables(&pairs(&[
            ("measure", "CARE_SUBJECTS"),
            ("groupBy", "REGION, PERIOD"),
            ("year", "2025"),
        ]))
        .unwrap();
        assert_eq!(parsed["groupBy"], serde_json::json!(["REGION", "PERIOD"]));
        assert_eq!(parsed["year"], 2025);
        assert_eq!(parsed["withTotals"], false);
        for (bad, named) in [
            (vec![("groupBy", "REGION")], "measure"),
            (vec![("measure", "X"), ("year", "soon")], "year"),
            (vec![("measure", "X"), ("sort", "up")], "sort"),
            (vec![("measure", "X"), ("measure", "Y")], "measure"),
            (vec![("measure", "X"), ("withTotals", "yes")], "withTotals"),
        ] {
            let rejection = variables(&pairs(&bad)).unwrap_err();
            assert!(rejection.message.contains(named), "{}", rejection.message);
        }
    }

    #[test]
    fn fields_are_quoted_when_they_must_be() {
        assert_eq!(field("定海区"), "定海区");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        let file = csv(&serde_json::json!({
            "cells": [{ "regionCode": "330902", "regionName": "定海区", "period": null, "category": null, "value": null, "suppressed": true }],
            "totals": [{ "regionCode": null, "regionName": null, "period": null, "category": null, "value": "12", "suppressed": false }],
        }));
        assert_eq!(
            file,
            "\u{feff}row,region_code,region_name,period,category,value,suppressed\r\n\
             cell,330902,定海区,,,,true\r\ntotal,,,,,12,false\r\n"
        );
    }
}
