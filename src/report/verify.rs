//! How verify's checks read for people: one line per check (✔ / ✘ / !, its time), then each
//! failure's and warning's reason and what to do, and the diagnostics bundle's path last.

use std::fmt::Write as _;

use super::events::human_duration;
use super::style::Style;
use crate::verify::{CheckResult, Report, Verdict};

pub fn check_line(c: &CheckResult, st: Style) -> String {
    let mark = match c.verdict {
        Verdict::Pass => st.green("✔"),
        Verdict::Fail => st.red("✘"),
        Verdict::Warn => st.yellow("!"),
    };
    let took = st.dim(&format!("({})", human_duration(c.duration_ms)));
    let summary = if c.verdict == Verdict::Pass {
        c.message.as_str()
    } else {
        ""
    };
    format!("{mark} {:<16} {took} {summary}", c.name)
        .trim_end()
        .to_string()
}

pub fn render(r: &Report, st: Style) -> String {
    let mut o = String::new();
    for c in &r.checks {
        let _ = writeln!(o, "{}", check_line(c, st));
    }
    let problems: Vec<&CheckResult> = r
        .checks
        .iter()
        .filter(|c| c.verdict != Verdict::Pass)
        .collect();
    if !problems.is_empty() {
        o.push('\n');
    }
    for c in problems {
        let head = match c.verdict {
            Verdict::Fail => st.red(&format!("✘ {}", c.name)),
            _ => st.yellow(&format!("! {}", c.name)),
        };
        let _ = writeln!(o, "{head}: {}", c.message);
        for h in &c.hints {
            let _ = writeln!(o, "    → {h}");
        }
    }
    if let Some(d) = &r.diagnostics {
        let _ = writeln!(o, "\nDiagnostics: {d}");
    }
    o
}
