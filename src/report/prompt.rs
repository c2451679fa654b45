//! Questions on the terminal, the one place meshup asks them. Only asked when
//! `Printer::interactive` (a TTY, not CI); anything but a clear yes — an interrupted or closed
//! prompt included — is a no. While a question is on screen, progress lines are suspended.

use super::events::Reporter;

pub fn confirm(question: &str) -> bool {
    ask(question, false)
}

/// `confirm`, with the run's progress lines out of the way.
pub fn confirm_during(reporter: &Reporter, question: &str) -> bool {
    blocking(|| reporter.suspend(|| confirm(question)))
}

/// A prompt waits on the terminal: inside the runtime, its worker is handed over for the wait
/// so the other stages (and the signal handling) go on.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// A question whose default is yes (a download the user came for); a no or an interrupted
/// prompt is a no.
pub fn ask_yes(question: &str) -> bool {
    ask(question, true)
}

/// A yes/no question with its default. Lines before the question are context: printed once,
/// not redrawn with the answer.
fn ask(question: &str, default: bool) -> bool {
    let (context, question) = question.rsplit_once('\n').unwrap_or(("", question));
    if !context.is_empty() {
        let _ = dialoguer::console::Term::stderr().write_line(context);
    }
    dialoguer::Confirm::new()
        .with_prompt(question)
        .default(default)
        .interact_on(&dialoguer::console::Term::stderr())
        .unwrap_or(false)
}

/// `ask_yes`, with the run's progress lines out of the way.
pub fn ask_yes_during(reporter: &Reporter, question: &str) -> bool {
    blocking(|| reporter.suspend(|| ask_yes(question)))
}
