//! The live `meshup start`: the scenario's stages on the run engine, then the result. What
//! runs, in what order and alongside what, is the plan's graph (`src/engine/`).

use std::sync::Arc;

use crate::cli::StartArgs;
use crate::engine::{self, RunCx, RunOptions, StageEnd};
use crate::error::{ExitKind, Failure};
use crate::plan::StageName;
use crate::report::events::Reporter;
use crate::report::{Printer, junit};
use crate::scenario::Scenario;
use crate::state::StateRoot;

pub async fn run(scenario: Scenario, args: &StartArgs, printer: &Printer) -> ExitKind {
    let reporter = Arc::new(Reporter::new(printer, "start"));
    let options = RunOptions {
        scenario_file: args.scenario.file.clone(),
        locked: args.locked,
        offline: args.offline,
        recreate: args.recreate,
        recreate_mesh: args.recreate_mesh,
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
    let profile = cx.profile().to_owned();
    if let Some(path) = &args.junit {
        let suite = format!("meshup start {}", cx.profile());
        if let Err(e) = crate::report::junit::write(path, &suite, &junit_cases(&end)) {
            reporter.warn("start", &format!("{e:#}"));
        }
    }
    match &end.error {
        None => {
            reporter.result(ExitKind::Success, summary(&cx, &end));
        }
        Some(e) => {
            let mut failure = Failure::of(e);
            if let Some(dir) = crate::stages::diagnostics::for_failed_run(&cx, &end).await {
                failure = with_diagnostics(failure, &dir);
            }
            let e: anyhow::Error = failure.into();
            reporter.result_error(&e);
            crate::report::error::print_text(&Failure::of(&e), printer);
        }
    }
    // `--foreground`: the tunnel stays attached to this terminal until Ctrl-C.
    if args.foreground
        && end.exit == ExitKind::Success
        && crate::tunnel::running(cx.state.dir(), &profile).is_some()
    {
        drop(cx); // the profile's lock: `attach` runs as `meshup tunnel --foreground` would
        return match super::tunnel::attach(&profile, printer).await {
            Ok(kind) => kind,
            Err(e) => crate::report::error::print(&e, printer, false),
        };
    }
    end.exit
}

/// The bundle's folder, last in the error's hints and in its details.
fn with_diagnostics(mut f: Failure, dir: &std::path::Path) -> Failure {
    let path = dir.display().to_string();
    f.hints.push(format!("diagnostics: {path}"));
    match f.details.as_object_mut() {
        Some(map) => {
            map.insert("diagnostics".into(), path.into());
        }
        None => f.details = serde_json::json!({ "diagnostics": path }),
    }
    f
}

/// What a successful run made, for people (YAML on stdout) and programs (`result.summary`).
pub fn summary(cx: &RunCx, end: &engine::RunEnd) -> serde_json::Value {
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
    let timings: serde_json::Map<String, serde_json::Value> = end
        .elapsed
        .iter()
        .map(|(n, d)| (n.as_str().to_owned(), (d.as_millis() as u64).into()))
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
        "timingsMs": timings,
    });
    // The gateways' addresses, as the verify stage's `loadbalancer` check saw them answer.
    let gateways: Vec<serde_json::Value> = end
        .done(StageName::Verify)
        .and_then(|d| d.details["checks"].as_array().cloned())
        .into_iter()
        .flatten()
        .filter(|c| c["name"] == "loadbalancer")
        .flat_map(|c| {
            c["evidence"]["services"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    if !gateways.is_empty() {
        out["gateways"] = serde_json::json!(gateways);
    }
    let mut next = Vec::new();
    if let Some(path) = kubeconfig.as_str() {
        next.push(format!("export KUBECONFIG={path}"));
    }
    next.push("kubectl label namespace default istio-injection=enabled".to_owned());
    next.push(format!("meshup status -p {}", cx.profile()));
    next.push(format!("meshup down -p {}", cx.profile()));
    out["next"] = serde_json::json!(next);
    out
}

/// A JUnit case per stage (in the order they ended) and per verify check.
pub fn junit_cases(end: &engine::RunEnd) -> Vec<junit::Case> {
    let mut cases = Vec::new();
    for (name, e) in &end.stages {
        let duration = end.elapsed.get(name).copied().unwrap_or_default();
        let outcome = match e {
            StageEnd::Done(_) => junit::Outcome::Passed,
            StageEnd::Failed(why) => junit::Outcome::Failed(why.clone()),
            StageEnd::Skipped(why) => junit::Outcome::Skipped(why.clone()),
            StageEnd::Stopped => junit::Outcome::Interrupted("stopped before it finished".into()),
        };
        cases.push(junit::Case {
            kind: "stage",
            name: name.as_str().to_owned(),
            duration,
            outcome,
        });
        // The verify stage hands its checks over as `details.checks`.
        if let StageEnd::Done(d) = e {
            cases.extend(check_cases(&d.details));
        }
    }
    if let Some(error) = &end.error
        && let Some(checks) = Failure::of(error).details.get("checks").cloned()
    {
        cases.extend(check_cases(&serde_json::json!({ "checks": checks })));
    }
    cases
}

/// `[{name, verdict: pass|fail|warn|skip, durationMs, message}]` → cases.
fn check_cases(details: &serde_json::Value) -> Vec<junit::Case> {
    let Some(checks) = details.get("checks").and_then(|c| c.as_array()) else {
        return Vec::new();
    };
    checks
        .iter()
        .map(|c| {
            let message = c["message"].as_str().unwrap_or_default().to_owned();
            junit::Case {
                kind: "check",
                name: c["name"].as_str().unwrap_or("check").to_owned(),
                duration: std::time::Duration::from_millis(c["durationMs"].as_u64().unwrap_or(0)),
                outcome: match c["verdict"].as_str() {
                    Some("fail") => junit::Outcome::Failed(message),
                    Some("skip") => junit::Outcome::Skipped(message),
                    _ => junit::Outcome::Passed,
                },
            }
        })
        .collect()
}

/// `--timeout` / `MESHUP_TIMEOUT` overrides the scenario's `timeouts.total`, so the plan shows
/// the limit the run enforces.
pub fn apply_timeout(scenario: &mut Scenario, timeout: Option<&str>) -> anyhow::Result<()> {
    let Some(text) = timeout else {
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
                crate::scenario::text::escape_controls(text)
            ),
        )
    })?;
    scenario.verify.total_timeout = d;
    Ok(())
}
