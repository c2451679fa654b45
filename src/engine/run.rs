//! The scheduler: runs the plan's stage graph, each stage as soon as what it needs is done
//! (a `JoinSet`), and wraps every stage the same way — started / done / failed / skipped /
//! interrupted events, the state record, its own timeout, the exit-code mapping. A failed
//! stage's dependants are skipped with the reason; the global timeout and signals stop every
//! running stage gracefully (their process groups get their stop signal, then SIGKILL).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use super::context::{RunCx, StopReason};
use super::stage::{Done, NotNeeded, Stage, StageCx};
use crate::error::{ExitKind, Failure};
use crate::plan::StageName;
use crate::state::StageStatus;

/// How long stages get to stop (children ended, record written) after the run was stopped,
/// before their tasks are dropped (which SIGKILLs their process groups).
pub fn stop_grace() -> Duration {
    std::env::var("MESHUP_STOP_GRACE_MS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .map_or(Duration::from_secs(15), Duration::from_millis)
}

/// How one stage ended.
#[derive(Debug)]
pub enum StageEnd {
    Done(Done),
    /// The first line of its error (the run's result carries the first failure whole).
    Failed(String),
    Skipped(String),
    /// Stopped by a signal or the global timeout while it ran.
    Stopped,
}

/// How the run ended: the exit it means, each stage's end, and the error that decided it.
#[derive(Debug)]
pub struct RunEnd {
    pub exit: ExitKind,
    pub stages: Vec<(StageName, StageEnd)>,
    /// How long each stage that began ran.
    pub elapsed: BTreeMap<StageName, Duration>,
    /// The first failure (or the timeout / interruption), for the result.
    pub error: Option<anyhow::Error>,
}

impl RunEnd {
    pub fn done(&self, name: StageName) -> Option<&Done> {
        self.stages.iter().find_map(|(n, e)| match e {
            StageEnd::Done(d) if *n == name => Some(d),
            _ => None,
        })
    }
}

/// The graph node of a stage: what it needs, and why the plan skips it (if it does).
struct Node {
    needs: Vec<StageName>,
    skipped: Option<String>,
}

pub async fn run(cx: Arc<RunCx>, stages: Vec<Arc<dyn Stage>>) -> RunEnd {
    let by_name: HashMap<StageName, Arc<dyn Stage>> =
        stages.iter().map(|s| (s.name(), s.clone())).collect();
    let deadline = tokio::time::Instant::now() + cx.options.timeout;
    let mut ends: Vec<(StageName, StageEnd)> = Vec::new();
    let mut first_error: Option<(ExitKind, anyhow::Error)> = None;

    // The preflight makes the plan, whose stage list is the graph that runs (the one
    // `--dry-run` prints): it runs first, on its own.
    let Some(preflight) = by_name.get(&StageName::Preflight).cloned() else {
        return RunEnd {
            exit: ExitKind::Internal,
            stages: ends,
            elapsed: BTreeMap::new(),
            error: Some(super::context::bug("no preflight stage")),
        };
    };
    let mut set: JoinSet<(StageName, Ended)> = JoinSet::new();
    let mut running: BTreeMap<StageName, Arc<StageCx>> = BTreeMap::new();
    let mut tasks: HashMap<tokio::task::Id, StageName> = HashMap::new();
    let mut ended: HashMap<StageName, tokio::time::Instant> = HashMap::new();
    let mut began: BTreeMap<StageName, tokio::time::Instant> = BTreeMap::new();
    began.insert(StageName::Preflight, tokio::time::Instant::now());
    spawn(&mut set, &mut running, &mut tasks, &cx, preflight);
    let mut graph: Option<BTreeMap<StageName, Node>> = None;
    let mut pending: Vec<StageName> = Vec::new();
    let mut finished: HashMap<StageName, bool> = HashMap::new(); // true: its dependants may run
    let mut stopped_at: Option<tokio::time::Instant> = None;

    loop {
        // Start whatever is ready; a skip can unblock (or doom) others, so go round until
        // nothing changes.
        while let Some(graph) = &graph {
            let before = pending.len();
            let mut still = Vec::new();
            for name in std::mem::take(&mut pending) {
                let node = &graph[&name];
                let blocked = node.needs.iter().find(|n| finished.get(n) == Some(&false));
                if let Some(b) = blocked {
                    let why = format!("needs {}, which did not finish", b.as_str());
                    cx.reporter.stage_skipped(name.as_str(), &why);
                    ends.push((name, StageEnd::Skipped(why)));
                    finish(&mut finished, &cx, name, false);
                    continue;
                }
                if cx.stopped().is_some() {
                    let why = "the run was stopped before it began".to_owned();
                    cx.reporter.stage_skipped(name.as_str(), &why);
                    ends.push((name, StageEnd::Skipped(why)));
                    finish(&mut finished, &cx, name, false);
                    continue;
                }
                if !node.needs.iter().all(|n| finished.get(n) == Some(&true)) {
                    still.push(name);
                    continue;
                }
                match (&node.skipped, by_name.get(&name)) {
                    (Some(why), _) => {
                        cx.reporter.stage_skipped(name.as_str(), why);
                        ends.push((name, StageEnd::Skipped(why.clone())));
                        finish(&mut finished, &cx, name, true);
                    }
                    (None, None) => {
                        let why = "not part of this meshup build yet".to_owned();
                        cx.reporter.stage_skipped(name.as_str(), &why);
                        ends.push((name, StageEnd::Skipped(why)));
                        finish(&mut finished, &cx, name, true);
                    }
                    (None, Some(stage)) => {
                        began.insert(name, tokio::time::Instant::now());
                        spawn(&mut set, &mut running, &mut tasks, &cx, stage.clone())
                    }
                }
            }
            pending = still;
            if pending.len() == before {
                break;
            }
        }
        if set.is_empty() {
            break;
        }

        let joined = tokio::select! {
            j = set.join_next() => j,
            _ = tokio::time::sleep_until(deadline), if cx.stopped().is_none() => {
                let what: Vec<String> = running.iter().map(|(n, sx)| {
                    let last = sx.last();
                    if last.is_empty() { n.as_str().to_owned() } else { format!("{} ({last})", n.as_str()) }
                }).collect();
                let message = format!(
                    "the run did not finish within {}; still running: {}",
                    crate::scenario::quantity::format_duration(cx.options.timeout),
                    what.join(", ")
                );
                cx.stop(StopReason::Timeout);
                stopped_at = Some(tokio::time::Instant::now());
                first_error.get_or_insert((ExitKind::Timeout, Failure::new(ExitKind::Timeout, message)
                    .hint("give it longer with `--timeout` (or MESHUP_TIMEOUT), e.g. `--timeout 30m`")
                    .details(serde_json::json!({ "running": running.keys().map(|n| n.as_str()).collect::<Vec<_>>() }))
                    .into()));
                continue;
            }
            _ = cx.cancel.cancelled(), if cx.stopped().is_none() => {
                // A signal (the run's token is a child of the process's shutdown token).
                let reason = match crate::exec::shutdown_reason() {
                    Some(crate::exec::ShutdownReason::Terminate) => StopReason::Terminate,
                    _ => StopReason::Interrupt,
                };
                cx.stop(reason);
                stopped_at = Some(tokio::time::Instant::now());
                continue;
            }
            _ = async { tokio::time::sleep_until(stopped_at.expect("guarded") + stop_grace()).await }, if stopped_at.is_some() => {
                // Past the grace: dropping the tasks SIGKILLs their process groups.
                set.abort_all();
                while set.join_next().await.is_some() {}
                for (name, _) in std::mem::take(&mut running) {
                    cx.reporter.stage_interrupted(name.as_str(), "did not stop within the grace period; killed");
                    cx.record_stage(name.as_str(), StageStatus::Interrupted, "killed");
                    ends.push((name, StageEnd::Stopped));
                }
                break;
            }
        };
        let Some(joined) = joined else { break };
        let (name, end) = match joined {
            Ok(v) => v,
            Err(e) => {
                // A panicking stage: a bug, with what it said.
                let name = tasks.get(&e.id()).copied().unwrap_or(StageName::Preflight);
                let error =
                    super::context::bug(format!("the {} stage panicked: {e}", name.as_str()));
                cx.reporter.stage_failed(name.as_str(), &error);
                cx.record_stage(name.as_str(), StageStatus::Failed, "panicked");
                (name, Ended::Failed(error))
            }
        };
        running.remove(&name);
        ended.insert(name, tokio::time::Instant::now());
        finish(&mut finished, &cx, name, matches!(end, Ended::Done(_)));
        ends.push((
            name,
            match end {
                Ended::Done(d) => StageEnd::Done(d),
                Ended::Skipped(why) => StageEnd::Skipped(why),
                Ended::Stopped => StageEnd::Stopped,
                Ended::Failed(e) => {
                    let line = first_line(&e);
                    if first_error.is_none() {
                        first_error = Some((crate::report::events::error_object(&e).0, e));
                    }
                    StageEnd::Failed(line)
                }
            },
        ));
        // After the preflight, the plan's graph.
        if name == StageName::Preflight
            && graph.is_none()
            && let Some(pre) = cx.outputs.preflight.get()
        {
            let g: BTreeMap<StageName, Node> = pre
                .plan
                .stages
                .iter()
                .filter(|s| s.name != StageName::Preflight)
                .map(|s| {
                    (
                        s.name,
                        Node {
                            needs: s.needs.clone(),
                            skipped: s.skipped.clone(),
                        },
                    )
                })
                .collect();
            pending = g.keys().copied().collect();
            graph = Some(g);
        }
    }

    // Stages never reached (the preflight failed): skipped, with the reason.
    if graph.is_none() && finished.get(&StageName::Preflight) != Some(&true) {
        for name in StageName::ALL
            .into_iter()
            .filter(|n| *n != StageName::Preflight)
        {
            let why = "needs preflight, which did not finish".to_owned();
            cx.reporter.stage_skipped(name.as_str(), &why);
            ends.push((name, StageEnd::Skipped(why)));
        }
    }

    let (exit, error) = match (cx.stopped(), first_error) {
        (Some(StopReason::Timeout), Some((_, e))) => (ExitKind::Timeout, Some(e)),
        (Some(r @ (StopReason::Interrupt | StopReason::Terminate)), _) => {
            let why = if r == StopReason::Interrupt {
                "interrupted (SIGINT)"
            } else {
                "terminated (SIGTERM)"
            };
            (r.exit_kind(), Some(Failure::new(r.exit_kind(), why).into()))
        }
        (_, Some((kind, e))) => (kind, Some(e)),
        (_, None) => (ExitKind::Success, None),
    };
    let elapsed = began
        .into_iter()
        .map(|(name, at)| {
            (
                name,
                ended
                    .get(&name)
                    .copied()
                    .unwrap_or_else(tokio::time::Instant::now)
                    - at,
            )
        })
        .collect();
    RunEnd {
        exit,
        stages: ends,
        elapsed,
        error,
    }
}

/// Records that `name` ended — `ok`: its dependants may run — for the scheduler and for stages
/// waiting on it (`RunCx::ended`).
fn finish(finished: &mut HashMap<StageName, bool>, cx: &RunCx, name: StageName, ok: bool) {
    finished.insert(name, ok);
    cx.mark_ended(name, ok);
}

/// How a stage's task ended (the run's `StageEnd` keeps only the first line of an error).
enum Ended {
    Done(Done),
    /// It found its work no longer wanted (`NotNeeded`).
    Skipped(String),
    Failed(anyhow::Error),
    Stopped,
}

fn spawn(
    set: &mut JoinSet<(StageName, Ended)>,
    running: &mut BTreeMap<StageName, Arc<StageCx>>,
    tasks: &mut HashMap<tokio::task::Id, StageName>,
    cx: &Arc<RunCx>,
    stage: Arc<dyn Stage>,
) {
    let name = stage.name();
    let sx = Arc::new(StageCx::new(
        name.as_str(),
        cx.reporter.clone(),
        cx.cancel.child_token(),
    ));
    running.insert(name, sx.clone());
    let cx = cx.clone();
    let handle = set.spawn(async move {
        let end = run_stage(&cx, stage.as_ref(), &sx).await;
        (name, end)
    });
    tasks.insert(handle.id(), name);
}

/// One stage, wrapped: events, record, its own timeout, how its error maps to an exit.
async fn run_stage(cx: &RunCx, stage: &dyn Stage, sx: &StageCx) -> Ended {
    let name = stage.name().as_str();
    cx.reporter.stage_started(name, &stage.what(cx));
    cx.record_stage(name, StageStatus::Running, "");
    let work = crate::exec::with_cancel(sx.cancel.clone(), stage.run(cx, sx));
    tokio::pin!(work);
    let result = match stage.timeout(cx) {
        None => work.await,
        Some(limit) => tokio::select! {
            r = &mut work => r,
            _ = tokio::time::sleep(limit) => {
                let last = sx.last();
                sx.cancel.cancel();
                let _ = tokio::time::timeout(stop_grace(), &mut work).await;
                Err(Failure::new(
                    stage.failure(),
                    format!(
                        "the {name} stage did not finish within {}{}",
                        crate::scenario::quantity::format_duration(limit),
                        if last.is_empty() { String::new() } else { format!("; last: {last}") }
                    ),
                ).into())
            }
        },
    };
    match result {
        Ok(done) => {
            cx.reporter.stage_done(name, &done.outcome);
            cx.record_stage(name, StageStatus::Done, &done.outcome);
            Ended::Done(done)
        }
        Err(_) if cx.stopped().is_some() => {
            let reason = match cx.stopped() {
                Some(StopReason::Timeout) => "stopped by the global timeout",
                Some(StopReason::Terminate) => "terminated (SIGTERM)",
                _ => "interrupted (SIGINT)",
            };
            let last = sx.last();
            let detail = if last.is_empty() {
                reason.to_owned()
            } else {
                format!("{reason} while: {last}")
            };
            cx.reporter.stage_interrupted(name, &detail);
            cx.record_stage(name, StageStatus::Interrupted, &detail);
            Ended::Stopped
        }
        Err(e) if e.is::<NotNeeded>() => {
            let why = e.to_string();
            cx.reporter.stage_skipped(name, &why);
            cx.record_stage(name, StageStatus::Skipped, &why);
            Ended::Skipped(why)
        }
        Err(e) => {
            let e = classify(e, stage.failure());
            cx.reporter.stage_failed(name, &e);
            cx.record_stage(name, StageStatus::Failed, &first_line(&e));
            Ended::Failed(e)
        }
    }
}

/// A `Failure` keeps its kind. An external program or the cluster failing is the stage failing
/// (its exit kind). Anything else is a bug in meshup: exit 70, with the whole chain.
fn classify(e: anyhow::Error, stage_kind: ExitKind) -> anyhow::Error {
    if e.chain().any(|c| c.downcast_ref::<Failure>().is_some()) {
        return e;
    }
    let external = e.chain().any(|c| {
        c.downcast_ref::<crate::exec::ExecError>().is_some()
            || c.downcast_ref::<kube::Error>().is_some()
    });
    if external {
        Failure::new(stage_kind, format!("{e:#}")).into()
    } else {
        e
    }
}

fn first_line(e: &anyhow::Error) -> String {
    e.to_string().lines().next().unwrap_or_default().to_owned()
}
