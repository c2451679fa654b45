//! `minikube tunnel`: route mode (the `Status:` block, `sudo ip route add`) or SSH mode
//! (per-service forwards, `sudo ssh` below port 1024). It registers with the world
//! (`PUT /clusters/{p}/tunnel`) while it works; SIGINT cleans up and exits 0, SIGTERM and
//! SIGKILL kill it with nothing cleaned up (addresses and routes stay), as the real one.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

use crate::control::ClusterState;
use crate::control::Via;
use crate::control_client::ControlClient;
use crate::fakes::common::{Args, Env};
use crate::knobs::TunnelMode;

use super::profile;
use super::release::{Release, TunnelLock};
use super::routes::{Check, Net, Routes};
use super::ui::Ui;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: nix::libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

pub(super) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Sleeps in small slices so SIGINT is acted on promptly.
pub(super) fn wait(ms: u64) {
    let end = Instant::now() + Duration::from_millis(ms);
    while !interrupted() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10).min(end - Instant::now()));
    }
}

pub fn run(env: &Env, rel: &Release, profile: &str, args: &Args) -> i32 {
    let ui = Ui::new(false);
    let Some(cfg) = profile::load(profile) else {
        ui.styled("🤷", &format!("Profile \"{profile}\" not found. Run \"minikube profile list\" to view all profiles."));
        ui.styled(
            "👉",
            &format!("To start a cluster, run: \"minikube start -p {profile}\""),
        );
        return 85;
    };
    let control = match env.control() {
        Ok(c) => c,
        Err(e) => return ui.exit("SVC_TUNNEL_START", &e),
    };
    let info = match control.cluster(profile) {
        Ok(Some(c)) if c.state == ClusterState::Running => c,
        Ok(other) => {
            let state = if other.is_some() {
                "Stopped"
            } else {
                "Nonexistent"
            };
            ui.styled(
                "🤷",
                &format!("The control-plane node {profile} host is not running: state={state}"),
            );
            ui.styled(
                "👉",
                &format!("To start a cluster, run: \"minikube start -p {profile}\""),
            );
            return 83;
        }
        Err(e) => return ui.exit("SVC_TUNNEL_START", &e.to_string()),
    };
    let lock_path = match rel.tunnel_lock() {
        TunnelLock::None => None,
        TunnelLock::Global => Some(profile::mini_path().join(".tunnel_lock")),
        TunnelLock::PerProfile => Some(profile::profile_dir(profile).join(".tunnel_lock")),
    };
    // Held for the life of the process: the kernel drops it however we die.
    let _lock = match lock_path {
        None => None,
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path);
            match file.map(|f| Flock::lock(f, FlockArg::LockExclusiveNonblock)) {
                Ok(Ok(l)) => Some(l),
                _ => {
                    return ui.exit(
                        "TUNNEL_ALREADY_RUNNING",
                        "Another tunnel process is already running, terminate the existing instance to start a new one",
                    );
                }
            }
        }
    };
    let handler = SigAction::new(
        SigHandler::Handler(on_sigint),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic.
    unsafe {
        let _ = sigaction(Signal::SIGINT, &handler);
    }
    let knobs = &env.knobs.minikube.tunnel;
    let ssh = knobs.mode == TunnelMode::Ssh || args.is_set(&["--bind-address"]);
    let started = Instant::now();
    let crashed = || {
        knobs
            .crash_after_ms
            .is_some_and(|ms| started.elapsed() >= Duration::from_millis(ms))
    };
    let code = if ssh {
        super::ssh::ssh_mode(env, &control, profile, &crashed)
    } else {
        route_mode(
            env,
            &control,
            profile,
            &cfg.service_cidr,
            &info.node_ip,
            args,
            &crashed,
        )
    };
    if code == 2 {
        eprintln!(
            "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x0]"
        );
    }
    code
}

/// reporter.go's block; the services are joined with ", " (`strings.Join(..., ", ")`).
fn status_block(profile: &str, pid: u32, route: &str, services: &[String], router: &str) -> String {
    format!(
        "Status:\t\n\tmachine: {profile}\n\tpid: {pid}\n\troute: {route}\n\tminikube: Running\n\tservices: [{}]\n    errors: \n\t\tminikube: no errors\n\t\trouter: {router}\n\t\tloadbalancer emulator: no errors\n",
        services.join(", ")
    )
}

