//! meshup's own tools: which minikube / istioctl / kubectl a scenario needs (`resolve`), and
//! getting them pinned, checksum-verified and cached (`install`, `lock`). Cache layout and the
//! lock's purpose: docs/tools.md.

pub mod cache;
pub mod consent;
pub mod download;
pub mod error;
pub mod extract;
pub mod install;
pub mod lock;
pub mod probe;
pub mod resolve;
pub mod verify;

use std::ffi::OsString;
use std::path::PathBuf;

pub use crate::compat::archives::Tool;
pub use download::{DownloadConfig, Progress, Quiet};
pub use error::ToolError;
pub use install::{Installed, Installer, Sources};
pub use lock::Lock;
pub use resolve::{Origin, Request, Resolution, Resolved};

/// Where each resolved tool is, once everything needed is on disk.
#[derive(Debug, Clone)]
pub struct ToolPaths {
    pub minikube: PathBuf,
    pub istioctl: PathBuf,
    pub kubectl: PathBuf,
    /// `profiles/` of the cached Istio release, when istioctl came from the cache.
    pub istio_profiles: Option<PathBuf>,
    /// Cache folders of the tools meshup brought (never a folder from the user's PATH, whose
    /// order must not change for the children).
    pub path_prefix: Vec<PathBuf>,
}

impl ToolPaths {
    /// PATH for child processes: the folders of the tools meshup brought first (Istio 1.5's
    /// `manifest apply` runs whatever `kubectl` PATH gives it), then the caller's PATH, which
    /// meshup never modifies for itself.
    pub fn child_path(&self) -> OsString {
        let mut dirs = self.path_prefix.clone();
        if let Some(path) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&path));
        }
        std::env::join_paths(dirs).unwrap_or_default()
    }
}

/// Downloads (or finds in the cache) every needed tool of `resolution`, verifying each against
/// its `.sha256` or, when resolved from a lock, the locked digest.
pub async fn ensure(
    resolution: &Resolution,
    installer: &Installer,
    progress: &dyn Progress,
) -> Result<ToolPaths, ToolError> {
    let mut paths = Vec::new();
    let mut profiles = None;
    let mut path_prefix = Vec::new();
    for r in resolution.all() {
        let path = match &r.origin {
            Origin::Path { path } => path.clone(),
            _ if !r.needed => r.path().clone(),
            _ => {
                let done = installer
                    .ensure(r.tool, &r.semver, r.sha256.as_deref(), progress)
                    .await?;
                if r.tool == Tool::Istioctl {
                    profiles = Some(done.entry.dir.join(extract::PROFILES_DIR));
                }
                path_prefix.push(done.entry.dir.clone());
                done.entry.binary
            }
        };
        paths.push(path);
    }
    let [minikube, istioctl, kubectl]: [PathBuf; 3] = paths.try_into().expect("three tools");
    Ok(ToolPaths {
        minikube,
        istioctl,
        kubectl,
        istio_profiles: profiles,
        path_prefix,
    })
}

/// How a run treats the lock and the consent question.
#[derive(Debug, Clone, Default)]
pub struct PrepareOptions {
    /// `--locked`: meshup.lock must exist and everything must match it.
    pub locked: bool,
    /// CI mode: no prompt; a lock, when present, is honoured as if `--locked` was given.
    pub ci: bool,
    /// `--yes`: download without asking.
    pub yes: bool,
    /// The scenario file, whose folder holds meshup.lock (else the current directory).
    pub scenario: Option<PathBuf>,
    /// `--offline`: nothing may be downloaded; the cache and PATH must have everything.
    pub offline: bool,
}

/// The tools stage in one call: read the lock the run must honour, resolve, ask once on a
/// terminal, then download and verify what is missing.
pub async fn prepare(
    req: &Request,
    opts: &PrepareOptions,
    installer: &Installer,
    probe: &impl probe::Probe,
    progress: &dyn Progress,
) -> Result<(Resolution, ToolPaths), ToolError> {
    let lock = Lock::for_run(
        opts.locked,
        opts.ci,
        opts.scenario.as_deref(),
        installer.platform,
    )?;
    let resolution = resolve::resolve(req, probe, installer, lock.as_ref()).await?;
    let downloads = resolution.downloads();
    if opts.offline && !downloads.is_empty() {
        return Err(ToolError::Offline {
            tools: downloads.iter().map(|r| r.tool).collect(),
        });
    }
    consent::confirm(&resolution.downloads(), opts.yes, opts.ci, lock.is_some())?;
    let paths = ensure(&resolution, installer, progress).await?;
    Ok((resolution, paths))
}
