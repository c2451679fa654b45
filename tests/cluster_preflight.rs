//! What stops `meshup start` before `minikube start` runs: a minikube too new for the
//! Kubernetes version (and the fetched one that replaces it), a cgroup v2 host for Kubernetes
//! 1.15, Docker not running.

#[path = "common/cluster_world.rs"]
mod cluster_world;
#[path = "common/fixtures.rs"]
mod fixtures;
#[path = "common/mirror.rs"]
mod mirror;

use cluster_world::*;
use meshup_sim::World;

/// The seed's host, except that the only minikube is v1.38.1 (oldest Kubernetes: v1.28.0).
fn world_with_minikube_1_38() -> World {
    seed_world_with(|k| k.minikube.version = "v1.38.1".into())
}

#[test]
fn a_minikube_too_new_for_kubernetes_1_15_stops_at_preflight_when_offline() {
    let world = world_with_minikube_1_38();
    let run = meshup(&world, &["start", "-f", SEED, "--offline"]);
    assert_stopped_before_minikube_start(&world, &run);
    let text = run.text();
    assert!(
        text.contains("needs minikube ≤ v1.24.0; yours is v1.38.1"),
        "{run}"
    );
    // The alternative is computed from the user's minikube (v1.38.1 starts 1.28 and later).
    assert!(
        text.contains("`--k8s 1.28` up to"),
        "no --k8s alternative\n{run}"
    );

    let json = meshup(
        &world,
        &["start", "-f", SEED, "--offline", "--output", "json"],
    );
    assert_eq!(json.code, Some(3), "{json}");
    let result = json.result();
    assert_eq!(result["exitCode"], 3, "{result}");
    assert!(minikube(&world, "start").is_empty());
    assert_only_the_daemon_runs(&world);
}

#[test]
fn a_fetched_minikube_1_24_is_used_instead_of_the_one_on_path() {
    let world = world_with_minikube_1_38();
    let mirror = mirror::Mirror::start();
    let wrapper = world.tool_wrapper("minikube", "v1.24.0").into_bytes();
    fixtures::publish(&mirror, "minikube/v1.24.0/minikube-linux-amd64", wrapper);
    let base = mirror.url("minikube");
    let env = [
        ("MESHUP_MINIKUBE_MIRROR", base.as_str()),
        ("MESHUP_DOWNLOAD_RETRIES", "1"),
        ("MESHUP_DOWNLOAD_BACKOFF_MS", "1"),
    ];
    let run = meshup_with(&world, &["start", "-f", SEED, "--yes"], &env);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        mirror
            .requests()
            .iter()
            .any(|r| r == "GET /minikube/v1.24.0/minikube-linux-amd64"),
        "{:?}",
        mirror.requests()
    );

    // The start ran with the cached v1.24.0: the v1.38.1 on PATH would have refused 1.15.10.
    let starts = minikube(&world, "start");
    assert_eq!(starts.len(), 1, "{}", calls_text(&world));
    assert_eq!(starts[0].exit_code, Some(0));
    let text = run.text();
    assert!(text.contains("minikube v1.24.0"), "{run}");
    let cache = world.dir().join("cache");
    let record = state(&world, "meshup");
    let used = record["scenario"]["tools"]["minikube"]
        .as_str()
        .unwrap_or("");
    assert!(
        used.starts_with(&cache.display().to_string()) && used.contains("v1.24.0"),
        "minikube used: {used}"
    );
    assert!(text.contains(used), "the tools line names {used}\n{run}");

    // A second run needs no download and starts nothing.
    let before = mirror.requests().len();
    let again = meshup_with(&world, &["start", "-f", SEED, "--offline"], &env);
    assert_eq!(again.code, Some(0), "{again}");
    assert_eq!(mirror.requests().len(), before);
    assert_eq!(minikube(&world, "start").len(), 1);
}

