//! Questions on the terminal, the one place meshup asks them. Only asked when
//! `Printer::interactive` (a TTY, not CI); anything but a clear yes — an interrupted or closed
//! prompt included — is a no. While a question is on screen, progress lines are suspended.

use super::events::Reporter;

pub fn confirm(question: &str) -> bool {
    dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact_on(&dialoguer::console::Term::stderr())
        .unwrap_or(false)
}

/// `confirm`, with the run's progress lines out of the way.
pub fn confirm_during(reporter: &Reporter, question: &str) -> bool {
    reporter.suspend(|| confirm(question))
}
