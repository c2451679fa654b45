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

/// Kills the running `minikube tunnel` with SIGKILL `rounds` times; after each kill a new
/// Service is created and must get an address that answers. Returns the kill→answering times.
fn kill_rounds(world: &World, rounds: usize, privileged: bool) -> Vec<Duration> {
    let mut times = Vec::new();
    let mut seen = Vec::new();
    for i in 0..rounds {
        wait_for("one tunnel", || tunnels(world).len() == 1);
        let victim = tunnels(world)[0];
        assert!(!seen.contains(&victim), "a new tunnel each time");
        seen.push(victim);
        let children_of_victim = forwards(world);
        let t0 = Instant::now();
        kill(Pid::from_raw(victim), Signal::SIGKILL).unwrap();
        let name = format!("after-kill-{i}");
        lb_service(world, &name, privileged);
        wait_for("the new Service answers", || answering(world, &name));
        times.push(t0.elapsed());
        // No ssh forward of the killed tunnel survives (the new tunnel has its own).
        for f in children_of_victim {
            assert!(
                !forwards(world).contains(&f),
                "forward {f} of a killed tunnel survived"
            );
        }
        assert_eq!(supervisors(world).len(), 1);
    }
    times
}

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    let median = times[times.len() / 2];
    let max = *times.last().unwrap();
    // Figures for the report, not an assertion on time.
    eprintln!(
        "{what}: kill -> answering over {} kills: median {median:?}, max {max:?}",
        times.len()
    );
}

#[test]
fn a_tunnel_killed_ten_times_is_restarted_and_new_services_answer_ssh_mode() {
    let world = world(knobs(true, false));
    lb_service(&world, "gw", false);
    let run = captured(&world, &["tunnel", "-p", P]);
    assert_eq!(run.code, Some(0), "{run}");
    wait_for("the first Service answers", || answering(&world, "gw"));
    let times = kill_rounds(&world, 10, false);
    report("SSH mode", times);
    assert!(
        answering(&world, "gw"),
        "the first Service is served by the new tunnel too"
    );
    // The supervisor writes `running` once the restarted tunnel's output says so, which can
    // come a moment after its forward answers.
    let mut status = meshup(&world, &["status", "-p", P, "--output", "json"]);
    wait_for("the restarted tunnel to be running", || {
        status = meshup(&world, &["status", "-p", P, "--output", "json"]);
        serde_json::from_str::<serde_json::Value>(&status.stdout)
            .is_ok_and(|j| j["tunnel"]["state"] == "running")
    });
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(json["tunnel"]["state"], "running", "{status}");
    assert_eq!(json["tunnel"]["restarts"], 10, "{status}");
    assert_eq!(json["tunnel"]["mode"], "ssh", "{status}");
    let down = meshup(&world, &["down", "-p", P, "--force"]);
    assert_eq!(down.code, Some(0), "{down}");
    nothing_of_the_tunnel_runs(&world);
}

#[test]
fn a_tunnel_killed_ten_times_is_restarted_and_new_services_answer_route_mode() {
    let world = world(knobs(false, false));
    let run = captured(&world, &["tunnel", "-p", P]);
    assert_eq!(run.code, Some(0), "{run}");
    let times = kill_rounds(&world, 10, false);
    report("route mode", times);
    let stop = meshup(&world, &["stop", "-p", P]);
    assert_eq!(stop.code, Some(0), "{stop}");
    nothing_of_the_tunnel_runs(&world);
    // The cluster kept its objects: started again, no Service has an address left over.
    let out = world
        .command(world.bin_dir().join("minikube"))
        .args(["start", "-p", P])
        .output()
        .unwrap();
    assert!(out.status.success());
    for i in 0..10 {
        assert_eq!(address(&world, &format!("after-kill-{i}")), None);
    }
}

fn assert_sudo_failure(world: &World) {
    let started = Instant::now();
    let run = captured(world, &["tunnel", "-p", P]);
    assert_eq!(run.code, Some(6), "{run}");
    assert!(started.elapsed() < Duration::from_secs(60), "bounded");
    assert!(run.stderr.contains("sudo asks for a password"), "{run}");
    assert!(run.stderr.contains(" ALL=(root) NOPASSWD: "), "{run}");
    assert!(run.stderr.contains("route add *"), "{run}");
    assert!(
        run.stderr.contains("meshup tunnel --foreground -p tun"),
        "{run}"
    );
    nothing_of_the_tunnel_runs(world);
    let sudo: Vec<_> = world
        .calls()
        .into_iter()
        .filter(|c| c.tool == "sudo")
        .collect();
    assert!(
        sudo.iter()
            .any(|c| c.argv == ["-n", "true"] && c.exit_code == Some(1)),
        "{sudo:?}"
    );
    assert!(
        !world
            .calls()
            .iter()
            .any(|c| c.tool == "minikube" && c.argv.first().is_some_and(|a| a == "tunnel")),
        "failed before starting a tunnel that would wait on sudo"
    );
}

