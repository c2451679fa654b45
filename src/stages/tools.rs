//! The tools stage: the minikube, istioctl and kubectl the scenario needs — from PATH, the
//! cache, or fetched and verified — and a last check that the minikube about to run accepts
//! the Kubernetes version.

use crate::host::probe;
use crate::compat::minikube as mk_compat;
use crate::error::{ExitKind, Failure};
use crate::plan::{Plan, Probes};
use crate::report::events::Reporter;
use crate::tools::{self, ToolPaths};

/// Resolves, fetches (with consent) and verifies the scenario's tools, as the plan showed them.
pub async fn run(
    opts: &tools::PrepareOptions,
    plan: &Plan,
    probes: &Probes,
    reporter: &Reporter,
) -> anyhow::Result<ToolPaths> {
    let installer = tools::Installer::from_env()?;
    let request = crate::commands::tools::request_from_plan(plan);
    let have_minikube = probes.minikube.version().map(|v| v.v());
    let progress = ToolsProgress {
        reporter,
        current: std::sync::Mutex::new((String::new(), 0, None)),
    };
    let (resolution, paths) = tools::prepare(
        &request,
        opts,
        &installer,
        // The preflight's answers: the resolution is the one the plan showed.
        &probe::ProbedTools(probes),
        &progress,
    )
    .await
    .map_err(|e| withheld_minikube_is_preflight(e, plan, have_minikube))?;
    for r in resolution.all() {
        reporter.info("tools", &r.why);
    }
    check_minikube_range(&resolution.minikube, plan)?;
    Ok(paths)
}

/// When meshup may not fetch the minikube a version needs (offline, or the user said no), the
/// run cannot work: a preflight failure (3) with the ways out, not a download error.
fn withheld_minikube_is_preflight(
    err: tools::ToolError,
    plan: &Plan,
    have: Option<String>,
) -> anyhow::Error {
    if err.withheld().contains(&tools::Tool::Minikube) {
        minikube_range_failure(plan, have.as_deref()).into()
    } else {
        err.into_anyhow()
    }
}

/// Download progress of the tools stage, as the run's events.
struct ToolsProgress<'a> {
    reporter: &'a Reporter,
    /// (artifact, bytes done, total)
    current: std::sync::Mutex<(String, u64, Option<u64>)>,
}

impl tools::Progress for ToolsProgress<'_> {
    fn started(&self, _tool: tools::Tool, url: &str, total: Option<u64>) {
        let artifact = url.rsplit('/').next().unwrap_or(url).to_owned();
        self.reporter
            .download("tools", &artifact, None, Some((0, total)));
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = (artifact, 0, total);
    }

    fn advanced(&self, bytes: u64) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        current.1 += bytes;
        self.reporter
            .download("tools", &current.0, None, Some((current.1, current.2)));
    }

    fn retrying(&self, tool: tools::Tool, attempt: u32, reason: &str) {
        self.reporter.warn(
            "tools",
            &format!("{tool}: attempt {attempt} failed ({reason}); retrying"),
        );
    }
}

/// The minikube about to run must accept the version: an out-of-range version never reaches
/// `minikube start` (it would exit 106 after minutes of work).
fn check_minikube_range(minikube: &tools::Resolved, plan: &Plan) -> anyhow::Result<()> {
    // The resolved release is the one that runs (PATH's was asked its version by the probe; a
    // cached or fetched one was verified as that release), so no need to ask it again.
    let release = crate::compat::Version(minikube.semver.clone());
    match mk_compat::kubernetes_range(&release) {
        Some(range) if !range.contains(&plan.kubernetes) => {
            Err(minikube_range_failure(plan, Some(&minikube.version)).into())
        }
        _ => Ok(()),
    }
}

fn minikube_range_failure(plan: &Plan, have: Option<&str>) -> Failure {
    let k8s = plan.kubernetes.v();
    let need = mk_compat::newest_release_for(&plan.kubernetes);
    let have_text = have.map_or("no usable minikube".to_owned(), |v| format!("you have {v}"));
    let newest_ok = mk_compat::kubernetes_range(&mk_compat::default_release())
        .map(|r| format!("`--k8s v{}.x`", r.oldest.minor()))
        .unwrap_or_else(|| "a newer `--k8s`".into());
    let message = match &need {
        Some(need) => format!(
            "Kubernetes {k8s} needs minikube ≤ {}; {have_text}",
            need.v()
        ),
        None => format!("no minikube release meshup knows starts Kubernetes {k8s}; {have_text}"),
    };
    let mut failure = Failure::new(ExitKind::Preflight, message).details(serde_json::json!({
        "kubernetes": k8s,
        "minikube": have,
        "needs": need.as_ref().map(|v| v.v()),
    }));
    failure = match need {
        Some(need) => failure.hint(format!(
            "let meshup fetch minikube {} (drop `--offline`), or use {newest_ok}",
            need.v()
        )),
        None => failure.hint(format!("use {newest_ok}")),
    };
    failure
}
