//! `meshup scenario validate FILE`: the file alone (no env, no flags), every problem at once.

use std::path::Path;

use serde_json::json;

use crate::error::ExitKind;
use crate::report::Printer;
use crate::scenario::{self, ScenarioError, file::Document, matrix};

/// Names listed in a summary line before "and N more".
const LISTED_NAMES: usize = 8;

pub fn validate(path: &Path, printer: &Printer) -> anyhow::Result<ExitKind> {
    // The path is the user's text, printed back: no terminal commands in it.
    let subject = scenario::text::escape_controls(&path.display().to_string()).into_owned();
    let loaded = scenario::file::load(path).map_err(|e| e.into_failure(&subject))?;
    // The file's own problems and its values' problems, reported together.
    let mut err = loaded.problems;
    let fail = |mut err: ScenarioError, more: ScenarioError| -> anyhow::Error {
        let mut more = more;
        loaded.locator.locate(&mut more);
        err.problems.extend(more.problems);
        err.into_failure(&subject).into()
    };
    let (kind, summary, count) = match loaded.document {
        Document::Scenario(layer) => {
            let s = match scenario::resolve(&[*layer]) {
                Ok(s) if err.is_empty() => s,
                Ok(_) => return Err(fail(err, ScenarioError::default())),
                Err(values) => return Err(fail(err, values)),
            };
            let summary = format!(
                "profile {}, Kubernetes {}, Istio {}, {} CPUs, memory {}",
                s.cluster.profile,
                s.cluster.kubernetes,
                s.mesh.istio,
                s.cluster.cpus,
                s.cluster.memory
            );
            ("Scenario", summary, 1)
        }
        Document::Matrix(raw) => {
            if !err.is_empty() {
                return Err(fail(err, ScenarioError::default()));
            }
            let entries =
                matrix::expand(*raw, path).map_err(|e| fail(std::mem::take(&mut err), e))?;
            let names: Vec<&str> = entries
                .iter()
                .map(|e| e.scenario.cluster.profile.as_str())
                .collect();
            (
                "Matrix",
                format!("{} scenarios: {}", entries.len(), summarise(&names)),
                entries.len(),
            )
        }
    };
    if printer.json() {
        printer.out_json(&json!({"schema": "meshup.validation/v1", "file": subject, "kind": kind, "valid": true, "scenarios": count}), true);
    } else {
        printer.out(&format!("{subject}: valid {kind} ({summary})"));
    }
    Ok(ExitKind::Success)
}

/// A long list of names as its first few and a count: a matrix summary stays one short line.
fn summarise(names: &[&str]) -> String {
    if names.len() <= LISTED_NAMES {
        return names.join(", ");
    }
    format!(
        "{}, ... and {} more",
        names[..LISTED_NAMES].join(", "),
        names.len() - LISTED_NAMES
    )
}
