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
    ingress_ip_of(sim, profile, "web")
}

fn ingress_ip_of(sim: &Sim, profile: &str, name: &str) -> String {
    let out = sim.run(
        "kubectl",
        &[
            "--context",
            profile,
            "get",
            "svc",
            name,
            "-o",
            "jsonpath={.status.loadBalancer.ingress[0].ip}",
        ],
    );
    text(&out.stdout)
}

/// A LoadBalancer Service with a status port (which answers as soon as it is reachable).
fn status_service(sim: &Sim, profile: &str, name: &str, more_ports: &str) {
    let svc = format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: default\nspec:\n  type: LoadBalancer\n  selector: {{app: {name}}}\n  ports:\n  - {{name: status-port, port: 15021, targetPort: 15021}}\n{more_ports}"
    );
    let file = sim.path().join(format!("{name}.yaml"));
    std::fs::write(&file, svc).unwrap();
    let out = sim.run(
        "kubectl",
        &["--context", profile, "apply", "-f", file.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// Does something answer HTTP on this address?
fn answers(ip: &str, port: u16) -> bool {
    use std::io::Write;
    let Ok(addr) = format!("{ip}:{port}").parse() else {
        return false;
    };
    let Ok(mut s) =
        std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(500))
    else {
        return false;
    };
    let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
    if s.write_all(b"GET /healthz/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 ")
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
        if second_code == 111 {
            // style.Usage (💡) has no low-fi prefix of its own: the bullet, not `X `.
            assert!(
                text(&out.stderr).starts_with("\n* Exiting due to TUNNEL_ALREADY_RUNNING"),
                "{}",
                text(&out.stderr)
            );
        }
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

/// `host/routes` names this profile (the world's record of who added a route).
fn routed(sim: &Sim, profile: &str) -> bool {
    std::fs::read_to_string(sim.path().join("host/routes")).is_ok_and(|r| {
        r.lines()
            .any(|l| l.split_whitespace().nth(2) == Some(profile))
    })
}

/// As minikube's tunnel.go/route.go: the same CIDR via another gateway is a conflict
/// (`conflicting route: <ip r line>`), retried; no Service is patched meanwhile; once the
/// other route goes, the retry adds it.
#[test]
fn two_profiles_with_one_service_cidr_conflict() {
    let sim = started(Sim::start(&knobs("v1.38.1", "")), "a");
    assert_eq!(
        sim.run("minikube", &["start", "-p", "b"]).status.code(),
        Some(0)
    );
    lb_service(&sim, "b");
    let mut a = tunnel(&sim, "a");
    eventually("a's route", || routed(&sim, "a"));
    let mut b = tunnel(&sim, "b");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!routed(&sim, "b"));
    assert_eq!(ingress_ip(&sim, "b"), "", "no route, no address");
    signal(&a, Signal::SIGINT);
    assert_eq!(a.wait().unwrap().code(), Some(0));
    eventually("b's retried route", || routed(&sim, "b"));
    eventually("b's address", || !ingress_ip(&sim, "b").is_empty());
    signal(&b, Signal::SIGINT);
    assert_eq!(b.wait().unwrap().code(), Some(0));
    let (out, _) = read_all(&mut b);
    let conflict = out
        .lines()
        .find(|l| l.starts_with("\t\trouter: conflicting route: "))
        .unwrap_or_else(|| panic!("{out}"));
    // `ip r`'s line: the interface is the docker network's (`br-` + 12 hex), not the profile.
    let line = conflict.trim_start_matches("\t\trouter: conflicting route: ");
    let f: Vec<&str> = line.split(' ').collect();
    assert_eq!(f[..4], ["10.96.0.0/12", "via", f[2], "dev"], "{line}");
    assert!(f[2].parse::<std::net::Ipv4Addr>().is_ok(), "{line}");
    assert!(
        f[4].starts_with("br-") && f[4].len() == 15 && f.len() == 5,
        "{line}"
    );
    assert!(out.contains("\t\trouter: no errors\n"), "{out}");
    let (_, _) = read_all(&mut a);
}

/// route.go only logs an overlapping (not equal) CIDR and adds the route: both clusters get
/// theirs and their addresses.
#[test]
fn an_overlapping_service_cidr_is_routed_too() {
    let sim = started(Sim::start(&knobs("v1.38.1", "")), "a");
    let out = sim.run(
        "minikube",
        &[
            "start",
            "-p",
            "b",
            "--service-cluster-ip-range=10.96.0.0/16",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    lb_service(&sim, "a");
    lb_service(&sim, "b");
    let mut a = tunnel(&sim, "a");
    let mut b = tunnel(&sim, "b");
    eventually("both routes", || routed(&sim, "a") && routed(&sim, "b"));
    eventually("both addresses", || {
        !ingress_ip(&sim, "a").is_empty() && !ingress_ip(&sim, "b").is_empty()
    });
    for c in [&mut a, &mut b] {
        signal(c, Signal::SIGINT);
        assert_eq!(c.wait().unwrap().code(), Some(0));
    }
    let (out, _) = read_all(&mut b);
    assert!(out.contains("\troute: 10.96.0.0/16 -> "), "{out}");
    assert!(!out.contains("conflicting"), "{out}");
}

#[test]
fn ssh_mode_runs_sudo_ssh_for_privileged_ports_and_without_a_terminal_nothing_listens() {
    let sim = started(
        Sim::start(
            &knobs("v1.38.1", "host:\n  sudo: password\n")
                .replace("pollMs: 20\n", "pollMs: 20\n    mode: ssh\n"),
        ),
        "m",
    );
    status_service(
        &sim,
        "m",
        "gw",
        "  - {name: http2, port: 80, targetPort: 8080}\n",
    );
    let mut t = tunnel(&sim, "m");
    // minikube patches the address at once, whether or not the forward comes up.
    eventually("an address", || {
        ingress_ip_of(&sim, "m", "gw").starts_with("127.")
    });
    let ip = ingress_ip_of(&sim, "m", "gw");
    eventually("sudo ssh tried and failed", || {
        sim.calls().iter().any(|c| {
            c.tool == "sudo"
                && c.argv.first().map(String::as_str) == Some("ssh")
                && c.exit_code == Some(1)
        })
    });
    assert!(!answers(&ip, 15021), "an address with nothing behind it");
    assert!(ssh_forwards(&sim).is_empty());
    signal(&t, Signal::SIGINT);
    assert_eq!(t.wait().unwrap().code(), Some(0));
    let (out, err) = read_all(&mut t);
    assert!(
        out.starts_with(
            "* Tunnel successfully started\n\n* NOTE: Please do not close this terminal"
        ),
        "{out}"
    );
    // out.Step(style.Warning, ...): stdout, low-fi `! `; sudo prompts on /dev/tty, not here.
    assert!(
        out.contains("! The service/ingress gw requires privileged ports to be exposed: [80]\n* sudo permission will be asked for it.\n* Starting tunnel for service gw.\n"),
        "{out}"
    );
    assert!(
        !out.contains("Password") && !err.contains("sudo"),
        "{out}{err}"
    );
}

#[test]
fn the_fake_sudo_answers_by_the_knob() {
    let sim = Sim::start(&knobs("v1.38.1", ""));
    assert_eq!(sim.run("sudo", &["-n", "true"]).status.code(), Some(0));
    assert_eq!(sim.run("sudo", &["false"]).status.code(), Some(1));
    sim.set_knobs(&knobs("v1.38.1", "host:\n  sudo: password\n"));
    let out = sim.run("sudo", &["-n", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "sudo: a password is required\n");
    // Without a terminal (the test has none; setsid makes sure) sudo cannot ask.
    let mut cmd = sim.cmd("sudo");
    cmd.arg("true");
    // SAFETY: setsid is async-signal-safe.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            nix::unistd::setsid()
                .map(|_| ())
                .map_err(std::io::Error::from)
        });
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper\nsudo: a password is required\n"
    );
}

#[test]
fn a_killed_tunnels_addresses_stay_and_new_services_stay_pending() {
    let sim = started(Sim::start(&knobs("v1.38.1", "")), "k");
    status_service(&sim, "k", "one", "");
    let mut t = tunnel(&sim, "k");
    eventually("an address", || {
        ingress_ip_of(&sim, "k", "one").starts_with("127.")
    });
    let one = ingress_ip_of(&sim, "k", "one");
    eventually("it answers", || answers(&one, 15021));
    signal(&t, Signal::SIGKILL);
    t.wait().unwrap();
    status_service(&sim, "k", "two", "");
    // Many of the tunnel's polls (20 ms): nobody patches the new Service.
    std::thread::sleep(std::time::Duration::from_millis(400));
    assert_eq!(
        ingress_ip_of(&sim, "k", "two"),
        "",
        "pending without a live tunnel"
    );
    assert_eq!(
        ingress_ip_of(&sim, "k", "one"),
        one,
        "the killed tunnel's address stays"
    );
    assert!(
        answers(&one, 15021),
        "its route stays too, so the stale address answers"
    );
    assert!(!tunnel_registered(&sim, "k"), "a dead tunnel is no tunnel");

    let mut t = tunnel(&sim, "k");
    eventually("the new Service's address", || {
        ingress_ip_of(&sim, "k", "two").starts_with("127.")
    });
    let two = ingress_ip_of(&sim, "k", "two");
    eventually("it answers", || answers(&two, 15021));
    signal(&t, Signal::SIGINT);
    assert_eq!(t.wait().unwrap().code(), Some(0));
    assert_eq!(ingress_ip_of(&sim, "k", "one"), "");
    assert!(
        !answers(&one, 15021) && !answers(&two, 15021),
        "route and addresses gone"
    );
}

#[test]
fn an_orphaned_forward_carries_traffic_and_holds_its_port() {
    let sim = started(
        Sim::start(&knobs("v1.38.1", "").replace("pollMs: 20\n", "pollMs: 20\n    mode: ssh\n")),
        "o",
    );
    status_service(&sim, "o", "gw", "");
    let mut t = tunnel(&sim, "o");
    eventually("an address", || {
        ingress_ip_of(&sim, "o", "gw").starts_with("127.")
    });
    let ip = ingress_ip_of(&sim, "o", "gw");
    eventually("it answers through the forward", || answers(&ip, 15021));
    let orphan = ssh_forwards(&sim);
    assert_eq!(orphan.len(), 1);
    signal(&t, Signal::SIGKILL);
    t.wait().unwrap();
    // Retried: one request can be slow on a loaded machine; one that never answers fails.
    eventually("the orphaned forward still carries traffic", || {
        answers(&ip, 15021)
    });

    let mut t = tunnel(&sim, "o");
    eventually("a second forward", || ssh_forwards(&sim).len() == 2);
    eventually("the orphan still answers", || answers(&ip, 15021));
    kill(Pid::from_raw(orphan[0]), Signal::SIGKILL).unwrap();
    eventually("the orphan is gone", || {
        !ssh_forwards(&sim).contains(&orphan[0])
    });
    assert!(
        !answers(&ip, 15021),
        "the new forward could not bind the port the orphan held"
    );
    signal(&t, Signal::SIGINT);
    assert_eq!(t.wait().unwrap().code(), Some(0));
    assert!(ssh_forwards(&sim).is_empty());

    // The forward itself says so, as OpenSSH does, and keeps running.
    let holder = std::net::TcpListener::bind((ip.as_str(), 15021)).unwrap();
    let mut ssh = sim
        .cmd(support::bin())
        .env("MESHUP_SIM_AS", "ssh")
        .args([
            "-N",
            "docker@127.0.0.1",
            "-L",
            &format!("{ip}:15021:10.96.0.9:15021"),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = String::new();
    let mut stderr = ssh.stderr.take().unwrap();
    let mut buf = [0u8; 512];
    while !err.contains("Could not request local forwarding.") {
        let n = stderr.read(&mut buf).unwrap();
        assert!(n > 0, "{err}");
        err.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(
        err.starts_with(&format!("bind [{ip}]:15021: Address already in use\n")),
        "{err}"
    );
    assert!(ssh.try_wait().unwrap().is_none(), "still running");
    ssh.kill().unwrap();
    ssh.wait().unwrap();
    drop(holder);
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
