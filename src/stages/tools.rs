//! The tools stage: the minikube, istioctl and kubectl the scenario needs — from PATH, the
//! cache, or fetched and verified — and a last check that the minikube about to run accepts
//! the Kubernetes version.

use futures::future::BoxFuture;

use crate::compat::minikube as mk_compat;
use crate::engine::{Done, RunCx, Stage, StageCx};
use crate::error::{ExitKind, Failure};
use crate::host::probe;
use crate::plan::{Plan, Probes, StageName};
use crate::tools;

/// Where each tool comes from, as the plan showed it, with the one download question asked;
/// the minikube about to run must accept the Kubernetes version. (The preflight runs this.)
pub async fn resolve(
    cx: &RunCx,
    plan: &Plan,
    probes: &Probes,
) -> anyhow::Result<tools::Resolution> {
    let o = &cx.options;
    let opts = tools::PrepareOptions {
        locked: o.locked,
        ci: o.ci,
        yes: o.yes,
        scenario: o.scenario_file.clone(),
        offline: o.offline,
    };
    let installer = tools::Installer::from_env()?;
    let request = plan.tool_request();
    let have_minikube = probes.minikube.version().map(|v| v.v());
    let resolution = tools::resolve_for_run(
        &request,
        &opts,
        &installer,
        // The preflight's answers: the resolution is the one the plan showed.
        &probe::ProbedTools(probes),
        &|q: &str| crate::report::prompt::ask_yes_during(&cx.reporter, q),
    )
    .await
    .map_err(|e| withheld_minikube_is_preflight(e, plan, have_minikube))?;
    check_minikube_range(&resolution.minikube, plan)?;
    Ok(resolution)
}

/// One tool on disk, its download progress reported under `stage`.
pub async fn ensure(sx: &StageCx, r: &tools::Resolved) -> anyhow::Result<tools::EnsuredTool> {
    let installer = tools::Installer::from_env()?;
    let progress = ToolsProgress {
        sx,
        current: std::sync::Mutex::new((String::new(), 0, None)),
    };
    tools::ensure_one(r, &installer, &progress)
        .await
        .map_err(|e| e.into_anyhow())
}

/// The engine's tools stage: istioctl (and kubectl when the mesh needs it), fetched and
/// verified while the cluster starts; minikube is the cluster stage's own first step.
pub struct Tools;

impl Stage for Tools {
    fn name(&self) -> StageName {
        StageName::Tools
    }

    fn failure(&self) -> ExitKind {
        ExitKind::Tools
    }

    fn what(&self, _cx: &RunCx) -> String {
        "istioctl and kubectl for this scenario".into()
    }

    fn run<'a>(&'a self, cx: &'a RunCx, sx: &'a StageCx) -> BoxFuture<'a, anyhow::Result<Done>> {
        Box::pin(async move {
            let resolution = &cx.need(&cx.outputs.preflight, "preflight")?.resolution;
            let mut paths = tools::ToolPaths::planned(resolution);
            let mut done = Vec::new();
            for r in [&resolution.istioctl, &resolution.kubectl] {
                paths.ensured(r.tool, ensure(sx, r).await?);
                if r.needed {
                    let from = match &r.origin {
                        tools::Origin::Path { .. } => "PATH",
                        tools::Origin::Cache { .. } => "cache",
                        tools::Origin::Download { .. } => "downloaded",
                    };
                    done.push(format!("{} {} ({from})", r.tool, r.version));
                }
            }
            let _ = cx.outputs.tools.set(paths);
            Ok(Done::new(if done.is_empty() {
                "nothing needed".to_owned()
            } else {
                done.join(", ")
            }))
        })
    }
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

/// Download progress, as the stage's events.
struct ToolsProgress<'a> {
    sx: &'a StageCx,
    /// (artifact, bytes done, total)
    current: std::sync::Mutex<(String, u64, Option<u64>)>,
}

impl tools::Progress for ToolsProgress<'_> {
    fn started(&self, _tool: tools::Tool, url: &str, total: Option<u64>) {
        let artifact = url.rsplit('/').next().unwrap_or(url).to_owned();
        self.sx.download(&artifact, (0, total));
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = (artifact, 0, total);
    }

    fn advanced(&self, bytes: u64) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        current.1 += bytes;
        self.sx.download(&current.0, (current.1, current.2));
    }

    fn retrying(&self, tool: tools::Tool, attempt: u32, reason: &str) {
        self.sx.warn(&format!(
            "{tool}: attempt {attempt} failed ({reason}); retrying"
        ));
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
