//! sudo, honestly (research/minikube.md §5): route mode runs `sudo ip route add` on every start
//! (Linux; `sudo route -n add` on macOS), SSH mode `sudo ssh` for ports below 1024. A timestamp
//! from `sudo -v` is per terminal and expires, so it does not reach a detached supervisor.
//! Before each start the supervisor asks `sudo -n true`: if a password would be needed and
//! there is no terminal to type it in, the tunnel fails at once (exit 6) with the ways out.

use std::time::Duration;

use crate::error::{ExitKind, Failure};
use crate::exec::{Cmd, ExecError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SudoCheck {
    /// sudo runs without asking (NOPASSWD, root, a warm timestamp on this terminal).
    Ok,
    /// sudo would ask; its own words.
    NeedsPassword(String),
    /// No sudo on PATH: minikube's own `sudo` call will fail too (its error shows under
    /// `router:`); nothing to check.
    Missing,
}

pub async fn check() -> Result<SudoCheck, ExecError> {
    let out = Cmd::new("sudo")
        .args(["-n", "true"])
        .timeout(Duration::from_secs(10))
        .run_unchecked()
        .await;
    match out {
        Ok(o) if o.status.success() => Ok(SudoCheck::Ok),
        Ok(o) => Ok(SudoCheck::NeedsPassword(o.stderr.trim().to_owned())),
        Err(ExecError::NotFound { .. }) => Ok(SudoCheck::Missing),
        Err(e) => Err(e),
    }
}

fn user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "YOUR_USER".into())
}

fn path_of(program: &str, fallback: &str) -> String {
    which::which(program)
        .ok()
        .and_then(|p| p.canonicalize().ok())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| fallback.to_owned())
}

/// The sudoers line that lets minikube's tunnel run unattended: exactly the commands it runs
/// with sudo, for this user (`visudo -f /etc/sudoers.d/minikube-tunnel`).
pub fn sudoers_line() -> String {
    let ssh = path_of("ssh", "/usr/bin/ssh");
    let routes = if cfg!(target_os = "macos") {
        let route = path_of("route", "/sbin/route");
        format!("{route} -n add *, {route} -n delete *")
    } else {
        let ip = path_of("ip", "/usr/sbin/ip");
        format!("{ip} route add *, {ip} route delete *")
    };
    format!("{} ALL=(root) NOPASSWD: {routes}, {ssh} *", user())
}

/// Exit 6: sudo would need a password nobody can type.
pub fn needs_password(profile: &str, said: &str, terminal: bool) -> Failure {
    let mut f = Failure::new(
        ExitKind::Tunnel,
        format!(
            "minikube tunnel needs sudo (route mode: `sudo ip route add`; SSH mode: `sudo ssh` for ports below 1024), and sudo asks for a password{}{}",
            if terminal {
                ""
            } else {
                " that a background tunnel cannot be given"
            },
            if said.is_empty() {
                String::new()
            } else {
                format!(" ({})", said.lines().collect::<Vec<_>>().join(" "))
            }
        ),
    )
    .hint(format!(
        "let the tunnel's commands run without a password: add this line with `sudo visudo -f /etc/sudoers.d/minikube-tunnel`:\n  {}",
        sudoers_line()
    ));
    f = if terminal {
        f.hint(format!(
            "or run `sudo -v` in this terminal, then `meshup tunnel --foreground -p {profile}` (it keeps the tunnel attached until Ctrl-C)"
        ))
    } else {
        f.hint(format!(
            "or run the tunnel in a terminal: `sudo -v && meshup tunnel --foreground -p {profile}`"
        ))
    };
    f.details(serde_json::json!({ "sudo": said, "sudoers": sudoers_line() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sudoers_line_names_the_commands_minikube_runs() {
        let line = sudoers_line();
        assert!(line.contains(" ALL=(root) NOPASSWD: "), "{line}");
        assert!(line.contains(" route add *, "), "{line}");
        assert!(line.contains(" route delete *, "), "{line}");
        assert!(line.ends_with("ssh *"), "{line}");
        let f = needs_password("p", "sudo: a password is required", false);
        assert_eq!(f.kind, ExitKind::Tunnel);
        assert!(f.hints[0].contains(&line));
        assert!(f.hints[1].contains("meshup tunnel --foreground -p p"));
    }
}
