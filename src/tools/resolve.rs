//! Which minikube, istioctl and kubectl a scenario needs, and where each will come from.
//! The result is data (for the plan, `doctor` and `--dry-run`); nothing is downloaded here.

use std::path::PathBuf;

use semver::Version;
use serde::Serialize;

use super::error::{Result, ToolError};
use super::install::Installer;
use super::lock::Lock;
use super::probe::Probe;
use crate::compat;
use crate::compat::archives::Tool;

/// What a scenario asks of its tools.
#[derive(Debug, Clone)]
pub struct Request {
    pub kubernetes: Version,
    pub istio: Version,
    /// Whether meshup runs kubectl for this scenario: Istio 1.5's `manifest apply` shells out
    /// to it, and `mesh.method: manifest` applies with it (`plan::request` decides).
    pub kubectl: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Origin {
    /// The user's own executable, found on PATH.
    Path { path: PathBuf },
    /// Already in meshup's cache.
    Cache { path: PathBuf },
    /// To be downloaded (and verified) into `path`.
    Download { url: String, path: PathBuf },
}

#[derive(Debug, Clone, Serialize)]
pub struct Resolved {
    pub tool: Tool,
    /// The upstream tag (`v1.24.0`, `1.5.0`).
    pub version: String,
    #[serde(skip)]
    pub semver: Version,
    #[serde(flatten)]
    pub origin: Origin,
    /// One sentence a user can read: why this version, why from there.
    pub why: String,
    /// Whether meshup itself runs it for this scenario (kubectl only when `Request::kubectl`
    /// says so); unneeded tools are never downloaded.
    pub needed: bool,
    /// The sha256 this run must see (from meshup.lock with --locked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl Resolved {
    /// The executable to run once `ensure` has been done (PATH, cache, or the download's target).
    pub fn path(&self) -> &PathBuf {
        match &self.origin {
            Origin::Path { path } | Origin::Cache { path } | Origin::Download { path, .. } => path,
        }
    }

