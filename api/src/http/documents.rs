//! Parsed query documents, kept by the server and keyed by their text.
//!
//! Clients send the same few operations over and over (the apps' persisted queries, partners' nightly scripts),
//! and parsing is the largest single cost of a small request: about a tenth of the server's CPU on the grid
//! worker's home screen. A document is kept only after it passed the lexical limits and parsed, so a hit skips
//! both; everything that depends on the request (variables, the caller's budget, validation against the schema,
//! authorization) still runs every time. The limits do not change while a server runs, so a document that passed
//! them once passes them again.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::parser::types::ExecutableDocument;
use lru::LruCache;

/// Most documents kept; the least recently used one makes room for a new one.
const CAPACITY: NonZeroUsize = NonZeroUsize::new(512).expect("non-zero");

/// Longest query text kept (bytes). Longer queries are parsed every time, so the cache stays within about
/// `CAPACITY` times this size whatever callers send.
pub const MAX_KEPT_QUERY_BYTES: usize = 16 * 1024;

/// The server's parsed documents.
#[derive(Debug)]
pub struct ParsedDocuments {
    documents: Mutex<LruCache<String, Arc<ExecutableDocument>>>,
}

impl Default for ParsedDocuments {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl ParsedDocuments {
    pub fn with_capacity(capacity: NonZeroUsize) -> Self {
        Self { documents: Mutex::new(LruCache::new(capacity)) }
    }

    /// The document parsed earlier from exactly this text, if it is still kept. The copy the request may
    /// change is made after the lock is released, so other requests never wait for it.
    pub fn get(&self, query: &str) -> Option<ExecutableDocument> {
        let kept =
            self.documents.lock().unwrap_or_else(PoisonError::into_inner).get(query).map(Arc::clone)?;
        Some(ExecutableDocument::clone(&kept))
    }

    /// Keeps `document`, parsed from `query`, unless the text is too long to be worth keeping.
    pub fn keep(&self, query: &str, document: &ExecutableDocument) {
        if query.len() > MAX_KEPT_QUERY_BYTES {
            return;
        }
        let mut documents = self.documents.lock().unwrap_or_else(PoisonError::into_inner);
        documents.put(query.to_owned(), Arc::new(document.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).expect("a valid query")
    }

    #[test]
    fn a_kept_document_is_found_by_its_exact_text_only() {
        let documents = ParsedDocuments::default();
        let query = "{ region(code: \"330902\") { code name } }";
        assert!(documents.get(query).is_none());
        documents.keep(query, &parse(query));
        let found = documents.get(query).expect("kept");
        assert_eq!(format!("{found:?}"), format!("{:?}", parse(query)));
        assert!(documents.get("{ region(code: \"330903\") { code name } }").is_none());
        assert!(documents.get(&format!("{query} ")).is_none());
    }

    #[test]
    fn the_least_recently_used_document_makes_room_and_long_texts_are_not_kept() {
        let documents = ParsedDocuments::with_capacity(NonZeroUsize::new(2).expect("non-zero"));
        let queries = ["{ a }", "{ b }", "{ c }"];
        documents.keep(queries[0], &parse(queries[0]));
        documents.keep(queries[1], &parse(queries[1]));
        assert!(documents.get(queries[0]).is_some());
        documents.keep(queries[2], &parse(queries[2]));
        assert!(documents.get(queries[1]).is_none(), "the least recently used one goes");
        assert!(documents.get(queries[0]).is_some() && documents.get(queries[2]).is_some());

        let long = format!("{{ a {} }}", "b ".repeat(MAX_KEPT_QUERY_BYTES));
        documents.keep(&long, &parse(&long));
        assert!(documents.get(&long).is_none());
        assert_eq!(documents.documents.lock().expect("not poisoned").len(), 2);
    }
}
