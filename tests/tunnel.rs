//! `meshup tunnel` and the tunnel stage against the simulated tunnel (issue 9): a detached
//! supervisor that returns the terminal, restarts a killed tunnel, fails fast on sudo, and
//! leaves no tunnel, supervisor, ssh forward or ingress address behind on stop/down.

#[path = "common/cluster_world.rs"]
mod cluster_world;

use std::process::Stdio;
use std::time::{Duration, Instant};

use cluster_world::{MESHUP, Run, meshup, wait_for};
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, PostParams};
use meshup_sim::{Knobs, World};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const P: &str = "tun";

fn knobs(ssh: bool, sudo_password: bool) -> Knobs {
    let mut k = Knobs::default();
    k.minikube.tunnel.status_delay_ms = 0;
    k.minikube.tunnel.route_retry_ms = 50;
    k.minikube.tunnel.poll_ms = 20;
    if ssh {
        k.minikube.tunnel.mode = meshup_sim::knobs::TunnelMode::Ssh;
    }
    if sudo_password {
        k.host.sudo = meshup_sim::knobs::Sudo::Password;
    }
    k
}

/// A world whose profile `tun` was started by its fake minikube.
fn world(k: Knobs) -> World {
    let world = World::start(k);
    let out = world
        .command(world.bin_dir().join("minikube"))
        .args(["start", "-p", P])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    world
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A LoadBalancer Service with Istio's status port (it answers once reachable) and, with
/// `privileged`, port 80 (SSH mode then runs `sudo ssh`).
fn lb_service(world: &World, name: &str, privileged: bool) {
    let mut ports =
        vec![serde_json::json!({"name": "status-port", "port": 15021, "targetPort": 15021})];
    if privileged {
        ports.push(serde_json::json!({"name": "http2", "port": 80, "targetPort": 8080}));
    }
    let svc: Service = serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"type": "LoadBalancer", "selector": {"app": name}, "ports": ports},
    }))
    .unwrap();
    rt().block_on(async {
        let api: Api<Service> = Api::namespaced(world.kube_client(P).await.unwrap(), "default");
        api.create(&PostParams::default(), &svc).await.unwrap();
    });
}

/// The Service's ingress address, if it has one.
fn address(world: &World, name: &str) -> Option<String> {
    rt().block_on(async {
        let api: Api<Service> = Api::namespaced(world.kube_client(P).await.ok()?, "default");
        let svc = api.get(name).await.ok()?;
        svc.status?.load_balancer?.ingress?.first()?.ip.clone()
    })
}

/// Does the status port answer HTTP on this address?
fn answers(ip: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect_timeout(
        &format!("{ip}:15021").parse().unwrap(),
        Duration::from_millis(300),
    ) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = s.write_all(b"GET /healthz/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut head = [0u8; 9];
    s.read_exact(&mut head).is_ok() && &head == b"HTTP/1.1 "
}

fn answering(world: &World, name: &str) -> bool {
    address(world, name).is_some_and(|ip| answers(&ip))
}

fn cmdline(pid: i32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .unwrap_or_default()
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// Live processes of the world whose argv matches.
fn procs(world: &World, f: impl Fn(&[String]) -> bool) -> Vec<i32> {
    world
        .processes()
        .into_iter()
        .filter(|p| {
            let a = cmdline(*p);
            !a.is_empty() && f(&a)
        })
        .collect()
}

fn supervisors(world: &World) -> Vec<i32> {
    procs(world, |a| a.iter().any(|x| x == "supervise"))
}

fn tunnels(world: &World) -> Vec<i32> {
    procs(world, |a| {
        a.first().is_some_and(|x| x.ends_with("minikube")) && a.iter().any(|x| x == "tunnel")
    })
}

fn forwards(world: &World) -> Vec<i32> {
    procs(world, |a| a.first().is_some_and(|x| x == "ssh"))
}

/// `meshup <args>` with its stdout and stderr captured through pipes, as `out=$(meshup ...)`
/// does: this returns only once meshup exited *and* nothing holds the pipes open.
fn captured(world: &World, args: &[&str]) -> Run {
    let out = world
        .command(MESHUP)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn nothing_of_the_tunnel_runs(world: &World) {
    wait_for("no supervisor, tunnel or ssh forward", || {
        supervisors(world).is_empty() && tunnels(world).is_empty() && forwards(world).is_empty()
    });
}

#[test]
fn the_tunnel_runs_detached_serves_new_services_and_stop_leaves_nothing() {
    let world = world(knobs(false, false));
    let run = captured(&world, &["tunnel", "-p", P]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stdout.contains("supervised in the background"), "{run}");
    assert_eq!(supervisors(&world).len(), 1);
    assert_eq!(tunnels(&world).len(), 1);

    lb_service(&world, "gw", false);
    wait_for("the new Service answers", || answering(&world, "gw"));
    let status = meshup(&world, &["status", "-p", P]);
    assert!(status.stdout.contains("  Tunnel      running"), "{status}");
    assert!(status.stdout.contains("restart(s), route mode"), "{status}");
    wait_for("the supervisor saw the address", || {
        meshup(&world, &["status", "-p", P])
            .stdout
            .contains("default/gw 127.")
    });

    // Again: the live supervisor is found, not duplicated.
    let again = captured(&world, &["tunnel", "-p", P]);
    assert!(again.stdout.contains("already supervised"), "{again}");
    assert_eq!(supervisors(&world).len(), 1);

    let stop = meshup(&world, &["tunnel", "stop", "-p", P]);
    assert_eq!(stop.code, Some(0), "{stop}");
    nothing_of_the_tunnel_runs(&world);
    assert_eq!(address(&world, "gw"), None, "{stop}");
    let tunnel_calls: Vec<_> = world
        .calls()
        .into_iter()
        .filter(|c| c.tool == "minikube" && c.argv.first().is_some_and(|a| a == "tunnel"))
        .collect();
    assert_eq!(tunnel_calls.len(), 1);
    assert_eq!(
        tunnel_calls[0].exit_code,
        Some(0),
        "stopped with SIGINT: it cleaned up"
    );
}
