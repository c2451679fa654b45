//! The live `meshup start`: the scenario's stages on the run engine, then the result. What
//! runs, in what order and alongside what, is the plan's graph (`src/engine/`).

use std::sync::Arc;

use crate::cli::StartArgs;
use crate::engine::{self, RunCx, RunOptions, StageEnd};
use crate::error::{ExitKind, Failure};
use crate::plan::StageName;
use crate::report::Printer;
use crate::report::events::Reporter;
use crate::scenario::Scenario;
use crate::state::StateRoot;

pub async fn run(scenario: Scenario, args: &StartArgs, printer: &Printer) -> ExitKind {
    let reporter = Arc::new(Reporter::new(printer, "start"));
    let options = RunOptions {
        scenario_file: args.scenario.file.clone(),
        locked: args.locked,
        offline: args.offline,
        recreate: args.recreate,
        isolated_kubeconfig: args.isolated_kubeconfig,
        yes: printer.yes,
        ci: printer.ci,
        interactive: printer.interactive,
        timeout: scenario.verify.total_timeout,
    };
    let state = StateRoot::from_env().profile(&scenario.cluster.profile);
    let cx = Arc::new(RunCx::new(
        scenario,
        options,
        reporter.clone(),
        state,
        &crate::exec::shutdown_token(),
    ));
    let end = engine::run(cx.clone(), crate::stages::all()).await;
    match &end.error {
        None => {
            reporter.result(ExitKind::Success, summary(&cx, &end));
        }
        Some(e) => {
            reporter.result_error(e);
            crate::report::error::print_text(&Failure::of(e), printer);
        }
    }
    end.exit
}

/// What a successful run made, for people (YAML on stdout) and programs (`result.summary`).
fn summary(cx: &RunCx, end: &engine::RunEnd) -> serde_json::Value {
    let cluster = end
        .done(StageName::Cluster)
        .map(|d| d.details.clone())
        .unwrap_or_default();
    let stages: serde_json::Map<String, serde_json::Value> = end
        .stages
        .iter()
        .map(|(name, e)| {
            let v = match e {
                StageEnd::Done(d) => serde_json::json!({ "done": d.outcome }),
                StageEnd::Skipped(why) => serde_json::json!({ "skipped": why }),
                StageEnd::Failed(why) => serde_json::json!({ "failed": why }),
                StageEnd::Stopped => serde_json::json!({ "stopped": true }),
            };
            (name.as_str().to_owned(), v)
        })
        .collect();
    let kubeconfig = cluster.get("kubeconfig").cloned().unwrap_or_default();
    let mut out = serde_json::json!({
        "profile": cx.profile(),
        "context": cx.profile(),
        "kubernetes": cluster.get("kubernetes"),
        "cluster": cluster.get("cluster"),
        "kubeconfig": kubeconfig,
        "stateDir": cx.state.dir(),
        "stages": stages,
    });
    if let Some(path) = kubeconfig.as_str() {
        out["next"] = serde_json::json!([format!("export KUBECONFIG={path}")]);
    }
    out
}

/// `--timeout` / `MESHUP_TIMEOUT` overrides the scenario's `timeouts.total`, so the plan shows
/// the limit the run enforces.
pub fn apply_timeout(scenario: &mut Scenario, args: &StartArgs) -> anyhow::Result<()> {
    let Some(text) = &args.timeout else {
        return Ok(());
    };
    use crate::scenario::quantity::QuantityError;
    let d = crate::scenario::quantity::parse_duration(text).map_err(|e| {
        let why = match e {
            QuantityError::TooSmall => "leaves no time to run",
            QuantityError::TooLarge => "is too large",
            QuantityError::Malformed => "is not a duration",
        };
        Failure::new(
            ExitKind::Usage,
            format!(
                "--timeout: `{}` {why}; accepted: a duration like 90s, 15m or 1h (a bare number is seconds)",
                crate::report::escape_control(text)
            ),
        )
    })?;
    scenario.verify.total_timeout = d;
    Ok(())
}
