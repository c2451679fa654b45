//! The live `meshup start`: preflight → tools → cluster (tunnel, mesh and verify join as their
//! stages land). Each stage is recorded in the profile's state dir, so a re-run knows what was
//! done and an interrupted run is recognised.

use crate::cli::StartArgs;
use crate::cluster::change::Change;
use crate::cluster::minikube::Minikube;
use crate::compat::Severity;
use crate::error::ExitKind;
use crate::exec::{ShutdownReason, shutdown_reason};
use crate::plan as planner;
use crate::report::Printer;
use crate::report::events::Reporter;
use crate::scenario::Scenario;
use crate::stages::{self, cluster::Consent, cluster_progress::ReporterProgress};
use crate::state::{StageStatus, StateRoot};
use crate::tools;

use crate::host::probe;

pub async fn run(
    scenario: &Scenario,
    args: &StartArgs,
    printer: &Printer,
) -> anyhow::Result<ExitKind> {
    let reporter = Reporter::new(printer, "start");
    let outcome = run_stages(scenario, args, printer, &reporter).await;
    let kind = match &outcome {
        Ok(summary) => {
            reporter.result(ExitKind::Success, summary.clone());
            ExitKind::Success
        }
        Err(_) if shutdown_reason().is_some() => {
            let kind = match shutdown_reason() {
                Some(ShutdownReason::Terminate) => ExitKind::Terminated,
                _ => ExitKind::Interrupted,
            };
            reporter.result(
                kind,
                serde_json::json!({"interrupted": true, "profile": scenario.cluster.profile}),
            );
            kind
        }
        Err(_) => return outcome.map(|_| ExitKind::Success),
    };
    Ok(kind)
}

async fn run_stages(
    scenario: &Scenario,
    args: &StartArgs,
    printer: &Printer,
    reporter: &Reporter,
) -> anyhow::Result<serde_json::Value> {
    let profile = scenario.cluster.profile.clone();

    reporter.stage_started("preflight", "versions, tools and this host");
    let lock = probe::LockUse {
        locked: args.locked,
        ci: printer.ci,
        scenario: args.scenario.file.clone(),
    };
    let (plan, probes) = failed_as(
        reporter,
        "preflight",
        stages::preflight::run(scenario, &lock).await,
    )?;
    for finding in plan
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
    {
        reporter.warn("preflight", &finding.message);
    }
    reporter.stage_done("preflight", "ok");

    reporter.stage_started("tools", "minikube, istioctl and kubectl for this scenario");
    let opts = tools::PrepareOptions {
        locked: args.locked,
        ci: printer.ci,
        yes: printer.yes,
        scenario: args.scenario.file.clone(),
        offline: args.offline,
    };
    let paths = failed_as(
        reporter,
        "tools",
        stages::tools::run(&opts, &plan, &probes, reporter).await,
    )?;
    reporter.stage_done("tools", &format!("minikube {}", paths.minikube.display()));

    let state = StateRoot::from_env().profile(&profile);
    let _lock = state.lock(&command_line())?;
    let mut record = state.record()?;

    let kubeconfig = args.isolated_kubeconfig.then(|| state.file("kubeconfig"));
    let mut minikube = Minikube::new(&paths.minikube, &profile).with_path(paths.child_path());
    if let Some(path) = &kubeconfig {
        minikube = minikube.with_kubeconfig(path);
    }
    record.scenario = serde_json::json!({
        "kubernetes": plan.kubernetes.v(),
        "istio": plan.istio.to_string(),
        "cpus": plan.cpus,
        "memory": plan.memory,
        "driver": plan.driver,
        "kubeconfig": kubeconfig,
        "tools": {
            "minikube": paths.minikube,
            "istioctl": paths.istioctl,
            "kubectl": paths.kubectl,
        },
    });

    reporter.stage_started("cluster", &format!("minikube profile `{profile}`"));
    record.stage_started("cluster");
    state.save(&record)?;
    let mut progress = ReporterProgress {
        reporter,
        planned: None,
    };
    let start = planner::commands::start_args(scenario, &plan.kubernetes);
    let desired = stages::cluster_progress::desired(scenario, &plan);
    let ask = |question: &str| crate::report::prompt::confirm(question);
    let consent = Consent {
        yes: printer.yes,
        recreate: args.recreate,
        ask: printer
            .interactive
            .then_some(&ask as &(dyn Fn(&str) -> bool + Sync)),
    };
    let ensured =
        stages::cluster::ensure(&minikube, &start, &desired, &consent, &mut progress).await;
    let outcome = match ensured {
        // The context minikube wrote must work for a client that names it (never
        // current-context); until it answers, the stage is not done.
        Ok(o) => prove_context(&profile, kubeconfig.as_deref())
            .await
            .map(|server| (o, server)),
        Err(e) => Err(e),
    };
    // A profile meshup creates is one `down --all` may delete; one it found is not — even when
    // the creation was interrupted half-way.
    if matches!(
        progress.planned,
        Some(Change::Create | Change::Recreate { .. })
    ) {
        record.created_by_meshup = true;
    }
    let (status, detail) = match &outcome {
        Ok((o, _)) => (StageStatus::Done, o.done.to_owned()),
        Err(_) if shutdown_reason().is_some() => (StageStatus::Interrupted, "interrupted".into()),
        Err(e) => (StageStatus::Failed, first_line(e)),
    };
    record.stage_ended("cluster", status, &detail);
    state.save(&record)?;
    let (outcome, server) = failed_as(reporter, "cluster", outcome)?;
    reporter.stage_done(
        "cluster",
        &format!("{} (Kubernetes {server})", outcome.done),
    );
    for stage in ["tunnel", "mesh", "verify"] {
        reporter.stage_skipped(stage, "not part of this meshup build yet");
    }
    if let Some(path) = &kubeconfig {
        printer.note(&format!("export KUBECONFIG={}", path.display()));
    }
    Ok(serde_json::json!({
        "profile": profile,
        "context": profile,
        "kubernetes": server,
        "cluster": outcome,
        "kubeconfig": kubeconfig,
        "stateDir": state.dir(),
    }))
}

/// The API server's version through the profile's context, within MESHUP_KUBE_TIMEOUT_MS.
async fn prove_context(
    profile: &str,
    kubeconfig: Option<&std::path::Path>,
) -> anyhow::Result<String> {
    let client = crate::k8s::client_for_context(profile, kubeconfig, ExitKind::Cluster).await?;
    crate::k8s::server_version(&client, crate::k8s::timeout(), ExitKind::Cluster).await
}

/// Reports a stage's error as that stage's failure, and passes the result on.
fn failed_as<T>(reporter: &Reporter, stage: &str, result: anyhow::Result<T>) -> anyhow::Result<T> {
    if let Err(e) = &result {
        reporter.stage_failed(stage, e);
    }
    result
}

fn command_line() -> String {
    std::env::args()
        .map(|a| shell_escape::unix::escape(a.into()).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn first_line(e: &anyhow::Error) -> String {
    e.to_string().lines().next().unwrap_or_default().to_owned()
}