    pub fn needs_download(&self) -> bool {
        self.needed && matches!(self.origin, Origin::Download { .. })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Resolution {
    pub minikube: Resolved,
    pub istioctl: Resolved,
    pub kubectl: Resolved,
}

impl Resolution {
    pub fn all(&self) -> [&Resolved; 3] {
        [&self.minikube, &self.istioctl, &self.kubectl]
    }

    pub fn downloads(&self) -> Vec<&Resolved> {
        self.all()
            .into_iter()
            .filter(|r| r.needs_download())
            .collect()
    }
}

/// The Kubernetes range `minikube start` of this release accepts (`compat::minikube`, from
/// minikube's constants.go per tag), or `None` if older than the table.
pub fn minikube_range(release: &Version) -> Option<(Version, Version)> {
    let plain = Version::new(release.major, release.minor, release.patch);
    compat::minikube::kubernetes_range(&compat::Version(plain)).map(|r| (r.oldest.0, r.newest.0))
}

/// The newest listed minikube release that starts `kubernetes` without --force.
pub fn newest_minikube_for(kubernetes: &Version) -> Option<Version> {
    compat::minikube::newest_release_for(&compat::Version(kubernetes.clone())).map(|v| v.0)
}

pub fn minikube_supports(release: &Version, kubernetes: &Version) -> bool {
    minikube_range(release)
        .is_some_and(|(oldest, newest)| oldest <= *kubernetes && *kubernetes <= newest)
}

/// kubectl's version skew policy: one minor older or newer than the API server.
pub fn kubectl_fits(kubectl: &Version, kubernetes: &Version) -> bool {
    kubectl.major == kubernetes.major && kubectl.minor.abs_diff(kubernetes.minor) <= 1
}

/// Resolves the three tools. With a lock, its versions are used as they are (PATH is ignored:
/// a locked run uses exactly the locked artifacts) and must fit the scenario.
pub async fn resolve(
    req: &Request,
    probe: &impl Probe,
    installer: &Installer,
    lock: Option<&Lock>,
) -> Result<Resolution> {
    Ok(Resolution {
        minikube: resolve_minikube(req, probe, installer, lock).await?,
        istioctl: resolve_istioctl(req, probe, installer, lock).await?,
        kubectl: resolve_kubectl(req, probe, installer, lock, req.kubectl).await?,
    })
}

async fn resolve_minikube(
    req: &Request,
    probe: &impl Probe,
    installer: &Installer,
    lock: Option<&Lock>,
) -> Result<Resolved> {
    let k8s = &req.kubernetes;
    if let Some(lock) = lock {
        let (version, sha) = lock.pinned(Tool::Minikube)?;
        if !minikube_supports(&version, k8s) {
            let resolved = newest_minikube_for(k8s)
                .map(|v| format!("v{v}"))
                .unwrap_or_else(|| "none".into());
            return Err(ToolError::LockMismatch {
                tool: Tool::Minikube,
                field: "version",
                locked: format!("v{version}"),
                resolved,
            });
        }
        let why = format!("locked in meshup.lock; it supports Kubernetes v{k8s}");
        return from_cache_or_download(installer, Tool::Minikube, version, why, true, Some(sha));
    }
    let on_path = match probe.find(Tool::Minikube) {
        Some(path) => probe
            .version(Tool::Minikube, &path)
            .await
            .map(|v| (path, v)),
        None => None,
    };
    if let Some((path, v)) = &on_path
        && minikube_supports(v, k8s)
    {
        let why = format!("minikube v{v} on PATH supports Kubernetes v{k8s}");
        return Ok(resolved(
            Tool::Minikube,
            v.clone(),
            Origin::Path { path: path.clone() },
            why,
            true,
        ));
    }
    let release = newest_minikube_for(k8s).ok_or_else(|| ToolError::NoMinikubeFor {
        kubernetes: format!("v{k8s}"),
    })?;
    let why = match &on_path {
        Some((_, v)) => {
            let range = minikube_range(v)
                .map(|(o, n)| format!(" (it accepts v{o} to v{n})"))
                .unwrap_or_default();
            format!(
                "minikube v{v} on PATH refuses Kubernetes v{k8s}{range}; v{release} is the newest release that starts it"
            )
        }
        None => format!(
            "no minikube on PATH; v{release} is the newest release that starts Kubernetes v{k8s}"
        ),
    };
    from_cache_or_download(installer, Tool::Minikube, release, why, true, None)
}

async fn resolve_istioctl(
    req: &Request,
    probe: &impl Probe,
    installer: &Installer,
    lock: Option<&Lock>,
) -> Result<Resolved> {
    let want = &req.istio;
    if let Some(lock) = lock {
        let (version, sha) = lock.pinned(Tool::Istioctl)?;
        if version != *want {
            return Err(ToolError::LockMismatch {
                tool: Tool::Istioctl,
                field: "version",
                locked: version.to_string(),
                resolved: want.to_string(),
            });
        }
        return from_cache_or_download(
            installer,
            Tool::Istioctl,
            version,
            "locked in meshup.lock".into(),
            true,
            Some(sha),
        );
    }
    if let Some(path) = probe.find(Tool::Istioctl) {
        match probe.version(Tool::Istioctl, &path).await {
            Some(v) if v == *want => {
                let why = format!("istioctl {v} on PATH is the scenario's Istio version");
                return Ok(resolved(
                    Tool::Istioctl,
                    v,
                    Origin::Path { path },
                    why,
                    true,
                ));
            }
            Some(v) => {
                let why = format!("istioctl on PATH is {v}; the scenario needs exactly {want}");
                return from_cache_or_download(
                    installer,
                    Tool::Istioctl,
                    want.clone(),
                    why,
                    true,
                    None,
                );
            }
            None => {}
        }
    }
    let why = format!("the scenario's Istio version is {want}");
    from_cache_or_download(installer, Tool::Istioctl, want.clone(), why, true, None)
}

async fn resolve_kubectl(
    req: &Request,
    probe: &impl Probe,
    installer: &Installer,
    lock: Option<&Lock>,
    needed: bool,
) -> Result<Resolved> {
    let k8s = &req.kubernetes;
    if let Some(lock) = lock {
        let (version, sha) = lock.pinned(Tool::Kubectl)?;
        if !kubectl_fits(&version, k8s) {
            return Err(ToolError::LockMismatch {
                tool: Tool::Kubectl,
                field: "version",
                locked: format!("v{version}"),
                resolved: format!("v{k8s} (within one minor)"),
            });
        }
        let why = format!("locked in meshup.lock; within one minor of Kubernetes v{k8s}");
        return from_cache_or_download(installer, Tool::Kubectl, version, why, needed, Some(sha));
    }
    let on_path = match probe.find(Tool::Kubectl) {
        Some(path) => probe.version(Tool::Kubectl, &path).await.map(|v| (path, v)),
        None => None,
    };
    if let Some((path, v)) = &on_path
        && kubectl_fits(v, k8s)
    {
        let why = format!("kubectl v{v} on PATH is within one minor of Kubernetes v{k8s}");
        return Ok(resolved(
            Tool::Kubectl,
            v.clone(),
            Origin::Path { path: path.clone() },
            why,
            needed,
        ));
    }
    let why = match &on_path {
        Some((_, v)) => {
            format!("kubectl v{v} on PATH is more than one minor away from Kubernetes v{k8s}")
        }
        None => "no kubectl on PATH; the cluster's own version always fits".to_owned(),
    };
    from_cache_or_download(installer, Tool::Kubectl, k8s.clone(), why, needed, None)
}

fn resolved(tool: Tool, semver: Version, origin: Origin, why: String, needed: bool) -> Resolved {
    Resolved {
        tool,
        version: tool.version_tag(&semver),
        semver,
        origin,
        why,
        needed,
        sha256: None,
    }
}

fn from_cache_or_download(
    installer: &Installer,
    tool: Tool,
    version: Version,
    why: String,
    needed: bool,
    sha256: Option<String>,
) -> Result<Resolved> {
    let origin = match installer.cached(tool, &version) {
        Some(entry) => Origin::Cache { path: entry.binary },
        None => Origin::Download {
            url: installer.url(tool, &version)?,
            path: installer
                .cache
                .dir(tool, &tool.version_tag(&version))
                .join(tool.name()),
        },
    };
    let mut r = resolved(tool, version, origin, why, needed);
    r.sha256 = sha256;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn the_seed_needs_minikube_1_24() {
        assert_eq!(newest_minikube_for(&v("1.15.10")), Some(v("1.24.0")));
        assert!(!minikube_supports(&v("1.38.1"), &v("1.15.10")));
        assert!(minikube_supports(&v("1.24.0"), &v("1.15.10")));
        // Between listed releases the earlier row holds.
        assert!(minikube_supports(&v("1.24.3"), &v("1.15.10")));
        assert!(!minikube_supports(&v("1.26.1"), &v("1.15.10")));
        assert!(!minikube_supports(&v("1.8.0"), &v("1.15.10")));
    }

    #[test]
    fn newest_releases_for_recent_kubernetes() {
        assert_eq!(newest_minikube_for(&v("1.35.1")), Some(v("1.38.1")));
        assert_eq!(newest_minikube_for(&v("1.22.4")), Some(v("1.36.0")));
        assert_eq!(newest_minikube_for(&v("1.14.0")), Some(v("1.24.0")));
        assert_eq!(newest_minikube_for(&v("1.36.0")), None);
        assert_eq!(newest_minikube_for(&v("1.10.0")), None);
    }

    #[test]
    fn kubectl_skew() {
        assert!(kubectl_fits(&v("1.16.0"), &v("1.15.10")));
        assert!(kubectl_fits(&v("1.14.3"), &v("1.15.10")));
        assert!(!kubectl_fits(&v("1.17.0"), &v("1.15.10")));
        assert!(!kubectl_fits(&v("1.35.0"), &v("1.15.10")));
    }
}
