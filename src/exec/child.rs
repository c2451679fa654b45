use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use process_wrap::tokio::{ProcessGroup, TokioChildWrapper, TokioCommandWrap};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use super::{Cmd, ExecError, Line, Output, Status, Stream, shutdown_token};

/// Kills the whole group if the run is abandoned (its future dropped) before the child was
/// reaped: nothing meshup started outlives the operation that started it.
struct GroupGuard {
    pgid: Pid,
    armed: bool,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.armed {
            let _ = killpg(self.pgid, Signal::SIGKILL);
        }
    }
}

enum Ending {
    Exited(std::process::ExitStatus),
    TimedOut,
    Cancelled,
}

pub(super) async fn run(
    cmd: &Cmd,
    on_line: &mut (dyn FnMut(Line<'_>) + Send),
) -> Result<Output, ExecError> {
    let mut child = spawn(cmd)?;
    let pgid = Pid::from_raw(child.id().unwrap_or_default() as i32);
    let mut guard = GroupGuard { pgid, armed: true };
    let _registered = super::groups::register(pgid);
    tracing::debug!(command = %cmd.display(), pgid = pgid.as_raw(), "started");

    if let (Some(bytes), Some(mut stdin)) = (cmd.stdin.clone(), child.stdin().take()) {
        tokio::spawn(async move {
            // A child that exits without reading its stdin is not an error of ours.
            let _ = stdin.write_all(&bytes).await;
        });
    }
    let (tx, mut rx) = mpsc::channel::<(Stream, String)>(256);
    if let Some(out) = child.stdout().take() {
        tokio::spawn(forward_lines(out, Stream::Stdout, tx.clone()));
    }
    if let Some(err) = child.stderr().take() {
        tokio::spawn(forward_lines(err, Stream::Stderr, tx.clone()));
    }
    drop(tx);

    let mut stdout = String::new();
    let mut stderr = String::new();
    let deadline = tokio::time::sleep(cmd.timeout);
    tokio::pin!(deadline);
    let token = cmd
        .cancel
        .clone()
        .or_else(super::current_cancel)
        .unwrap_or_else(shutdown_token);

    let mut streams_open = true;
    let ending = loop {
        tokio::select! {
            line = rx.recv(), if streams_open => match line {
                Some((stream, text)) => {
                    on_line(Line { stream, text: &text });
                    let buf = if stream == Stream::Stdout { &mut stdout } else { &mut stderr };
                    buf.push_str(&text);
                    buf.push('\n');
                }
                None => streams_open = false,
            },
            status = Box::into_pin(child.wait()), if !streams_open => {
                break match status {
                    Ok(status) => Ending::Exited(status),
                    Err(source) => return Err(ExecError::Spawn { command: cmd.display(), source }),
                };
            }
            _ = &mut deadline => break Ending::TimedOut,
            _ = token.cancelled() => break Ending::Cancelled,
        }
    };

    match ending {
        Ending::Exited(status) => {
            guard.armed = false;
            let status = Status::from_std(status);
            tracing::debug!(command = %cmd.display(), %status, "finished");
            Ok(Output {
                status,
                stdout,
                stderr,
            })
        }
        Ending::TimedOut => {
            stop_group(&mut *child, pgid, cmd.stop_signal, cmd.grace).await;
            guard.armed = false;
            Err(ExecError::timed_out(cmd, &stdout, &stderr))
        }
        Ending::Cancelled => {
            stop_group(&mut *child, pgid, cmd.stop_signal, cmd.grace).await;
            guard.armed = false;
            Err(ExecError::Cancelled {
                command: cmd.display(),
            })
        }
    }
}

fn spawn(cmd: &Cmd) -> Result<Box<dyn TokioChildWrapper>, ExecError> {
    let mut command = tokio::process::Command::new(&cmd.program);
    command
        .args(&cmd.args)
        .stdin(if cmd.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for key in &cmd.env_remove {
        command.env_remove(key);
    }
    for (key, value) in &cmd.env {
        command.env(key, value);
    }
    if let Some(dir) = &cmd.cwd {
        command.current_dir(dir);
    }
    let mut wrap = TokioCommandWrap::from(command);
    wrap.wrap(ProcessGroup::leader());
    wrap.spawn().map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            ExecError::NotFound {
                program: cmd.program.to_string_lossy().into_owned(),
            }
        } else {
            ExecError::Spawn {
                command: cmd.display(),
                source,
            }
        }
    })
}

async fn forward_lines(
    reader: impl AsyncRead + Unpin,
    stream: Stream,
    tx: mpsc::Sender<(Stream, String)>,
) {
    let mut reader = BufReader::new(reader);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&buf);
                let text = text.trim_end_matches(['\n', '\r']).to_owned();
                if tx.send((stream, text)).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// A signal to the group first, SIGKILL after the grace period (watchexec's way). Members that
/// outlive the leader get what is left of the grace period, then SIGKILL too.
async fn stop_group(child: &mut dyn TokioChildWrapper, pgid: Pid, signal: Signal, grace: Duration) {
    let deadline = tokio::time::Instant::now() + grace;
    let _ = killpg(pgid, signal);
    if tokio::time::timeout_at(deadline, Box::into_pin(child.wait()))
        .await
        .is_err()
    {
        let _ = killpg(pgid, Signal::SIGKILL);
        let _ = Box::into_pin(child.wait()).await;
        return;
    }
    // There is no notification for "a process group became empty": check it a few times.
    while killpg(pgid, None).is_ok() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = killpg(pgid, Signal::SIGKILL);
}
