//! The one way meshup runs external programs (minikube, istioctl, kubectl, docker).
//!
//! Every child runs in its own process group, so stopping it stops what it started too (minikube
//! runs ssh and docker children). A command is stopped gracefully (a signal to the group, then
//! SIGKILL after a grace period) when meshup shuts down, and by force when its future is dropped.
//! A failed command is an `ExecError` that shows the pasteable command line, the exit status and
//! the last lines of its output.

mod child;
mod cmd;
mod detached;
mod error;
mod output;
mod shutdown;

pub use cmd::Cmd;
pub use detached::{Detached, READY_FD_ENV, ready_pipe, spawn_detached};
pub use error::ExecError;
pub use output::{Line, Output, Status, Stream};
pub use shutdown::{ShutdownReason, shutdown, shutdown_reason, shutdown_token};

#[cfg(test)]
mod tests;
