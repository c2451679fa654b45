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

/// A question after the lines that explain it (e.g. why each download is needed), with the
/// answer an Enter gives.
pub fn confirm_after(details: &[String], question: &str, default: bool) -> bool {
    let term = dialoguer::console::Term::stderr();
    for line in details {
        let _ = term.write_line(line);
    }
    dialoguer::Confirm::new()
        .with_prompt(question)
        .default(default)
        .interact_on(&term)
        .unwrap_or(false)
}

/// `confirm`, with the run's progress lines out of the way.
pub fn confirm_during(reporter: &Reporter, question: &str) -> bool {
    reporter.suspend(|| confirm(question))
}