#[test]
fn sudo_needing_a_password_without_a_terminal_is_exit_6_in_route_and_ssh_mode() {
    for ssh in [false, true] {
        let world = world(knobs(ssh, true));
        lb_service(&world, "gw", true);
        assert_sudo_failure(&world);
        assert_eq!(address(&world, "gw"), None);
    }
}

/// `meshup tunnel` with a `sudo` first on PATH that says yes to `sudo -n true` and no to
/// anything else: the check passes, then sudo refuses when minikube runs it.
fn with_a_lying_sudo(world: &World) -> Run {
    let dir = world.dir().join("lying-sudo");
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("sudo");
    std::fs::write(&script, "#!/bin/sh\n[ \"$1\" = -n ] && exit 0\nexit 1\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", dir.display(), world.bin_dir().display());
    let out = world
        .command(MESHUP)
        .args(["tunnel", "-p", P])
        .env("PATH", path)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn sudo_failing_under_router_is_recognised_when_the_check_passed() {
    let world = world(knobs(false, true));
    let run = with_a_lying_sudo(&world);
    assert_eq!(run.code, Some(6), "{run}");
    assert!(
        run.stderr
            .contains("a terminal is required to read the password"),
        "{run}"
    );
    assert!(run.stderr.contains("NOPASSWD"), "{run}");
    nothing_of_the_tunnel_runs(&world);
}

#[test]
fn sudo_ssh_failing_in_ssh_mode_is_recognised_when_the_check_passed() {
    let world = world(knobs(true, true));
    lb_service(&world, "gw", true);
    let run = with_a_lying_sudo(&world);
    assert_eq!(run.code, Some(6), "{run}");
    assert!(
        run.stderr
            .contains("the `sudo ssh` forward for gw did not come up"),
        "{run}"
    );
    assert!(run.stderr.contains("NOPASSWD"), "{run}");
    nothing_of_the_tunnel_runs(&world);
    assert_eq!(
        address(&world, "gw"),
        None,
        "the address nobody served is gone too"
    );
}

#[test]
fn a_tunnel_meshup_did_not_start_is_reported_with_its_pid_not_retried() {
    let world = world(knobs(false, false));
    let mut foreign = world
        .command(world.bin_dir().join("minikube"))
        .args(["tunnel", "-p", P])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the foreign tunnel", || tunnels(&world).len() == 1);
    let run = captured(&world, &["tunnel", "-p", P]);
    assert_eq!(run.code, Some(6), "{run}");
    assert!(
        run.stderr.contains(&format!(
            "already running for profile `tun` (pid {})",
            foreign.id()
        )),
        "{run}"
    );
    let tunnel_calls = world
        .calls()
        .into_iter()
        .filter(|c| c.tool == "minikube" && c.argv.first().is_some_and(|a| a == "tunnel"))
        .count();
    assert_eq!(tunnel_calls, 2, "the foreign one and meshup's single try");
    assert!(supervisors(&world).is_empty());
    kill(Pid::from_raw(foreign.id() as i32), Signal::SIGINT).unwrap();
    foreign.wait().unwrap();
}

#[test]
fn stale_pid_files_are_recognised_and_replaced() {
    let world = world(knobs(false, false));
    let dir = cluster_world::state_dir(&world, P);
    std::fs::create_dir_all(&dir).unwrap();
    // The daemon's pid: alive, but not a supervisor (a reused pid).
    std::fs::write(dir.join("tunnel.pid"), format!("{} 0\n", world.info().pid)).unwrap();
    let run = captured(&world, &["tunnel", "-p", P]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stdout.contains("supervised in the background"), "{run}");
    let pid: i32 = std::fs::read_to_string(dir.join("tunnel.pid"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(supervisors(&world), vec![pid]);
    // The supervisor dies hard: its pid file is stale, its tunnel an orphan.
    kill(Pid::from_raw(pid), Signal::SIGKILL).unwrap();
    wait_for("the supervisor is gone", || supervisors(&world).is_empty());
    let status = meshup(&world, &["status", "-p", P]);
    assert!(
        status.stdout.contains("  Tunnel      not running"),
        "{status}"
    );
    let stop = meshup(&world, &["tunnel", "stop", "-p", P]);
    assert_eq!(stop.code, Some(0), "{stop}");
    nothing_of_the_tunnel_runs(&world);
}

#[test]
fn logs_show_the_supervisors_log() {
    let world = world(knobs(false, false));
    assert_eq!(captured(&world, &["tunnel", "-p", P]).code, Some(0));
    let logs = meshup(&world, &["tunnel", "logs", "-p", P]);
    assert_eq!(logs.code, Some(0), "{logs}");
    assert!(logs.stdout.contains("tunnel running"), "{logs}");
    assert!(
        logs.stdout.contains("Status:"),
        "the tunnel's own output is logged: {logs}"
    );
    meshup(&world, &["tunnel", "stop", "-p", P]);
    nothing_of_the_tunnel_runs(&world);
}

#[test]
fn sigint_or_sigterm_to_a_foreground_tunnel_at_random_moments_leaves_no_orphan() {
    let world = world(knobs(true, false));
    lb_service(&world, "gw", false);
    let mut seed = std::process::id() as u64;
    for i in 0..20 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = Duration::from_millis((seed >> 33) % 600);
        let signal = if i % 2 == 0 {
            Signal::SIGINT
        } else {
            Signal::SIGTERM
        };
        let mut child = world
            .command(MESHUP)
            .args(["tunnel", "--foreground", "-p", P])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        kill(Pid::from_raw(child.id() as i32), signal).unwrap();
        let status = child.wait().unwrap();
        // Killed by the signal itself when it came before meshup's handler (nothing started).
        use std::os::unix::process::ExitStatusExt;
        assert!(
            matches!(status.code(), Some(130 | 143 | 0)) || status.signal() == Some(signal as i32),
            "run {i} ({signal:?} after {delay:?}): {status:?}"
        );
        wait_for("nothing of the tunnel left", || {
            tunnels(&world).is_empty() && forwards(&world).is_empty()
        });
    }
}

#[test]
fn meshup_start_returns_with_the_tunnel_supervised_and_down_leaves_nothing() {
    let mut k = cluster_world::seed_knobs();
    k.minikube.tunnel.status_delay_ms = 0;
    k.minikube.tunnel.poll_ms = 20;
    let world = World::start(k);
    // Captured through pipes like `subprocess.run(..., capture_output=True)`: returns only if
    // the detached supervisor holds none of them.
    let run = captured(&world, &["start", "-f", cluster_world::SEED, "-p", P]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        run.stdout
            .contains("running in the background (supervisor pid"),
        "{run}"
    );
    assert_eq!(supervisors(&world).len(), 1);
    lb_service(&world, "istio-ingressgateway", false);
    wait_for("the gateway answers", || {
        answering(&world, "istio-ingressgateway")
    });
    let status = meshup(&world, &["status", "-p", P]);
    assert!(status.stdout.contains("  Tunnel      running"), "{status}");

    // Again: the live supervisor is found, not a second one started.
    let again = captured(&world, &["start", "-f", cluster_world::SEED, "-p", P]);
    assert_eq!(again.code, Some(0), "{again}");
    assert!(
        again.stdout.contains("already running (supervisor pid"),
        "{again}"
    );
    assert_eq!(supervisors(&world).len(), 1);

    let down = meshup(&world, &["down", "-p", P]);
    assert_eq!(down.code, Some(0), "{down}");
    nothing_of_the_tunnel_runs(&world);
    cluster_world::assert_only_the_daemon_runs(&world);
}

#[test]
fn meshup_start_with_sudo_needing_a_password_is_exit_6_with_nothing_left() {
    let mut k = cluster_world::seed_knobs();
    k.host.sudo = meshup_sim::knobs::Sudo::Password;
    let world = World::start(k);
    let run = captured(&world, &["start", "-f", cluster_world::SEED, "-p", P]);
    assert_eq!(run.code, Some(6), "{run}");
    assert!(run.text().contains("NOPASSWD"), "{run}");
    assert!(
        run.text().contains("meshup tunnel --foreground -p tun"),
        "{run}"
    );
    nothing_of_the_tunnel_runs(&world);
    cluster_world::assert_only_the_daemon_runs(&world);
}
