//! A process that outlives meshup on purpose: the tunnel's supervisor. Unlike `Cmd` (whose
//! children die with the operation that started them) it runs in its own session (`setsid`:
//! no controlling terminal, not in meshup's process group, so neither Ctrl-C in meshup's
//! terminal nor meshup's exit touches it), with stdin from /dev/null and stdout and stderr
//! appended to a log file: a caller that captures meshup's output (`out=$(meshup start)`, a CI
//! step) gets end-of-file when meshup exits. An optional pipe tells the starter how startup
//! went; the child finds its write end in `$MESHUP_READY_FD` and closes it when settled.

use std::ffi::OsStr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

pub const READY_FD_ENV: &str = "MESHUP_READY_FD";

pub struct Detached {
    pub pid: u32,
    /// The read end of the ready pipe: EOF once the child closed it (or died).
    pub ready: tokio::net::unix::pipe::Receiver,
}

pub fn spawn_detached<I, S>(program: &Path, args: I, log: &Path) -> std::io::Result<Detached>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let (read, write) = std::io::pipe()?;
    let write: OwnedFd = write.into();
    let fd = write.as_raw_fd();
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env(READY_FD_ENV, fd.to_string())
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file);
    // SAFETY: only async-signal-safe calls (setsid, fcntl) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            // std opens the pipe close-on-exec; this one end must survive into the child.
            let borrowed = std::os::fd::BorrowedFd::borrow_raw(fd);
            nix::fcntl::fcntl(
                borrowed,
                nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
            )
            .map_err(std::io::Error::from)?;
            Ok(())
        });
    }
    let child = cmd.spawn()?;
    drop(write);
    let ready = tokio::net::unix::pipe::Receiver::from_owned_fd(OwnedFd::from(read))?;
    // Not waited for: it is meant to outlive us (init reaps it once meshup exits).
    Ok(Detached {
        pid: child.id(),
        ready,
    })
}

/// In the detached child: the write end of the ready pipe, if it was started with one.
pub fn ready_pipe() -> Option<std::fs::File> {
    let fd: i32 = std::env::var(READY_FD_ENV).ok()?.parse().ok()?;
    // SAFETY: `spawn_detached` passed this fd open for us alone; it is taken once, here.
    let file = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    // Close-on-exec again, so the tunnel we start does not hold the pipe open after us.
    nix::fcntl::fcntl(
        &file,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    )
    .ok()?;
    Some(file)
}
