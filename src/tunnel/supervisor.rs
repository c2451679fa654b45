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
use super::output::{Event, Parser, is_sudo_password_failure};
use super::state::{Mode, STATUS_FILE, Status, TunnelState, now};
use super::sudo::{self, SudoCheck};
use super::{health, procs, route_conflict};
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

/// What one run of the tunnel has shown so far.
struct Track {
    parser: Parser,
    fatal: Option<Failure>,
    /// No errors in the last status block.
    clean: bool,
    /// Route added / SSH mode started.
    started: bool,
    /// It did its job once: a later death is not a failure to start.
    reached_running: bool,
    exit_line: Option<String>,
    /// SSH mode announced `sudo ssh` for a Service (when, and which).
    sudo_asked: Option<(std::time::Instant, String)>,
    last_service: Option<String>,
}

impl Default for Track {
    fn default() -> Self {
        Track {
            parser: Parser::default(),
            fatal: None,
            clean: true,
            started: false,
            reached_running: false,
            exit_line: None,
            sudo_asked: None,
            last_service: None,
        }
    }
}

impl Track {
    fn on_line(
        &mut self,
        sup: &Supervisor,
        status: &mut Status,
        child_token: &CancellationToken,
        stream: Stream,
        text: &str,
    ) {
        let err = if stream == Stream::Stderr {
            "stderr: "
        } else {
            ""
        };
        tracing::info!(target: "meshup::tunnel::child", "{err}{text}");
        for event in self.parser.line(text) {
            match event {
                Event::Status(b) => {
                    status.mode = Mode::Route;
                    if b.pid.is_some() {
                        status.tunnel_pid = b.pid;
                    }
                    for e in b.errors() {
                        status.error(e);
                    }
                    if is_sudo_password_failure(&b.router_error) && self.fatal.is_none() {
                        self.fatal = Some(sudo::needs_password(
                            &sup.profile,
                            &b.router_error,
                            sup.terminal,
                        ));
                        child_token.cancel();
                    }
                    // Another cluster's route for the same CIDR: minikube would retry for ever.
                    if let Some(c) = route_conflict::parse(&b.router_error)
                        && self.fatal.is_none()
                    {
                        self.fatal = Some(route_conflict::on_host(
                            &sup.profile,
                            &sup.dir,
                            &b.route,
                            &c,
                        ));
                        child_token.cancel();
                    }
                    self.clean = b.errors().is_empty();
                    self.started = self.clean;
                    self.reached_running |= self.clean;
                }
                Event::SshStarted => {
                    status.mode = Mode::Ssh;
                    self.started = true;
                    self.reached_running = true;
                }
                Event::PrivilegedPorts { service, .. } => self.last_service = Some(service),
                Event::SudoWillBeAsked if !sup.terminal => {
                    status.error("minikube runs `sudo ssh` for privileged ports; without a terminal it works only if sudo needs no password");
                    let service = self.last_service.clone().unwrap_or_default();
                    self.sudo_asked
                        .get_or_insert((std::time::Instant::now(), service));
                }
                Event::Exit { reason, message } => {
                    let line = format!("{reason}: {message}");
                    status.error(line.clone());
                    self.exit_line = Some(line);
                    if let Some(f) =
                        already_running(&sup.profile, &reason, &message, status.tunnel_pid)
                    {
                        self.fatal.get_or_insert(f);
                    }
                }
                Event::Other(t) if t.starts_with("panic:") || is_sudo_password_failure(&t) => {
                    status.error(t)
                }
                _ => {}
            }
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

/// TUNNEL_ALREADY_RUNNING (exit 111, per profile from v1.31, global in v1.30.x) or the route
/// registry's "another tunnel is already running ... Pid: N" (exit 110): a tunnel meshup did
/// not start. Reported with its pid, never retried.
fn already_running(
    profile: &str,
    reason: &str,
    message: &str,
    mine: Option<u32>,
) -> Option<Failure> {
    let registry =
        reason == "SVC_TUNNEL_START" && message.contains("another tunnel is already running");
    if reason != "TUNNEL_ALREADY_RUNNING" && !registry {
        return None;
    }
    let pid = message
        .rsplit_once("Pid: ")
        .and_then(|(_, p)| p.trim_end_matches([' ', '}']).parse::<u32>().ok())
        .or_else(|| procs::tunnels(profile, mine).first().copied());
    let who = pid.map_or_else(|| "another process".to_owned(), |p| format!("pid {p}"));
    let mut f = Failure::new(
        crate::error::ExitKind::Tunnel,
        format!(
            "another minikube tunnel is already running for profile `{profile}` ({who}), not started by meshup ({reason})"
        ),
    );
    if let Some(p) = pid {
        f = f.hint(format!(
            "stop it (Ctrl-C in its terminal, or `kill -INT {p}` so it removes its routes), then `meshup tunnel -p {profile}`"
        ));
    }
    Some(f.details(serde_json::json!({ "otherTunnelPid": pid, "reason": reason })))
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
mod tests {
    use super::*;

    /// A `minikube` that runs `body` (sh) for `tunnel`.
    fn fake_minikube(dir: &std::path::Path, body: &str) -> Minikube {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("minikube");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Minikube::new(path, "p")
    }

    fn supervisor(dir: &std::path::Path, body: &str) -> Supervisor {
        let mut s = Supervisor::new("p", fake_minikube(dir, body), None, dir.to_owned());
        s.check_sudo = false;
        s.grace = Duration::from_millis(300);
        s.tick = Duration::from_millis(20);
        s.policy = Policy {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(4),
            max_same: 3,
        };
        s
    }

    const BLOCK: &str = r#"printf 'Status:\t\n\tmachine: p\n\tpid: 1\n\troute: 10.96.0.0/12 -> 192.168.49.2\n\tminikube: Running\n\tservices: []\n    errors: \n\t\tminikube: no errors\n\t\trouter: %s\n\t\tloadbalancer emulator: no errors\n' "$ROUTER""#;

    /// Every distinct state the supervisor went through, in order.
    async fn states(
        sup: &Supervisor,
        cancel_when: impl Fn(&Status) -> bool,
    ) -> (Vec<&'static str>, Status) {
        let cancel = CancellationToken::new();
        let (tx, mut rx) = watch::channel(Status::new("p"));
        let run = sup.run(cancel.clone(), tx);
        tokio::pin!(run);
        let mut seen: Vec<&'static str> = Vec::new();
        let fin = loop {
            tokio::select! {
                s = &mut run => break s,
                Ok(()) = rx.changed() => {
                    let now = rx.borrow_and_update().clone();
                    let name = now.state.name();
                    if seen.last() != Some(&name) {
                        seen.push(name);
                    }
                    if cancel_when(&now) {
                        cancel.cancel();
                    }
                }
            }
        };
        if seen.last() != Some(&fin.state.name()) {
            seen.push(fin.state.name());
        }
        (seen, fin)
    }

    #[tokio::test]
    async fn starting_running_stopped_and_the_file_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let sup = supervisor(
            dir.path(),
            &format!("ROUTER='no errors'; {BLOCK}; exec sleep 30"),
        );
        let (seen, fin) = tokio::time::timeout(
            Duration::from_secs(20),
            states(&sup, |s| s.state.name() == "running"),
        )
        .await
        .unwrap();
        assert_eq!(seen, ["starting", "running", "stopped"]);
        assert_eq!(fin.mode, Mode::Route);
        assert_eq!(fin.restarts, 0);
        let file = Status::load(&dir.path().join(STATUS_FILE)).unwrap();
        assert_eq!(file.state.name(), "stopped");
    }

    #[tokio::test]
    async fn the_same_startup_failure_three_times_ends_in_failed() {
        let dir = tempfile::tempdir().unwrap();
        let sup = supervisor(dir.path(), "echo boom >&2; exit 1");
        let (seen, fin) = tokio::time::timeout(Duration::from_secs(20), states(&sup, |_| false))
            .await
            .unwrap();
        assert_eq!(seen.first(), Some(&"starting"));
        assert!(seen.contains(&"backing-off"), "{seen:?}");
        assert_eq!(fin.state.name(), "failed");
        assert_eq!(fin.restarts, 2);
        let TunnelState::Failed { reason, .. } = &fin.state else {
            unreachable!()
        };
        assert!(
            reason.contains("exited with code 1 (3 times in a row)"),
            "{reason}"
        );
    }

    #[tokio::test]
    async fn a_tunnel_that_worked_and_died_is_restarted_every_time() {
        let dir = tempfile::tempdir().unwrap();
        // Works, then dies; the 5th run stays up. A counter file tells the runs apart.
        let body = format!(
            "n=$(cat {c} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {c}; ROUTER='no errors'; {BLOCK}; [ $n -ge 5 ] && exec sleep 30; exit 1",
            c = dir.path().join("count").display()
        );
        let sup = supervisor(dir.path(), &body);
        // The dying runs may be seen `running` for a moment too: stop at the fifth run's.
        let fifth = |s: &Status| s.state.name() == "running" && s.restarts == 4;
        let (seen, fin) = tokio::time::timeout(Duration::from_secs(20), states(&sup, fifth))
            .await
            .unwrap();
        assert_eq!(seen.last(), Some(&"stopped"), "{seen:?}");
        assert!(!seen.contains(&"failed"), "{seen:?}");
        assert_eq!(fin.restarts, 4);
    }

    #[tokio::test]
    async fn sudo_asking_under_router_fails_at_once_and_stops_the_tunnel() {
        let dir = tempfile::tempdir().unwrap();
        let sup = supervisor(
            dir.path(),
            &format!(
                "ROUTER='error adding Route: sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper'; {BLOCK}; exec sleep 30"
            ),
        );
        let (seen, fin) = tokio::time::timeout(Duration::from_secs(20), states(&sup, |_| false))
            .await
            .unwrap();
        assert_eq!(seen, ["starting", "failed"]);
        let TunnelState::Failed { hints, .. } = &fin.state else {
            unreachable!()
        };
        assert!(hints[0].contains("NOPASSWD"), "{hints:?}");
        assert_eq!(fin.restarts, 0);
    }

    #[tokio::test]
    async fn a_conflicting_route_fails_at_once_and_stops_the_tunnel() {
        let dir = tempfile::tempdir().unwrap();
        let sup = supervisor(
            dir.path(),
            &format!(
                "ROUTER='conflicting route: 10.96.0.0/12 via 192.168.58.2 dev br-0123456789ab'; {BLOCK}; exec sleep 30"
            ),
        );
        let (seen, fin) = tokio::time::timeout(Duration::from_secs(20), states(&sup, |_| false))
            .await
            .unwrap();
        assert_eq!(seen, ["starting", "failed"]);
        let TunnelState::Failed { reason, hints, .. } = &fin.state else {
            unreachable!()
        };
        assert!(
            reason.starts_with("the host already routes 10.96.0.0/12 via 192.168.58.2"),
            "{reason}"
        );
        assert!(
            hints
                .iter()
                .any(|h| h.contains("--service-cluster-ip-range"))
        );
        assert_eq!((fin.restarts, fin.tunnel_pid), (0, None));
    }

    #[test]
    fn already_running_is_reported_with_the_pid() {
        let f = already_running(
            "p",
            "SVC_TUNNEL_START",
            "error starting tunnel: error creating tunnel: another tunnel is already running, shut it down first: ID { Route: 10.96.0.0/12 -> 192.168.49.2, machineName: p, Pid: 16524 }",
            None,
        )
        .unwrap();
        assert!(f.message.contains("pid 16524"), "{}", f.message);
        assert!(f.hints[0].contains("kill -INT 16524"));
        assert!(already_running("p", "SVC_TUNNEL_START", "other", None).is_none());
        assert!(
            already_running(
                "p",
                "TUNNEL_ALREADY_RUNNING",
                "Another tunnel process is already running",
                None
            )
            .is_some()
        );
    }
}
