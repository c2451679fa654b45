//! The fake tools, busybox style (CONTRACT.md): `minikube`, `istioctl`, `kubectl`, `docker`.
//! Each invocation is logged to `$MESHUP_SIM_DIR/calls.jsonl` (start and exit lines).

pub mod common;
mod docker;
pub mod istioctl;
mod kube;
mod kubectl;
pub mod minikube;
mod ssh;
pub mod sudo;

use crate::calllog::{self, Event};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Minikube,
    Istioctl,
    Kubectl,
    Docker,
    /// The `ssh -N -L ...` forwards of the tunnel's SSH mode.
    Ssh,
    /// `sudo` (on the world's PATH): the knob `host.sudo` decides whether it asks.
    Sudo,
}

impl Tool {
    pub fn from_name(name: &str) -> Option<Tool> {
        match name {
            "minikube" => Some(Tool::Minikube),
            "istioctl" => Some(Tool::Istioctl),
            "kubectl" => Some(Tool::Kubectl),
            "docker" => Some(Tool::Docker),
            "ssh" => Some(Tool::Ssh),
            "sudo" => Some(Tool::Sudo),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Tool::Minikube => "minikube",
            Tool::Istioctl => "istioctl",
            Tool::Kubectl => "kubectl",
            Tool::Docker => "docker",
            Tool::Ssh => "ssh",
            Tool::Sudo => "sudo",
        }
    }
}

/// Runs the fake; the exit code is what the process exits with.
pub fn run(tool: Tool, version_override: Option<String>, args: Vec<String>) -> i32 {
    // Like Go programs: a closed pipe ends the process quietly instead of a panic.
    // SAFETY: restoring the default disposition before any other thread exists.
    unsafe {
        let _ = nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigDfl,
        );
    }
    let env = common::Env::load(version_override);
    let call = calllog::this_process(tool.name(), &args);
    let dir = std::env::var_os("MESHUP_SIM_DIR").map(std::path::PathBuf::from);
    if let Some(d) = &dir {
        let _ = calllog::append(d, Event::Start, &call);
    }
    let code = match env {
        Err(e) => {
            eprintln!("meshup-sim ({}): {e}", tool.name());
            1
        }
        Ok(env) => match tool {
            Tool::Minikube => minikube::run(&env, &args),
            Tool::Istioctl => istioctl::run(&env, &args),
            Tool::Kubectl => kubectl::run(&env, &args),
            Tool::Docker => docker::run(&env, &args),
            Tool::Ssh => ssh::run(&env, &args),
            Tool::Sudo => sudo::run(&env, &args),
        },
    };
    if let Some(d) = &dir {
        let _ = calllog::append(
            d,
            Event::Exit,
            &calllog::Call {
                exit_code: Some(code),
                ..call
            },
        );
    }
    code
}
