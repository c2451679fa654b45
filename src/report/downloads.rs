//! Download progress for people, for the tool commands (indicatif lives in the report module,
//! never in `src/tools`).

use std::io::Write;

use crate::report::Printer;
use crate::tools::{Progress, Tool};

/// Download progress for people: a bar on a terminal, one line per download otherwise
/// (`--ci`, logs), nothing in JSON mode or with -q.
pub struct DownloadProgress {
    mode: ProgressMode,
    bar: std::sync::Mutex<Option<indicatif::ProgressBar>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    Bar,
    Lines,
    Silent,
}

impl DownloadProgress {
    pub fn new(mode: ProgressMode) -> Self {
        DownloadProgress {
            mode,
            bar: std::sync::Mutex::new(None),
        }
    }

    pub fn for_printer(printer: &Printer) -> Self {
        let mode = if printer.json() || printer.verbosity < 0 {
            ProgressMode::Silent
        } else if printer.progress {
            ProgressMode::Bar
        } else {
            ProgressMode::Lines
        };
        DownloadProgress::new(mode)
    }
}

impl Progress for DownloadProgress {
    fn started(&self, tool: Tool, url: &str, total: Option<u64>) {
        match self.mode {
            ProgressMode::Silent => {}
            ProgressMode::Lines => line(&format!("Downloading {tool} from {url}")),
            ProgressMode::Bar => {
                let bar = indicatif::ProgressBar::with_draw_target(
                    total,
                    indicatif::ProgressDrawTarget::stderr(),
                );
                let style = indicatif::ProgressStyle::with_template(
                    "{msg:10} {bar:30} {bytes:>10}/{total_bytes:10} {bytes_per_sec:>12} {eta}",
                )
                .expect("valid template");
                bar.set_style(style);
                bar.set_message(tool.to_string());
                *self.bar.lock().expect("not poisoned") = Some(bar);
            }
        }
    }

    fn advanced(&self, bytes: u64) {
        if let Some(bar) = self.bar.lock().expect("not poisoned").as_ref() {
            bar.inc(bytes);
        }
    }

    fn retrying(&self, tool: Tool, attempt: u32, reason: &str) {
        if let Some(bar) = self.bar.lock().expect("not poisoned").take() {
            bar.finish_and_clear();
        }
        if self.mode != ProgressMode::Silent {
            line(&format!(
                "{tool}: attempt {attempt} failed ({reason}); retrying"
            ));
        }
    }

    fn finished(&self, _tool: Tool) {
        if let Some(bar) = self.bar.lock().expect("not poisoned").take() {
            bar.finish_and_clear();
        }
    }
}

/// One plain progress line on stderr.
fn line(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}
