//! The process groups meshup's children run in, so a second Ctrl-C can SIGKILL every one of
//! them at once from the signal thread (no runtime needed), and the rest of the run — or a
//! matrix of runs — never leaves a child behind. Signals are process-wide, so this is too.

use std::collections::BTreeSet;
use std::sync::Mutex;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

static GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// Registered for as long as the guard lives (the child's group until it was reaped and
/// stopped).
pub(super) struct Registered(i32);

pub(super) fn register(pgid: Pid) -> Registered {
    lock().insert(pgid.as_raw());
    Registered(pgid.as_raw())
}

impl Drop for Registered {
    fn drop(&mut self) {
        lock().remove(&self.0);
    }
}

/// SIGKILL to every group meshup still has. Safe to call from any thread.
pub fn kill_all() {
    for pgid in lock().iter() {
        let _ = killpg(Pid::from_raw(*pgid), Signal::SIGKILL);
    }
}

/// How many groups are alive: a graceful stop has something to wait for only when > 0.
pub fn live() -> usize {
    lock().len()
}

fn lock() -> std::sync::MutexGuard<'static, BTreeSet<i32>> {
    GROUPS.lock().unwrap_or_else(|e| e.into_inner())
}
