//! Ctrl-C and SIGTERM, on a thread of their own (watchexec's escalation): a busy or blocked
//! runtime — a read of a FIFO nobody writes, a long parse — cannot ignore them.
//!
//! First signal: every run's token is cancelled, so running stages stop their process groups
//! gracefully (the stage's stop signal, SIGKILL after its grace) and write where they stopped;
//! a hard deadline ends the process if that does not finish in time. Second: SIGKILL to every
//! group at once, then exit. (A third never comes: the second exits.)

use std::time::Duration;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::error::ExitKind;
use crate::exec::{ShutdownReason, kill_all, live_groups, shutdown, shutdown_reason};

/// Without children to wait for, a stop needs only the time to write the record and the result.
const NO_CHILDREN_GRACE: Duration = Duration::from_secs(2);

/// Starts the watcher. `grace`: how long a graceful stop may take before the process ends.
pub fn install(grace: Duration) -> std::io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("meshup-signals".into())
        .spawn(move || {
            let mut seen = 0;
            for signal in signals.forever() {
                seen += 1;
                if seen == 1 {
                    let reason = if signal == SIGTERM {
                        ShutdownReason::Terminate
                    } else {
                        ShutdownReason::Interrupt
                    };
                    let waiting = live_groups();
                    let limit = if waiting > 0 { grace } else { NO_CHILDREN_GRACE };
                    if waiting > 0 {
                        crate::report::signal_notice(&format!(
                            "stopping: waiting up to {}s for {waiting} child process group(s) to stop (Ctrl-C again to force)",
                            limit.as_secs()
                        ));
                    }
                    shutdown(reason);
                    std::thread::spawn(move || {
                        std::thread::sleep(limit);
                        kill_all();
                        std::process::exit(exit_code());
                    });
                } else {
                    kill_all();
                    std::process::exit(exit_code());
                }
            }
        })?;
    Ok(())
}

fn exit_code() -> i32 {
    match shutdown_reason() {
        Some(ShutdownReason::Terminate) => ExitKind::Terminated.code(),
        _ => ExitKind::Interrupted.code(),
    }
}
