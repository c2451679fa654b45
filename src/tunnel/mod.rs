//! `minikube tunnel`, supervised (issue 9; research/minikube.md §5). LoadBalancer Services get
//! an address only while a tunnel runs, and minikube has no background mode: meshup starts a
//! small supervisor process of its own (`meshup tunnel supervise -p P`, detached, with a pid
//! file and a log in the profile's state dir) that keeps the tunnel alive, restarts it with
//! backoff, fails fast on a sudo password it cannot get, and leaves nothing behind.
//!
//! - `supervisor`: the actor owning the child; `state`: its state enum and `tunnel.json`;
//!   `output`: the tunnel's output parser; `backoff`: restart policy; `sudo`: the check and the
//!   sudoers line; `health`: addresses and whether they answer, stale address cleanup;
//!   `pidfile` / `procs`: the pid file and the process table (stale pids, orphaned forwards);
//!   `route_conflict`: another cluster's route for the same service CIDR (fatal, with its owner).

pub mod backoff;
pub mod health;
pub mod output;
pub mod pidfile;
pub mod procs;
pub mod route_conflict;
pub mod state;
pub mod sudo;
pub mod supervisor;
mod track;

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use tokio::io::AsyncBufReadExt;

use crate::error::{ExitKind, Failure};
use pidfile::Found;
pub use state::{Status, TunnelState};

/// The supervisor's log, in the profile's state dir.
pub const LOG_FILE: &str = "tunnel.log";

/// What the detached supervisor needs to know: passed on its command line.
#[derive(Debug, Clone)]
pub struct Launch {
    pub profile: String,
    /// The profile's state dir.
    pub dir: PathBuf,
    /// The minikube meshup uses for the profile.
    pub minikube: PathBuf,
    /// The profile's own kubeconfig (`--isolated-kubeconfig`), else the user's.
    pub kubeconfig: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// A live supervisor was found (no second one is started).
    Already(u32),
    New(u32),
}

/// The supervisor's status as it last wrote it.
pub fn status(dir: &Path) -> Option<Status> {
    Status::load(&dir.join(state::STATUS_FILE))
}

/// Is a supervisor running for the profile? (A stale pid file is removed on the way.)
pub fn running(dir: &Path, profile: &str) -> Option<u32> {
    match pidfile::find(dir, profile) {
        Found::Live(pid) => Some(pid),
        _ => None,
    }
}

/// The failure a settled `failed` status stands for (exit 6 with its hints).
pub fn failure_of(s: &Status) -> Option<Failure> {
    match &s.state {
        TunnelState::Failed {
            reason,
            hints,
            details,
            ..
        } => {
            let mut f = Failure::new(ExitKind::Tunnel, reason.clone());
            for h in hints {
                f = f.hint(h.clone());
            }
            // The supervisor's details (an object, if any) with its last errors added.
            let mut d = match details {
                serde_json::Value::Object(m) => m.clone(),
                _ => serde_json::Map::new(),
            };
            d.insert("lastErrors".into(), serde_json::json!(s.last_errors));
            Some(f.details(serde_json::Value::Object(d)))
        }
        _ => None,
    }
}

/// Starts the detached supervisor unless one runs, and waits (at most `wait`) until the
/// tunnel runs or fails. A failure stops the supervisor and is an exit-6 error.
pub async fn ensure_detached(
    l: &Launch,
    wait: Duration,
) -> anyhow::Result<(Started, Option<Status>)> {
    std::fs::create_dir_all(&l.dir)?;
    match pidfile::find(&l.dir, &l.profile) {
        Found::Live(pid) => return Ok((Started::Already(pid), status(&l.dir))),
        Found::Stale { pid, why } => {
            tracing::info!(pid, why, "removed a stale tunnel pid file");
        }
        Found::None => {}
    }
    let exe = std::env::current_exe()?;
    let mut args: Vec<std::ffi::OsString> = vec![
        "-v".into(),
        "tunnel".into(),
        "supervise".into(),
        "-p".into(),
        l.profile.clone().into(),
        "--minikube".into(),
        l.minikube.clone().into(),
    ];
    if let Some(k) = &l.kubeconfig {
        args.push("--kubeconfig".into());
        args.push(k.clone().into());
    }
    let log = l.dir.join(LOG_FILE);
    let d = crate::exec::spawn_detached(&exe, &args, &log)?;
    pidfile::write(&l.dir, d.pid)?;
    let mut lines = tokio::io::BufReader::new(d.ready).lines();
    let settled = tokio::time::timeout(wait, async {
        let mut last = None;
        while let Ok(Some(line)) = lines.next_line().await {
            if let Ok(s) = serde_json::from_str::<Status>(&line) {
                let done = s.state.settled();
                last = Some(s);
                if done {
                    break;
                }
            }
        }
        last
    })
    .await;
    match settled {
        // Not settled yet: the supervisor keeps at it; the caller decides what that means.
        Err(_) => Ok((Started::New(d.pid), status(&l.dir))),
        Ok(Some(s)) => match failure_of(&s) {
            Some(f) => {
                // It has given up and exits by itself; make sure nothing is left.
                stop_supervisor(d.pid).await;
                pidfile::remove(&l.dir);
                Err(f.into())
            }
            None => Ok((Started::New(d.pid), Some(s))),
        },
        Ok(None) => {
            pidfile::remove(&l.dir);
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(10).collect();
            Err(Failure::new(
                ExitKind::Tunnel,
                format!(
                    "the tunnel's supervisor (pid {}) exited before the tunnel ran:\n  {}",
                    d.pid,
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n  ")
                ),
            )
            .hint(format!("its log: {}", log.display()))
            .into())
        }
    }
}

