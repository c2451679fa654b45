//! The smoke stage: the verify checks' workload (`src/verify/smoke.rs`) created as soon as the
//! sidecar injector of the Istio being installed answers, while the mesh stage still waits for
//! the gateways' rollout, so its image pull and sidecar start overlap theirs.
//!
//! It runs alongside the mesh stage rather than after it: it waits for the injector through
//! watches, and reacts to the mesh stage's end — a mesh that did not finish leaves nothing to
//! wait for (the stage is skipped, not failed); a finished mesh whose injector still does not
//! answer within a check's timeout is a failure that says what is missing.

use std::time::Instant;

use futures::future::BoxFuture;
use serde_json::json;

use crate::engine::{Done, NotNeeded, RunCx, Stage, StageCx};
use crate::error::{ExitKind, Failure};
use crate::plan::StageName;
use crate::verify::injector::{self, Expected};
use crate::verify::{smoke, watch};

pub struct Smoke;

impl Stage for Smoke {
    fn name(&self) -> StageName {
        StageName::Smoke
    }

    fn failure(&self) -> ExitKind {
        ExitKind::Verify
    }

    fn what(&self, cx: &RunCx) -> String {
        format!(
            "smoke workload in {}, as soon as the sidecar injector answers",
            cx.scenario.verify.smoke_namespace
        )
    }

    fn run<'a>(&'a self, cx: &'a RunCx, sx: &'a StageCx) -> BoxFuture<'a, anyhow::Result<Done>> {
        Box::pin(run(cx, sx))
    }
}

async fn run(cx: &RunCx, sx: &StageCx) -> anyhow::Result<Done> {
    let began = Instant::now();
    let plan = cx.plan()?;
    let client = cx.kube().await?;
    let expected = Expected::of(&cx.scenario.mesh, &plan.istio);
    let after_mesh = cx.scenario.verify.check_timeout;
    sx.info(&format!(
        "waiting for the sidecar injector ({} of Istio {})",
        expected.webhook(),
        expected.tag
    ));
    // The run's own timeout bounds the wait while the mesh stage works.
    let wait = injector::wait_ready(&client, &expected, cx.options.timeout);
    tokio::pin!(wait);
    let found = tokio::select! {
        r = &mut wait => r,
        finished = cx.ended(StageName::Mesh) => {
            if !finished {
                return Err(NotNeeded("the mesh stage did not finish: no sidecar injector to wait for".into()).into());
            }
            tokio::select! {
                r = &mut wait => r,
                () = tokio::time::sleep(after_mesh) => Err(format!(
                    "{} after the mesh stage finished: {}",
                    watch::secs(after_mesh),
                    injector::missing_now(&client, &expected).await
                )),
            }
        }
    };
    let found = found.map_err(|missing| {
        Failure::new(
            ExitKind::Verify,
            format!("the sidecar injector did not answer: {missing}"),
        )
        .hint(format!(
            "`kubectl --context {} -n istio-system get pods,mutatingwebhookconfigurations` shows the control plane",
            cx.profile()
        ))
    })?;
    let waited = began.elapsed();
    let ns = cx.scenario.verify.smoke_namespace.as_str();
    let image = cx.scenario.verify.smoke_image.as_str();
    let refused = |e: String| Failure::new(ExitKind::Verify, e);
    smoke::namespace(&client, ns, found.revision.as_deref())
        .await
        .map_err(refused)?;
    smoke::workload(&client, ns, image).await.map_err(|e| {
        refused(e).hint(format!(
            "the injector ({}) answered a moment ago; `meshup verify -p {}` tries again",
            found.pod,
            cx.profile()
        ))
    })?;
    Ok(Done::new(format!(
        "{ns}/{} created, the injector ready after {}",
        smoke::NAME,
        watch::secs(waited)
    ))
    .with(json!({
        "pod": format!("{ns}/{}", smoke::NAME),
        "image": image,
        "injector": {"webhook": found.webhook, "service": found.service, "pod": found.pod},
        "waitedMs": waited.as_millis() as u64,
    })))
}
