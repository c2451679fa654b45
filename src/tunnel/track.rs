//! What one run of `minikube tunnel` has shown: its output parsed line by line into the
//! supervisor's status, and what makes the run fatal at once (sudo wanting a password, another
//! tunnel of the profile, another cluster's route for the same service CIDR).

use tokio_util::sync::CancellationToken;

use super::output::{Event, Parser, is_sudo_password_failure};
use super::state::{Mode, Status};
use super::supervisor::Supervisor;
use super::{procs, route_conflict, sudo};
use crate::error::Failure;
use crate::exec::Stream;

/// What one run of the tunnel has shown so far.
pub(super) struct Track {
    pub(super) parser: Parser,
    pub(super) fatal: Option<Failure>,
    /// No errors in the last status block.
    pub(super) clean: bool,
    /// Route added / SSH mode started.
    pub(super) started: bool,
    /// It did its job once: a later death is not a failure to start.
    pub(super) reached_running: bool,
    pub(super) exit_line: Option<String>,
    /// SSH mode announced `sudo ssh` for a Service (when, and which).
    pub(super) sudo_asked: Option<(std::time::Instant, String)>,
    pub(super) last_service: Option<String>,
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
    pub(super) fn on_line(
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

/// TUNNEL_ALREADY_RUNNING (exit 111, per profile from v1.31, global in v1.30.x) or the route
/// registry's "another tunnel is already running ... Pid: N" (exit 110): a tunnel meshup did
/// not start. Reported with its pid, never retried.
pub(super) fn already_running(
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

#[cfg(test)]
mod tests {
    use super::*;

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