/// What `stop` found and ended.
#[derive(Debug, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StopReport {
    pub supervisor: Option<u32>,
    pub tunnels: Vec<u32>,
    pub forwards: Vec<u32>,
    pub cleared_addresses: Vec<String>,
}

/// SIGINT to the supervisor (it stops the tunnel gracefully: routes and addresses go), SIGKILL
/// to its group if it does not end within the tunnel's grace period and a margin.
async fn stop_supervisor(pid: u32) {
    let _ = kill(Pid::from_raw(pid as i32), Signal::SIGINT);
    if !wait_gone(&[pid], supervisor::GRACE + Duration::from_secs(5)).await {
        let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
        wait_gone(&[pid], Duration::from_secs(2)).await;
    }
}

/// Not our children: there is no exit notification for them, so look a few times a second.
async fn wait_gone(pids: &[u32], within: Duration) -> bool {
    let end = tokio::time::Instant::now() + within;
    loop {
        if pids.iter().all(|p| !procs::alive(*p)) {
            return true;
        }
        if tokio::time::Instant::now() >= end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Ends the profile's tunnel and everything a dead one left: the supervisor (gracefully),
/// `minikube tunnel` processes of the profile (SIGINT, so they clean up), orphaned `ssh`
/// forwards, stale ingress addresses (when the cluster answers), the pid file.
pub async fn stop(dir: &Path, profile: &str, kube: Option<&kube::Client>) -> StopReport {
    let mut report = StopReport::default();
    if let Found::Live(pid) = pidfile::find(dir, profile) {
        stop_supervisor(pid).await;
        report.supervisor = Some(pid);
    }
    pidfile::remove(dir);
    let tunnels = procs::tunnels(profile, None);
    if !tunnels.is_empty() {
        for p in &tunnels {
            let _ = kill(Pid::from_raw(*p as i32), Signal::SIGINT);
        }
        if !wait_gone(&tunnels, supervisor::GRACE).await {
            for p in &tunnels {
                let _ = kill(Pid::from_raw(*p as i32), Signal::SIGKILL);
            }
        }
        report.tunnels = tunnels;
    }
    let forwards = procs::ssh_forwards(profile);
    if !forwards.is_empty() {
        for p in &forwards {
            let _ = kill(Pid::from_raw(*p as i32), Signal::SIGKILL);
        }
        wait_gone(&forwards, Duration::from_secs(2)).await;
        report.forwards = forwards;
    }
    if let Some(client) = kube {
        match tokio::time::timeout(Duration::from_secs(10), health::clear_addresses(client)).await {
            Ok(Ok(cleared)) => report.cleared_addresses = cleared,
            Ok(Err(e)) => tracing::debug!("cannot clear ingress addresses: {e:#}"),
            Err(_) => tracing::debug!("clearing ingress addresses timed out"),
        }
    }
    if let Some(mut s) = status(dir)
        && !matches!(
            s.state,
            TunnelState::Stopped { .. } | TunnelState::Failed { .. }
        )
    {
        s.state = TunnelState::Stopped {
            since: state::now(),
        };
        let _ = s.save(&dir.join(state::STATUS_FILE));
    }
    report
}
