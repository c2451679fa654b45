//! The run's context: what every stage of one `meshup start` shares — the scenario, the
//! options, the reporter, the profile's state, the cancellation token — and the slots in which
//! stages hand their results to the stages that need them. Nothing here is process-wide, so
//! several runs (a matrix) can live side by side in one process.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::error::{ExitKind, Failure};
use crate::plan::{Plan, Probes, StageName};
use crate::report::events::Reporter;
use crate::scenario::Scenario;
use crate::stages::cluster::ClusterOutcome;
use crate::state::{ProfileLock, ProfileState, Record, StageStatus};
use crate::tools::ToolPaths;

/// What the user asked of this run beyond the scenario.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub scenario_file: Option<PathBuf>,
    pub locked: bool,
    pub offline: bool,
    pub recreate: bool,
    /// `--recreate-mesh`: a mesh that cannot be changed in place is removed and installed.
    pub recreate_mesh: bool,
    pub isolated_kubeconfig: bool,
    pub yes: bool,
    pub ci: bool,
    /// Questions may be asked (a terminal, not CI).
    pub interactive: bool,
    /// The whole run's limit (`--timeout`, `MESHUP_TIMEOUT`, else the scenario's).
    pub timeout: Duration,
}

/// Why a run stopped before its stages were done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    Timeout,
    Interrupt,
    Terminate,
}

impl StopReason {
    pub fn exit_kind(self) -> ExitKind {
        match self {
            StopReason::Timeout => ExitKind::Timeout,
            StopReason::Interrupt => ExitKind::Interrupted,
            StopReason::Terminate => ExitKind::Terminated,
        }
    }
}

/// The preflight's result: the plan (whose stage graph is the one that runs) and the probes.
#[derive(Debug)]
pub struct Preflight {
    pub plan: Plan,
    pub probes: Probes,
    /// Where each tool comes from; the downloads were agreed to.
    pub resolution: crate::tools::Resolution,
}

/// The cluster stage's result: a profile whose context answers.
#[derive(Debug, Clone)]
pub struct ClusterReady {
    pub outcome: ClusterOutcome,
    /// The API server's version (`v1.15.10`).
    pub server: String,
    /// The kube context (= the profile).
    pub context: String,
    /// The isolated kubeconfig, when the run uses one.
    pub kubeconfig: Option<PathBuf>,
}

/// Results stages hand to each other; each is set once, by the stage that makes it.
#[derive(Default)]
pub struct Outputs {
    pub preflight: OnceLock<Preflight>,
    /// minikube on disk (the cluster stage ensures it, alongside the other downloads).
    pub minikube: OnceLock<crate::tools::EnsuredTool>,
    /// istioctl and kubectl on disk (minikube's path as resolved).
    pub tools: OnceLock<ToolPaths>,
    pub cluster: OnceLock<ClusterReady>,
}

pub struct RunCx {
    pub scenario: Scenario,
    pub options: RunOptions,
    pub reporter: Arc<Reporter>,
    /// Cancelled on a signal or the global timeout; every stage's token is a child of it.
    pub cancel: CancellationToken,
    pub state: ProfileState,
    pub outputs: Outputs,
    record: Mutex<Option<Record>>,
    lock: Mutex<Option<ProfileLock>>,
    stop: Mutex<Option<StopReason>>,
    kube: tokio::sync::OnceCell<kube::Client>,
    /// Each ended stage and whether it finished (its dependants may run), for stages that
    /// overlap another and must react to its end (`ended`).
    ends: tokio::sync::watch::Sender<BTreeMap<StageName, bool>>,
}

impl RunCx {
    pub fn new(
        scenario: Scenario,
        options: RunOptions,
        reporter: Arc<Reporter>,
        state: ProfileState,
        parent: &CancellationToken,
    ) -> RunCx {
        RunCx {
            scenario,
            options,
            reporter,
            cancel: parent.child_token(),
            state,
            outputs: Outputs::default(),
            record: Mutex::new(None),
            lock: Mutex::new(None),
            stop: Mutex::new(None),
            kube: tokio::sync::OnceCell::new(),
            ends: tokio::sync::watch::Sender::new(BTreeMap::new()),
        }
    }

