//! `meshup plan` and `meshup start --dry-run`: probe (read-only), plan, print.

use super::input::{self, EnvSourced};
use crate::cli::PlanArgs;
use crate::compat::Scope;
use crate::error::ExitKind;
use crate::host::probe;
use crate::plan as planner;
use crate::report::{self, Printer};
use crate::scenario::Scenario;
use crate::tools;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `meshup plan`: pretty JSON.
    Plan,
    /// `meshup start --dry-run`: one JSON line (start's output is JSON lines).
    DryRun,
}

pub async fn run(args: &PlanArgs, env: &EnvSourced, printer: &Printer) -> anyhow::Result<ExitKind> {
    let scenario = input::scenario(&args.scenario, env)?;
    let lock = probe::LockUse {
        locked: false,
        ci: printer.ci,
        scenario: args.scenario.file.clone(),
    };
    show(&scenario, printer, Shape::Plan, &lock, args.offline).await
}

/// Probes, resolves the tools as the live start would (`lock` as it would honour it), plans
/// and prints. A tool resolution the live start would fail on (a lock that does not fit) is
/// shown in the plan, then is this command's error too (exit 4).
pub async fn show(
    scenario: &Scenario,
    printer: &Printer,
    shape: Shape,
    lock: &probe::LockUse,
    offline: bool,
) -> anyhow::Result<ExitKind> {
    let mut probes = probe::probe(false).await;
    let tools = probe::resolve_tools(scenario, &mut probes, lock).await;
    let mut plan = planner::build(scenario, &probes);
    // `--offline`: what the live start's tools stage would refuse to fetch, refused here too.
    let offline_failure = offline
        .then(|| offline_failure(&mut plan, &probes))
        .flatten();
    tracing::info!(
        kubernetes = %plan.resolved.kubernetes,
        istio = %plan.resolved.istio,
        findings = plan.findings.len(),
        "planned"
    );
    let failing = offline_failure.is_some()
        || matches!(&tools, Err(e) if !matches!(e, tools::ToolError::NoMinikubeFor { .. }));
    if printer.json() {
        // `plan` prints one JSON document: on failure, the error's (main prints it).
        if !(failing && shape == Shape::Plan) {
            printer.out_json(&plan, shape == Shape::Plan);
        }
    } else {
        printer.out(&report::plan::render(&plan, printer.style()));
        let blocking = plan.errors(None).count();
        if blocking > 0 {
            printer.note(&format!(
                "preflight would stop at {blocking} error(s) above; `meshup doctor` checks this host in detail"
            ));
        }
        if shape == Shape::DryRun {
            printer.note("dry run: nothing was started (only read-only version queries ran)");
            printer.note(
                "this meshup build runs preflight, tools and cluster; the tunnel, mesh and verify \
                 stages above are planned and arrive in coming releases",
            );
        }
    }
    if let Some(failure) = offline_failure {
        return Err(failure);
    }
    match tools {
        // The versions' own finding says it (exit 3 below).
        Err(tools::ToolError::NoMinikubeFor { .. }) | Ok(()) => Ok(exit_for(&plan)),
        Err(e) => Err(e.into_anyhow()),
    }
}

/// A plan whose versions cannot work anywhere is a preflight failure (3); host problems are
/// shown but only `doctor` and the live preflight fail on them.
pub fn exit_for(plan: &planner::Plan) -> ExitKind {
    if plan
        .errors(Some(Scope::Versions))
        .any(crate::compat::check::is_bad_input)
    {
        ExitKind::Usage
    } else if plan.errors(Some(Scope::Versions)).next().is_some() {
        ExitKind::Preflight
    } else {
        ExitKind::Success
    }
}

/// The downloads a plan needs, refused as the live start refuses them offline: minikube is a
/// preflight failure with the versions the user's minikube starts (3), another tool exit 4.
fn offline_failure(plan: &mut planner::Plan, probes: &planner::Probes) -> Option<anyhow::Error> {
    let planner::ToolResolution::Resolved(resolution) = &probes.tools else {
        return None;
    };
    let withheld: Vec<tools::Tool> = resolution.downloads().iter().map(|r| r.tool).collect();
    if withheld.is_empty() {
        return None;
    }
    let err = tools::ToolError::Offline { tools: withheld };
    plan.tools_problem = Some(err.to_string());
    let have = probes.minikube.version().map(|v| v.v());
    Some(if err.withheld().contains(&tools::Tool::Minikube) {
        crate::stages::tools::minikube_range_failure(plan, have.as_deref()).into()
    } else {
        err.into_anyhow()
    })
}
