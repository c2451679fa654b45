//! `meshup start`: with `--dry-run`, the plan; otherwise the live run, stage by stage.

use super::input::{self, EnvSourced};
use crate::cli::StartArgs;
use crate::error::{ExitKind, Failure};
use crate::report::Printer;
use crate::scenario::Scenario;

pub async fn run(
    args: &StartArgs,
    env: &EnvSourced,
    printer: &Printer,
) -> anyhow::Result<ExitKind> {
    let scenario = input::scenario(&args.scenario, env)?;
    if args.dry_run {
        super::plan::show(&scenario, printer, super::plan::Shape::DryRun).await
    } else {
        run_live(&scenario, printer).await
    }
}

/// The live run. The cluster stage (and then tunnel, mesh, verify) replace this; until then
/// it says so instead of pretending.
pub async fn run_live(scenario: &Scenario, _printer: &Printer) -> anyhow::Result<ExitKind> {
    Err(Failure::new(
        ExitKind::Usage,
        format!(
            "`meshup start` without --dry-run is not built yet (profile `{}` was not touched)",
            scenario.cluster.profile
        ),
    )
    .hint("run `meshup start --dry-run` to see the plan")
    .into())
}