    pub fn profile(&self) -> &str {
        &self.scenario.cluster.profile
    }

    /// A result an earlier stage must have produced; missing means the graph is wrong (a bug).
    pub fn need<'a, T>(&self, slot: &'a OnceLock<T>, what: &str) -> anyhow::Result<&'a T> {
        slot.get().ok_or_else(|| {
            anyhow::anyhow!(
                "the {what} result is not there: the stage graph does not order this stage after it"
            )
        })
    }

    pub fn plan(&self) -> anyhow::Result<&Plan> {
        Ok(&self.need(&self.outputs.preflight, "preflight")?.plan)
    }

    /// Takes the profile's lock for the rest of the run (exit 10 if another meshup holds it).
    pub fn lock_profile(&self, command: &str) -> anyhow::Result<()> {
        let mut held = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        if held.is_none() {
            *held = Some(self.state.lock(command)?);
        }
        Ok(())
    }

    /// Changes the profile's record and saves it. Before the profile has a state dir (a first
    /// run that has not reached the cluster), there is nothing to record.
    pub fn update_record(&self, change: impl FnOnce(&mut Record)) -> anyhow::Result<()> {
        if !self.state.exists() {
            return Ok(());
        }
        let mut slot = self.record.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(self.state.record()?);
        }
        let record = slot.as_mut().expect("loaded above");
        change(record);
        self.state.save(record)
    }

    pub fn record_stage(&self, stage: &str, status: StageStatus, detail: &str) {
        let result = self.update_record(|r| match status {
            StageStatus::Running => r.stage_started(stage),
            _ => r.stage_ended(stage, status, detail),
        });
        if let Err(e) = result {
            self.reporter
                .warn(stage, &format!("could not write meshup's record: {e:#}"));
        }
    }

    /// A kube client for the profile's context (never current-context), made once.
    pub async fn kube(&self) -> anyhow::Result<kube::Client> {
        let cluster = self.need(&self.outputs.cluster, "cluster")?;
        let client = self
            .kube
            .get_or_try_init(|| async {
                crate::k8s::client_for_context(
                    &cluster.context,
                    cluster.kubeconfig.as_deref(),
                    ExitKind::Cluster,
                )
                .await
                .map(|c| c.client)
            })
            .await?;
        Ok(client.clone())
    }

    /// Waits until `stage` has ended; `true` when it finished (done, or skipped by the plan).
    /// A stage running alongside another reacts to its end this way rather than by needing
    /// it, which would wait for it to begin.
    pub async fn ended(&self, stage: StageName) -> bool {
        let mut rx = self.ends.subscribe();
        match rx.wait_for(|m| m.contains_key(&stage)).await {
            Ok(m) => m[&stage],
            // The run is gone; nothing will end any more.
            Err(_) => false,
        }
    }

    pub(super) fn mark_ended(&self, stage: StageName, finished: bool) {
        self.ends.send_modify(|m| {
            m.insert(stage, finished);
        });
    }

    /// Stops the run (first reason wins) and cancels every stage.
    pub fn stop(&self, reason: StopReason) {
        let mut stop = self.stop.lock().unwrap_or_else(|e| e.into_inner());
        stop.get_or_insert(reason);
        self.cancel.cancel();
    }

    pub fn stopped(&self) -> Option<StopReason> {
        *self.stop.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A stage that cannot go on because the user said no, or a bug: shared shapes of errors.
pub fn bug(message: impl Into<String>) -> anyhow::Error {
    Failure::new(ExitKind::Internal, message.into())
        .hint("this is a bug in meshup; rerun with -vv and report it")
        .into()
}
