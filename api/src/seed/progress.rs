//! Progress bars on stderr, one per phase, or nothing at all when the caller did not ask for them.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Hands out one bar per phase. Disabled, it hands out hidden bars, so the generators never check a flag.
pub struct Progress {
    multi: Option<MultiProgress>,
}

impl Progress {
    pub fn new(enabled: bool) -> Self {
        let multi = enabled.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Self { multi }
    }

    /// A bar for one phase with `len` steps.
    pub fn phase(&self, label: &'static str, len: u64) -> ProgressBar {
        let Some(multi) = &self.multi else {
            return ProgressBar::hidden();
        };
        let style = ProgressStyle::with_template(
            "{prefix:>22} [{bar:32.cyan/blue}] {human_pos:>9}/{human_len:9} {elapsed:>4}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let bar = multi.add(ProgressBar::new(len).with_prefix(label));
        bar.set_style(style);
        bar
    }
}
