use std::path::Path;
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio_util::sync::CancellationToken;

use super::*;

fn sh(script: &str) -> Cmd {
    Cmd::new("sh").args(["-c", script])
}

fn alive(pid: i32) -> bool {
    // A zombie is dead for our purposes: it runs nothing.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

fn pids_in(file: &Path) -> Vec<i32> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

async fn wait_for_file(file: &Path) {
    for _ in 0..500 {
        if file.exists() && !pids_in(file).is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{} never appeared", file.display());
}

/// A killed process is gone once the kernel has delivered the signal; allow it a moment.
async fn assert_all_gone(pids: &Path) {
    let mut left = pids_in(pids);
    assert!(!left.is_empty());
    for _ in 0..100 {
        left.retain(|pid| alive(*pid));
        if left.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("still running: {left:?}");
}

#[tokio::test]
async fn captures_both_streams_and_the_status() {
    let out = sh("echo out; echo err >&2; exit 3")
        .run_unchecked()
        .await
        .unwrap();
    assert_eq!(out.stdout, "out\n");
    assert_eq!(out.stderr, "err\n");
    assert_eq!(out.status.code, Some(3));
    assert!(!out.status.success());
}

#[tokio::test]
async fn a_failure_names_the_pasteable_command_its_status_and_output_tail() {
    let err = sh("echo 'first line'; echo 'boom: it broke' >&2; exit 106")
        .run()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("`sh -c 'echo '\\''first line'\\''; echo '\\''boom: it broke'\\'' >&2; exit 106'` exited with code 106"),
        "{text}"
    );
    assert!(text.contains("\n    boom: it broke"), "{text}");
    assert_eq!(err.output().unwrap().status.code, Some(106));
}

#[tokio::test]
async fn a_missing_program_is_not_found() {
    let err = Cmd::new("meshup-no-such-tool").run().await.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(
        err.to_string(),
        "`meshup-no-such-tool` was not found (looked on PATH)"
    );
}

#[tokio::test]
async fn streams_lines_in_order_as_they_arrive() {
    let mut seen = Vec::new();
    sh("echo one; echo two >&2; printf 'three'")
        .stream(|line| seen.push((line.stream, line.text.to_owned())))
        .await
        .unwrap();
    let stdout: Vec<_> = seen
        .iter()
        .filter(|(s, _)| *s == Stream::Stdout)
        .map(|(_, t)| t.as_str())
        .collect();
    assert_eq!(stdout, ["one", "three"]);
    assert!(seen.contains(&(Stream::Stderr, "two".to_owned())));
}

#[tokio::test]
async fn stdin_is_fed_or_empty() {
    let out = Cmd::new("cat").stdin("hello\n").run().await.unwrap();
    assert_eq!(out.stdout, "hello\n");
    // Without stdin a prompting tool reads EOF instead of waiting on meshup's terminal.
    let out = sh("read answer || echo eof").run().await.unwrap();
    assert_eq!(out.stdout, "eof\n");
}

#[tokio::test]
async fn env_is_set_and_removed() {
    let out = sh("echo \"$A-${HOME:-nohome}\"")
        .env("A", "set")
        .env_remove("HOME")
        .run()
        .await
        .unwrap();
    assert_eq!(out.stdout, "set-nohome\n");
}

#[tokio::test]
async fn a_timeout_stops_the_whole_group() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let script = format!(
        "sleep 30 & echo $$ $! > {}; echo started; wait",
        pids.display()
    );
    let err = sh(&script)
        .timeout(Duration::from_millis(300))
        .stop_with(Signal::SIGTERM, Duration::from_millis(200))
        .run()
        .await
        .unwrap_err();
    assert!(matches!(err, ExecError::TimedOut { .. }), "{err}");
    assert!(
        err.to_string().contains("did not finish within 0.3s"),
        "{err}"
    );
    assert!(err.to_string().contains("started"), "{err}");
    assert_all_gone(&pids).await;
}

#[tokio::test]
async fn dropping_the_future_kills_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let script = format!("sleep 30 & echo $$ $! > {}; wait", pids.display());
    let cmd = sh(&script);
    let run = tokio::spawn(async move { cmd.run().await });
    wait_for_file(&pids).await;
    run.abort();
    let _ = run.await;
    assert_all_gone(&pids).await;
}

