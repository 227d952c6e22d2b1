//! How data loaders decide when a batch is complete.
//!
//! async-graphql's default waits a fixed 1 ms after the first key, so whether 500 sibling fields land in one batch
//! depends on how fast the machine resolves them. Each HTTP worker runs a single-threaded runtime, so instead we
//! let the batch task step aside for a few scheduler turns: while the request is still resolving siblings it is
//! ready and runs first, adding its keys; once it waits on the batch, the batch fires. The number of statements
//! then depends on the query's shape, never on the page size or the machine's speed.
//!
//! Each batch runs in a task of its own; it carries the span of the field that asked first, and opens a span
//! of its own (the loader and the number of keys), so that its statements sit in the request's trace.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use futures_util::future::BoxFuture;
use tracing::Instrument;

/// Scheduler turns the batch task yields before loading.
const YIELD_TURNS: usize = 8;

/// The loaders of one request: they cache what they loaded for the rest of the request.
pub type RequestLoader<T> = DataLoader<Batches<T>, HashMapCache>;

/// A loader's answer for every key it was asked: the values found, `None` for the others, so that an absent
/// row is remembered like any other answer (a loader that leaves a key out is asked for it again).
pub fn every_key<V>(keys: &[i64], found: impl IntoIterator<Item = (i64, V)>) -> HashMap<i64, Option<V>> {
    let mut answers: HashMap<i64, Option<V>> = keys.iter().map(|key| (*key, None)).collect();
    answers.extend(found.into_iter().map(|(key, value)| (key, Some(value))));
    answers
}

/// A per-request data loader whose batches close when the request stops adding keys.
pub fn batched<T>(loader: T) -> RequestLoader<T>
where
    T: Send + Sync + 'static,
{
    DataLoader::with_cache(Batches(loader), spawn_after_siblings, HashMapCache::default())
        .delay(Duration::ZERO)
}

/// A loader whose batches each run in a span naming it.
#[derive(Debug)]
pub struct Batches<T>(T);

impl<T> Batches<T> {
    /// The loader that runs the batches.
    pub fn inner(&self) -> &T {
        &self.0
    }
}

impl<K, T> Loader<K> for Batches<T>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    T: Loader<K>,
{
    type Value = T::Value;
    type Error = T::Error;

    async fn load(&self, keys: &[K]) -> Result<HashMap<K, Self::Value>, Self::Error> {
        let span = tracing::info_span!(
            target: crate::telemetry::TARGET,
            "loader.batch",
            otel.name = %format_args!("load {}", LoaderName(std::any::type_name::<T>())),
            loader = %LoaderName(std::any::type_name::<T>()),
            // Signed: OpenTelemetry has no unsigned integers (an unsigned one would be sent as text).
            keys = i64::try_from(keys.len()).unwrap_or(i64::MAX),
        );
        self.0.load(keys).instrument(span).await
    }
}

/// A loader's type name without its modules' paths: `RowsBySubject<mental_health_profile::Entity>` reads
/// `RowsBySubject<Entity>`. Written only when a span records it.
struct LoaderName(&'static str);

impl std::fmt::Display for LoaderName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut word = String::new();
        for c in self.0.chars() {
            match c {
                ':' => word.clear(),
                '<' | '>' | ',' | ' ' => {
                    f.write_str(&word)?;
                    word.clear();
                    write!(f, "{c}")?;
                }
                _ => word.push(c),
            }
        }
        f.write_str(&word)
    }
}

fn spawn_after_siblings(task: BoxFuture<'static, ()>) {
    // The field that asked for the first key; its request's span when traces are exported, none otherwise.
    let asked_by = tracing::Span::current();
    tokio::spawn(
        async move {
            for _ in 0..YIELD_TURNS {
                tokio::task::yield_now().await;
            }
            task.await;
        }
        .instrument(asked_by),
    );
}

#[cfg(test)]
mod tests {
    use super::LoaderName;

    #[test]
    fn loader_names_lose_their_paths() {
        assert_eq!(LoaderName("govgraph::care::loader::SubjectById").to_string(), "SubjectById");
        assert_eq!(
            LoaderName("govgraph::care::loader::RowsBySubject<entities::youth_profile::Entity>").to_string(),
            "RowsBySubject<Entity>"
        );
        assert_eq!(LoaderName("govgraph::x::ById<a::B, c::D>").to_string(), "ById<B, D>");
    }
}
