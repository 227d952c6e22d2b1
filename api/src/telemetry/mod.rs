//! OpenTelemetry traces over OTLP/HTTP (protobuf), when `OTEL_EXPORTER_OTLP_ENDPOINT` is set for `serve`.
//!
//! Each HTTP request is one trace, continuing the caller's when it sends a W3C `traceparent`: the request's span,
//! under it the preparation of each operation (parse and limits) and async-graphql's validation, the execution
//! with one span per root field, under those the data loaders' batches, and under whichever ran it each SQL
//! statement with its text, duration and row count.
//!
//! Spans carry names of routes, fields, loaders and SQL texts with placeholders: never a bound value, a variable,
//! a query text or a personal field. SQL texts have their quoted literals blanked besides, in case a statement
//! was ever written with one inline.
//!
//! Without the variable nothing of this is installed: the spans below have no subscriber interested in them
//! (they cost a disabled callsite check), sqlx's statement events stay off, and the schema has no tracing
//! extension.

pub mod graphql;
pub mod request;

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Subscriber;
use tracing::field::{Field, Visit};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{FilterExt, filter_fn};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Target of the spans this server creates for traces (kept out of the log lines).
pub const TARGET: &str = "govgraph::trace";

/// The variable that turns tracing on: the collector's base URL (`/v1/traces` is appended).
pub const ENDPOINT_VARIABLE: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// The variable naming this service in its traces.
pub const SERVICE_NAME_VARIABLE: &str = "OTEL_SERVICE_NAME";

/// The service name when `OTEL_SERVICE_NAME` is unset.
pub const DEFAULT_SERVICE_NAME: &str = "govgraph";

/// Longest SQL text a span carries, in bytes.
const MAX_STATEMENT_BYTES: usize = 4096;

/// Prefix of the names of sea-orm's statement spans (`sea_orm.query_all`, `sea_orm.execute`, …).
const STATEMENT_SPAN_PREFIX: &str = "sea_orm.";

/// sqlx's target for the event it emits when a statement ends (with its row counts).
const SQLX_STATEMENT_TARGET: &str = "sqlx::query";

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether traces are exported by this process.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Why tracing could not be started.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("OTLP exporter ({ENDPOINT_VARIABLE}): {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
}

/// The running exporter; [`Telemetry::shutdown`] sends the spans still queued.
#[derive(Debug)]
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    /// Exports what is queued and stops the exporter.
    pub fn shutdown(self) {
        if let Err(err) = self.provider.shutdown() {
            eprintln!("govgraph: tracing: the last spans could not be exported: {err}");
        }
    }
}

/// A layer of the process's subscriber.
pub type BoxedLayer<S> = Box<dyn Layer<S> + Send + Sync + 'static>;

/// The running exporter and the layers that feed it.
pub type Started<S> = (Telemetry, Vec<BoxedLayer<S>>);

/// The endpoint when tracing is asked for.
pub fn configured_endpoint() -> Option<String> {
    std::env::var(ENDPOINT_VARIABLE).ok().filter(|endpoint| !endpoint.trim().is_empty())
}

/// Starts the exporter when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, returning it with the layers that turn spans
/// into OpenTelemetry spans; `None` without the variable.
pub fn from_env<S>() -> Result<Option<Started<S>>, TelemetryError>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    if configured_endpoint().is_none() {
        return Ok(None);
    }
    // The exporter reads the endpoint (and OTEL_EXPORTER_OTLP_HEADERS, …) from the environment itself.
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .build()?;
    // The batches are sent from a thread of their own with its own runtime: the HTTP workers' runtimes never
    // wait on the collector. Its queue and delay follow OTEL_BSP_*.
    let processor = opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor::builder(
        exporter,
        opentelemetry_sdk::runtime::TokioCurrentThread,
    )
    .build();
    let service_name = std::env::var(SERVICE_NAME_VARIABLE)
        .ok()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned());
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(service_name).build();
    let provider =
        SdkTracerProvider::builder().with_span_processor(processor).with_resource(resource).build();
    let tracer = provider.tracer("govgraph");

    let spans = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_level(false)
        .with_tracked_inactivity(false)
        .with_filter(filter_fn(exported).and(tracing_subscriber::filter::dynamic_filter_fn(
            |metadata: &tracing::Metadata<'_>, context: &Context<'_, S>| {
                // A statement belongs to the trace of the request that ran it; the background work's (the audit
                // queue, the event bus) would each make a trace of one span.
                metadata.target().starts_with(TARGET) || context.lookup_current().is_some()
            },
        )));
    let rows = StatementRowsLayer.with_filter(filter_fn(|metadata| {
        (metadata.is_event() && metadata.target() == SQLX_STATEMENT_TARGET) || is_statement_span(metadata)
    }));
    ENABLED.store(true, Ordering::Relaxed);
    Ok(Some((Telemetry { provider }, vec![spans.boxed(), rows.boxed()])))
}

/// The spans exported: this server's own and sea-orm's statement spans. No events: log lines stay logs.
fn exported(metadata: &tracing::Metadata<'_>) -> bool {
    metadata.is_span() && (metadata.target().starts_with(TARGET) || is_statement_span(metadata))
}

