//! The verify stage of `meshup start`, after mesh and tunnel: the same checks as `meshup
//! verify` (src/verify/), each reported as a `check` event, the bundle written on a failure,
//! exit 8 when a check fails.

use futures::future::BoxFuture;
use serde_json::json;

use crate::cluster::minikube::Minikube;
use crate::engine::{Done, RunCx, Stage, StageCx};
use crate::error::{ExitKind, Failure};
use crate::plan::StageName;
use crate::verify::{self, Settings, Verdict, diagnostics};

pub struct Verify;

impl Stage for Verify {
    fn name(&self) -> StageName {
        StageName::Verify
    }

    fn failure(&self) -> ExitKind {
        ExitKind::Verify
    }

    fn what(&self, cx: &RunCx) -> String {
        format!("checks of the mesh in profile `{}`", cx.profile())
    }

    fn timeout(&self, cx: &RunCx) -> Option<std::time::Duration> {
        Some(cx.scenario.verify.total_timeout)
    }

    fn run<'a>(&'a self, cx: &'a RunCx, sx: &'a StageCx) -> BoxFuture<'a, anyhow::Result<Done>> {
        Box::pin(run(cx, sx))
    }
}

async fn run(cx: &RunCx, sx: &StageCx) -> anyhow::Result<Done> {
    let cluster = cx.need(&cx.outputs.cluster, "cluster")?;
    let client = cx.kube().await?;
    let v = &cx.scenario.verify;
    let settings = Settings {
        profile: cx.profile().to_owned(),
        load_balancers: v.load_balancers.clone(),
        smoke_namespace: v.smoke_namespace.clone(),
        smoke_image: v.smoke_image.clone(),
        check_timeout: verify::check_timeout(v.check_timeout, cx.options.timeout)?,
        keep_smoke: false,
        smoke_deployed: true,
        state_dir: Some(cx.state.dir().to_path_buf()),
    };
    let minikube = cx.outputs.tools.get().map(|paths| {
        let mut mk = Minikube::new(&paths.minikube, cx.profile()).with_path(paths.child_path());
        if let Some(k) = &cluster.kubeconfig {
            mk = mk.with_kubeconfig(k);
        }
        mk.command(["logs", "--length", "200"])
    });
    let bundle = diagnostics::Bundle {
        dir: diagnostics::default_dir(
            &crate::state::StateRoot::from_env().diagnostics(),
            cx.profile(),
        ),
        archive: false,
        kubeconfig: cluster.kubeconfig.clone(),
        minikube,
    };
    let report = verify::run_recorded(&client, &settings, &bundle).await;
    for c in &report.checks {
        sx.reporter().event(
            "check",
            Some(sx.name()),
            serde_json::to_value(c)?,
            &crate::report::verify::check_line(c, crate::report::style::Style { color: false }),
        );
    }
    let failed: Vec<&str> = report.failed().map(|c| c.name).collect();
    if failed.is_empty() {
        let warned = report
            .checks
            .iter()
            .filter(|c| c.verdict == Verdict::Warn)
            .count();
        let outcome = match warned {
            0 => format!("{} checks passed", report.checks.len()),
            n => format!("{} checks passed, {n} warning(s)", report.checks.len() - n),
        };
        return Ok(Done::new(outcome).with(json!({"checks": report.checks})));
    }
    let mut f = Failure::new(
        ExitKind::Verify,
        report
            .failed()
            .map(|c| format!("{}: {}", c.name, c.message))
            .collect::<Vec<_>>()
            .join("; "),
    )
    .details(json!({"checks": report.checks, "diagnostics": report.diagnostics}));
    for c in report.failed() {
        for h in &c.hints {
            f = f.hint(h.clone());
        }
    }
    if let Some(d) = &report.diagnostics {
        f = f.hint(format!("diagnostics: {d}"));
    }
    Err(f.into())
}
