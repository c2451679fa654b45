//! The human rendering of `meshup doctor`.

use std::fmt::Write;

use super::style::Style;
use serde::Serialize;

use crate::compat::Finding;
use crate::plan::PlannedTool;

// The doctor's view model: what `meshup doctor` found, as people and programs see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Info,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub profile: String,
    pub kubernetes: String,
    pub istio: String,
    pub checks: Vec<Check>,
    /// What meshup will use for this scenario (`tools::resolve`'s answer, as in the plan).
    pub tools: Vec<PlannedTool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools_problem: Option<String>,
    pub findings: Vec<Finding>,
    /// No finding blocks the scenario on this host.
    pub ready: bool,
}

pub fn render(r: &Report, st: Style) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}\n",
        st.bold(&format!(
            "Host check for profile {} (Kubernetes {}, Istio {})",
            r.profile, r.kubernetes, r.istio
        ))
    );
    for c in &r.checks {
        let mark = match c.status {
            Status::Ok => st.green("✓"),
            Status::Info => st.cyan("i"),
            Status::Warn => st.yellow("!"),
            Status::Fail => st.red("✗"),
        };
        let _ = writeln!(o, "  {mark} {:<9} {}", c.name, c.detail);
        if let Some(fix) = &c.fix {
            let _ = writeln!(o, "    {:<9} {}", "", st.dim(&format!("fix: {fix}")));
        }
    }
    let _ = writeln!(o, "\n{}", st.bold("Tools"));
    o.push_str(&super::plan::tools(
        &r.tools,
        r.tools_problem.as_deref(),
        st,
    ));
    let _ = writeln!(o, "\n{}", st.bold("Findings"));
    if r.findings.is_empty() {
        let _ = writeln!(o, "  {}", st.green("✓ none"));
    }
    for f in &r.findings {
        o.push_str(&super::plan::finding(f, st));
    }
    let blocking = r.findings.iter().filter(|f| f.is_error()).count();
    let _ = writeln!(o);
    if r.ready {
        let _ = writeln!(
            o,
            "{}",
            st.green("Ready: nothing blocks this scenario on this host.")
        );
    } else {
        let _ = writeln!(
            o,
            "{}",
            st.red(&format!(
                "Not ready: {blocking} problem(s) block this scenario (exit 3)."
            ))
        );
    }
    o
}
