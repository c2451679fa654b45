//! `meshup plan` and `meshup start --dry-run`: probe (read-only), plan, print.

use super::input::{self, EnvSourced};
use super::probe;
use crate::cli::ScenarioArgs;
use crate::compat::Scope;
use crate::error::ExitKind;
use crate::plan as planner;
use crate::report::{self, Printer};
use crate::scenario::Scenario;

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
    show(&scenario, printer, Shape::Plan).await
}

pub async fn show(
    scenario: &Scenario,
    printer: &Printer,
    shape: Shape,
) -> anyhow::Result<ExitKind> {
    let probes = probe::probe(false).await;
    let plan = planner::build(scenario, &probes);
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
        }
    }
    Ok(exit_for(&plan))
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
