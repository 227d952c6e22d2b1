//! Relay connections over keyset pagination: every list is a connection with `totalCount`, pages are cut by a
//! unique sort key (never by OFFSET, which gets slower the deeper one pages), and page sizes are capped.
//!
//! - [`cursor`]: the opaque cursors and the keys of nested loaders;
//! - [`request`]: the validated `first`/`after`/`last`/`before`;
//! - [`keyset`]: the orders a page can have and the one "beyond the cursor" predicate;
//! - [`page`]: the one assembly of fetched rows into a page (`hasNextPage`, reversal, cursors) and `totalCount`;
//! - [`top`]: a top-level connection's page, in one statement with its total;
//! - [`companion`]: the nested rows a top-level page carries in that statement (the compiled read path);
//! - [`nested`]: one page per parent in one statement, and the one grouping of loader keys by arguments.

pub mod companion;
pub mod cursor;
pub mod keyset;
pub mod nested;
pub mod page;
pub mod request;
pub mod top;

pub use companion::{Carried, Companion, Computed, Joined, ReadPath};
pub use cursor::{CursorKey, NestedKey};
pub use keyset::{Ordering, SortKey, read_int, read_text};
pub use nested::{Nesting, Ranking, between_cursors, fetch_ranked_pages, group_by_args, load_nested_pages};
pub use page::{ConnectionTotals, Page, Total};
pub use request::PageRequest;
pub use top::{fetch_page, fetch_page_carrying, fetch_page_in_order, fetch_page_in_order_carrying};

/// Page size when the caller names none.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
/// Largest page a caller may ask for.
pub const MAX_PAGE_SIZE: u64 = 500;

/// Declares the Relay connection and edge types of one node type, with their descriptions.
#[macro_export]
macro_rules! connection_type {
    ($connection:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("A page of ", $what, ".")]
        pub struct $connection {
            edges: Vec<$edge>,
            page_info: async_graphql::connection::PageInfo,
            totals: $crate::pagination::ConnectionTotals,
        }

        #[doc = concat!("One of ", $what, " with its cursor.")]
        pub struct $edge {
            cursor: String,
            node: $node,
        }

        impl $connection {
            /// Builds the connection from a fetched page.
            pub fn from_page<M>(page: $crate::pagination::Page<M>, node_of: impl Fn(M) -> $node) -> Self {
                let (edges, page_info, totals) = page.into_parts(node_of);
                Self {
                    edges: edges.into_iter().map(|(cursor, node)| $edge { cursor, node }).collect(),
                    page_info,
                    totals,
                }
            }
        }

        #[doc = concat!("A page of ", $what, " (Relay connection).")]
        #[async_graphql::Object]
        impl $connection {
            /// The items of this page with their cursors.
            async fn edges(&self) -> &[$edge] {
                &self.edges
            }

            /// The items of this page.
            async fn nodes(&self) -> Vec<&$node> {
                self.edges.iter().map(|edge| &edge.node).collect()
            }

            /// Where this page lies: whether there are more, and the cursors to get them.
            async fn page_info(&self) -> &async_graphql::connection::PageInfo {
                &self.page_info
            }

            /// Number of items matching the arguments, over all pages (counted only when asked for).
            async fn total_count(&self, ctx: &async_graphql::Context<'_>) -> $crate::error::ApiResult<u64> {
                self.totals.count(ctx).await
            }
        }

        #[doc = concat!("One of ", $what, " with its cursor.")]
        #[async_graphql::Object]
        impl $edge {
            /// Opaque cursor for `after`/`before`.
            async fn cursor(&self) -> &str {
                &self.cursor
            }

            /// The item.
            async fn node(&self) -> &$node {
                &self.node
            }
        }
    };
}
