use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use tokio_util::sync::CancellationToken;

/// Why meshup is shutting down: decides the exit code (130 or 143) and lets every running
/// command stop gracefully instead of being cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownReason {
    Interrupt,
    Terminate,
}

static TOKEN: OnceLock<CancellationToken> = OnceLock::new();
static REASON: AtomicU8 = AtomicU8::new(0);

/// Signals are process-wide, so the shutdown they cause is too: one token every running
/// command watches.
pub fn shutdown_token() -> CancellationToken {
    TOKEN.get_or_init(CancellationToken::new).clone()
}

pub fn shutdown(reason: ShutdownReason) {
    let code = match reason {
        ShutdownReason::Interrupt => 1,
        ShutdownReason::Terminate => 2,
    };
    let _ = REASON.compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst);
    shutdown_token().cancel();
}

pub fn shutdown_reason() -> Option<ShutdownReason> {
    match REASON.load(Ordering::SeqCst) {
        1 => Some(ShutdownReason::Interrupt),
        2 => Some(ShutdownReason::Terminate),
        _ => None,
    }
}
