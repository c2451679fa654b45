//! The istioctl of the scenario's Istio version for read-only commands (`manifest diff`,
//! `istio profiles`): resolved the way `start` resolves it (PATH when the version matches, else
//! meshup's cache), never downloaded here — that is `meshup tools install`'s (or `start`'s) job.

use std::path::PathBuf;

use crate::compat::Version;
use crate::error::{ExitKind, Failure};
use crate::host::probe;
use crate::plan::{self as planner, ToolResolution};
use crate::scenario::Scenario;
use crate::tools::Origin;

/// The resolved Istio version, its istioctl, and the release's `manifests/profiles` when the
/// cache has the archive.
pub struct Located {
    pub istio: Version,
    pub istioctl: PathBuf,
    pub profiles: Option<PathBuf>,
}

pub async fn istioctl_for(s: &Scenario) -> anyhow::Result<Located> {
    let mut probes = probe::probe(false).await;
    let _ = probe::resolve_tools(s, &mut probes, &probe::LockUse::default()).await;
    let plan = planner::build(s, &probes);
    let istio = plan.istio.clone();
    let ToolResolution::Resolved(r) = &probes.tools else {
        return Err(Failure::new(
            ExitKind::Tools,
            format!("cannot find an istioctl {istio} for this scenario"),
        )
        .hint(format!("`meshup tools install --istio {istio}` fetches it"))
        .into());
    };
    match &r.istioctl.origin {
        Origin::Path { path } => Ok(Located {
            istio,
            istioctl: path.clone(),
            profiles: None,
        }),
        Origin::Cache { path } => Ok(Located {
            istio,
            istioctl: path.clone(),
            profiles: path
                .parent()
                .map(|d| d.join(crate::tools::extract::PROFILES_DIR))
                .filter(|p| p.is_dir()),
        }),
        Origin::Download { .. } => Err(Failure::new(
            ExitKind::Tools,
            format!("istioctl {istio} is neither on PATH nor in meshup's cache"),
        )
        .hint(format!(
            "`meshup tools install --istio {istio}` fetches it (checksum-verified)"
        ))
        .into()),
    }
}
