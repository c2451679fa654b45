//! `meshup start` on a profile that already exists with other settings: the difference is
//! shown, nothing is changed silently; `--recreate` deletes and creates it, `--yes` upgrades
//! Kubernetes in place; a stopped profile is started again.

#[path = "common/cluster_world.rs"]
mod cluster_world;

use cluster_world::*;
use meshup_sim::World;

fn world_with_the_seed_running() -> World {
    let world = seed_world();
    let run = meshup(&world, &["start", "-f", SEED]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(minikube(&world, "start").len(), 1);
    world
}

#[test]
fn other_memory_is_shown_and_needs_recreate() {
    let world = world_with_the_seed_running();
    let run = meshup(&world, &["start", "-f", SEED, "--memory", "6gb"]);
    assert_eq!(run.code, Some(5), "{run}");
    let text = run.text();
    assert!(text.contains("cluster.memory"), "{run}");
    assert!(
        text.contains("8192mb") && text.contains("6144mb"),
        "both values\n{run}"
    );
    assert!(text.contains("--recreate"), "{run}");
    assert_eq!(minikube(&world, "start").len(), 1, "{}", calls_text(&world));
    assert_no_minikube(&world, "delete");
    assert_eq!(profile_config(&world, "meshup")["Memory"], 8192);

    let json = meshup(
        &world,
        &["start", "-f", SEED, "--memory", "6gb", "--output", "json"],
    );
    assert_eq!(json.code, Some(5), "{json}");
    let result = json.result();
    let differences = &result["error"]["details"]["differences"];
    assert_eq!(differences[0]["field"], "cluster.memory", "{result}");
    assert_eq!(differences[0]["existing"], "8192mb", "{result}");
    assert_eq!(differences[0]["wanted"], "6144mb", "{result}");

    let old_tunnel = tunnel_supervision(&world);
    assert!(!old_tunnel.is_empty(), "the first start left its tunnel");
    let recreate = meshup(
        &world,
        &["start", "-f", SEED, "--memory", "6gb", "--recreate"],
    );
    assert_eq!(recreate.code, Some(0), "{recreate}");
    // The old cluster's tunnel was stopped before its node went, and a new one runs.
    assert!(
        recreate
            .text()
            .contains("stopped the tunnel of the cluster being recreated"),
        "{recreate}"
    );
    let new_tunnel = tunnel_supervision(&world);
    assert!(
        old_tunnel.iter().all(|p| !new_tunnel.contains(p)),
        "{old_tunnel:?} {new_tunnel:?}"
    );
    assert!(!new_tunnel.is_empty(), "{recreate}");
    let lifecycle: Vec<String> = world
        .calls()
        .into_iter()
        .filter(|c| c.tool == "minikube")
        .filter(|c| matches!(c.argv[0].as_str(), "start" | "delete"))
        .map(|c| c.argv[0].clone())
        .collect();
    assert_eq!(
        lifecycle,
        ["start", "delete", "start"],
        "{}",
        calls_text(&world)
    );
    let last = minikube(&world, "start").pop().unwrap();
    assert!(
        last.has_args(&["--memory=6144mb"]),
        "{}",
        last.command_line()
    );
    assert_eq!(profile_config(&world, "meshup")["Memory"], 6144);
    assert_eq!(
        state(&world, "meshup")["stages"]["cluster"]["detail"],
        "recreated"
    );
    assert_only_the_daemon_runs(&world);
}

#[test]
fn a_newer_kubernetes_is_an_upgrade_that_needs_consent() {
    let world = world_with_the_seed_running();
    let run = meshup(&world, &["start", "-f", SEED, "--k8s", "v1.16.15"]);
    assert_eq!(run.code, Some(5), "{run}");
    let text = run.text();
    assert!(
        text.contains("v1.15.10") && text.contains("v1.16.15"),
        "{run}"
    );
    assert!(text.contains("--yes"), "{run}");
    assert_eq!(minikube(&world, "start").len(), 1, "{}", calls_text(&world));

    let yes = meshup(&world, &["start", "-f", SEED, "--k8s", "v1.16.15", "--yes"]);
    assert_eq!(yes.code, Some(0), "{yes}");
    let starts = minikube(&world, "start");
    assert_eq!(starts.len(), 2, "{}", calls_text(&world));
    assert!(starts[1].has_args(&["--kubernetes-version=v1.16.15"]));
    assert!(
        minikube(&world, "delete").is_empty(),
        "an upgrade is in place"
    );
    assert_eq!(
        profile_config(&world, "meshup")["KubernetesConfig"]["KubernetesVersion"],
        "v1.16.15"
    );
    assert!(yes.text().contains("upgraded"), "{yes}");
}

#[test]
fn an_older_kubernetes_is_not_a_downgrade_minikube_would_refuse() {
    let world = seed_world();
    let first = meshup(&world, &["start", "-f", SEED, "--k8s", "v1.16.15"]);
    assert_eq!(first.code, Some(0), "{first}");
    let run = meshup(&world, &["start", "-f", SEED, "--yes"]);
    assert_eq!(run.code, Some(5), "{run}");
    assert!(run.text().contains("cannot downgrade"), "{run}");
    assert!(run.text().contains("--recreate"), "{run}");
    assert_eq!(minikube(&world, "start").len(), 1, "{}", calls_text(&world));
    assert!(minikube(&world, "delete").is_empty());
}

#[test]
fn a_stopped_profile_is_started_again_with_its_settings() {
    let world = world_with_the_seed_running();
    let stop = meshup(&world, &["stop", "-f", SEED]);
    assert_eq!(stop.code, Some(0), "{stop}");
    let run = meshup(&world, &["start", "-f", SEED]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.text().contains("started again"), "{run}");
    let starts = minikube(&world, "start");
    assert_eq!(starts.len(), 2, "{}", calls_text(&world));
    assert!(starts[1].has_args(&["--memory=8192mb"]));
    assert!(minikube(&world, "delete").is_empty());
}

/// Issue 13: what `meshup stop` says is true: `meshup start -p meshup` alone starts the
/// stopped profile again with the settings it was created with, with no question to recreate
/// it and nothing deleted.
#[test]
fn start_alone_after_stop_resumes_with_the_created_settings() {
    let world = world_with_the_seed_running();
    let stop = meshup(&world, &["stop"]);
    assert_eq!(stop.code, Some(0), "{stop}");
    assert!(
        stop.stdout.contains(
            "`meshup start -p meshup` starts it again with the settings it was created with"
        ),
        "{stop}"
    );
    let run = meshup(&world, &["start", "-p", "meshup"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.text().contains("resuming profile meshup"), "{run}");
    let starts = minikube(&world, "start");
    assert_eq!(starts.len(), 2, "{}", calls_text(&world));
    assert!(
        starts[1].has_args(&["--kubernetes-version=v1.15.10"])
            && starts[1].has_args(&["--memory=8192mb"]),
        "{}",
        calls_text(&world)
    );
    assert!(minikube(&world, "delete").is_empty());
}
