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
    let mut paths = ToolPaths::planned(resolution);
    for r in resolution.all() {
        paths.ensured(r.tool, ensure_one(r, installer, progress).await?);
    }
    Ok(paths)
}

/// One tool on disk: where its binary is, and the cache folder it came from (if meshup brought
/// it).
#[derive(Debug, Clone)]
pub struct EnsuredTool {
    pub binary: PathBuf,
    pub cache_dir: Option<PathBuf>,
}

/// Downloads (or finds in the cache) one resolved tool, if it is needed and not on PATH.
pub async fn ensure_one(
    r: &Resolved,
    installer: &Installer,
    progress: &dyn Progress,
) -> Result<EnsuredTool, ToolError> {
    match &r.origin {
        Origin::Path { path } => Ok(EnsuredTool {
            binary: path.clone(),
            cache_dir: None,
        }),
        _ if !r.needed => Ok(EnsuredTool {
            binary: r.path().clone(),
            cache_dir: None,
        }),
        _ => {
            let done = installer
                .ensure(r.tool, &r.semver, r.sha256.as_deref(), progress)
                .await?;
            Ok(EnsuredTool {
                binary: done.entry.binary,
                cache_dir: Some(done.entry.dir),
            })
        }
    }
}

impl ToolPaths {
    /// Where each tool will be once ensured (a download's path is known before it happens).
    pub fn planned(resolution: &Resolution) -> ToolPaths {
        ToolPaths {
            minikube: resolution.minikube.path().clone(),
            istioctl: resolution.istioctl.path().clone(),
            kubectl: resolution.kubectl.path().clone(),
            istio_profiles: None,
            path_prefix: Vec::new(),
        }
    }

    /// Takes in a tool that is now on disk.
    pub fn ensured(&mut self, tool: Tool, t: EnsuredTool) {
        if let Some(dir) = &t.cache_dir {
            if tool == Tool::Istioctl {
                self.istio_profiles = Some(dir.join(extract::PROFILES_DIR));
            }
            self.path_prefix.push(dir.clone());
        }
        match tool {
            Tool::Minikube => self.minikube = t.binary,
            Tool::Istioctl => self.istioctl = t.binary,
            Tool::Kubectl => self.kubectl = t.binary,
        }
    }
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

/// Everything before a download, in one call: read the lock the run must honour, resolve, and
/// ask once on a terminal. `meshup start` does this in its preflight, so the downloads that
/// follow can run in different stages side by side.
pub async fn resolve_for_run(
    req: &Request,
    opts: &PrepareOptions,
    installer: &Installer,
    probe: &impl probe::Probe,
    ask: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Resolution, ToolError> {
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
    consent::confirm(
        &resolution.downloads(),
        opts.yes,
        opts.ci,
        lock.is_some(),
        ask,
    )?;
    Ok(resolution)
}

/// Resolve, ask, then download and verify what is missing (`meshup tools install`).
pub async fn prepare(
    req: &Request,
    opts: &PrepareOptions,
    installer: &Installer,
    probe: &impl probe::Probe,
    progress: &dyn Progress,
) -> Result<(Resolution, ToolPaths), ToolError> {
    let ask = |q: &str| crate::report::prompt::ask_yes(q);
    let resolution = resolve_for_run(req, opts, installer, probe, &ask).await?;
    let paths = ensure(&resolution, installer, progress).await?;
    Ok((resolution, paths))
}
