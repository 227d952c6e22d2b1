//! How data loaders decide when a batch is complete.
//!
//! async-graphql's default waits a fixed 1 ms after the first key, so whether 500 sibling fields land in one batch
//! depends on how fast the machine resolves them. Each HTTP worker runs a single-threaded runtime, so instead we
//! let the batch task step aside for a few scheduler turns: while the request is still resolving siblings it is
//! ready and runs first, adding its keys; once it waits on the batch, the batch fires. The number of statements
//! then depends on the query's shape, never on the page size or the machine's speed.

use std::time::Duration;

use async_graphql::dataloader::{DataLoader, HashMapCache};
use futures_util::future::BoxFuture;

/// Scheduler turns the batch task yields before loading.
const YIELD_TURNS: usize = 8;

/// The loaders of one request: they cache what they loaded for the rest of the request.
pub type RequestLoader<T> = DataLoader<T, HashMapCache>;

/// A per-request data loader whose batches close when the request stops adding keys.
pub fn batched<T>(loader: T) -> RequestLoader<T> {
    DataLoader::with_cache(loader, spawn_after_siblings, HashMapCache::default()).delay(Duration::ZERO)
}

fn spawn_after_siblings(task: BoxFuture<'static, ()>) {
    tokio::spawn(async move {
        for _ in 0..YIELD_TURNS {
            tokio::task::yield_now().await;
        }
        task.await;
    });
}
