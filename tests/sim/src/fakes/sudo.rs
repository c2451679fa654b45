//! The fake `sudo`, and the one model of sudo's answers that the fake tunnel uses too
//! (research/minikube.md §5: route mode runs `sudo ip route add`, SSH mode `sudo ssh` for
//! ports below 1024). The knob `host.sudo` decides: `nopasswd` never asks; `password` asks on
//! the controlling terminal (`/dev/tty`) and, without one, fails with sudo's own message.
//! `-n` (non-interactive) fails at once when a password would be needed.
//!
//! Deviation: the fake execs its command instead of forking it and relaying signals, so a
//! `sudo ssh` shows up in the process table as the `ssh` itself.

use std::io::Write;
use std::os::unix::process::CommandExt;

use crate::fakes::common::{Env, has_controlling_tty, load_knobs, which};
use crate::knobs::{HostKnobs, Sudo};

/// sudo 1.9's messages.
pub const NO_TERMINAL: &str = "sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper\nsudo: a password is required\n";
pub const PASSWORD_REQUIRED: &str = "sudo: a password is required\n";

/// The host as the test last described it (re-read at each use: a test may "warm" sudo).
fn host(env: &Env) -> HostKnobs {
    env.dir
        .as_ref()
        .and_then(|d| load_knobs(d).ok())
        .map(|k| k.host)
        .unwrap_or_else(|| env.knobs.host.clone())
}

/// May the command run? `Err` is what sudo prints on stderr (it then exits 1).
pub fn authenticate(env: &Env, non_interactive: bool) -> Result<(), String> {
    let host = host(env);
    match host.sudo {
        Sudo::Nopasswd => Ok(()),
        Sudo::Password if non_interactive => Err(PASSWORD_REQUIRED.into()),
        Sudo::Password if has_controlling_tty() => {
            let mut tty = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/tty")
                .map_err(|e| e.to_string())?;
            let _ = write!(tty, "[sudo] password for {}: ", host.user);
            let mut line = String::new();
            let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(&mut tty), &mut line);
            if line.trim().is_empty() {
                Err("sudo: no password was provided\nsudo: a password is required\n".into())
            } else {
                Ok(())
            }
        }
        Sudo::Password => Err(NO_TERMINAL.into()),
    }
}

pub fn run(env: &Env, args: &[String]) -> i32 {
    let mut non_interactive = false;
    let mut validate = false;
    let mut rest = args;
    while let Some(first) = rest.first() {
        match first.as_str() {
            "-n" | "--non-interactive" => non_interactive = true,
            "-v" | "--validate" => validate = true,
            "--" => {
                rest = &rest[1..];
                break;
            }
            s if s.starts_with('-') => {
                eprintln!("sudo: invalid option -- '{}'", s.trim_start_matches('-'));
                return 1;
            }
            _ => break,
        }
        rest = &rest[1..];
    }
    if rest.is_empty() && !validate {
        eprintln!(
            "usage: sudo -h | -K | -k | -V\nusage: sudo -v [-ABkNnS] [-g group] [-h host] [-p prompt] [-u user]"
        );
        return 1;
    }
    if let Err(message) = authenticate(env, non_interactive) {
        eprint!("{message}");
        return 1;
    }
    let Some((cmd, cmd_args)) = rest.split_first() else {
        return 0;
    };
    match cmd.as_str() {
        "true" => 0,
        "false" => 1,
        // The fakes that are not on PATH (ssh) are this binary under another name.
        tool if crate::fakes::Tool::from_name(tool).is_some() => {
            let Ok(exe) = std::env::current_exe() else {
                return 1;
            };
            let err = std::process::Command::new(exe)
                .arg0(tool)
                .env("MESHUP_SIM_AS", tool)
                .args(cmd_args)
                .exec();
            eprintln!("sudo: unable to execute {tool}: {err}");
            1
        }
        other => match which(other) {
            Some(path) => {
                let err = std::process::Command::new(path).args(cmd_args).exec();
                eprintln!("sudo: unable to execute {other}: {err}");
                1
            }
            None => {
                eprintln!("sudo: {other}: command not found");
                1
            }
        },
    }
}
