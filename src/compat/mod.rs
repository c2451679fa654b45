//! What meshup knows about which versions work together, as data tables with their sources.
//! Pure: no I/O. The tables mirror `shared/data/compat.yaml` (dated 2026-11-24); each file
//! cites where its rows come from. Checks return `Finding`s, each with the nearest alternative
//! that works, so a user learns what to change, not only what is wrong.

pub mod archives;
pub mod check;
pub mod host;
pub mod istio;
pub mod istio_paths;
pub mod kubernetes;
pub mod minikube;
pub mod version;

pub use version::{Minor, Version};

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// Whether a finding follows from the versions alone (the same on every machine) or from this
/// host (what is installed, cgroups, CPUs). `plan` fails on the first kind only; `doctor` and
/// the preflight stage on both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Versions,
    Host,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub scope: Scope,
    /// Stable identifier for scripts and tests, e.g. `istio-k8s-untested`.
    pub code: &'static str,
    pub message: String,
    /// The nearest working alternative, phrased as what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alternative: Option<String>,
}

impl Finding {
    pub fn new(
        severity: Severity,
        scope: Scope,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            severity,
            scope,
            code,
            message: message.into(),
            alternative: None,
        }
    }

    pub fn alternative(mut self, alternative: impl Into<String>) -> Self {
        self.alternative = Some(alternative.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}
