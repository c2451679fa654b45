//! The preflight stage: the plan's findings for this scenario on this host. Anything that
//! cannot work stops here (exit 3), before a single thing is started.

use crate::error::{ExitKind, Failure};
use crate::host::probe;
use crate::plan::{self as planner, Plan, Probes};
use crate::scenario::Scenario;

/// Versions and host: anything that cannot work stops here, before a single thing is started.
pub async fn run(scenario: &Scenario, lock: &probe::LockUse) -> anyhow::Result<(Plan, Probes)> {
    let mut probes = probe::probe(false).await;
    // The plan shows the tools as the tools stage will resolve them; a resolution that fails
    // (a lock that does not fit) fails that stage, with its own exit code (4).
    let _ = probe::resolve_tools(scenario, &mut probes, lock).await;
    let plan = planner::build(scenario, &probes);
    let errors: Vec<_> = plan.errors(None).collect();
    if errors.is_empty() {
        return Ok((plan, probes));
    }
    let mut failure = Failure::new(
        ExitKind::Preflight,
        format!(
            "preflight found {} problem(s) that would make this scenario fail:\n{}",
            errors.len(),
            errors
                .iter()
                .map(|f| format!("  - {}", f.message))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    )
    .details(serde_json::json!({ "findings": errors }));
    for f in &errors {
        if let Some(alt) = &f.alternative {
            failure = failure.hint(alt.clone());
        }
    }
    Err(failure.into())
}

/// The engine's preflight: the plan (its stage graph is the one that runs), the tools'
/// resolution with the one download question, and the minikube range check — everything that
/// can fail before a single thing is started.
pub struct Preflight;

impl crate::engine::Stage for Preflight {
    fn name(&self) -> crate::plan::StageName {
        crate::plan::StageName::Preflight
    }

    fn failure(&self) -> ExitKind {
        ExitKind::Preflight
    }

    fn what(&self, _cx: &crate::engine::RunCx) -> String {
        "versions, tools and this host".into()
    }

    fn run<'a>(
        &'a self,
        cx: &'a crate::engine::RunCx,
        sx: &'a crate::engine::StageCx,
    ) -> futures::future::BoxFuture<'a, anyhow::Result<crate::engine::Done>> {
        Box::pin(async move {
            let o = &cx.options;
            let lock = probe::LockUse {
                locked: o.locked,
                ci: o.ci,
                scenario: o.scenario_file.clone(),
            };
            let (plan, probes) = run(&cx.scenario, &lock).await?;
            for finding in plan
                .findings
                .iter()
                .filter(|f| f.severity == crate::compat::Severity::Warning)
            {
                sx.warn(&finding.message);
            }
            let resolution = super::tools::resolve(cx, &plan, &probes).await?;
            for r in resolution.all() {
                sx.info(&r.why);
            }
            let _ = cx.outputs.preflight.set(crate::engine::Preflight {
                plan,
                probes,
                resolution,
            });
            Ok(crate::engine::Done::new("ok"))
        })
    }
}
