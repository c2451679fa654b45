//! Everything that can go wrong while resolving, fetching, verifying or installing a tool.
//! Each variant says what happened; `into_failure` adds why it matters and what to do (exit 4).

use std::path::PathBuf;
use std::time::Duration;

use crate::compat::archives::Tool;
use crate::error::{ExitKind, Failure};

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("{url} does not exist (HTTP 404)")]
    NotFound { tool: Tool, url: String },

    #[error("{url} answered HTTP {status} after {attempts} attempt(s)")]
    Http {
        tool: Tool,
        url: String,
        status: u16,
        attempts: u32,
    },

    #[error("could not download {url} after {attempts} attempt(s): {reason}")]
    Network {
        tool: Tool,
        url: String,
        attempts: u32,
        reason: String,
    },

    #[error("{url} sent nothing for {}ms (after {attempts} attempt(s))", after.as_millis())]
    Stalled {
        tool: Tool,
        url: String,
        after: Duration,
        attempts: u32,
    },

    #[error("the download of {url} ended early: {got} of {expected} bytes")]
    Truncated {
        tool: Tool,
        url: String,
        expected: u64,
        got: u64,
    },

    #[error("checksum mismatch for {url}: expected {expected} ({source_name}), got {actual}")]
    ChecksumMismatch {
        tool: Tool,
        url: String,
        expected: String,
        actual: String,
        /// Where the expected digest came from: "its .sha256 file" or "meshup.lock".
        source_name: String,
    },

    #[error(
        "{url} is not a checksum file (expected \"<hex digest>  <name>\" or a bare hex digest)"
    )]
    BadChecksumFile { tool: Tool, url: String },

    #[error("the archive {archive} has an unsafe entry {entry:?}: {reason}")]
    UnsafeEntry {
        archive: String,
        entry: String,
        reason: &'static str,
    },

    #[error("the archive {archive} has no {entry}")]
    MissingEntry { archive: String, entry: String },

    #[error("could not read the archive {archive}: {source}")]
    BadArchive {
        archive: String,
        source: std::io::Error,
    },

    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("meshup.lock pins {tool} {field} {locked}, but this run would use {resolved}")]
    LockMismatch {
        tool: Tool,
        field: &'static str,
        locked: String,
        resolved: String,
    },

    #[error("--locked was given but there is no {}", path.display())]
    LockMissing { path: PathBuf },

    #[error("meshup.lock has no entry for {tool}")]
    NotLocked { tool: Tool },

    #[error("could not read {}: {reason}", path.display())]
    BadLock { path: PathBuf, reason: String },

    #[error("{tool} publishes no release for {platform} at {version}")]
    NoArtifact {
        tool: Tool,
        version: String,
        platform: String,
    },

    #[error("no known minikube release supports Kubernetes {kubernetes}")]
    NoMinikubeFor { kubernetes: String },

    #[error("bad tool spec {spec:?}: {reason}")]
    BadSpec { spec: String, reason: &'static str },

    #[error("meshup cannot find a cache directory (set XDG_CACHE_HOME or MESHUP_TOOLS_DIR)")]
    NoCacheDir,

    #[error("the download of {} was declined", join_tools(tools))]
    Declined { tools: Vec<Tool> },

    #[error(
        "{} would have to be downloaded, but meshup runs offline (--offline)",
        join_tools(tools)
    )]
    Offline { tools: Vec<Tool> },
}

fn join_tools(tools: &[Tool]) -> String {
    super::consent::join_and(&tools.iter().map(|t| t.to_string()).collect::<Vec<_>>())
}

impl ToolError {
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ToolError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    fn tool(&self) -> Option<Tool> {
        match self {
            ToolError::NotFound { tool, .. }
            | ToolError::Http { tool, .. }
            | ToolError::Network { tool, .. }
            | ToolError::Stalled { tool, .. }
            | ToolError::Truncated { tool, .. }
            | ToolError::ChecksumMismatch { tool, .. }
            | ToolError::BadChecksumFile { tool, .. }
            | ToolError::LockMismatch { tool, .. }
            | ToolError::NotLocked { tool }
            | ToolError::NoArtifact { tool, .. } => Some(*tool),
            _ => None,
        }
    }

