//! An error at the edge of a command, printed once: `error:` / `hint:` lines on stderr in every
//! mode, and in JSON mode the `meshup.error/v1` document on stdout for commands that print one
//! document (event commands carry the error in their `result` event instead).

use super::Printer;
use crate::error::{ExitKind, Failure};

pub fn print(err: &anyhow::Error, printer: &Printer, document: bool) -> ExitKind {
    let failure = Failure::of(err);
    if document && printer.json() {
        printer.out_json(&failure.to_json(), false);
    }
    print_text(&failure, printer);
    failure.kind
}

/// Only the stderr text (the JSON went out as the command's `result` event).
pub fn print_text(failure: &Failure, printer: &Printer) {
    if printer.verbosity >= -1 {
        eprint!("{}", failure.render_text(printer.color));
    }
}
