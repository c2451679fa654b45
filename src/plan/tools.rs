//! What probing found on PATH, and the tools a plan shows. Which minikube / istioctl / kubectl
//! a run uses is decided once, by `tools::resolve` (the command layer runs it and hands the
//! result in through `Probes::tools`), so the plan, `doctor` and the live start cannot disagree.

use std::path::PathBuf;

use serde::Serialize;

use crate::compat::Version;
use crate::tools::{Origin, Resolution, Resolved, Tool};

/// What probing found for one program on PATH.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ToolProbe {
    #[default]
    Missing,
    Found {
        path: PathBuf,
        /// None when the version query failed, printed something unexpected, or was not run.
        version: Option<Version>,
        /// Why the version is unknown, or what else went wrong (e.g. docker not running).
        problem: Option<String>,
    },
}

impl ToolProbe {
    pub fn version(&self) -> Option<&Version> {
        match self {
            ToolProbe::Found { version, .. } => version.as_ref(),
            ToolProbe::Missing => None,
        }
    }
    pub fn path(&self) -> Option<&PathBuf> {
        match self {
            ToolProbe::Found { path, .. } => Some(path),
            ToolProbe::Missing => None,
        }
    }
}

/// `tools::resolve`'s answer for a scenario, as the command layer got it.
#[derive(Debug, Clone, Default)]
pub enum ToolResolution {
    /// Not asked (pure tests of the plan).
    #[default]
    Unresolved,
    Resolved(Box<Resolution>),
    /// Resolution failed (a lock that does not fit, no minikube for the version, ...).
    Failed(String),
}

/// One tool of the plan: what will run and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedTool {
    pub tool: Tool,
    /// The upstream tag (`v1.24.0`, `1.5.0`).
    pub version: String,
    pub source: Origin,
    /// Why this one, in a sentence.
    pub reason: String,
    /// The digest it must have (from meshup.lock).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl From<&Resolved> for PlannedTool {
    fn from(r: &Resolved) -> Self {
        PlannedTool {
            tool: r.tool,
            version: r.version.clone(),
            source: r.origin.clone(),
            reason: r.why.clone(),
            sha256: r.sha256.clone(),
        }
    }
}

/// The tools meshup runs for this scenario (an unneeded kubectl is left out).
pub fn planned(resolution: &Resolution) -> Vec<PlannedTool> {
    resolution
        .all()
        .into_iter()
        .filter(|r| r.needed)
        .map(PlannedTool::from)
        .collect()
}
