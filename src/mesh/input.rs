//! The mesh request as bad input (exit 2): an Istio profile, `--set` path or JWT policy the
//! chosen Istio does not have. With a pinned Istio version it is known before anything runs,
//! so `start` refuses it before the first probe; an `auto` version is checked in the plan.

use crate::compat::check::{MeshInput, is_bad_input, mesh_input};
use crate::error::{ExitKind, Failure};
use crate::scenario::Scenario;
use crate::scenario::model::{IstioSpec, JwtPolicy};

/// The findings for a scenario whose Istio version is pinned (`None` when it is `auto`).
pub fn pinned_findings(s: &Scenario) -> Option<Vec<crate::compat::Finding>> {
    let istio = match &s.mesh.istio {
        IstioSpec::Auto => return None,
        IstioSpec::Exact(v) | IstioSpec::Minor(_, v) => v,
    };
    Some(mesh_input(&MeshInput {
        istio,
        set_paths: s.mesh.set.keys().map(String::as_str).collect(),
        jwt_policy: match s.mesh.jwt_policy {
            JwtPolicy::Auto => None,
            p => Some(p.as_str()),
        },
        profile: &s.mesh.profile,
    }))
}

/// Exit 2 with every problem and what to use instead, before any process starts.
pub fn check_pinned(s: &Scenario) -> anyhow::Result<()> {
    let Some(findings) = pinned_findings(s) else {
        return Ok(());
    };
    let bad: Vec<_> = findings.iter().filter(|f| is_bad_input(f)).collect();
    if bad.is_empty() {
        return Ok(());
    }
    let mut failure = Failure::new(
        ExitKind::Usage,
        format!(
            "the mesh settings ask for what Istio {} does not have:\n{}",
            s.mesh.istio,
            bad.iter()
                .map(|f| format!("  - {}", f.message))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    )
    .details(serde_json::json!({ "findings": bad }));
    for f in &bad {
        if let Some(alt) = &f.alternative {
            failure = failure.hint(alt.clone());
        }
    }
    Err(failure.into())
}

/// The overrides checked by the matching istioctl itself, read-only (`manifest generate`), when
/// that istioctl is already on this machine: a path meshup's tables do not know (a typo) is
/// then exit 2 before the cluster is touched. When istioctl still has to be downloaded, the
/// mesh stage's own `manifest generate` catches it (also exit 2, nothing installed).
pub async fn validate_with_istioctl(
    s: &Scenario,
    istio: &crate::compat::Version,
    resolved: &crate::tools::Resolved,
    cancel: &tokio_util::sync::CancellationToken,
) -> anyhow::Result<bool> {
    use crate::tools::Origin;
    if s.mesh.set.is_empty() || matches!(resolved.origin, Origin::Download { .. }) {
        return Ok(false);
    }
    let r = super::command::Request {
        istio: istio.clone(),
        profile: s.mesh.profile.clone(),
        set: s
            .mesh
            .set
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        jwt_policy: None,
    };
    let t = super::command::Target {
        istioctl: resolved.path().clone(),
        context: String::new(),
        kubeconfig: None,
        path: None,
        readiness_timeout: None,
    };
    super::install::render(&r, &t, cancel).await?;
    Ok(true)
}
