//! `minikube tunnel` in SSH mode (Docker Desktop, rootless docker, `--bind-address`): one
//! `ssh -N -L ...` child per LoadBalancer Service, `sudo ssh` when a port is below 1024
//! (research/minikube.md §5, Mode B; ssh_tunnel.go, ssh_conn.go). The forwards listen; the
//! daemon does not (`Via::Forwards`). SIGINT kills the children; SIGTERM/SIGKILL leave them
//! running, orphaned, as the real one does.
//!
//! Deviation: the real tunnel patches `127.0.0.1` into every Service and binds
//! `-L port:clusterIP:port` on localhost; here each Service keeps its own loopback address of
//! the world and the forward binds `-L <that address>:port:clusterIP:port` (the form minikube
//! uses with `--bind-address`), so parallel tests and several services on one port coexist.

use std::process::{Child, Command, Stdio};

use crate::control::{ClusterState, ExposedService, Via};
use crate::control_client::ControlClient;
use crate::fakes::common::Env;
use crate::fakes::kube::{LbService, lb_services};

use super::profile;
use super::tunnel::{interrupted, wait};
use super::ui::Ui;

/// The forward minikube starts for a service (ssh_conn.go: createSSHConn): `sudo ssh ...` for
/// privileged ports. Its stdio is the null device, as Go's exec leaves it: sudo's complaint
/// about a missing terminal is seen by nobody.
fn spawn_forward(profile: &str, svc: &LbService, ip: &str, sudo: bool) -> Option<Child> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().ok()?;
    let key = profile::mini_path()
        .join("machines")
        .join(profile)
        .join("id_rsa");
    let mut cmd = Command::new(exe);
    if sudo {
        cmd.arg0("sudo").env("MESHUP_SIM_AS", "sudo").arg("ssh");
    } else {
        cmd.arg0("ssh").env("MESHUP_SIM_AS", "ssh");
    }
    cmd.args([
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
        cmd.args(["-L", &format!("{ip}:{p}:{}:{p}", svc.cluster_ip)]);
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
        let services = lb_services(control, profile).unwrap_or_default();
        // The tunnel patches each Service's ingress as it starts its forward.
        let exposed: Vec<ExposedService> = if services.is_empty() {
            Vec::new()
        } else {
            match control.put_tunnel_via(profile, pid, Via::Forwards) {
                Ok(Some(e)) => e,
                _ => break,
            }
        };
        for svc in &services {
            if children.iter().any(|(n, _)| n == &svc.name) {
                continue;
            }
            let Some(ip) = exposed.iter().find(|e| e.name == svc.name).map(|e| &e.ip) else {
                continue;
            };
            let low: Vec<String> = svc
                .ports
                .iter()
                .filter(|p| **p < 1024)
                .map(|p| p.to_string())
                .collect();
            if !low.is_empty() {
                ui.step_warning(&format!(
                    "The service/ingress {} requires privileged ports to be exposed: [{}]",
                    svc.name,
                    low.join(" ")
                ));
                ui.styled("🔑", "sudo permission will be asked for it.");
            }
            ui.styled("🏃", &format!("Starting tunnel for service {}.", svc.name));
            if let Some(child) = spawn_forward(profile, svc, ip, !low.is_empty()) {
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
