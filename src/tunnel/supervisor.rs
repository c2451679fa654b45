//! The supervisor, in the style of watchexec's: one task owns `minikube tunnel -p P`, run in
//! its own process group through `exec::Cmd`; its output is parsed into the explicit state
//! (`state::TunnelState`); an unexpected exit is restarted with capped exponential backoff
//! (`backoff`), the same startup failure repeated ends in `failed`; stopping sends SIGINT (the
//! only signal on which minikube removes its routes and addresses), waits a grace period,
//! then kills the group, `ssh` children included (research/minikube.md §5). What restarting
//! cannot fix (sudo wanting a password, another tunnel of the profile, another cluster's route
//! for the same service CIDR: `route_conflict`) is fatal at once.

use std::path::PathBuf;
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::backoff::{Backoff, Policy, Verdict};
use super::state::{STATUS_FILE, Status, TunnelState, now};
use super::sudo::{self, SudoCheck};
use super::track::Track;
use super::{health, procs};
use crate::cluster::minikube::Minikube;
use crate::error::Failure;
use crate::exec::{ExecError, Stream};

/// How long minikube gets to clean up after SIGINT before its group is killed (research:
/// "send SIGINT to the leader and wait about 10 s").
pub const GRACE: Duration = Duration::from_secs(10);

/// How long a `sudo ssh` forward may take to answer before sudo is taken to have refused.
const SUDO_SSH_PATIENCE: Duration = Duration::from_secs(3);

pub struct Supervisor {
    pub profile: String,
    pub minikube: Minikube,
    /// For health and cleanup; without one the supervisor still runs, blind to addresses.
    pub kube: Option<kube::Client>,
    /// The profile's state dir (`tunnel.json`).
    pub dir: PathBuf,
    pub policy: Policy,
    pub grace: Duration,
    /// Could sudo ask on a terminal (`--foreground` on a TTY)?
    pub terminal: bool,
    /// How often health is checked while the tunnel runs.
    pub tick: Duration,
    /// Ask `sudo -n true` before each start (off only in unit tests of the state machine).
    pub check_sudo: bool,
}

/// How one run of `minikube tunnel` ended.
enum RunEnd {
    /// Stopped on request.
    Stopped,
    /// Not worth restarting.
    Fatal(Failure),
    /// Died: restart unless it keeps failing the same way.
    Died {
        reason: String,
        reached_running: bool,
    },
}

impl Supervisor {
    pub fn new(
        profile: &str,
        minikube: Minikube,
        kube: Option<kube::Client>,
        dir: PathBuf,
    ) -> Self {
        Supervisor {
            profile: profile.to_owned(),
            minikube,
            kube,
            dir,
            policy: Policy::default(),
            grace: GRACE,
            terminal: false,
            tick: Duration::from_millis(250),
            check_sudo: true,
        }
    }

    fn publish(&self, status: &Status, tx: &watch::Sender<Status>) {
        if let Err(e) = status.save(&self.dir.join(STATUS_FILE)) {
            tracing::warn!("cannot write the tunnel's status: {e:#}");
        }
        tx.send_replace(status.clone());
    }