fn route_mode(
    env: &Env,
    control: &ControlClient,
    profile: &str,
    cidr: &str,
    gateway: &str,
    args: &Args,
    crashed: &dyn Fn() -> bool,
) -> i32 {
    let knobs = &env.knobs.minikube.tunnel;
    let pid = std::process::id();
    let routes = Routes {
        path: env
            .host_file("routes")
            .unwrap_or_else(|| std::env::temp_dir().join("meshup-sim-routes")),
    };
    if args.get(&["-c", "--cleanup"]) != Some("false") {
        routes.cleanup();
    }
    if let Some(other) = routes
        .lines()
        .into_iter()
        .find(|l| l[2] == profile && l[3] != pid.to_string() && Routes::alive(&l[3]))
    {
        let ui = Ui::new(false);
        return ui.exit(
            "SVC_TUNNEL_START",
            &format!(
                "error starting tunnel: error creating tunnel: another tunnel is already running, shut it down first: ID {{ Route: {cidr} -> {gateway}, machineName: {profile}, Pid: {} }}",
                other[3]
            ),
        );
    }
    let net = Net::parse(cidr);
    // reporter.go prints the route as Go formats the parsed CIDR.
    let route = format!(
        "{} -> {gateway}",
        net.map_or_else(|| cidr.to_string(), |n| n.to_string())
    );
    let mut registered = false;
    let mut services: Vec<String> = Vec::new();
    let mut router = String::from("no errors");
    let mut printed: Option<String> = None;
    let started = Instant::now();
    let mut next_route_try = Instant::now();
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
        if !registered && Instant::now() >= next_route_try {
            // tunnel.go's setupRoute: inspect first, add only when nothing is in the way.
            let added = match net.map(|n| (n, routes.check(&n, gateway))) {
                Some((_, Check::Conflict(line))) => Err(format!("conflicting route: {line}")),
                Some((_, Check::Exists)) => Ok(()),
                None => Err(format!("invalid CIDR address: {cidr}")),
                Some((n, Check::Free)) => {
                    // `sudo ip route add <cidr> via <gateway>`: sudo asks on /dev/tty or fails.
                    crate::fakes::sudo::authenticate(env, false)
                        .map_err(|m| format!("error adding Route: {m}, {}", m.split('\n').count()))
                        .and_then(|()| {
                            routes.add(
                                &n,
                                [
                                    cidr.to_string(),
                                    gateway.to_string(),
                                    profile.to_string(),
                                    pid.to_string(),
                                ],
                            )
                        })
                }
            };
            match added {
                Ok(()) => {
                    router = "no errors".into();
                    registered = true;
                }
                Err(e) => {
                    router = e;
                    next_route_try = Instant::now() + Duration::from_millis(knobs.route_retry_ms);
                }
            }
        }
        // tunnel.go's update(): the load balancer emulator patches Services only when the
        // route is in place (`if t.status.RouteError == nil`).
        if registered {
            match control.put_tunnel_via(profile, pid, Via::Route) {
                Ok(Some(exposed)) => {
                    services = exposed.iter().map(|s| s.name.clone()).collect();
                    services.sort();
                    services.dedup();
                }
                _ => break,
            }
        }
        if started.elapsed() >= Duration::from_millis(knobs.status_delay_ms) {
            let block = status_block(profile, pid, &route, &services, &router);
            if printed.as_deref() != Some(block.as_str()) {
                print!("{block}");
                let _ = std::io::stdout().flush();
                printed = Some(block);
            }
        }
        wait(knobs.poll_ms.max(10));
    }
    // SIGINT, or the cluster went away: clean up like the real one (`sudo ip route delete`,
    // then the ingress addresses), route first so the addresses stop answering with it.
    routes.remove_by(pid);
    let _ = control.delete_tunnel(profile);
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_block_has_the_real_bytes() {
        let b = status_block(
            "minikube",
            39087,
            "10.96.0.0/12 -> 192.168.49.2",
            &["hello-minikube".into(), "web".into()],
            "no errors",
        );
        assert_eq!(
            b,
            "Status:\t\n\tmachine: minikube\n\tpid: 39087\n\troute: 10.96.0.0/12 -> 192.168.49.2\n\tminikube: Running\n\tservices: [hello-minikube, web]\n    errors: \n\t\tminikube: no errors\n\t\trouter: no errors\n\t\tloadbalancer emulator: no errors\n"
        );
    }
}
