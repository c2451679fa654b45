//! `meshup start --locked` (and `--ci` with a meshup.lock next to the scenario) uses exactly
//! the locked files: a minikube whose sha256 differs from the lock's is refused (exit 4) before
//! anything starts, even though the mirror's own `.sha256` agrees with the file.

#[path = "common/cluster_world.rs"]
mod cluster_world;
#[path = "common/fixtures.rs"]
mod fixtures;
#[path = "common/mirror.rs"]
mod mirror;

use std::path::PathBuf;

use cluster_world::*;
use meshup_sim::World;

const OTHER_SHA: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The seed scenario in a folder of its own, with a lock pinning minikube v1.24.0 to a digest
/// the served file does not have.
fn project_with_wrong_lock(world: &World, mirror: &mirror::Mirror) -> PathBuf {
    let dir = world.dir().join("project");
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = dir.join("seed.yaml");
    std::fs::copy(SEED, &scenario).unwrap();
    let minikube_url = format!("{}/v1.24.0/minikube-linux-amd64", mirror.url("minikube"));
    let lock = format!(
        "lockVersion: 1\nplatform: linux-amd64\ntools:\n  \
         minikube:\n    version: v1.24.0\n    url: {minikube_url}\n    sha256: {OTHER_SHA}\n  \
         istioctl:\n    version: 1.5.0\n    url: {istio}/1.5.0/istio-1.5.0-linux.tar.gz\n    sha256: {OTHER_SHA}\n  \
         kubectl:\n    version: v1.15.12\n    url: {kubectl}/v1.15.12/bin/linux/amd64/kubectl\n    sha256: {OTHER_SHA}\n",
        istio = mirror.url("istio"),
        kubectl = mirror.url("kubectl"),
    );
    std::fs::write(dir.join("meshup.lock"), lock).unwrap();
    scenario
}

fn refuses_the_locked_minikube(extra: &[&str]) {
    let world = seed_world();
    let mirror = mirror::Mirror::start();
    let wrapper = world.tool_wrapper("minikube", "v1.24.0").into_bytes();
    let served = fixtures::publish(&mirror, "minikube/v1.24.0/minikube-linux-amd64", wrapper);
    assert_ne!(served, OTHER_SHA);
    let scenario = project_with_wrong_lock(&world, &mirror);
    let (minikube_base, istio_base, kubectl_base) = (
        mirror.url("minikube"),
        mirror.url("istio"),
        mirror.url("kubectl"),
    );
    let env = [
        ("MESHUP_MINIKUBE_MIRROR", minikube_base.as_str()),
        ("MESHUP_ISTIO_MIRROR", istio_base.as_str()),
        ("MESHUP_KUBECTL_MIRROR", kubectl_base.as_str()),
        ("MESHUP_DOWNLOAD_RETRIES", "1"),
        ("MESHUP_DOWNLOAD_BACKOFF_MS", "1"),
    ];
    let mut args = vec![
        "start",
        "-f",
        scenario.to_str().unwrap(),
        "--output",
        "json",
    ];
    args.extend_from_slice(extra);
    let run = meshup_with(&world, &args, &env);

    assert_eq!(run.code, Some(4), "{run}");
    assert!(
        minikube(&world, "start").is_empty(),
        "{}",
        calls_text(&world)
    );
    let result = run.result();
    assert_eq!(result["exitCode"], 4, "{result}");
    // minikube is the cluster stage's first step (istioctl and kubectl download alongside it
    // in the tools stage, whose locked files fail too): the cluster stage names the refusal.
    let failed = run
        .events()
        .into_iter()
        .find(|e| e["type"] == "stage-failed" && e["stage"] == "cluster")
        .unwrap_or_else(|| panic!("no cluster stage-failed event\n{run}"));
    assert_eq!(failed["error"]["exitCode"], 4, "{failed}");
    let message = failed["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("minikube-linux-amd64")
            && message.contains(OTHER_SHA)
            && message.contains(&served)
            && message.contains("meshup.lock"),
        "names the file, both digests and the lock: {message}"
    );
    // The lock's digest is the reference: the mirror's `.sha256` was not even asked.
    let requests = mirror.requests();
    assert!(
        requests
            .iter()
            .any(|r| r == "GET /minikube/v1.24.0/minikube-linux-amd64"),
        "{requests:?}"
    );
    assert!(
        !requests.iter().any(|r| r.ends_with(".sha256")),
        "{requests:?}"
    );
    // Nothing refused lands in the cache.
    let cached = world.dir().join("cache/meshup/tools/minikube/v1.24.0");
    assert!(!cached.exists(), "{} exists", cached.display());
    assert_only_the_daemon_runs(&world);
}

#[test]
fn locked_refuses_a_minikube_whose_sha256_differs_from_the_lock() {
    refuses_the_locked_minikube(&["--locked"]);
}

#[test]
fn ci_mode_honours_a_lock_next_to_the_scenario() {
    refuses_the_locked_minikube(&["--ci"]);
}
