//! The supervisor's state machine, with a shell script standing in for `minikube tunnel`.

use super::*;
use crate::tunnel::state::Mode;

/// A `minikube` that runs `body` (sh) for `tunnel`.
fn fake_minikube(dir: &std::path::Path, body: &str) -> Minikube {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("minikube");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    Minikube::new(path, "p")
}

fn supervisor(dir: &std::path::Path, body: &str) -> Supervisor {
    let mut s = Supervisor::new("p", fake_minikube(dir, body), None, dir.to_owned());
    s.check_sudo = false;
    s.grace = Duration::from_millis(300);
    s.tick = Duration::from_millis(20);
    s.policy = Policy {
        base: Duration::from_millis(1),
        cap: Duration::from_millis(4),
        max_same: 3,
    };
    s
}

const BLOCK: &str = r#"printf 'Status:\t\n\tmachine: p\n\tpid: 1\n\troute: 10.96.0.0/12 -> 192.168.49.2\n\tminikube: Running\n\tservices: []\n    errors: \n\t\tminikube: no errors\n\t\trouter: %s\n\t\tloadbalancer emulator: no errors\n' "$ROUTER""#;

/// Every distinct state the supervisor went through, in order.
async fn states(
    sup: &Supervisor,
    cancel_when: impl Fn(&Status) -> bool,
) -> (Vec<&'static str>, Status) {
    let cancel = CancellationToken::new();
    let (tx, mut rx) = watch::channel(Status::new("p"));
    let run = sup.run(cancel.clone(), tx);
    tokio::pin!(run);
    let mut seen: Vec<&'static str> = Vec::new();
    let fin = loop {
        tokio::select! {
            s = &mut run => break s,
            Ok(()) = rx.changed() => {
                let now = rx.borrow_and_update().clone();
                let name = now.state.name();
                if seen.last() != Some(&name) {
                    seen.push(name);
                }
                if cancel_when(&now) {
                    cancel.cancel();
                }
            }
        }
    };
    if seen.last() != Some(&fin.state.name()) {
        seen.push(fin.state.name());
    }
    (seen, fin)
}

#[tokio::test]
async fn starting_running_stopped_and_the_file_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let sup = supervisor(
        dir.path(),
        &format!("ROUTER='no errors'; {BLOCK}; exec sleep 30"),
    );
    let (seen, fin) = tokio::time::timeout(
        Duration::from_secs(20),
        states(&sup, |s| s.state.name() == "running"),
    )
    .await
    .unwrap();
    assert_eq!(seen, ["starting", "running", "stopped"]);
    assert_eq!(fin.mode, Mode::Route);
    assert_eq!(fin.restarts, 0);
    let file = Status::load(&dir.path().join(STATUS_FILE)).unwrap();
    assert_eq!(file.state.name(), "stopped");
}

#[tokio::test]
async fn the_same_startup_failure_three_times_ends_in_failed() {
    let dir = tempfile::tempdir().unwrap();
    let sup = supervisor(dir.path(), "echo boom >&2; exit 1");
    let (seen, fin) = tokio::time::timeout(Duration::from_secs(20), states(&sup, |_| false))
        .await
        .unwrap();
    assert_eq!(seen.first(), Some(&"starting"));
    assert!(seen.contains(&"backing-off"), "{seen:?}");
    assert_eq!(fin.state.name(), "failed");
    assert_eq!(fin.restarts, 2);
    let TunnelState::Failed { reason, .. } = &fin.state else {
        unreachable!()
    };
    assert!(
        reason.contains("exited with code 1 (3 times in a row)"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_tunnel_that_worked_and_died_is_restarted_every_time() {
    let dir = tempfile::tempdir().unwrap();
    // Works, then dies; the 5th run stays up. A counter file tells the runs apart.
    let body = format!(
        "n=$(cat {c} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {c}; ROUTER='no errors'; {BLOCK}; [ $n -ge 5 ] && exec sleep 30; exit 1",
        c = dir.path().join("count").display()
    );
    let sup = supervisor(dir.path(), &body);
    // The dying runs may be seen `running` for a moment too: stop at the fifth run's.
    let fifth = |s: &Status| s.state.name() == "running" && s.restarts == 4;
    let (seen, fin) = tokio::time::timeout(Duration::from_secs(20), states(&sup, fifth))
        .await
        .unwrap();
    assert_eq!(seen.last(), Some(&"stopped"), "{seen:?}");
    assert!(!seen.contains(&"failed"), "{seen:?}");
    assert_eq!(fin.restarts, 4);
}

#[tokio::test]
async fn sudo_asking_under_router_fails_at_once_and_stops_the_tunnel() {
    let dir = tempfile::tempdir().unwrap();
    let sup = supervisor(
        dir.path(),
        &format!(
            "ROUTER='error adding Route: sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper'; {BLOCK}; exec sleep 30"
        ),
    );
    let (seen, fin) = tokio::time::timeout(Duration::from_secs(20), states(&sup, |_| false))
        .await
        .unwrap();
    assert_eq!(seen, ["starting", "failed"]);
    let TunnelState::Failed { hints, .. } = &fin.state else {
        unreachable!()
    };
    assert!(hints[0].contains("NOPASSWD"), "{hints:?}");
    assert_eq!(fin.restarts, 0);
}

#[tokio::test]
async fn a_conflicting_route_fails_at_once_and_stops_the_tunnel() {
    let dir = tempfile::tempdir().unwrap();
    let sup = supervisor(
        dir.path(),
        &format!(
            "ROUTER='conflicting route: 10.96.0.0/12 via 192.168.58.2 dev br-0123456789ab'; {BLOCK}; exec sleep 30"
        ),
    );
    let (seen, fin) = tokio::time::timeout(Duration::from_secs(20), states(&sup, |_| false))
        .await
        .unwrap();
    assert_eq!(seen, ["starting", "failed"]);
    let TunnelState::Failed { reason, hints, .. } = &fin.state else {
        unreachable!()
    };
    assert!(
        reason.starts_with("the host already routes 10.96.0.0/12 via 192.168.58.2"),
        "{reason}"
    );
    assert!(
        hints
            .iter()
            .any(|h| h.contains("--service-cluster-ip-range"))
    );
    assert_eq!((fin.restarts, fin.tunnel_pid), (0, None));
}
