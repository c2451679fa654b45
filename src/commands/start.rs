//! `meshup start`: with `--dry-run`, the plan; otherwise the live run, stage by stage
//! (`start_live`).

use super::input::{self, EnvSourced};
use crate::cli::StartArgs;
use crate::error::ExitKind;
use crate::report::Printer;

pub async fn run(
    args: &StartArgs,
    env: &EnvSourced,
    printer: &Printer,
) -> anyhow::Result<ExitKind> {
    let mut scenario = input::scenario(&args.scenario, env)?;
    super::start_live::apply_timeout(&mut scenario, args)?;
    if args.dry_run {
        let lock = crate::host::probe::LockUse {
            locked: args.locked,
            ci: printer.ci,
            scenario: args.scenario.file.clone(),
        };
        super::plan::show(&scenario, printer, super::plan::Shape::DryRun, &lock).await
    } else {
        Ok(super::start_live::run(scenario, args, printer).await)
    }
}
