//! `meshup matrix FILE --dry-run`: expand, probe once, plan every scenario, show the grid.

use crate::cli::MatrixArgs;
use crate::error::{ExitKind, Failure};
use crate::host::probe;
use crate::plan as planner;
use crate::report::{self, Printer};
use crate::scenario::{file::Document, matrix};

/// The cells as a GitHub Actions `strategy.matrix`: `{"include": [{profile, <axis>: value}]}`,
/// each job then runs `meshup start` with its values.
fn github_matrix(entries: &[matrix::Entry]) -> serde_json::Value {
    let include: Vec<serde_json::Value> = entries
        .iter()
        .map(|e| {
            let mut cell = serde_json::Map::new();
            cell.insert("profile".into(), e.scenario.cluster.profile.clone().into());
            for (axis, value) in &e.values {
                cell.insert(axis.clone(), value.clone().into());
            }
            serde_json::Value::Object(cell)
        })
        .collect();
    serde_json::json!({ "include": include })
}

pub use crate::report::matrix::{MatrixPlan, Row};

pub async fn run(args: &MatrixArgs, printer: &Printer) -> anyhow::Result<ExitKind> {
    let subject = args.file.display().to_string();
    let loaded = crate::scenario::file::load(&args.file).map_err(|e| e.into_failure(&subject))?;
    if !loaded.problems.is_empty() {
        return Err(loaded.problems.into_failure(&subject).into());
    }
    let raw = match loaded.document {
        Document::Matrix(raw) => raw,
        Document::Scenario(_) => {
            return Err(Failure::new(ExitKind::Usage, format!("{subject} is a Scenario, not a Matrix"))
                .hint("run it with `meshup start -f FILE`, or write `kind: Matrix` with `base:` and `axes:`")
                .into());
        }
    };
    let mut entries = matrix::expand(*raw, &args.file).map_err(|e| e.into_failure(&subject))?;
    if args.emit.is_some() {
        printer.out_json(&github_matrix(&entries), false);
        return Ok(ExitKind::Success);
    }
    let parallel = super::matrix_run::parse_parallel(&args.parallel)?;
    // Before anything starts (and in the dry run's plans): a service range per cell.
    let together = if parallel.cap > 1 {
        Some(format!("--parallel {}", args.parallel))
    } else {
        args.keep.then(|| "--keep".to_owned())
    };
    super::matrix_ranges::assign(&mut entries, together.as_deref())?;
    let mut probes = probe::probe(false).await;
    if !args.dry_run {
        return super::matrix_run::run(args, entries, probes.host.clone(), printer).await;
    }
    let mut rows = Vec::new();
    for e in entries {
        // One lock cannot pin every axis' versions: a matrix resolves without one. A failure
        // shows in the scenario's plan.
        let mut mine = probes.clone();
        let _ = probe::resolve_tools(&e.scenario, &mut mine, &probe::LockUse::default()).await;
        // kubectl's version, once asked, is known for the next scenarios.
        probes.kubectl = mine.kubectl.clone();
        rows.push(Row {
            profile: e.scenario.cluster.profile.clone(),
            values: e.values.into_iter().collect(),
            plan: planner::build(&e.scenario, &mine),
        });
    }
    let exit = if rows
        .iter()
        .any(|r| super::plan::exit_for(&r.plan) != ExitKind::Success)
    {
        ExitKind::Preflight
    } else {
        ExitKind::Success
    };
    let doc = MatrixPlan {
        schema: "meshup.matrix/v1",
        file: subject,
        scenarios: rows,
    };
    if printer.json() {
        printer.out_json(&doc, true);
    } else {
        printer.out(&report::matrix::render(&doc, printer.style()));
    }
    Ok(exit)
}
