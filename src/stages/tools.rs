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

/// The minikube the cluster stage runs, on disk. A failed fetch of one the Kubernetes version
/// forces (the user's does not start it) says why it was needed and what else works.
pub async fn ensure_minikube(
    sx: &StageCx,
    pre: &crate::engine::Preflight,
) -> anyhow::Result<tools::EnsuredTool> {
    let r = &pre.resolution.minikube;
    let installer = tools::Installer::from_env()?;
    let progress = ToolsProgress {
        sx,
        current: std::sync::Mutex::new((String::new(), 0, None)),
    };
    let have = pre.probes.minikube.version().map(|v| v.v());
    let ensured = tools::ensure_one(r, &installer, &progress)
        .await
        .map_err(|e| forced_minikube_download_failed(e, &pre.plan, have.as_deref()))?;
    sx.info(&format!(
        "minikube {} {}",
        r.version,
        ensured.binary.display()
    ));
    Ok(ensured)
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
        forced_minikube_download_failed(err, plan, have.as_deref())
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

/// Why the run cannot use a minikube it has, or cannot get the one it needs (offline, the user
/// said no, or the version is beyond the minikube that will run): computed from the user's
/// actual minikube (`have`), not from the newest release meshup knows.
pub fn minikube_range_failure(plan: &Plan, have: Option<&str>) -> Failure {
    let k8s = plan.kubernetes.v();
    let need = mk_compat::newest_release_for(&plan.kubernetes);
    let have_range = have
        .and_then(crate::compat::Version::parse)
        .and_then(|v| mk_compat::kubernetes_range(&v));
    let in_range = have_range
        .as_ref()
        .is_some_and(|r| r.contains(&plan.kubernetes));
    let yours = match (have, &have_range) {
        (Some(v), Some(r)) => format!(
            "yours is {v}, which starts Kubernetes {} to {}",
            r.oldest.v(),
            r.newest.v()
        ),
        (Some(v), None) => format!("yours is {v}"),
        (None, _) => "none is installed (PATH or meshup's cache)".to_owned(),
    };
    let message = match (&need, have, in_range) {
        (None, ..) => {
            format!("no minikube release meshup knows starts Kubernetes {k8s}; {yours}")
        }
        // The version is not the reason: minikube is simply missing.
        (Some(need), None, _) => {
            format!(
                "minikube is needed (meshup would fetch {}); {yours}",
                need.v()
            )
        }
        (Some(need), Some(_), true) => format!(
            "this run needs minikube {} (e.g. pinned by meshup.lock); {yours}",
            need.v()
        ),
        (Some(need), Some(_), false) => {
            format!("Kubernetes {k8s} needs minikube ≤ {}; {yours}", need.v())
        }
    };
    let mut failure = Failure::new(ExitKind::Preflight, message).details(serde_json::json!({
        "kubernetes": k8s,
        "minikube": have,
        "needs": need.as_ref().map(|v| v.v()),
        "minikubeStarts": have_range.as_ref().map(|r| [r.oldest.v(), r.newest.v()]),
    }));
    if let Some(need) = &need {
        failure = failure.hint(format!(
            "let meshup fetch minikube {} (run without `--offline`, or answer yes to the download)",
            need.v()
        ));
    }
    failure = match (&have_range, have) {
        (Some(r), Some(v)) if !in_range => failure.hint(format!(
            "or choose a Kubernetes version your minikube {v} starts: `--k8s {}` up to `--k8s {}`",
            r.oldest.minor(),
            r.newest.minor()
        )),
        (_, None) => failure.hint(match &need {
            Some(need) => format!(
                "or install it while online: `meshup tools install minikube@{}`",
                need.v()
            ),
            None => "or install a minikube that starts it".to_owned(),
        }),
        _ => failure,
    };
    failure
}

/// A failed download of the minikube the Kubernetes version forces (the user's does not start
/// it): the error says why that minikube was needed and what else would work, not only that a
/// download failed.
fn forced_minikube_download_failed(
    err: tools::ToolError,
    plan: &Plan,
    have: Option<&str>,
) -> anyhow::Error {
    use tools::ToolError as E;
    let minikube = matches!(
        &err,
        E::NotFound { tool, .. }
            | E::Http { tool, .. }
            | E::Network { tool, .. }
            | E::Stalled { tool, .. }
            | E::Truncated { tool, .. }
            | E::ChecksumMismatch { tool, .. }
            | E::BadChecksumFile { tool, .. }
            if *tool == tools::Tool::Minikube
    );
    let have_range = have
        .and_then(crate::compat::Version::parse)
        .and_then(|v| mk_compat::kubernetes_range(&v));
    let forced = have_range
        .as_ref()
        .is_some_and(|r| !r.contains(&plan.kubernetes));
    if !(minikube && forced) {
        return err.into_anyhow();
    }
    let why = minikube_range_failure(plan, have);
    let mut failure = Failure::new(ExitKind::Tools, format!("{err}; {}", why.message))
        .details(serde_json::json!({ "tool": "minikube" }));
    for hint in Failure::from(err)
        .hints
        .iter()
        .chain(why.hints.iter().skip(1))
    {
        failure = failure.hint(hint.clone());
    }
    failure.into()
}
