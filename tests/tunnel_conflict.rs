//! Two clusters that keep the default service CIDR cannot both be tunnelled in route mode: the
//! second one's `minikube tunnel` finds the first one's route (`conflicting route: ...`) and
//! would retry for ever. meshup fails its tunnel stage at once (exit 6) naming the route and the
//! profile holding it, leaves no tunnel of the second profile, and a range of its own passes.

#[path = "common/cluster_world.rs"]
mod cluster_world;

use cluster_world::*;
use meshup_sim::World;

/// Processes of the world whose argv has all of `words`.
fn procs_with(world: &World, words: &[&str]) -> Vec<i32> {
    world
        .processes()
        .into_iter()
        .filter(|p| {
            let argv: Vec<String> = std::fs::read(format!("/proc/{p}/cmdline"))
                .unwrap_or_default()
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            words.iter().all(|w| argv.iter().any(|a| a == w))
        })
        .collect()
}

/// `minikube tunnel -p P` and meshup's supervisor of it.
fn tunnel_of(world: &World, profile: &str) -> Vec<i32> {
    procs_with(world, &["tunnel", "-p", profile])
}

/// The seed with `--service-cluster-ip-range=<range>` in `cluster.extraArgs`.
fn seed_with_range(world: &World, range: &str) -> String {
    let seed = std::fs::read_to_string(SEED).unwrap();
    let with = seed.replacen(
        "  memory: 8gb\n",
        &format!("  memory: 8gb\n  extraArgs:\n    - --service-cluster-ip-range={range}\n"),
        1,
    );
    assert_ne!(seed, with);
    let path = world.dir().join("own-range.yaml");
    std::fs::write(&path, with).unwrap();
    path.display().to_string()
}

#[test]
fn a_second_cluster_with_the_same_service_cidr_fails_fast_naming_the_first() {
    let world = seed_world();
    let one = meshup(
        &world,
        &["start", "-f", SEED, "-p", "one", "--output", "json"],
    );
    assert_eq!(one.code, Some(0), "{one}");
    let one_tunnel = tunnel_of(&world, "one");
    assert_eq!(one_tunnel.len(), 2, "one's supervisor and tunnel run");

    let two = meshup(
        &world,
        &["start", "-f", SEED, "-p", "two", "--output", "json"],
    );
    assert_eq!(two.code, Some(6), "{two}");
    let events = two.events();
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "stage-done" && e["stage"] == "cluster"),
        "{two}"
    );
    let failed = events
        .iter()
        .find(|e| e["type"] == "stage-failed" && e["stage"] == "tunnel")
        .unwrap_or_else(|| panic!("no tunnel failure\n{two}"));
    let error = &failed["error"];
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("the host already routes 10.96.0.0/12 via "),
        "{message}"
    );
    assert!(
        message.contains("(the tunnel of profile `one`, pid "),
        "{message}"
    );
    assert!(
        message.contains("two clusters with the same service CIDR cannot both be tunnelled"),
        "{message}"
    );
    // Failed on the conflict itself, not on the stage's 120 s wait for `running` expiring.
    assert!(!message.contains("did not run within"), "{message}");
    assert_eq!(error["details"]["reason"], "ROUTE_CONFLICT", "{failed}");
    assert_eq!(error["details"]["otherProfile"], "one", "{failed}");
    let hints: Vec<&str> = error["hints"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h.as_str())
        .collect();
    assert!(
        hints
            .iter()
            .any(|h| h.contains("`meshup tunnel stop -p one`")),
        "{hints:?}"
    );
    assert!(
        hints
            .iter()
            .any(|h| h.contains("--service-cluster-ip-range") && h.contains("cluster.extraArgs")),
        "{hints:?}"
    );
    assert_eq!(two.result()["error"]["exitCode"], 6, "{two}");
    // Nothing of two's tunnel is left; one's is untouched.
    assert_eq!(tunnel_of(&world, "two"), Vec::<i32>::new(), "{two}");
    assert_eq!(tunnel_of(&world, "one"), one_tunnel);
    // `status` keeps the reason.
    let status = meshup(&world, &["status", "-p", "two"]);
    assert!(
        status
            .stdout
            .contains("the host already routes 10.96.0.0/12"),
        "{status}"
    );

    // A range of its own is set when the cluster is created: down, then start with it.
    let down = meshup(&world, &["down", "-p", "two"]);
    assert_eq!(down.code, Some(0), "{down}");
    let own = seed_with_range(&world, "10.112.0.0/16");
    let two = meshup(
        &world,
        &["start", "-f", &own, "-p", "two", "--output", "json"],
    );
    assert_eq!(two.code, Some(0), "{two}");
    assert_eq!(
        tunnel_of(&world, "two").len(),
        2,
        "two's supervisor and tunnel run"
    );
    assert_eq!(tunnel_of(&world, "one"), one_tunnel);

    for p in ["one", "two"] {
        let down = meshup(&world, &["down", "-p", p]);
        assert_eq!(down.code, Some(0), "{down}");
    }
    assert_only_the_daemon_runs(&world);
    assert_eq!(tunnel_supervision(&world), Vec::<i32>::new());
}
