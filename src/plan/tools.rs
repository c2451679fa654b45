//! Which minikube / istioctl / kubectl a run uses and where each comes from, as data.
//!
//! This is the seam with `src/tools/` (branch `tools`): probing fills `Probes` (what is on
//! PATH, and `cached` — what meshup's tool cache holds, which the tools module lists), and
//! `choose` decides `ToolSource` purely. The tools module then makes a `Download` real
//! (fetch, verify, install into the cache) and may replace `download_url` with
//! `compat::archives`.

use std::path::PathBuf;

use serde::Serialize;

use crate::compat::Version;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tool {
    Minikube,
    Istioctl,
    Kubectl,
    Docker,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Minikube => "minikube",
            Tool::Istioctl => "istioctl",
            Tool::Kubectl => "kubectl",
            Tool::Docker => "docker",
        }
    }
}

/// What probing found for one program on PATH.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ToolProbe {
    #[default]
    Missing,
    Found {
        path: PathBuf,
        /// None when the version query failed or printed something unexpected.
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

/// A tool already in meshup's cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cached {
    pub tool: Tool,
    pub version: Version,
    pub path: PathBuf,
}

/// Where a tool comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ToolSource {
    /// Found on PATH (version None when unknown).
    Path {
        path: PathBuf,
        version: Option<String>,
    },
    /// Fetched into the cache before the cluster stage.
    Download { version: String, url: String },
    /// Already in meshup's cache.
    Cache { path: PathBuf },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolChoice {
    pub tool: Tool,
    /// The version that will run (None: whatever is on PATH, unchecked).
    pub version: Option<String>,
    pub source: ToolSource,
    /// Why this one, in a sentence.
    pub reason: String,
}

/// Picks PATH if `accept` likes its version, else the cache, else a download of `want`.
pub fn choose(
    tool: Tool,
    probe: &ToolProbe,
    cached: &[Cached],
    want: &Version,
    accept: impl Fn(&Version) -> bool,
    why_not_path: impl Fn(Option<&Version>) -> String,
) -> ToolChoice {
    let display = |v: &Version| match tool {
        Tool::Istioctl => v.to_string(),
        _ => v.v(),
    };
    if let ToolProbe::Found {
        path,
        version: Some(found),
        ..
    } = probe
        && accept(found)
    {
        return ToolChoice {
            tool,
            version: Some(display(found)),
            source: ToolSource::Path {
                path: path.clone(),
                version: Some(display(found)),
            },
            reason: format!("{} {} on PATH fits", tool.name(), display(found)),
        };
    }
    let reason = why_not_path(probe.version());
    if let Some(c) = cached.iter().find(|c| c.tool == tool && c.version == *want) {
        return ToolChoice {
            tool,
            version: Some(display(want)),
            source: ToolSource::Cache {
                path: c.path.clone(),
            },
            reason,
        };
    }
    ToolChoice {
        tool,
        version: Some(display(want)),
        source: ToolSource::Download {
            version: display(want),
            url: download_url(tool, want),
        },
        reason,
    }
}

/// Upstream release URLs for this platform (research/minikube.md §6, research/istio.md §5,
/// shared/data/compat.yaml `istio_release_archive`). To be replaced by `compat::archives`
/// (tools branch), which also knows the mirrors.
pub fn download_url(tool: Tool, version: &Version) -> String {
    let arch = match std::env::consts::ARCH {
        "aarch64" => "arm64",
        _ => "amd64",
    };
    let macos = std::env::consts::OS == "macos";
    match tool {
        Tool::Minikube => format!(
            "https://github.com/kubernetes/minikube/releases/download/{}/minikube-{}-{arch}",
            version.v(),
            if macos { "darwin" } else { "linux" }
        ),
        Tool::Kubectl => format!(
            "https://dl.k8s.io/release/{}/bin/{}/{arch}/kubectl",
            version.v(),
            if macos { "darwin" } else { "linux" }
        ),
        Tool::Istioctl | Tool::Docker => {
            let m = version.minor();
            let suffix = if macos {
                if m >= crate::compat::Minor::new(1, 19)
                    || (m >= crate::compat::Minor::new(1, 10) && arch == "arm64")
                {
                    format!("osx-{arch}")
                } else {
                    "osx".to_string()
                }
            } else if m <= crate::compat::Minor::new(1, 5) {
                "linux".to_string()
            } else {
                format!("linux-{arch}")
            };
            format!(
                "https://github.com/istio/istio/releases/download/{version}/istioctl-{version}-{suffix}.tar.gz"
            )
        }
    }
}
