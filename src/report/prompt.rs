//! Questions on the terminal. Only asked when `Printer::interactive` (a TTY, not CI); anything
//! but a clear yes — an interrupted or closed prompt included — is a no.

pub fn confirm(question: &str) -> bool {
    dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact_on(&dialoguer::console::Term::stderr())
        .unwrap_or(false)
}
