//! The fake `minikube tunnel`: registration, SIGINT vs SIGTERM, single-instance rules, sudo.

mod support;

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Stdio};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::{Sim, eventually, text};

fn knobs(version: &str, extra: &str) -> String {
    format!(
        "minikube:\n  version: {version}\n  tunnel:\n    statusDelayMs: 0\n    routeRetryMs: 50\n    pollMs: 20\n{extra}"
    )
}

fn lb_service(sim: &Sim, profile: &str) {
    let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\nspec:\n  type: LoadBalancer\n  selector: {app: web}\n  ports:\n  - {name: http, port: 8080, targetPort: 8080}\n";
    let mut child = sim
        .cmd("kubectl")
        .args(["--context", profile, "apply", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(svc.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}

fn ingress_ip(sim: &Sim, profile: &str) -> String {
    let out = sim.run(
        "kubectl",
        &[
            "--context",
            profile,
            "get",
            "svc",
            "web",
            "-o",
            "jsonpath={.status.loadBalancer.ingress[0].ip}",
        ],
    );
    text(&out.stdout)
}

/// The world with cluster `profile` started by its fake minikube.
fn started(sim: Sim, profile: &str) -> Sim {
    assert_eq!(
        sim.run("minikube", &["start", "-p", profile]).status.code(),
        Some(0)
    );
    sim
}

fn signal(child: &Child, signal: Signal) {
    kill(Pid::from_raw(child.id() as i32), signal).unwrap();
}

/// The world's daemon knows the tunnel of `profile` (by its pid).
fn tunnel_registered(sim: &Sim, profile: &str) -> bool {
    sim.control()
        .request("GET", &format!("/clusters/{profile}/tunnel"), None)
        .is_ok_and(|r| text(&r.body).contains("pid"))
}

fn tunnel(sim: &Sim, profile: &str) -> Child {
    sim.cmd("minikube")
        .args(["tunnel", "-p", profile])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn read_all(child: &mut Child) -> (String, String) {
    let (mut o, mut e) = (String::new(), String::new());
    child.stdout.take().map(|mut s| s.read_to_string(&mut o));
    child.stderr.take().map(|mut s| s.read_to_string(&mut e));
    (o, e)
}

#[test]
fn sigint_withdraws_the_addresses_and_sigterm_leaves_them() {
    let sim = started(Sim::start(&knobs("v1.38.1", "")), "t");
    lb_service(&sim, "t");
    assert_eq!(ingress_ip(&sim, "t"), "", "pending without a tunnel");

    let mut t = tunnel(&sim, "t");
    eventually("an address while the tunnel runs", || {
        ingress_ip(&sim, "t").starts_with("127.")
    });
    signal(&t, Signal::SIGINT);
    let status = t.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let (out, _) = read_all(&mut t);
    assert!(out.contains("Status:\t\n\tmachine: t\n"), "{out}");
    assert!(out.contains("\tservices: [web]\n"), "{out}");
    eventually("the address is withdrawn", || {
        ingress_ip(&sim, "t").is_empty()
    });

    let mut t = tunnel(&sim, "t");
    eventually("an address again", || {
        ingress_ip(&sim, "t").starts_with("127.")
    });
    signal(&t, Signal::SIGTERM);
    let status = t.wait().unwrap();
    assert_eq!(status.signal(), Some(15), "dies by the signal, no cleanup");
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        ingress_ip(&sim, "t").starts_with("127."),
        "a SIGTERMed tunnel leaves its address behind"
    );
    let calls: Vec<_> = sim
        .calls()
        .into_iter()
        .filter(|c| c.has_args(&["tunnel"]))
        .collect();
    assert_eq!(
        calls.iter().map(|c| c.exit_code).collect::<Vec<_>>(),
        vec![Some(0), None]
    );
}

#[test]
fn single_instance_rules_follow_the_release() {
    for (version, second_code, message) in [
        (
            "v1.38.1",
            111,
            "Exiting due to TUNNEL_ALREADY_RUNNING: Another tunnel process is already running, terminate the existing instance to start a new one",
        ),
        (
            "v1.24.0",
            110,
            "another tunnel is already running, shut it down first",
        ),
    ] {
        let sim = started(Sim::start(&knobs(version, "")), "s");
        let mut first = tunnel(&sim, "s");
        eventually("the first tunnel registered", || {
            tunnel_registered(&sim, "s")
        });
        let out = sim.run("minikube", &["tunnel", "-p", "s"]);
        assert_eq!(
            out.status.code(),
            Some(second_code),
            "{version}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(message),
            "{version}: {}",
            text(&out.stderr)
        );
        signal(&first, Signal::SIGINT);
        assert_eq!(first.wait().unwrap().code(), Some(0));
    }
}

#[test]
fn sudo_without_a_terminal_is_reported_under_router_and_retried() {
    let sim = started(
        Sim::start(&knobs("v1.38.1", "host:\n  sudo: password\n")),
        "p",
    );
    lb_service(&sim, "p");
    let mut t = tunnel(&sim, "p");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(ingress_ip(&sim, "p"), "", "no route, no address");
    // Once sudo stops asking (a `sudo -v` elsewhere), the retry succeeds.
    sim.set_knobs(&knobs("v1.38.1", "host:\n  sudo: nopasswd\n"));
    eventually("the retried route", || {
        ingress_ip(&sim, "p").starts_with("127.")
    });
    signal(&t, Signal::SIGINT);
    t.wait().unwrap();
    let (out, _) = read_all(&mut t);
    assert!(out.contains("\t\trouter: error adding Route: sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper\nsudo: a password is required\n, 3\n"), "{out}");
    assert!(out.contains("\t\trouter: no errors\n"), "{out}");
}

#[test]
fn two_profiles_with_one_service_cidr_conflict() {
    let sim = started(Sim::start(&knobs("v1.38.1", "")), "a");
    assert_eq!(
        sim.run("minikube", &["start", "-p", "b"]).status.code(),
        Some(0)
    );
    let mut a = tunnel(&sim, "a");
    eventually("a's route", || {
        std::fs::read_to_string(sim.path().join("host/routes")).is_ok_and(|r| r.contains(" a "))
    });
    let mut b = tunnel(&sim, "b");
    std::thread::sleep(std::time::Duration::from_millis(300));
    for c in [&mut a, &mut b] {
        signal(c, Signal::SIGINT);
        assert_eq!(c.wait().unwrap().code(), Some(0));
    }
    let (out, _) = read_all(&mut b);
    assert!(
        out.contains("\t\trouter: conflicting rule in routing table: 10.96.0.0       "),
        "{out}"
    );
}

#[test]
fn ssh_mode_asks_for_a_password_for_privileged_ports() {
    let sim = started(
        Sim::start(
            &knobs("v1.38.1", "host:\n  sudo: password\n")
                .replace("pollMs: 20\n", "pollMs: 20\n    mode: ssh\n"),
        ),
        "m",
    );
    let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: gw\n  namespace: default\nspec:\n  type: LoadBalancer\n  ports:\n  - {name: http2, port: 80, targetPort: 8080}\n";
    std::fs::write(sim.path().join("gw.yaml"), svc).unwrap();
    assert!(
        sim.run("kubectl", &["--context", "m", "apply", "-f", "gw.yaml"])
            .status
            .success()
    );
    let mut t = tunnel(&sim, "m");
    std::thread::sleep(std::time::Duration::from_millis(400));
    signal(&t, Signal::SIGINT);
    assert_eq!(t.wait().unwrap().code(), Some(0));
    let (out, err) = read_all(&mut t);
    assert!(
        out.starts_with(
            "* Tunnel successfully started\n\n* NOTE: Please do not close this terminal"
        ),
        "{out}"
    );
    assert!(
        err.contains("! The service/ingress gw requires privileged ports to be exposed: [80]"),
        "{err}"
    );
    assert!(
        out.contains("* sudo permission will be asked for it.") && out.ends_with("Password:"),
        "{out}"
    );
}

#[test]
fn no_process_is_left_after_the_world_is_dropped() {
    let sim = started(Sim::start(&knobs("v1.38.1", "")), "z");
    let child = tunnel(&sim, "z");
    eventually("the tunnel registered", || tunnel_registered(&sim, "z"));
    let id = sim.id.clone();
    assert!(support::marked(&id).contains(&(child.id() as i32)));
    drop(sim);
    let mut child = child;
    let _ = child.wait();
    assert!(
        support::marked(&id).is_empty(),
        "left: {:?}",
        support::marked(&id)
    );
}

/// Live `ssh` forwards of this world (the fake's children, named like the real ones).
fn ssh_forwards(sim: &Sim) -> Vec<i32> {
    sim.processes()
        .into_iter()
        .filter(|p| {
            std::fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| c.starts_with(b"ssh\0"))
        })
        .collect()
}

#[test]
fn ssh_mode_forwards_die_with_sigint_and_outlive_sigterm() {
    let sim = started(
        Sim::start(&knobs("v1.38.1", "").replace("pollMs: 20\n", "pollMs: 20\n    mode: ssh\n")),
        "f",
    );
    lb_service(&sim, "f");
    let mut t = tunnel(&sim, "f");
    eventually("an address", || ingress_ip(&sim, "f").starts_with("127."));
    eventually("one ssh forward", || ssh_forwards(&sim).len() == 1);
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", ssh_forwards(&sim)[0])).unwrap();
    assert!(
        text(&cmdline).contains("-N\0docker@127.0.0.1\0"),
        "{}",
        text(&cmdline)
    );
    signal(&t, Signal::SIGINT);
    assert_eq!(t.wait().unwrap().code(), Some(0));
    let (out, _) = read_all(&mut t);
    assert!(out.contains("* Starting tunnel for service web."), "{out}");
    assert!(ssh_forwards(&sim).is_empty(), "SIGINT kills the forwards");

    let mut t = tunnel(&sim, "f");
    eventually("a forward again", || ssh_forwards(&sim).len() == 1);
    signal(&t, Signal::SIGTERM);
    assert_eq!(t.wait().unwrap().signal(), Some(15));
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(
        ssh_forwards(&sim).len(),
        1,
        "an orphaned forward survives SIGTERM"
    );
}

#[test]
fn the_tunnel_ends_with_its_cluster_and_can_be_told_to_crash() {
    let sim = started(Sim::start(&knobs("v1.38.1", "")), "c");
    let mut t = tunnel(&sim, "c");
    eventually("registered", || tunnel_registered(&sim, "c"));
    assert_eq!(
        sim.run("minikube", &["stop", "-p", "c"]).status.code(),
        Some(0)
    );
    assert_eq!(t.wait().unwrap().code(), Some(0), "exits on its own");

    assert_eq!(
        sim.run("minikube", &["start", "-p", "c"]).status.code(),
        Some(0)
    );
    sim.set_knobs(
        &knobs("v1.38.1", "").replace("pollMs: 20\n", "pollMs: 20\n    crashAfterMs: 100\n"),
    );
    let mut t = tunnel(&sim, "c");
    assert_eq!(t.wait().unwrap().code(), Some(2));
    let (_, err) = read_all(&mut t);
    assert!(err.starts_with("panic: "), "{err}");
}
