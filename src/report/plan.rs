//! The human rendering of a plan (`meshup plan`, `meshup start --dry-run`).

use std::fmt::Write;

use super::style::Style;
use crate::compat::Finding;
use crate::plan::{Plan, PlannedTool};
use crate::scenario::text::escape_controls as esc;
use crate::tools::Origin;

pub fn render(plan: &Plan, st: Style) -> String {
    let mut o = String::new();
    let r = &plan.resolved;
    let title = match &plan.scenario {
        Some(name) => format!("Plan for profile {} (scenario {})", plan.profile, esc(name)),
        None => format!("Plan for profile {}", plan.profile),
    };
    let _ = writeln!(o, "{}\n", st.bold(&title));
    let _ = writeln!(
        o,
        "  Kubernetes  {:<10} {}",
        r.kubernetes,
        st.dim(&r.kubernetes_reason)
    );
    let _ = writeln!(
        o,
        "  Istio       {:<10} {}",
        r.istio,
        st.dim(&r.istio_reason)
    );
    let _ = writeln!(o, "  Profile     {}", esc(&r.istio_profile));
    let _ = writeln!(o, "  jwtPolicy   {}", r.jwt_policy);
    let _ = writeln!(
        o,
        "  Cluster     {} CPUs, memory {}, driver {}",
        plan.cpus,
        plan.memory,
        plan.driver.as_deref().unwrap_or("auto (minikube picks)")
    );
    let _ = writeln!(o, "  Tunnel      {}", if r.tunnel { "on" } else { "off" });

    let _ = writeln!(o, "\n{}", st.bold("Tools"));
    o.push_str(&tools(&plan.tools, plan.tools_problem.as_deref(), st));

    let _ = writeln!(o, "\n{}", st.bold("Findings"));
    if plan.findings.is_empty() {
        let _ = writeln!(
            o,
            "  {}",
            st.green("✓ none: these versions are known to work together")
        );
    }
    for f in &plan.findings {
        o.push_str(&finding(f, st));
    }

    let _ = writeln!(o, "\n{}", st.bold("Stages"));
    for (i, stage) in plan.stages.iter().enumerate() {
        let name = stage.name.as_str();
        let needs: Vec<&str> = stage.needs.iter().map(|n| n.as_str()).collect();
        let after = if needs.is_empty() {
            String::new()
        } else {
            st.dim(&format!("  (after {})", needs.join(", ")))
        };
        let _ = writeln!(o, "  {}. {}{after}", i + 1, st.bold(name));
        if let Some(why) = &stage.skipped {
            let _ = writeln!(o, "       skipped: {why}");
        }
        for c in &stage.commands {
            // Command lines carry the user's --set values verbatim.
            let _ = writeln!(o, "       $ {}", esc(&c.to_string()));
            if let Some(note) = &c.note {
                let _ = writeln!(o, "         {}", st.dim(note));
            }
        }
        for s in &stage.steps {
            let _ = writeln!(o, "       · {s}");
        }
    }
    o
}

/// Each tool: version, where it comes from (PATH, cache, or the URL it is downloaded from) and
/// why; or why none could be resolved.
pub fn tools(tools: &[PlannedTool], problem: Option<&str>, st: Style) -> String {
    let mut o = String::new();
    if let Some(problem) = problem {
        let _ = writeln!(
            o,
            "  {}: {problem}",
            st.severity(crate::compat::Severity::Error)
        );
    }
    for t in tools {
        let from = match &t.source {
            Origin::Path { path } => format!("PATH {}", path.display()),
            Origin::Cache { path } => format!("cache {}", path.display()),
            Origin::Download { url, .. } => format!("download {url}"),
        };
        let _ = writeln!(o, "  {:<9} {:<9} {from}", t.tool.name(), t.version);
        let _ = writeln!(o, "  {:<9} {:<9} {}", "", "", st.dim(&t.reason));
        if let Some(sha) = &t.sha256 {
            let _ = writeln!(
                o,
                "  {:<9} {:<9} {}",
                "",
                "",
                st.dim(&format!("sha256 {sha} (meshup.lock)"))
            );
        }
    }
    o
}

pub fn finding(f: &Finding, st: Style) -> String {
    let mut o = format!("  {}: {}\n", st.severity(f.severity), f.message);
    if let Some(alt) = &f.alternative {
        o.push_str(&format!("      → {alt}\n"));
    }
    o
}
