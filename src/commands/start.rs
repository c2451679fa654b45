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
    let mut scenario = scenario_or_resumed(args, env, printer)?;
    super::start_live::apply_timeout(&mut scenario, args.timeout.as_deref())?;
    if args.dry_run {
        let lock = crate::host::probe::LockUse {
            locked: args.locked,
            ci: printer.ci,
            scenario: args.scenario.file.clone(),
        };
        super::plan::show(
            &scenario,
            printer,
            super::plan::Shape::DryRun,
            &lock,
            args.offline,
        )
        .await
    } else {
        Ok(super::start_live::run(scenario, args, printer).await)
    }
}

/// The scenario of this start. `meshup start [-p NAME]` alone, on a profile meshup created,
/// resumes it with the settings it was created with (its record), rather than applying the
/// built-in default and then asking to recreate the cluster.
fn scenario_or_resumed(
    args: &StartArgs,
    env: &EnvSourced,
    printer: &Printer,
) -> anyhow::Result<crate::scenario::Scenario> {
    let fresh = input::scenario(&args.scenario, env)?;
    if !input::names_only_the_profile(&args.scenario) {
        return Ok(fresh);
    }
    let state = crate::state::StateRoot::from_env().profile(&fresh.cluster.profile);
    let Some(recorded) = input::recorded_layer(&state) else {
        return Ok(fresh);
    };
    let resumed = input::scenario_over(Some(recorded), &args.scenario, env)?;
    printer.note(&format!(
        "resuming profile {} with the settings it was created with (Kubernetes {}, Istio {}, {} CPUs, memory {}); -f or flags change them",
        resumed.cluster.profile,
        resumed.cluster.kubernetes,
        resumed.mesh.istio,
        resumed.cluster.cpus,
        resumed.cluster.memory
    ));
    Ok(resumed)
}
