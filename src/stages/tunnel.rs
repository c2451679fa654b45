//! The tunnel stage: `minikube tunnel -p P` under meshup's detached supervisor (src/tunnel/),
//! started unless one already runs for the profile.
//!
//! When it is done: the supervisor says `running` — the tunnel is up without errors (route
//! added / SSH mode started) and every LoadBalancer Service that has an address answers on
//! it. It does not wait for the scenario's LoadBalancer Services to appear: the mesh stage,
//! which runs alongside, creates them, and waiting here for a Service nobody has created yet
//! would hang; the verify stage checks their addresses (the supervisor patches them as they
//! come). A sudo that needs a password nobody can type, a tunnel meshup did not start, another
//! cluster's route for the same service CIDR, or a tunnel that keeps failing the same way end
//! the stage with exit 6 and nothing left running, without waiting out `WAIT`.

use std::time::Duration;

use futures::future::BoxFuture;

use crate::engine::{Done, RunCx, Stage, StageCx};
use crate::error::{ExitKind, Failure};
use crate::plan::StageName;
use crate::tunnel::{self, Launch, Started};

pub struct Tunnel;

/// How long the stage waits for `running` (the real tunnel's first status is ~5 s after start).
const WAIT: Duration = Duration::from_secs(120);

impl Stage for Tunnel {
    fn name(&self) -> StageName {
        StageName::Tunnel
    }

    fn failure(&self) -> ExitKind {
        ExitKind::Tunnel
    }

    fn what(&self, cx: &RunCx) -> String {
        format!(
            "minikube tunnel -p {} (supervised in the background)",
            cx.profile()
        )
    }

    fn run<'a>(&'a self, cx: &'a RunCx, sx: &'a StageCx) -> BoxFuture<'a, anyhow::Result<Done>> {
        Box::pin(run(cx, sx))
    }
}

async fn run(cx: &RunCx, sx: &StageCx) -> anyhow::Result<Done> {
    let cluster = cx.need(&cx.outputs.cluster, "cluster")?;
    let minikube = cx.need(&cx.outputs.minikube, "minikube")?;
    let launch = Launch {
        profile: cx.profile().to_owned(),
        dir: cx.state.dir().to_owned(),
        minikube: minikube.binary.clone(),
        kubeconfig: cluster.kubeconfig.clone(),
    };
    let ensured = tokio::select! {
        r = tunnel::ensure_detached(&launch, WAIT) => r,
        () = sx.cancel.cancelled() => {
            // Interrupted or timed out while it started: leave nothing half-started behind.
            let kube = cx.kube().await.ok();
            tunnel::stop(&launch.dir, &launch.profile, kube.as_ref()).await;
            return Err(Failure::new(ExitKind::Tunnel, "the tunnel stage was stopped while the tunnel started").into());
        }
    };
    let (started, status) = ensured?;
    let (pid, again) = match started {
        Started::Already(p) => (p, true),
        Started::New(p) => (p, false),
    };
    let state = status.as_ref().map_or("starting", |s| s.state.name());
    if state != "running" {
        let errors = status
            .as_ref()
            .map(|s| s.last_errors.join("; "))
            .unwrap_or_default();
        if again {
            sx.warn(&format!(
                "the tunnel's supervisor (pid {pid}) runs, but the tunnel is {state}{}",
                if errors.is_empty() {
                    String::new()
                } else {
                    format!(": {errors}")
                }
            ));
        } else {
            let kube = cx.kube().await.ok();
            tunnel::stop(&launch.dir, &launch.profile, kube.as_ref()).await;
            return Err(Failure::new(
                ExitKind::Tunnel,
                format!(
                    "minikube tunnel -p {} did not run within {}s (it is {state}){}",
                    launch.profile,
                    WAIT.as_secs(),
                    if errors.is_empty() {
                        String::new()
                    } else {
                        format!("; last errors: {errors}")
                    }
                ),
            )
            .hint(format!(
                "`meshup tunnel logs -p {}` shows its log",
                launch.profile
            ))
            .into());
        }
    }
    let mode = status.as_ref().map(|s| s.mode);
    let outcome = if again {
        format!("already running (supervisor pid {pid})")
    } else {
        format!("running in the background (supervisor pid {pid})")
    };
    Ok(Done::new(outcome).with(serde_json::json!({
        "supervisorPid": pid,
        "alreadyRunning": again,
        "mode": mode,
        "services": status.as_ref().map(|s| s.services.clone()),
        "log": launch.dir.join(tunnel::LOG_FILE),
    })))
}