#[test]
fn kubernetes_1_15_on_a_cgroup_v2_docker_is_refused_with_a_version_that_works() {
    let world = seed_world_with(|k| k.docker.cgroup_version = "2".into());
    let run = meshup(&world, &["start", "-f", SEED, "--k8s", "v1.15.10"]);
    assert_stopped_before_minikube_start(&world, &run);
    let text = run.text();
    assert!(text.contains("cgroup v2"), "no reason\n{run}");
    assert!(text.contains("1.19"), "no working alternative\n{run}");
}

#[test]
fn docker_not_running_is_caught_before_minikube_starts() {
    let world = seed_world_with(|k| k.docker.running = false);
    // Two CPUs: without Docker's view meshup falls back to the machine's own CPU count, which
    // must not be what stops this run.
    let run = meshup(
        &world,
        &["start", "-f", SEED, "--cpus", "2", "--output", "json"],
    );
    assert_stopped_before_minikube_start(&world, &run);
    let result = run.result();
    assert_eq!(result["exitCode"], 3, "{result}");
    let codes: Vec<_> = result["error"]["details"]["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| f["code"].clone())
        .collect();
    assert!(codes.iter().any(|c| c == "docker-not-running"), "{result}");
    let text = run.text().to_lowercase();
    assert!(text.contains("docker"), "{run}");
    assert!(
        text.contains("not running") || text.contains("cannot connect"),
        "{run}"
    );
    assert_only_the_daemon_runs(&world);
}

/// Issue 13: the advice is computed from the minikube the user has (v1.24.0 starts
/// 1.14–1.22), not from the newest one meshup knows; and `plan --offline` and
/// `start --dry-run --offline` stop where the live start stops, with the same words.
#[test]
fn offline_advice_comes_from_the_users_minikube_and_the_plan_agrees_with_the_start() {
    let world = seed_world_with(|k| k.minikube.version = "v1.24.0".into());
    let args = ["-f", SEED, "--k8s", "v1.13.12", "--offline"];
    let live = meshup(&world, &[&["start"][..], &args[..]].concat());
    assert_stopped_before_minikube_start(&world, &live);
    let text = live.text();
    assert!(
        text.contains("Kubernetes v1.13.12 needs minikube ≤ v1.15.0; yours is v1.24.0"),
        "{live}"
    );
    assert!(text.contains("`--k8s 1.14` up to `--k8s 1.22`"), "{live}");
    assert!(
        !text.contains("1.28"),
        "advice from the newest minikube\n{live}"
    );
    for dry in [&["plan"][..], &["start", "--dry-run"][..]] {
        let run = meshup(&world, &[dry, &args[..]].concat());
        assert_eq!(
            run.code, live.code,
            "{dry:?} disagrees with the start\n{run}"
        );
        assert!(
            run.stderr
                .contains("needs minikube ≤ v1.15.0; yours is v1.24.0"),
            "{dry:?}\n{run}"
        );
        assert!(run.stdout.contains("runs offline"), "{dry:?}\n{run}");
    }
    assert!(minikube(&world, "start").is_empty());
}

/// Issue 13: a failed fetch of the minikube a Kubernetes version forces says why that
/// minikube is needed and what else works, not only that a download failed.
#[test]
fn a_failed_fetch_of_the_forced_minikube_says_why_it_was_needed() {
    let world = world_with_minikube_1_38();
    let mirror = mirror::Mirror::start();
    let base = mirror.url("minikube");
    let env = [
        ("MESHUP_MINIKUBE_MIRROR", base.as_str()),
        ("MESHUP_DOWNLOAD_RETRIES", "1"),
        ("MESHUP_DOWNLOAD_BACKOFF_MS", "1"),
    ];
    let run = meshup_with(&world, &["start", "-f", SEED, "--yes"], &env);
    assert_eq!(run.code, Some(4), "{run}");
    let text = run.text();
    assert!(
        text.contains("Kubernetes v1.15.10 needs minikube ≤ v1.24.0; yours is v1.38.1"),
        "{run}"
    );
    assert!(text.contains("`--k8s 1.28` up to"), "no alternative\n{run}");
    assert!(minikube(&world, "start").is_empty());
}
