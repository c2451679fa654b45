//! The mesh stage: Istio installed with the istioctl the tools stage brought, against the
//! profile's context, as `mesh::install` decides (JWT policy, record, consent). Thin: the
//! domain is `src/mesh/`.

use std::time::Duration;

use futures::future::BoxFuture;

use crate::engine::{Done, RunCx, Stage, StageCx};
use crate::error::ExitKind;
use crate::mesh::command::Target;
use crate::mesh::install::{self, MeshProgress, Setup};
use crate::plan::StageName;

pub struct Mesh;

struct StageProgress<'a>(&'a StageCx);

impl MeshProgress for StageProgress<'_> {
    fn info(&mut self, message: &str) {
        self.0.info(message);
    }
    fn warn(&mut self, message: &str) {
        self.0.warn(message);
    }
}

impl Stage for Mesh {
    fn name(&self) -> StageName {
        StageName::Mesh
    }

    fn failure(&self) -> ExitKind {
        ExitKind::Mesh
    }

    fn what(&self, cx: &RunCx) -> String {
        let istio = cx
            .plan()
            .map(|p| p.istio.to_string())
            .unwrap_or_else(|_| cx.scenario.mesh.istio.to_string());
        format!("Istio {istio}, `{}` profile", cx.scenario.mesh.profile)
    }

    fn run<'a>(&'a self, cx: &'a RunCx, sx: &'a StageCx) -> BoxFuture<'a, anyhow::Result<Done>> {
        Box::pin(run(cx, sx))
    }
}

async fn run(cx: &RunCx, sx: &StageCx) -> anyhow::Result<Done> {
    let plan = cx.plan()?;
    let tools = cx.need(&cx.outputs.tools, "tools")?;
    let cluster = cx.need(&cx.outputs.cluster, "cluster")?;
    let client = cx.kube().await?;
    let reporter = sx.reporter();
    let ask = |question: &str| crate::report::prompt::confirm_during(reporter, question);
    let setup = Setup {
        mesh: &cx.scenario.mesh,
        istio: plan.istio.clone(),
        target: Target {
            istioctl: tools.istioctl.clone(),
            context: cluster.context.clone(),
            kubeconfig: cluster.kubeconfig.clone(),
            path: Some(tools.child_path()),
            readiness_timeout: Some(cx.scenario.verify.check_timeout),
        },
        state: &cx.state,
        cancel: sx.cancel.clone(),
        // istioctl's own readiness timeout is 5 min per component; the engine bounds the run.
        timeout: Duration::from_secs(30 * 60),
        yes: cx.options.yes,
        recreate: cx.options.recreate_mesh,
        ask: cx
            .options
            .interactive
            .then_some(&ask as &(dyn Fn(&str) -> bool + Sync)),
    };
    let outcome = install::ensure(&setup, &client, &mut StageProgress(sx)).await?;
    Ok(Done::new(format!(
        "Istio {} `{}` {}",
        outcome.istio, outcome.profile, outcome.done
    ))
    .with(serde_json::to_value(&outcome)?))
}
