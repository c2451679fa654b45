//! The one way meshup runs external programs (minikube, istioctl, kubectl, docker).
//!
//! Every child runs in its own process group, so stopping it stops what it started too (minikube
//! runs ssh and docker children). A command is stopped gracefully (a signal to the group, then
//! SIGKILL after a grace period) when meshup shuts down, and by force when its future is dropped.
//! A failed command is an `ExecError` that shows the pasteable command line, the exit status and
//! the last lines of its output.

mod child;
mod cmd;
mod error;
mod groups;
mod output;
mod shutdown;

pub use cmd::Cmd;
pub use error::ExecError;
pub use groups::{kill_all, live as live_groups};
pub use output::{Line, Output, Status, Stream};
pub use shutdown::{ShutdownReason, shutdown, shutdown_reason, shutdown_token};

use tokio_util::sync::CancellationToken;

tokio::task_local! {
    static CANCEL: CancellationToken;
}

/// Runs `work` with `token` as the stop token of every command it runs (unless a command names
/// its own): the engine gives each stage one, so a stage's children stop when the stage is
/// stopped, without the stage passing tokens around. Tasks `work` spawns do not inherit it.
pub async fn with_cancel<F: std::future::Future>(token: CancellationToken, work: F) -> F::Output {
    CANCEL.scope(token, work).await
}

fn current_cancel() -> Option<CancellationToken> {
    CANCEL.try_with(CancellationToken::clone).ok()
}

#[cfg(test)]
mod tests;