#[tokio::test]
async fn cancelling_sends_the_chosen_signal_first() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let got = dir.path().join("got");
    // A test run started as a background job of a script inherits SIGINT ignored, and a
    // signal ignored on entry cannot be trapped by sh. meshup itself handles SIGINT, so its
    // children start with the default; give this test process the same.
    // SAFETY: restores the default disposition; no handler is installed.
    unsafe {
        let _ = nix::sys::signal::signal(Signal::SIGINT, nix::sys::signal::SigHandler::SigDfl);
    }
    // Like `minikube tunnel`, this child cleans up only on SIGINT.
    let script = format!(
        "trap 'echo INT > {got}; exit 0' INT; echo $$ > {pids}; while :; do sleep 0.05; done",
        got = got.display(),
        pids = pids.display()
    );
    let token = CancellationToken::new();
    let cmd = sh(&script)
        .stop_with(Signal::SIGINT, Duration::from_secs(5))
        .cancel_on(token.clone());
    let run = tokio::spawn(async move { cmd.run().await });
    wait_for_file(&pids).await;
    token.cancel();
    let err = run.await.unwrap().unwrap_err();
    assert!(matches!(err, ExecError::Cancelled { .. }), "{err}");
    assert_eq!(std::fs::read_to_string(&got).unwrap(), "INT\n");
}

#[tokio::test]
async fn a_child_ignoring_the_signal_is_killed_after_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let script = format!(
        "trap '' TERM; echo $$ > {}; while :; do sleep 0.05; done",
        pids.display()
    );
    let token = CancellationToken::new();
    let cmd = sh(&script)
        .stop_with(Signal::SIGTERM, Duration::from_millis(100))
        .cancel_on(token.clone());
    let run = tokio::spawn(async move { cmd.run().await });
    wait_for_file(&pids).await;
    token.cancel();
    let err = run.await.unwrap().unwrap_err();
    assert!(matches!(err, ExecError::Cancelled { .. }));
    assert_all_gone(&pids).await;
}

#[test]
fn status_names_the_signal() {
    let s = Status {
        code: None,
        signal: Some(9),
    };
    assert_eq!(s.to_string(), "was killed by SIGKILL");
}

#[tokio::test]
async fn a_grandchild_holding_stdout_does_not_stall_a_finished_command() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let script = format!("sleep 30 & echo $! > {}; echo done", pids.display());
    let started = std::time::Instant::now();
    let out = sh(&script).run().await.unwrap();
    // The leader exits at once; only the 250 ms wait delay and the leftover's stop remain.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(out.stdout, "done\n");
    // The leftover `sleep` was in the child's group: stopped, not left running for 30 s.
    assert_all_gone(&pids).await;
}

#[tokio::test]
async fn what_a_leftover_writes_within_the_wait_delay_is_kept() {
    let out = sh("(sleep 0.1; echo late) & echo early")
        .wait_delay(Duration::from_secs(20))
        .run()
        .await
        .unwrap();
    assert_eq!(out.stdout, "early\nlate\n");
}

#[tokio::test]
async fn a_leftover_ignoring_the_stop_signal_is_killed_after_the_grace() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    // An ignored signal stays ignored across exec: this sleep does not die of SIGTERM.
    let script = format!(
        "(trap '' TERM; exec sleep 30) & echo $! > {}; echo done",
        pids.display()
    );
    let out = sh(&script)
        .stop_with(Signal::SIGTERM, Duration::from_millis(100))
        .wait_delay(Duration::from_millis(50))
        .run()
        .await
        .unwrap();
    assert_eq!(out.stdout, "done\n");
    assert_all_gone(&pids).await;
}
