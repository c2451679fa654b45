//! One module per subcommand: `async fn run(args, printer) -> anyhow::Result<ExitKind>`.
//! Errors that mean a specific exit code carry a `Failure`; main renders them.

pub mod doctor;
pub mod down;
pub mod input;
pub mod istio;
pub mod lock;
pub mod manifest;
pub mod matrix;
pub mod matrix_board;
pub mod matrix_ranges;
pub mod matrix_run;
pub mod plan;
pub mod profile;
pub mod scenario;
pub mod start;
pub mod start_live;
pub mod status;
pub mod stop;
pub mod tools;
pub mod tunnel;
pub mod verify;
pub mod wizard;

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::ExitKind;

pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitKind> {
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut Cli::command(), "meshup", &mut out);
    out.flush()?;
    Ok(ExitKind::Success)
}
