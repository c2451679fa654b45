//! `minikube start` failing for the reasons people meet most: meshup exits 5 and shows
//! minikube's reason id and exit code with its own advice (text, and the JSON result's
//! error.details), and leaves no minikube process behind.

#[path = "common/cluster_world.rs"]
mod cluster_world;

use cluster_world::*;
use meshup_sim::{Knobs, World};

/// Runs the seed with these knobs twice (text, then JSON) and checks what a user sees when
/// `minikube start` fails with `reason` (exit `code`); `advice` is a fragment of meshup's.
fn start_fails(knobs: Knobs, reason: &str, code: i32, advice: &str) {
    let world = World::start(knobs);
    let run = meshup(&world, &["start", "-f", SEED]);
    assert_eq!(run.code, Some(5), "{run}");
    let starts = minikube(&world, "start");
    assert_eq!(starts.len(), 1, "{}", calls_text(&world));
    assert_eq!(starts[0].exit_code, Some(code), "{}", calls_text(&world));
    let text = run.text();
    assert!(text.contains(reason), "no reason id {reason}\n{run}");
    assert!(
        text.contains(&format!("minikube exit code {code}")),
        "no exit code {code}\n{run}"
    );
    assert!(text.contains(advice), "no advice `{advice}`\n{run}");
    assert_only_the_daemon_runs(&world);
    let record = state(&world, "meshup");
    assert_eq!(record["stages"]["cluster"]["status"], "failed", "{record}");

    let json = meshup(&world, &["start", "-f", SEED, "--output", "json"]);
    assert_eq!(json.code, Some(5), "{json}");
    let result = json.result();
    assert_eq!(result["exitCode"], 5, "{result}");
    let details = &result["error"]["details"];
    assert_eq!(details["minikubeReason"], reason, "{result}");
    assert_eq!(details["minikubeExitCode"], code, "{result}");
    // minikube's fatal error is the failure, not also a warning before it.
    let message = result["error"]["message"].as_str().unwrap_or_default();
    let repeated: Vec<_> = json
        .events()
        .into_iter()
        .filter(|e| e["type"] != "result" && e["type"] != "stage-failed")
        .filter(|e| {
            e["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty() && message.contains(m))
        })
        .collect();
    assert!(repeated.is_empty(), "shown twice: {repeated:?}");
    let hints = result["error"]["hints"].to_string();
    assert!(hints.contains(advice), "no advice `{advice}` in {hints}");
    assert_only_the_daemon_runs(&world);
}

fn failing_start(reason: &str) -> Knobs {
    seed_knobs_with(|k| k.minikube.fail_start = Some(reason.into()))
}

#[test]
fn not_enough_memory_23() {
    start_fails(
        failing_start("RSRC_INSUFFICIENT_REQ_MEMORY"),
        "RSRC_INSUFFICIENT_REQ_MEMORY",
        23,
        "Lower `--memory`",
    );
}

#[test]
fn not_enough_cpus_29() {
    start_fails(
        failing_start("RSRC_INSUFFICIENT_CORES"),
        "RSRC_INSUFFICIENT_CORES",
        29,
        "Lower `--cpus`",
    );
}

#[test]
fn more_cpus_or_memory_than_docker_has_is_caught_before_minikube_starts() {
    let world = seed_world_with(|k| {
        k.docker.ncpu = 2;
        k.docker.mem_total_mb = 4000;
    });
    let run = meshup(&world, &["start", "-f", SEED]);
    assert_stopped_before_minikube_start(&world, &run);
    let text = run.text();
    assert!(text.contains("4 CPUs requested"), "{run}");
    assert!(text.contains("8192 MB of memory requested"), "{run}");
}

#[test]
fn running_as_root_57() {
    start_fails(
        seed_knobs_with(|k| k.host.root = true),
        "DRV_AS_ROOT",
        57,
        "`cluster.extraArgs`",
    );
}

#[test]
fn docker_stopping_after_preflight_63() {
    start_fails(
        failing_start("PROVIDER_DOCKER_NOT_RUNNING"),
        "PROVIDER_DOCKER_NOT_RUNNING",
        63,
        "Docker is not running",
    );
}

#[test]
fn the_node_does_not_come_up_80() {
    start_fails(
        failing_start("GUEST_START"),
        "GUEST_START",
        80,
        "did not come up",
    );
}

#[test]
fn an_unsupported_version_106() {
    start_fails(
        failing_start("K8S_OLD_UNSUPPORTED"),
        "K8S_OLD_UNSUPPORTED",
        106,
        "does not support the requested Kubernetes version",
    );
}

#[test]
fn the_next_start_after_a_failure_starts_the_profile_again() {
    let world = World::start(failing_start("GUEST_START"));
    let run = meshup(&world, &["start", "-f", SEED]);
    assert_eq!(run.code, Some(5), "{run}");
    world.set_knobs(&seed_knobs());
    let again = meshup(&world, &["start", "-f", SEED]);
    assert_eq!(again.code, Some(0), "{again}");
    let starts = minikube(&world, "start");
    assert_eq!(starts.len(), 2, "{}", calls_text(&world));
    assert_eq!(starts[1].exit_code, Some(0));
    assert_eq!(
        state(&world, "meshup")["stages"]["cluster"]["status"],
        "done"
    );
    assert_eq!(state(&world, "meshup")["createdByMeshup"], true);
}
