//! Progress bars (indicatif) for encode, upload and download; hidden unless enabled and stderr
//! is a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Files at least this large get progress bars.
pub const PROGRESS_MIN_BYTES: u64 = 8 << 20;

/// Whether progress bars are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Progress {
    /// Never.
    #[default]
    Hidden,
    /// On large files, when stderr is a terminal.
    Auto,
}

impl Progress {
    /// A bar of `len` units labelled `msg` (bytes when `bytes`); hidden when not wanted.
    pub(crate) fn bar(
        self,
        msg: &'static str,
        len: u64,
        blob_len: u64,
        bytes: bool,
    ) -> ProgressBar {
        let visible =
            self == Self::Auto && blob_len >= PROGRESS_MIN_BYTES && std::io::stderr().is_terminal();
        if !visible {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        let template = if bytes {
            "{msg:>9} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} {eta}"
        } else {
            "{msg:>9} [{bar:40}] {pos}/{len} {elapsed}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(msg);
        bar
    }

    /// A spinner labelled `msg` for a step of unknown length.
    pub(crate) fn spinner(self, msg: &'static str, blob_len: u64) -> ProgressBar {
        let visible =
            self == Self::Auto && blob_len >= PROGRESS_MIN_BYTES && std::io::stderr().is_terminal();
        if !visible {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new_spinner();
        bar.set_message(msg);
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    }
}
