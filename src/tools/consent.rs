//! Asking once before downloading tools the user did not name. Only on a terminal: `--yes`, CI
//! mode, a lock (which is itself the consent) or no TTY skip the question.

use std::io::IsTerminal;

use super::error::{Result, ToolError};
use super::resolve::{Origin, Resolved};

/// Whether to ask at all.
pub fn should_ask(yes: bool, ci: bool, locked: bool) -> bool {
    !(yes || ci || locked) && std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// The question, e.g. "Download minikube v1.24.0 and istioctl 1.5.0 (verified by sha256) into
/// ~/.cache/meshup/tools?"
pub fn question(downloads: &[&Resolved]) -> String {
    let names: Vec<String> = downloads
        .iter()
        .map(|r| format!("{} {}", r.tool, r.version))
        .collect();
    let dir = downloads
        .iter()
        .find_map(|r| match &r.origin {
            Origin::Download { path, .. } => path
                .parent()?
                .parent()?
                .parent()
                .map(|p| p.display().to_string()),
            _ => None,
        })
        .unwrap_or_default();
    format!(
        "Download {} (verified by sha256) into {dir}?",
        join_and(&names)
    )
}

/// Confirms the downloads through `ask` (the report module's prompt, which keeps progress out
/// of the way); an empty list or a skipped question is consent, anything but yes is a no.
pub fn confirm(
    downloads: &[&Resolved],
    yes: bool,
    ci: bool,
    locked: bool,
    ask: &(dyn Fn(&str) -> bool + Sync),
) -> Result<()> {
    if downloads.is_empty() || !should_ask(yes, ci, locked) {
        return Ok(());
    }
    let why: Vec<String> = downloads
        .iter()
        .map(|r| format!("  {} {}: {}", r.tool, r.version, r.why))
        .collect();
    if ask(&format!("{}\n{}", why.join("\n"), question(downloads))) {
        Ok(())
    } else {
        Err(ToolError::Declined {
            tools: downloads.iter().map(|r| r.tool).collect(),
        })
    }
}

pub(crate) fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_like_a_sentence() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(join_and(&s(&["a"])), "a");
        assert_eq!(join_and(&s(&["a", "b", "c"])), "a, b and c");
    }

    #[test]
    fn never_asks_with_yes_ci_or_a_lock() {
        assert!(!should_ask(true, false, false));
        assert!(!should_ask(false, true, false));
        assert!(!should_ask(false, false, true));
    }
}
