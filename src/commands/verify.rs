//! `meshup verify`: runs the checks against an existing profile through its own context,
//! prints one line per check (or JSON Lines ending in `result`), writes a diagnostics bundle
//! when one fails, and saves the result (`verify.json`) in the profile's state dir. A failed or
//! timed-out check is exit 8.

use serde_json::json;

use super::input::{self, EnvSourced};
use super::profile::Target;
use crate::cli::{ScenarioArgs, VerifyArgs};
use crate::error::{ExitKind, Failure};
use crate::report::Printer;
use crate::report::events::{Mode, Reporter};
use crate::state::StateRoot;
use crate::verify::{self, Settings, diagnostics};

pub async fn run(
    args: &VerifyArgs,
    env: &EnvSourced,
    printer: &Printer,
) -> anyhow::Result<ExitKind> {
    let scenario_args = ScenarioArgs {
        file: args.profile.file.clone(),
        cluster_profile: args.profile.cluster_profile.clone(),
        ..ScenarioArgs::default()
    };
    let scenario = input::scenario(&scenario_args, env)?;
    let name = scenario.cluster.profile.clone();
    let root = StateRoot::from_env();
    let target = Target::load(&root, &name)?;
    let v = &scenario.verify;
    let settings = Settings {
        profile: name.clone(),
        load_balancers: v.load_balancers.clone(),
        smoke_namespace: v.smoke_namespace.clone(),
        smoke_image: v.smoke_image.clone(),
        check_timeout: verify::check_timeout(v.check_timeout, v.total_timeout)?,
        keep_smoke: args.keep_smoke,
        smoke_deployed: false,
        state_dir: Some(target.state.dir().to_path_buf()),
    };
    let reporter = Reporter::new(printer, "verify");
    let client =
        crate::k8s::client_for_context(&name, target.kubeconfig.as_deref(), ExitKind::Verify)
            .await?;
    crate::k8s::server_version(&client, crate::k8s::timeout(), ExitKind::Verify).await?;
    let bundle = diagnostics::Bundle {
        dir: args
            .diagnostics_dir
            .clone()
            .unwrap_or_else(|| diagnostics::default_dir(&root.diagnostics(), &name)),
        archive: args.diagnostics_archive,
        kubeconfig: target.kubeconfig.clone(),
        minikube: Some(target.minikube.command(["logs", "--length", "200"])),
    };
    let run = verify::run_recorded(&client.client, &settings, &bundle);
    let report = tokio::time::timeout(v.total_timeout, run)
        .await
        .map_err(|_| {
            Failure::new(
                ExitKind::Timeout,
                format!(
                    "verify did not finish within the global timeout ({})",
                    v.total_timeout_text()
                ),
            )
        })?;
    let exit = if report.ok {
        ExitKind::Success
    } else {
        ExitKind::Verify
    };
    if reporter.mode() == Mode::Json {
        for c in &report.checks {
            reporter.event("check", Some("verify"), serde_json::to_value(c)?, "");
        }
        reporter.result(
            exit,
            json!({"profile": name, "checks": report.checks.iter().map(|c| json!({"name": c.name, "verdict": c.verdict})).collect::<Vec<_>>(),
                   "diagnostics": report.diagnostics}),
        );
    } else {
        printer.out(crate::report::verify::render(&report, printer.style()).trim_end());
    }
    Ok(exit)
}
