//! `meshup scenario validate FILE`: the file alone (no env, no flags), every problem at once.

use std::path::Path;

use serde_json::json;

use crate::error::ExitKind;
use crate::report::Printer;
use crate::scenario::{self, file::Document, matrix};

pub fn validate(path: &Path, printer: &Printer) -> anyhow::Result<ExitKind> {
    let subject = format!("{}", path.display());
    let doc = scenario::file::load(path).map_err(|e| e.into_failure(&subject))?;
    let (kind, summary, count) = match doc {
        Document::Scenario(layer) => {
            let s = scenario::resolve(&[*layer]).map_err(|e| e.into_failure(&subject))?;
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
            let entries = matrix::expand(*raw, path).map_err(|e| e.into_failure(&subject))?;
            let names: Vec<&str> = entries
                .iter()
                .map(|e| e.scenario.cluster.profile.as_str())
                .collect();
            (
                "Matrix",
                format!("{} scenarios: {}", entries.len(), names.join(", ")),
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
