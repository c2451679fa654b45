//! `minikube tunnel` in SSH mode (Docker Desktop, rootless docker, `--bind-address`): one
//! `ssh -N -L ...` child per LoadBalancer Service, `sudo ssh` for ports below 1024. SIGINT
//! kills the children; SIGTERM leaves them running, orphaned, as the real one does.

use std::io::Write;
use std::process::{Child, Command, Stdio};

use crate::control::ClusterState;
use crate::control_client::ControlClient;
use crate::fakes::common::Env;
use crate::fakes::kube::{LbService, lb_services};
use crate::knobs::Sudo;

use super::profile;
use super::tunnel::{interrupted, wait};
use super::ui::Ui;

/// The forward minikube starts for a service (ssh_tunnel.go: createSSHConn).
fn spawn_forward(profile: &str, svc: &LbService) -> Option<Child> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().ok()?;
    let key = profile::mini_path()
        .join("machines")
        .join(profile)
        .join("id_rsa");
    let mut cmd = Command::new(exe);
    cmd.arg0("ssh").env("MESHUP_SIM_AS", "ssh").args([
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "IdentitiesOnly=yes",
        "-N",
        "docker@127.0.0.1",
        "-p",
        "32768",
        "-i",
    ]);
    cmd.arg(key);
    for p in &svc.ports {
        cmd.args(["-L", &format!("{p}:{}:{p}", svc.cluster_ip)]);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()
}

pub(super) fn ssh_mode(
    env: &Env,
    control: &ControlClient,
    profile: &str,
    crashed: &dyn Fn() -> bool,
) -> i32 {
    let knobs = &env.knobs.minikube.tunnel;
    let ui = Ui::new(false);
    let pid = std::process::id();
    ui.styled("✅", "Tunnel successfully started");
    println!();
    ui.styled(
        "📌",
        "NOTE: Please do not close this terminal as this process must stay alive for the tunnel to be accessible ...",
    );
    println!();
    let mut children: Vec<(String, Child)> = Vec::new();
    let mut blocked = false;
    loop {
        if interrupted() {
            break;
        }
        if crashed() {
            return 2;
        }
        match control.cluster(profile) {
            Ok(Some(c)) if c.state == ClusterState::Running => {}
            _ => break,
        }
        if !blocked {
            let services = lb_services(control, profile).unwrap_or_default();
            let needs_password = env.knobs.host.sudo == Sudo::Password;
            for svc in &services {
                if children.iter().any(|(n, _)| n == &svc.name) {
                    continue;
                }
                let low: Vec<String> = svc
                    .ports
                    .iter()
                    .filter(|p| **p < 1024)
                    .map(|p| p.to_string())
                    .collect();
                if !low.is_empty() {
                    ui.warning(&format!(
                        "The service/ingress {} requires privileged ports to be exposed: [{}]",
                        svc.name,
                        low.join(" ")
                    ));
                    ui.styled("🔑", "sudo permission will be asked for it.");
                }
                ui.styled("🏃", &format!("Starting tunnel for service {}.", svc.name));
                if !low.is_empty() && needs_password {
                    // `sudo ssh` asks and nobody answers: this forward never comes up.
                    print!("Password:");
                    let _ = std::io::stdout().flush();
                    blocked = true;
                    break;
                }
                if let Some(child) = spawn_forward(profile, svc) {
                    children.push((svc.name.clone(), child));
                }
            }
            children.retain_mut(|(name, child)| {
                if services.iter().any(|s| &s.name == name) {
                    return true;
                }
                ui.styled("✋", &format!("Stopping tunnel for service {name}."));
                let _ = child.kill();
                let _ = child.wait();
                false
            });
            if !blocked && !children.is_empty() {
                match control.put_tunnel(profile, pid) {
                    Ok(Some(_)) => {}
                    _ => break,
                }
            }
        }
        wait(knobs.poll_ms.max(10));
    }
    // SIGINT (or the cluster went away): the children are killed (fix for #10752).
    for (_, mut child) in children {
        let _ = child.kill();
        let _ = child.wait();
    }
    let _ = control.delete_tunnel(profile);
    0
}
