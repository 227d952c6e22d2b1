//! Spans of a GraphQL operation: async-graphql's validation, the execution, and one span per root field (the
//! nested fields run inside their root field's span, their loaders' batches under it). async-graphql's own
//! `Tracing` extension is not used: it records the query text with its variables' values.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextResolve, NextValidation, ResolveInfo,
};
use async_graphql::{Response, ServerError, ServerResult, ValidationResult, Value};
use tracing::Instrument;

use super::TARGET;

/// The schema extension that opens the spans; installed only while traces are exported.
#[derive(Debug, Clone, Copy, Default)]
pub struct OperationSpans;

impl ExtensionFactory for OperationSpans {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationSpans)
    }
}

#[async_trait::async_trait]
impl Extension for OperationSpans {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let span = tracing::info_span!(target: TARGET, "graphql.validate");
        next.run(ctx).instrument(span).await
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        // The operation's name is the caller's text: it is not recorded.
        let span =
            tracing::info_span!(target: TARGET, "graphql.execute", otel.status_code = tracing::field::Empty);
        let response = next.run(ctx, operation_name).instrument(span.clone()).await;
        if response.is_err() {
            span.record("otel.status_code", "ERROR");
        }
        response
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.path_node.parent.is_some() {
            return next.run(ctx, info).await;
        }
        // Names from the schema only: the arguments are the caller's values.
        let span = tracing::info_span!(
            target: TARGET,
            "graphql.field",
            otel.name = %format_args!("{}.{}", info.parent_type, info.name),
            graphql.field.name = info.name,
            graphql.field.type = info.parent_type,
            otel.status_code = tracing::field::Empty,
        );
        let resolved = next.run(ctx, info).instrument(span.clone()).await;
        if resolved.is_err() {
            span.record("otel.status_code", "ERROR");
        }
        resolved
    }
}
