//! The youth mentoring programme (关爱青少年彩虹行动·人生导师): life mentors, their pairings with at-risk youth,
//! the sessions they hold and the outcomes they report.
//!
//! Mentors are scoped by their own region. Mentorships, and the sessions and outcomes under them, are scoped by
//! the mentee's region: a pairing is visible when the young person lives in the caller's subtree, wherever the
//! mentor is attached.

pub mod filter;
pub mod lists;
pub mod loader;
pub mod mutation;
pub mod query;
pub mod types;
