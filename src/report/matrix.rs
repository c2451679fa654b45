//! The grid of a matrix dry-run.

use std::fmt::Write;

use super::style::Style;
use serde::Serialize;

use crate::plan::Plan;

// The matrix dry-run's view model: each expanded scenario with its plan.
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
use crate::compat::Severity;
use crate::tools::{Origin, Tool};

pub fn render(m: &MatrixPlan, st: Style) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}\n",
        st.bold(&format!(
            "Matrix {}: {} scenarios",
            m.file,
            m.scenarios.len()
        ))
    );
    let header = [
        "PROFILE",
        "KUBERNETES",
        "ISTIO",
        "CPUS",
        "MEMORY",
        "MINIKUBE",
        "FINDINGS",
    ];
    let mut rows: Vec<[String; 7]> = Vec::new();
    for r in &m.scenarios {
        let p = &r.plan;
        let minikube =
            p.tools
                .iter()
                .find(|t| t.tool == Tool::Minikube)
                .map_or(String::new(), |t| {
                    let v = &t.version;
                    match t.source {
                        Origin::Path { .. } => format!("{v} (PATH)"),
                        Origin::Cache { .. } => format!("{v} (cache)"),
                        Origin::Download { .. } => format!("{v} (fetch)"),
                    }
                });
        let count = |s| p.findings.iter().filter(|f| f.severity == s).count();
        let findings = match (count(Severity::Error), count(Severity::Warning)) {
            (0, 0) => "ok".to_string(),
            (e, w) => format!("{e} error(s), {w} warning(s)"),
        };
        rows.push([
            r.profile.clone(),
            p.resolved.kubernetes.clone(),
            p.resolved.istio.clone(),
            p.cpus.clone(),
            p.memory.clone(),
            minikube,
            findings,
        ]);
    }
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut l = String::from(" ");
        for (c, w) in cells.iter().zip(widths) {
            l.push_str(&format!(" {c:<w$}"));
        }
        l.trim_end().to_string()
    };
    let _ = writeln!(o, "{}", st.bold(&line(header.to_vec())));
    for r in &rows {
        let _ = writeln!(o, "{}", line(r.iter().map(String::as_str).collect()));
    }
    o
}