    /// Runs until `cancel` (then stops the tunnel cleanly) or until it gives up. Every change
    /// of state is written to `tunnel.json` and sent on `tx`. Returns the final status.
    pub async fn run(&self, cancel: CancellationToken, tx: watch::Sender<Status>) -> Status {
        let mut status = Status::new(&self.profile);
        let mut backoff = Backoff::default();
        loop {
            self.clean_leftovers(&mut status).await;
            if let Some(f) = self.sudo_blocker().await {
                status.error(f.message.clone());
                status.state = failed(&f);
                self.publish(&status, &tx);
                return status;
            }
            status.state = TunnelState::Starting { since: now() };
            status.tunnel_pid = None;
            self.publish(&status, &tx);
            match self.run_once(&mut status, &cancel, &tx).await {
                RunEnd::Stopped => {
                    self.clean_leftovers(&mut status).await;
                    status.state = TunnelState::Stopped { since: now() };
                    status.tunnel_pid = None;
                    self.publish(&status, &tx);
                    return status;
                }
                RunEnd::Fatal(f) => {
                    self.clean_leftovers(&mut status).await;
                    status.error(f.message.clone());
                    status.state = failed(&f);
                    status.tunnel_pid = None;
                    self.publish(&status, &tx);
                    return status;
                }
                RunEnd::Died {
                    reason,
                    reached_running,
                } => {
                    status.error(format!("minikube tunnel {reason}"));
                    status.tunnel_pid = None;
                    match backoff.next(&self.policy, &reason, reached_running) {
                        Verdict::GiveUp => {
                            let f = Failure::new(
                                crate::error::ExitKind::Tunnel,
                                format!(
                                    "minikube tunnel -p {} keeps failing: it {reason} ({} times in a row)",
                                    self.profile, self.policy.max_same
                                ),
                            )
                            .hint(format!(
                                "see `meshup tunnel logs -p {}`; `minikube tunnel -p {}` in a terminal shows the same",
                                self.profile, self.profile
                            ));
                            self.clean_leftovers(&mut status).await;
                            status.state = failed(&f);
                            self.publish(&status, &tx);
                            return status;
                        }
                        Verdict::Restart(delay) => {
                            let until = chrono::Utc::now()
                                + chrono::Duration::from_std(delay).unwrap_or_default();
                            status.state = TunnelState::BackingOff {
                                since: now(),
                                until: until.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                                reason: reason.clone(),
                            };
                            status.restarts += 1;
                            self.publish(&status, &tx);
                            tokio::select! {
                                () = tokio::time::sleep(delay) => {}
                                () = cancel.cancelled() => {
                                    status.state = TunnelState::Stopped { since: now() };
                                    self.publish(&status, &tx);
                                    return status;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// A password sudo would ask for and nobody can type: the tunnel cannot work.
    async fn sudo_blocker(&self) -> Option<Failure> {
        if !self.check_sudo {
            return None;
        }
        match sudo::check().await {
            Ok(SudoCheck::NeedsPassword(said)) => {
                Some(sudo::needs_password(&self.profile, &said, self.terminal))
            }
            Ok(SudoCheck::Ok | SudoCheck::Missing) => None,
            Err(e) => {
                tracing::warn!("cannot ask sudo: {e}");
                None
            }
        }
    }

    /// What a dead tunnel leaves: its `ssh` forwards (they hold the ports a new tunnel needs)
    /// and the ingress addresses it patched (stale: nothing may take them for served ones).
    async fn clean_leftovers(&self, status: &mut Status) {
        let forwards = procs::ssh_forwards(&self.profile);
        if !forwards.is_empty() {
            kill_all(&forwards).await;
            status.error(format!(
                "stopped {} orphaned ssh forward(s) of an earlier tunnel (pids {forwards:?})",
                forwards.len()
            ));
        }
        if let Some(client) = &self.kube {
            match health::clear_addresses(client).await {
                Ok(cleaned) if !cleaned.is_empty() => {
                    tracing::info!(?cleaned, "cleared ingress addresses no tunnel serves");
                }
                Ok(_) => {}
                Err(e) => tracing::debug!("cannot clear stale addresses: {e:#}"),
            }
        }
    }

    async fn run_once(
        &self,
        status: &mut Status,
        cancel: &CancellationToken,
        tx: &watch::Sender<Status>,
    ) -> RunEnd {
        let child_token = cancel.child_token();
        let cmd = self
            .minikube
            .command(["tunnel", "-p", self.profile.as_str()])
            .stop_with(Signal::SIGINT, self.grace)
            .cancel_on(child_token.clone())
            // It runs until stopped; exec's default limit is for commands that finish.
            .timeout(Duration::from_secs(100 * 365 * 24 * 3600));
        let (line_tx, mut lines) = mpsc::unbounded_channel::<(Stream, String)>();
        let run = cmd.stream(move |l| {
            let _ = line_tx.send((l.stream, l.text.to_owned()));
        });
        tokio::pin!(run);
        let mut t = Track::default();
        let mut tick = tokio::time::interval(self.tick);
        let me = std::process::id();
        let profile = self.profile.clone();
        let result = loop {
            tokio::select! {
                biased;
                Some((stream, text)) = lines.recv() => {
                    t.on_line(self, status, &child_token, stream, &text);
                    self.publish(status, tx);
                }
                r = &mut run => break r,
                _ = tick.tick() => {
                    if status.tunnel_pid.is_none() {
                        status.tunnel_pid = procs::children(me, |a| procs::is_tunnel_of(a, &profile)).first().copied();
                    }
                    let before = status.clone();
                    if let Some(client) = &self.kube {
                        match health::check(client).await {
                            Ok(served) => status.services = served,
                            Err(e) => tracing::debug!("health: {e:#}"),
                        }
                    }
                    let dead: Vec<String> = status
                        .services
                        .iter()
                        .filter(|s| s.address.is_some() && !s.answers)
                        .map(|s| format!("{}/{} at {}", s.namespace, s.name, s.address.as_deref().unwrap_or("")))
                        .collect();
                    // An address that does not answer is not "running".
                    let healthy = t.started && t.clean && dead.is_empty();
                    match (&status.state, healthy) {
                        (TunnelState::Starting { .. }, true) => {
                            status.state = TunnelState::Running { since: now() };
                            t.reached_running = true;
                        }
                        (TunnelState::Running { .. }, false) => {
                            status.state = TunnelState::Starting { since: now() };
                        }
                        _ => {}
                    }
                    if !dead.is_empty() && t.started {
                        status.error(format!("no answer from {}", dead.join(", ")));
                    }
                    // SSH mode's `sudo ssh` without a terminal: sudo's complaint goes nowhere
                    // (minikube leaves the forward's output to /dev/null); the Service it was for
                    // not answering a while later is how it shows.
                    if let Some((at, service)) = &t.sudo_asked
                        && at.elapsed() >= SUDO_SSH_PATIENCE
                        && t.fatal.is_none()
                        && status.services.iter().any(|s| &s.name == service && s.address.is_some() && !s.answers)
                    {
                        t.fatal = Some(sudo::needs_password(
                            &self.profile,
                            &format!("the `sudo ssh` forward for {service} did not come up"),
                            self.terminal,
                        ));
                        child_token.cancel();
                    }
                    if *status != before {
                        self.publish(status, tx);
                    }
                }
            }
        };
        // The run may end in the same poll that forwarded its last lines: they are queued.
        while let Ok((stream, text)) = lines.try_recv() {
            t.on_line(self, status, &child_token, stream, &text);
        }
        let Track {
            fatal,
            reached_running,
            exit_line,
            ..
        } = t;
        if let Some(f) = fatal {
            return RunEnd::Fatal(f);
        }
        let out = match result {
            Err(ExecError::Cancelled { .. }) => return RunEnd::Stopped,
            Ok(out) => out,
            Err(ExecError::Failed { output, .. }) => *output,
            Err(e) => {
                return RunEnd::Died {
                    reason: format!("could not run: {e}"),
                    reached_running,
                };
            }
        };
        match out.status.code {
            // GUEST_NOT_RUNNING / GUEST_PROFILE_NOT_FOUND: restarting cannot help.
            Some(code @ (83 | 85)) => RunEnd::Fatal(
                Failure::new(
                    crate::error::ExitKind::Tunnel,
                    format!(
                        "minikube tunnel -p {} exited {code}: the cluster is not running{}",
                        self.profile,
                        exit_line.map(|l| format!(" ({l})")).unwrap_or_default()
                    ),
                )
                .hint(format!(
                    "`meshup start -p {}` starts it again",
                    self.profile
                )),
            ),
            _ => RunEnd::Died {
                reason: match exit_line {
                    Some(l) => format!("{} ({l})", out.status),
                    None => out.status.to_string(),
                },
                // Killed by a signal from outside (minikube itself exits with a code): not a
                // startup failure to give up on, however often it happens.
                reached_running: reached_running || out.status.signal.is_some(),
            },
        }
    }
}

fn failed(f: &Failure) -> TunnelState {
    TunnelState::Failed {
        since: now(),
        reason: f.message.clone(),
        hints: f.hints.clone(),
        details: f.details.clone(),
    }
}

/// SIGTERM, then SIGKILL what is left shortly after (forwards run as root under `sudo ssh`
/// may refuse; what cannot be killed is reported by the next cleanup).
async fn kill_all(pids: &[u32]) {
    use nix::sys::signal::kill;
    use nix::unistd::Pid;
    for p in pids {
        let _ = kill(Pid::from_raw(*p as i32), Signal::SIGTERM);
    }
    // Processes that are not our children: no exit notification, so check a few times.
    for _ in 0..25 {
        if pids.iter().all(|p| !procs::alive(*p)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for p in pids {
        let _ = kill(Pid::from_raw(*p as i32), Signal::SIGKILL);
    }
}

#[cfg(test)]
#[path = "supervisor_tests.rs"]
mod tests;
