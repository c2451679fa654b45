//! `meshup matrix FILE --dry-run`: expand, probe once, plan every scenario, show the grid.

use serde::Serialize;

use crate::cli::MatrixArgs;
use crate::error::{ExitKind, Failure};
use crate::host::probe;
use crate::plan::{self as planner, Plan};
use crate::report::{self, Printer};
use crate::scenario::{file::Document, matrix};

#[derive(Debug, Serialize)]
pub struct Row {
    pub profile: String,
    pub values: indexmap::IndexMap<String, String>,
    pub plan: Plan,
}

#[derive(Debug, Serialize)]
pub struct MatrixPlan {
    pub schema: &'static str,
    pub file: String,
    pub scenarios: Vec<Row>,
}

pub async fn run(args: &MatrixArgs, printer: &Printer) -> anyhow::Result<ExitKind> {
    let subject = args.file.display().to_string();
    let raw = match crate::scenario::file::load(&args.file).map_err(|e| e.into_failure(&subject))? {
        Document::Matrix(raw) => raw,
        Document::Scenario(_) => {
            return Err(Failure::new(ExitKind::Usage, format!("{subject} is a Scenario, not a Matrix"))
                .hint("run it with `meshup start -f FILE`, or write `kind: Matrix` with `base:` and `axes:`")
                .into());
        }
    };
    let entries = matrix::expand(*raw, &args.file).map_err(|e| e.into_failure(&subject))?;
    if !args.dry_run {
        return Err(Failure::new(
            ExitKind::Usage,
            format!(
                "running a matrix is not built yet; {} scenarios expanded",
                entries.len()
            ),
        )
        .hint("add --dry-run to see every scenario's plan")
        .into());
    }
    let mut probes = probe::probe(false).await;
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
