use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio_util::sync::CancellationToken;

use super::child;
use super::{ExecError, Line, Output};

/// The default limit for one command: long enough for `minikube start` pulling images on a slow
/// line, short enough that a hung tool does not hang CI until its own timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// How long output pipes may stay open after the child exited (Go's `exec.Cmd.WaitDelay`): long
/// enough to read what the child wrote just before exiting, short enough that a grandchild
/// holding stdout (a daemon, a tunnel's `ssh`) cannot turn a finished command into a timeout.
const DEFAULT_WAIT_DELAY: Duration = Duration::from_millis(250);

/// A command to run: plain data, so it can be printed (`--dry-run`) before it is run.
#[derive(Debug, Clone)]
pub struct Cmd {
    pub(super) program: OsString,
    pub(super) args: Vec<OsString>,
    pub(super) env: Vec<(OsString, OsString)>,
    pub(super) env_remove: Vec<OsString>,
    pub(super) cwd: Option<PathBuf>,
    pub(super) stdin: Option<Vec<u8>>,
    pub(super) timeout: Duration,
    pub(super) stop_signal: Signal,
    pub(super) grace: Duration,
    pub(super) wait_delay: Duration,
    pub(super) cancel: Option<CancellationToken>,
}

impl Cmd {
    pub fn new(program: impl AsRef<OsStr>) -> Cmd {
        Cmd {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            env_remove: Vec::new(),
            cwd: None,
            stdin: None,
            timeout: DEFAULT_TIMEOUT,
            stop_signal: Signal::SIGTERM,
            grace: Duration::from_secs(5),
            wait_delay: DEFAULT_WAIT_DELAY,
            cancel: None,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Cmd {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Cmd {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Cmd {
        self.env_remove.push(key.as_ref().to_owned());
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Cmd {
        self.cwd = Some(dir.as_ref().to_owned());
        self
    }

    /// Bytes written to the child's stdin, which is then closed. Without it stdin is
    /// `/dev/null`: a tool that prompts sees EOF instead of hanging on meshup's terminal.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Cmd {
        self.timeout = timeout;
        self
    }

    /// The signal a graceful stop sends to the group (SIGTERM by default; `minikube tunnel`
    /// cleans up only on SIGINT) and how long to wait before SIGKILL.
    pub fn stop_with(mut self, signal: Signal, grace: Duration) -> Cmd {
        self.stop_signal = signal;
        self.grace = grace;
        self
    }

    /// How long to keep reading output after the child exited before the pipes are closed
    /// (250 ms by default). What the child's leftovers write after that is lost.
    pub fn wait_delay(mut self, delay: Duration) -> Cmd {
        self.wait_delay = delay;
        self
    }

    /// Stop gracefully when this token is cancelled instead of on meshup's shutdown.
    pub fn cancel_on(mut self, token: CancellationToken) -> Cmd {
        self.cancel = Some(token);
        self
    }

    pub fn program(&self) -> &OsStr {
        &self.program
    }

    pub fn get_args(&self) -> &[OsString] {
        &self.args
    }

    /// The command line, shell-escaped so it can be pasted into a terminal.
    pub fn display(&self) -> String {
        std::iter::once(&self.program)
            .chain(&self.args)
            .map(|a| shell_escape::unix::escape(a.to_string_lossy()).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Runs to completion; `Err` unless it exits 0.
    pub async fn run(&self) -> Result<Output, ExecError> {
        let out = self.run_unchecked().await?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(ExecError::failed(self, out))
        }
    }

    /// Runs to completion; any exit status is `Ok` (for tools whose exit code is data, like
    /// `minikube status`). `Err` only when it could not run, timed out or was stopped.
    pub async fn run_unchecked(&self) -> Result<Output, ExecError> {
        child::run(self, &mut |_| {}).await
    }

    /// Like `run`, handing each line of stdout and stderr to `on_line` as it arrives.
    pub async fn stream(
        &self,
        mut on_line: impl FnMut(Line<'_>) + Send,
    ) -> Result<Output, ExecError> {
        let out = child::run(self, &mut on_line).await?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(ExecError::failed(self, out))
        }
    }
}

impl std::fmt::Display for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display())
    }
}
