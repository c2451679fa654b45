//! What a stage is to the engine: a name (the plan's), the exit kind its errors mean, and a
//! `run` against the run's context. Everything around a stage — events, the state record,
//! timeouts, cancellation, skipping dependants — is the engine's, so a stage file holds only
//! what the stage does (kind's actions, one per file).

use std::sync::Mutex;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use super::RunCx;
use crate::error::ExitKind;
use crate::plan::StageName;
use crate::report::events::Reporter;

pub trait Stage: Send + Sync {
    fn name(&self) -> StageName;

    /// The exit kind of an error this stage returns that carries none of its own.
    fn failure(&self) -> ExitKind;

    /// What the stage does, in a few words, for its start line.
    fn what(&self, cx: &RunCx) -> String;

    /// At most this long; the global timeout bounds it too. `None`: only the global one.
    fn timeout(&self, _cx: &RunCx) -> Option<std::time::Duration> {
        None
    }

    fn run<'a>(&'a self, cx: &'a RunCx, sx: &'a StageCx) -> BoxFuture<'a, anyhow::Result<Done>>;
}

/// A stage that finds its work no longer wanted (what it prepares for cannot run) returns this
/// error: the engine reports the stage skipped, with the reason, not failed.
#[derive(Debug)]
pub struct NotNeeded(pub String);

impl std::fmt::Display for NotNeeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotNeeded {}

/// A stage's result: its one-line outcome and what it hands to the run's summary.
#[derive(Debug, Clone, Default)]
pub struct Done {
    pub outcome: String,
    pub details: serde_json::Value,
}

impl Done {
    pub fn new(outcome: impl Into<String>) -> Done {
        Done {
            outcome: outcome.into(),
            details: serde_json::Value::Null,
        }
    }

    pub fn with(mut self, details: serde_json::Value) -> Done {
        self.details = details;
        self
    }
}

/// One stage's handle on the run: its cancellation token (exec commands run in the stage stop
/// gracefully when it fires) and progress that carries the stage's name. The last thing it
/// said is what a timeout reports as "still doing".
pub struct StageCx {
    name: &'static str,
    reporter: std::sync::Arc<Reporter>,
    pub cancel: CancellationToken,
    last: Mutex<String>,
}

impl StageCx {
    pub(super) fn new(
        name: &'static str,
        reporter: std::sync::Arc<Reporter>,
        cancel: CancellationToken,
    ) -> StageCx {
        StageCx {
            name,
            reporter,
            cancel,
            last: Mutex::new(String::new()),
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn reporter(&self) -> &Reporter {
        &self.reporter
    }

    pub fn info(&self, message: &str) {
        self.remember(message);
        self.reporter.info(self.name, message);
    }

    pub fn warn(&self, message: &str) {
        self.remember(message);
        self.reporter.warn(self.name, message);
    }

    pub fn step(&self, current: u32, total: u32, message: &str) {
        self.remember(&format!("step {current}/{total} {message}"));
        self.reporter.step(self.name, current, total, message);
    }

    pub fn download(&self, artifact: &str, bytes: (u64, Option<u64>)) {
        self.remember(&format!("downloading {artifact}"));
        self.reporter
            .download(self.name, artifact, None, Some(bytes));
    }

    /// The stage's last progress, for a timeout's message.
    pub fn last(&self) -> String {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn remember(&self, message: &str) {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = message.to_owned();
    }
}
