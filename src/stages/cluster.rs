//! The cluster stage: make the minikube profile match the scenario, doing as little as possible.
//! Running and unchanged → nothing; stopped or half-started → start again; newer Kubernetes →
//! upgrade after consent; anything minikube cannot change in place → recreate, only when asked.

use futures::future::BoxFuture;

use super::cluster_progress::ReporterProgress;
use crate::cluster::change::{self, Change, Desired};
use crate::cluster::events::MinikubeEvent;
use crate::cluster::minikube::{Minikube, StartArgs};
use crate::engine::{ClusterReady, Done, RunCx, Stage, StageCx};
use crate::error::{ExitKind, Failure};
use crate::plan::StageName;

/// What the stage needs to know about the run, beyond the cluster itself.
pub struct Consent<'a> {
    /// `--yes` (or CI mode with `--yes`): changes that need consent go ahead.
    pub yes: bool,
    /// `--recreate`: a profile that cannot be changed in place is deleted and created again.
    pub recreate: bool,
    /// Asks the user (None when there is nobody to ask: no TTY, CI).
    pub ask: Option<&'a (dyn Fn(&str) -> bool + Sync)>,
}

impl Consent<'_> {
    fn allows(&self, given: bool, question: &str) -> bool {
        given || self.ask.is_some_and(|ask| ask(question))
    }
}

/// Progress of the stage, for the reporter.
pub trait ClusterProgress: Send {
    fn planned(&mut self, change: &Change);
    fn minikube(&mut self, event: &MinikubeEvent);
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClusterOutcome {
    pub change: Change,
    /// What was done, in a few words: "created", "nothing changed", "started again", ...
    pub done: &'static str,
}

pub async fn ensure(
    minikube: &Minikube,
    start: &StartArgs,
    desired: &Desired,
    consent: &Consent<'_>,
    progress: &mut dyn ClusterProgress,
    before_delete: impl std::future::Future<Output = ()>,
) -> anyhow::Result<ClusterOutcome> {
    let state = minikube.status().await.map_err(cluster_error)?;
    let profile = minikube.profile_info().await.map_err(cluster_error)?;
    let change = change::plan(&state, profile.as_ref(), desired);
    progress.planned(&change);
    let mut on_event = |e: &MinikubeEvent| progress.minikube(e);
    let done = match &change {
        Change::Nothing => "nothing changed",
        Change::Create => {
            minikube.start(start, &mut on_event).await?;
            "created"
        }
        Change::Resume { .. } => {
            minikube.start(start, &mut on_event).await?;
            "started again"
        }
        Change::Upgrade { from, to } => {
            let question = format!(
                "Upgrade profile `{}` from Kubernetes {from} to {to} in place?",
                minikube.profile()
            );
            if !consent.allows(consent.yes, &question) {
                return Err(Failure::new(
                    ExitKind::Cluster,
                    format!(
                        "profile `{}` runs Kubernetes {from}; the scenario wants {to}, an in-place upgrade that needs your consent",
                        minikube.profile()
                    ),
                )
                .hint("run again with `--yes` to upgrade, or `--recreate` to start from a new cluster")
                .details(serde_json::to_value(&change)?)
                .into());
            }
            minikube.start(start, &mut on_event).await?;
            "upgraded"
        }
        Change::Recreate { differences } => {
            let listed: Vec<String> = differences.iter().map(|d| format!("  {d}")).collect();
            let question = format!(
                "Profile `{}` differs from the scenario:\n{}\nDelete it and create it again?",
                minikube.profile(),
                listed.join("\n")
            );
            if !consent.allows(consent.recreate, &question) {
                return Err(Failure::new(
                    ExitKind::Cluster,
                    format!(
                        "profile `{}` exists with other settings, which minikube cannot change in place:\n{}",
                        minikube.profile(),
                        listed.join("\n")
                    ),
                )
                .hint("run again with `--recreate` to delete and recreate it (its workloads are lost), or use another `--cluster-profile`")
                .details(serde_json::to_value(&change)?)
                .into());
            }
            // The old cluster's tunnel goes first, gracefully (its route and addresses with
            // it): left running, it would outlive the node it routes to.
            before_delete.await;
            minikube.delete().await.map_err(cluster_error)?;
            minikube.start(start, &mut on_event).await?;
            "recreated"
        }
    };
    Ok(ClusterOutcome { change, done })
}

fn cluster_error(err: crate::exec::ExecError) -> anyhow::Error {
    match err {
        e @ crate::exec::ExecError::Cancelled { .. } => e.into(),
        e => Failure::new(ExitKind::Cluster, e.to_string()).into(),
    }
}

/// The engine's cluster stage: minikube on disk, the profile locked, the profile made to match
/// the scenario, and its context proven to answer.
pub struct Cluster;

impl Stage for Cluster {
    fn name(&self) -> StageName {
        StageName::Cluster
    }