    fn hints(&self) -> Vec<String> {
        let mirror = self
            .tool()
            .map(|t| t.mirror_env())
            .unwrap_or("MESHUP_<TOOL>_MIRROR");
        match self {
            ToolError::NotFound { .. } | ToolError::NoArtifact { .. } => vec![
                "check the version: upstream may not publish it for this platform".into(),
                format!("a mirror must keep the upstream layout below its base URL ({mirror})"),
            ],
            ToolError::Http { .. } | ToolError::Network { .. } | ToolError::Stalled { .. } => vec![
                "check the network, or set MESHUP_DOWNLOAD_TIMEOUT_MS for slow links".into(),
                format!("behind a firewall or offline, set {mirror} to a mirror with the upstream layout"),
            ],
            ToolError::Truncated { .. } => vec!["run the command again; nothing was kept".into()],
            ToolError::ChecksumMismatch { source_name, .. } if source_name == "meshup.lock" => vec![
                "the file served today is not the one locked: do not use it unless you trust the change".into(),
                "if the new file is expected (e.g. a rebuilt mirror), run `meshup lock` again and review the diff".into(),
            ],
            ToolError::ChecksumMismatch { .. } | ToolError::BadChecksumFile { .. } => vec![
                "the file was corrupted in transit or the mirror serves a different build; nothing was kept".into(),
                format!("try again, or point {mirror} at a trusted mirror"),
            ],
            ToolError::UnsafeEntry { .. } | ToolError::MissingEntry { .. } | ToolError::BadArchive { .. } => {
                vec![format!("the archive is not an Istio release archive; check {mirror}")]
            }
            ToolError::LockMismatch { .. } | ToolError::NotLocked { .. } => vec![
                "run `meshup lock` to pin what this scenario resolves to now, and review the diff".into(),
                "or run without --locked".into(),
            ],
            ToolError::LockMissing { .. } => vec![
                "run `meshup lock` (next to the scenario file) and commit meshup.lock".into(),
            ],
            ToolError::BadLock { .. } => vec!["fix the file or write it again with `meshup lock`".into()],
            ToolError::NoMinikubeFor { .. } => {
                vec!["choose a Kubernetes version minikube supports (`meshup tools list --help`)".into()]
            }
            ToolError::Io { .. } | ToolError::NoCacheDir => {
                vec!["set MESHUP_TOOLS_DIR to a writable directory".into()]
            }
            ToolError::BadSpec { .. } => vec!["write tools as name@version, e.g. minikube@v1.24.0 istioctl@1.5.0".into()],
            ToolError::Declined { .. } => vec!["pass --yes to download without asking".into()],
            ToolError::Offline { .. } => vec![
                "run without --offline to let meshup fetch them, or `meshup tools install` them while online".into(),
            ],
        }
    }

    fn exit_kind(&self) -> ExitKind {
        match self {
            ToolError::NoMinikubeFor { .. } => ExitKind::Preflight,
            ToolError::BadSpec { .. } => ExitKind::Usage,
            _ => ExitKind::Tools,
        }
    }
}

impl From<ToolError> for Failure {
    fn from(err: ToolError) -> Failure {
        let mut failure = Failure::new(err.exit_kind(), err.to_string());
        for hint in err.hints() {
            failure = failure.hint(hint);
        }
        if let Some(tool) = err.tool() {
            failure = failure.details(serde_json::json!({ "tool": tool.name() }));
        }
        failure
    }
}

impl ToolError {
    /// The tools a run needed but was not allowed to fetch (offline, or the user said no).
    pub fn withheld(&self) -> &[Tool] {
        match self {
            ToolError::Declined { tools } | ToolError::Offline { tools } => tools,
            _ => &[],
        }
    }

    /// For the edge (`anyhow`): the error as a `Failure`, so `main` finds its exit code.
    pub fn into_anyhow(self) -> anyhow::Error {
        Failure::from(self).into()
    }
}

pub type Result<T, E = ToolError> = std::result::Result<T, E>;
