//! `meshup start`: with `--dry-run`, the plan; on a terminal with nothing given, the wizard
//! first; otherwise the live run, stage by stage (`start_live`).

use super::input::{self, EnvSourced};
use crate::cli::{ScenarioArgs, StartArgs};
use crate::error::ExitKind;
use crate::report::Printer;

pub async fn run(
    args: &StartArgs,
    env: &EnvSourced,
    printer: &Printer,
) -> anyhow::Result<ExitKind> {
    // An existing profile, named alone: resumed with its recorded settings, no wizard.
    let mut scenario = match resumed(args, env, printer)? {
        Some(s) => s,
        None => {
            let wizard = !args.dry_run
                && printer.interactive
                && !printer.yes
                && nothing_given(&args.scenario);
            let scenario_args = if wizard {
                match ask(&args.scenario, printer).await? {
                    Some(a) => a,
                    None => {
                        printer.note("Nothing started.");
                        return Ok(ExitKind::Success);
                    }
                }
            } else {
                args.scenario.clone()
            };
            input::scenario(&scenario_args, env)?
        }
    };
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

/// `meshup start [-p NAME]` alone, on a profile meshup created, resumes it with the settings
/// it was created with (its record), rather than applying the built-in default and then asking
/// to recreate the cluster. `None`: not that case.
fn resumed(
    args: &StartArgs,
    env: &EnvSourced,
    printer: &Printer,
) -> anyhow::Result<Option<crate::scenario::Scenario>> {
    if !input::names_only_the_profile(&args.scenario) {
        return Ok(None);
    }
    let fresh = input::scenario(&args.scenario, env)?;
    let state = crate::state::StateRoot::from_env().profile(&fresh.cluster.profile);
    let Some(recorded) = input::recorded_layer(&state) else {
        return Ok(None);
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
    Ok(Some(resumed))
}

/// No scenario file and no scenario flag (from the command line or the environment).
fn nothing_given(a: &ScenarioArgs) -> bool {
    a.file.is_none()
        && a.kubernetes.is_none()
        && a.cpus.is_none()
        && a.memory.is_none()
        && a.istio.is_none()
        && a.istio_profile.is_none()
        && a.set.is_empty()
        && a.cluster_profile.is_none()
}

/// The wizard's questions, the plan of the answers, and one "go?". `None`: nothing to start.
async fn ask(base: &ScenarioArgs, printer: &Printer) -> anyhow::Result<Option<ScenarioArgs>> {
    let probes = crate::host::probe::probe(false).await;
    let minikube = probes
        .minikube
        .version()
        .filter(|v| crate::compat::minikube::kubernetes_range(v).is_some())
        .cloned()
        .unwrap_or_else(crate::compat::minikube::default_release);
    let host = probes.host.clone();
    let asked = tokio::task::spawn_blocking(move || super::wizard::ask(&minikube, &host)).await??;
    let Some((answers, save)) = asked else {
        return Ok(None);
    };
    let args = answers.to_args(base);
    let scenario = input::scenario(&args, &EnvSourced::default())?;
    let lock = crate::host::probe::LockUse::default();
    super::plan::show(&scenario, printer, super::plan::Shape::DryRun, &lock, false).await?;
    if let Some(path) = save {
        // A bare file name is in the current folder.
        let path = if path.parent().is_some_and(|p| p.as_os_str().is_empty()) {
            std::path::Path::new(".").join(path)
        } else {
            path
        };
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "meshup-scenario".into());
        crate::state::write_atomically(&path, answers.to_yaml(&name).as_bytes())?;
        printer.note(&format!(
            "Saved as {}: `meshup start -f {}` runs it again.",
            path.display(),
            path.display()
        ));
    }
    let go = tokio::task::spawn_blocking(|| crate::report::prompt::confirm("Start it?")).await?;
    Ok(go.then_some(args))
}
