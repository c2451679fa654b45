//! The terminal side of the reporter: one indicatif line per stage, drawn on stderr. Texts are
//! built by the reporter (so plain and terminal output say the same thing); this file only
//! knows how a line looks while it runs and when it ends.

use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Bars {
    multi: MultiProgress,
}

/// What a running stage's line shows.
pub enum Activity<'a> {
    /// A spinner and a message ("step 5/19 Pulling Base Image").
    Busy(&'a str),
    /// A bar for a download: `fraction` of it done, and bytes when known.
    Download {
        label: &'a str,
        fraction: Option<f64>,
        bytes: Option<(u64, Option<u64>)>,
    },
}

const TICK: Duration = Duration::from_millis(100);
/// Resolution of a fraction-only bar.
const PERMILLE: u64 = 1000;

impl Bars {
    pub fn stderr() -> Bars {
        Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
        }
    }

    /// Draws nothing (tests).
    pub fn hidden() -> Bars {
        Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::hidden()),
        }
    }

    /// Runs `f` (a question) with the lines cleared, and draws them again after.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.multi.suspend(f)
    }

    /// A spinner line for a stage that just started.
    pub fn start(&self, prefix: &str, message: &str) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(spinner_style());
        bar.set_prefix(prefix.to_owned());
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(TICK);
        bar
    }

    pub fn update(&self, bar: &ProgressBar, activity: Activity<'_>) {
        match activity {
            Activity::Busy(message) => {
                if bar.length().is_some() {
                    bar.unset_length();
                    bar.set_style(spinner_style());
                }
                bar.set_message(message.to_owned());
            }
            Activity::Download {
                label,
                fraction,
                bytes,
            } => {
                match bytes {
                    Some((done, Some(total))) => {
                        if bar.length() != Some(total) {
                            bar.set_style(bytes_style());
                            bar.set_length(total);
                        }
                        bar.set_position(done.min(total));
                    }
                    _ => {
                        if bar.length() != Some(PERMILLE) {
                            bar.set_style(percent_style());
                            bar.set_length(PERMILLE);
                        }
                        let f = fraction.unwrap_or(0.0).clamp(0.0, 1.0);
                        bar.set_position((f * PERMILLE as f64).round() as u64);
                    }
                }
                bar.set_message(label.to_owned());
            }
        }
    }

    /// Replaces the running line by its final text, printed as a permanent line above the
    /// lines still running (a finished bar left in the live area can be lost on redraw).
    pub fn finish(&self, bar: &ProgressBar, line: String) {
        bar.finish_and_clear();
        self.multi.remove(bar);
        let _ = self.multi.println(line);
    }

    /// A finished line for a stage that never had a running one (skipped, or ended unseen).
    pub fn line(&self, line: &str) {
        let _ = self.multi.println(line);
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix} {wide_msg} {elapsed}")
        .expect("static template")
        .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ")
}

fn percent_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix} {msg} [{bar:30}] {percent:>3}% {elapsed}")
        .expect("static template")
        .progress_chars("=> ")
        .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ")
}

fn bytes_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} {prefix} {msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, {eta})",
    )
    .expect("static template")
    .progress_chars("=> ")
    .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ")
}