fn is_statement_span(metadata: &tracing::Metadata<'_>) -> bool {
    metadata.is_span() && metadata.name().starts_with(STATEMENT_SPAN_PREFIX)
}

/// What the log lines show: not the spans made for traces (they would prefix every line inside a request), nor
/// sea-orm's own (its statement spans, and the trace-level ones of its driver, which would stand between a
/// statement's span and [`record_statement`]).
pub fn logged(metadata: &tracing::Metadata<'_>) -> bool {
    let sea_orm = metadata.target() == "sea_orm" || metadata.target().starts_with("sea_orm::");
    !(metadata.is_span() && (metadata.target().starts_with(TARGET) || sea_orm))
}

/// The OpenTelemetry context a request continues: the caller's W3C `traceparent` (and `tracestate`), or none.
pub fn caller_context(headers: &actix_web::http::header::HeaderMap) -> opentelemetry::Context {
    TraceContextPropagator::new().extract(&HeaderExtractor(headers))
}

/// Makes `span` continue the caller's trace when the request carries a valid `traceparent`.
pub fn continue_callers_trace(span: &tracing::Span, headers: &actix_web::http::header::HeaderMap) {
    let context = caller_context(headers);
    if opentelemetry::trace::TraceContextExt::has_active_span(&context) {
        // Only fails when the span is not exported, in which case there is nothing to continue.
        let _ = span.set_parent(context);
    }
}

struct HeaderExtractor<'a>(&'a actix_web::http::header::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|name| name.as_str()).collect()
    }
}

/// The rows a statement returned and affected, as sqlx counted them; kept on the statement's span until
/// [`record_statement`] moves them into its attributes.
#[derive(Debug, Default, Clone, Copy)]
struct StatementRows {
    returned: u64,
    affected: u64,
}

impl Visit for StatementRows {
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "rows_returned" => self.returned = value,
            "rows_affected" => self.affected = value,
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record_u64(field, u64::try_from(value).unwrap_or_default());
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn std::fmt::Debug) {}
}

/// Keeps the row counts of sqlx's end-of-statement event on the statement span it happened in (SQLite's worker
/// thread enters the caller's span, so this holds on both databases). The event itself is not exported.
struct StatementRowsLayer;

impl<S> Layer<S> for StatementRowsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &tracing::Event<'_>, context: Context<'_, S>) {
        let Some(span) = context.event_span(event) else { return };
        if !span.name().starts_with(STATEMENT_SPAN_PREFIX) {
            return;
        }
        let mut rows = StatementRows::default();
        event.record(&mut rows);
        span.extensions_mut().replace(rows);
    }
}

/// Completes the span of the statement that just ran (the current one: sea-orm calls its metric callback inside
/// it) with its SQL text, duration and row counts. Does nothing outside a traced statement.
pub fn record_statement(info: &sea_orm::metric::Info<'_>) {
    let span = tracing::Span::current();
    if span.is_disabled() {
        return;
    }
    let rows = span
        .with_subscriber(|(id, dispatch)| {
            let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
            let data = registry.span(id)?;
            if !data.name().starts_with(STATEMENT_SPAN_PREFIX) {
                return None;
            }
            let rows = data.extensions_mut().remove::<StatementRows>().unwrap_or_default();
            Some(rows)
        })
        .flatten();
    let Some(rows) = rows else { return };
    span.set_attribute("db.query.text", statement_text(&info.statement.sql));
    span.set_attribute("db.response.returned_rows", i64::try_from(rows.returned).unwrap_or(i64::MAX));
    span.set_attribute("db.response.affected_rows", i64::try_from(rows.affected).unwrap_or(i64::MAX));
    span.set_attribute("db.duration_ms", info.elapsed.as_secs_f64() * 1000.0);
    if info.failed {
        span.set_attribute("db.failed", true);
    }
}

/// The SQL text a span carries: placeholders stand for the bound values already; quoted literals are blanked
/// too, and the text is cut at [`MAX_STATEMENT_BYTES`].
pub fn statement_text(sql: &str) -> String {
    let mut text = String::with_capacity(sql.len().min(MAX_STATEMENT_BYTES));
    let mut in_literal = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if text.len() >= MAX_STATEMENT_BYTES {
            text.push('…');
            break;
        }
        if in_literal {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    // A doubled quote is a quote inside the literal.
                    chars.next();
                } else {
                    in_literal = false;
                    text.push_str("?'");
                }
            }
            continue;
        }
        if c == '\'' {
            in_literal = true;
        }
        text.push(c);
    }
    if in_literal {
        text.push_str("?'");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_text_keeps_placeholders_and_blanks_literals() {
        assert_eq!(
            statement_text(r#"SELECT "id" FROM "volunteer" WHERE "code" = $1 AND "name" = 'Zhang'"#),
            r#"SELECT "id" FROM "volunteer" WHERE "code" = $1 AND "name" = '?'"#
        );
        assert_eq!(statement_text("SELECT 'it''s', ?"), "SELECT '?', ?");
        assert_eq!(statement_text("SELECT 'open"), "SELECT '?'");
        let long = format!("SELECT {}", "x".repeat(MAX_STATEMENT_BYTES * 2));
        assert!(statement_text(&long).len() <= MAX_STATEMENT_BYTES + '…'.len_utf8());
    }
}
