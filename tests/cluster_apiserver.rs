//! After `minikube start`, meshup proves the profile's context answers. An API server that
//! only answers 503 (kube's client would retry it for minutes) fails the run within a bound
//! (`MESHUP_KUBE_TIMEOUT_MS`), naming the context and the server.

#[path = "common/cluster_world.rs"]
mod cluster_world;

use cluster_world::*;
use meshup_sim::World;

#[test]
fn an_api_server_answering_only_503_fails_the_start_within_the_bound() {
    let mut knobs = seed_knobs();
    knobs.cluster.api.error_rate = 1.0;
    let world = World::start(knobs);
    let run = meshup_with(
        &world,
        &["start", "-f", SEED, "--output", "json"],
        &[("MESHUP_KUBE_TIMEOUT_MS", "300")],
    );
    assert_eq!(run.code, Some(5), "{run}");
    // minikube itself succeeded: the failure is the context proof.
    let starts = minikube(&world, "start");
    assert_eq!(starts.len(), 1, "{}", calls_text(&world));
    assert_eq!(starts[0].exit_code, Some(0));
    let result = run.result();
    assert_eq!(result["exitCode"], 5, "{result}");
    let message = result["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("context `meshup`") && message.contains("https://"),
        "names the context and its server: {message}"
    );
    assert!(message.contains("within 300 ms"), "{message}");
    let hints = result["error"]["hints"].to_string();
    assert!(hints.contains("minikube status -p meshup"), "{hints}");
    assert!(hints.contains("MESHUP_KUBE_TIMEOUT_MS"), "{hints}");
    // Until its API server answers, the cluster stage is not done.
    assert_eq!(
        state(&world, "meshup")["stages"]["cluster"]["status"],
        "failed"
    );
    assert_only_the_daemon_runs(&world);
}
