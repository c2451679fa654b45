//! The human rendering of `meshup doctor`.

use std::fmt::Write;

use super::style::Style;
use crate::commands::doctor::{Report, Status};

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