    fn failure(&self) -> ExitKind {
        ExitKind::Cluster
    }

    fn what(&self, cx: &RunCx) -> String {
        format!("minikube profile `{}`", cx.profile())
    }

    fn run<'a>(&'a self, cx: &'a RunCx, sx: &'a StageCx) -> BoxFuture<'a, anyhow::Result<Done>> {
        Box::pin(run(cx, sx))
    }
}

async fn run(cx: &RunCx, sx: &StageCx) -> anyhow::Result<Done> {
    let pre = cx.need(&cx.outputs.preflight, "preflight")?;
    let plan = &pre.plan;
    let profile = cx.profile().to_owned();
    let minikube_tool = super::tools::ensure_minikube(sx, pre).await?;
    let mut paths = crate::tools::ToolPaths::planned(&pre.resolution);
    paths.ensured(crate::tools::Tool::Minikube, minikube_tool.clone());
    let _ = cx.outputs.minikube.set(minikube_tool);

    cx.lock_profile(&command_line())?;
    let kubeconfig = cx
        .options
        .isolated_kubeconfig
        .then(|| cx.state.file("kubeconfig"));
    let mut minikube = Minikube::new(&paths.minikube, &profile).with_path(paths.child_path());
    if let Some(path) = &kubeconfig {
        minikube = minikube.with_kubeconfig(path);
    }
    cx.update_record(|r| {
        r.scenario = serde_json::json!({
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
        r.stage_started("cluster");
    })?;

    let mut progress = ReporterProgress {
        reporter: sx.reporter(),
        planned: None,
    };
    let start = crate::plan::commands::start_args(&cx.scenario, &plan.kubernetes);
    let desired = super::cluster_progress::desired(&cx.scenario, plan);
    let reporter = sx.reporter();
    let ask = |question: &str| crate::report::prompt::confirm_during(reporter, question);
    let consent = Consent {
        yes: cx.options.yes,
        recreate: cx.options.recreate,
        ask: cx
            .options
            .interactive
            .then_some(&ask as &(dyn Fn(&str) -> bool + Sync)),
    };
    let state_dir = cx.state.dir().to_owned();
    let stop_tunnel = async {
        let stopped = crate::tunnel::stop(&state_dir, &profile, None).await;
        if let Some(pid) = stopped.supervisor {
            sx.info(&format!(
                "stopped the tunnel of the cluster being recreated (supervisor pid {pid})"
            ));
        }
    };
    let ensured = ensure(
        &minikube,
        &start,
        &desired,
        &consent,
        &mut progress,
        stop_tunnel,
    )
    .await;
    // A profile meshup creates is one `down --all` may delete; one it found is not — even when
    // the creation was interrupted half-way.
    if matches!(
        progress.planned,
        Some(Change::Create | Change::Recreate { .. })
    ) {
        cx.update_record(|r| r.created_by_meshup = true)?;
    }
    let outcome = ensured?;
    // The context minikube wrote must work for a client that names it (never current-context);
    // until it answers, the stage is not done.
    let client =
        crate::k8s::client_for_context(&profile, kubeconfig.as_deref(), ExitKind::Cluster).await?;
    let server =
        crate::k8s::server_version(&client, crate::k8s::timeout(), ExitKind::Cluster).await?;
    sx.info(&format!(
        "Kubernetes {server} answers on context `{profile}`"
    ));
    let done = outcome.done.to_owned();
    let details = serde_json::json!({
        "cluster": outcome,
        "kubernetes": server,
        "context": profile,
        "kubeconfig": kubeconfig,
    });
    let _ = cx.outputs.cluster.set(ClusterReady {
        outcome,
        server,
        context: profile,
        kubeconfig,
    });
    Ok(Done::new(done).with(details))
}

fn command_line() -> String {
    std::env::args()
        .map(|a| shell_escape::unix::escape(a.into()).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
