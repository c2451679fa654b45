//! `meshup plan` and `meshup start --dry-run`: probe (read-only), plan, print.

use super::input::{self, EnvSourced};
use crate::cli::ScenarioArgs;
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

pub async fn run(
    args: &ScenarioArgs,
    env: &EnvSourced,
    printer: &Printer,
) -> anyhow::Result<ExitKind> {
    let scenario = input::scenario(args, env)?;
    let lock = probe::LockUse {
        locked: false,
        ci: printer.ci,
        scenario: args.file.clone(),
    };
    show(&scenario, printer, Shape::Plan, &lock).await
}

/// Probes, resolves the tools as the live start would (`lock` as it would honour it), plans
/// and prints. A tool resolution the live start would fail on (a lock that does not fit) is
/// shown in the plan, then is this command's error too (exit 4).
pub async fn show(
    scenario: &Scenario,
    printer: &Printer,
    shape: Shape,
    lock: &probe::LockUse,
) -> anyhow::Result<ExitKind> {
    let mut probes = probe::probe(false).await;
    let tools = probe::resolve_tools(scenario, &mut probes, lock).await;
    let plan = planner::build(scenario, &probes);
    tracing::info!(
        kubernetes = %plan.resolved.kubernetes,
        istio = %plan.resolved.istio,
        findings = plan.findings.len(),
        "planned"
    );
    if printer.json() {
        printer.out_json(&plan, shape == Shape::Plan);
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
    match tools {
        // The versions' own finding says it (exit 3 below).
        Err(tools::ToolError::NoMinikubeFor { .. }) | Ok(()) => Ok(exit_for(&plan)),
        Err(e) => Err(e.into_anyhow()),
    }
}

/// A plan whose versions cannot work anywhere is a preflight failure (3); host problems are
/// shown but only `doctor` and the live preflight fail on them.
pub fn exit_for(plan: &planner::Plan) -> ExitKind {
    if plan.errors(Some(Scope::Versions)).next().is_some() {
        ExitKind::Preflight
    } else {
        ExitKind::Success
    }
}
