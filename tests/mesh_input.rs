//! A mesh request the chosen Istio cannot satisfy is bad input: exit 2 before any process
//! starts (no `minikube start`, no istioctl), naming what to use instead.

#[path = "common/cluster_world.rs"]
mod cluster_world;

use cluster_world::*;

fn no_istioctl_or_minikube_start(world: &meshup_sim::World, run: &Run) {
    assert_eq!(run.code, Some(2), "{run}");
    assert!(minikube(world, "start").is_empty(), "{run}");
    assert!(
        !world.calls().iter().any(|c| c.tool == "istioctl"),
        "{}",
        calls_text(world)
    );
}

#[test]
fn an_access_log_path_that_moved_is_rejected_on_istio_1_8() {
    let world = seed_world();
    let run = meshup(
        &world,
        &[
            "start",
            "--k8s",
            "v1.18.20",
            "--istio",
            "1.8.6",
            "--set",
            "values.global.proxy.accessLogFile=/dev/stdout",
            "--offline",
        ],
    );
    assert_eq!(run.code, Some(2), "{run}");
    let text = run.text();
    assert!(
        text.contains("`values.global.proxy.accessLogFile` does not exist in Istio 1.8"),
        "{run}"
    );
    assert!(text.contains("meshConfig.accessLogFile"), "{run}");
    no_istioctl_or_minikube_start(&world, &run);
}

#[test]
fn the_seeds_egress_advice_gets_the_1_5_path() {
    let world = seed_world();
    let run = meshup(
        &world,
        &[
            "start",
            "-f",
            SEED,
            "--set",
            "gateways.components.egressGateway.enabled=true",
            "--offline",
        ],
    );
    assert_eq!(run.code, Some(2), "{run}");
    assert!(
        run.text()
            .contains("values.gateways.istio-egressgateway.enabled=true"),
        "{run}"
    );
    no_istioctl_or_minikube_start(&world, &run);
}

#[test]
fn an_istio_profile_the_version_lacks_is_bad_input() {
    let world = seed_world();
    for profile in ["no-such-profile", "ambient"] {
        let run = meshup(
            &world,
            &["start", "-f", SEED, "--istio-profile", profile, "--offline"],
        );
        assert_eq!(run.code, Some(2), "{profile}: {run}");
        assert!(run.text().contains(profile), "{run}");
    }
    let run = meshup(
        &world,
        &[
            "plan",
            "-f",
            SEED,
            "--istio-profile",
            "ambient",
            "--offline",
        ],
    );
    assert_eq!(run.code, Some(2), "{run}");
    assert!(minikube(&world, "start").is_empty());
}

#[test]
fn a_typo_is_rejected_by_the_matching_istioctl_before_the_cluster() {
    let world = seed_world();
    let run = meshup(
        &world,
        &[
            "start",
            "-f",
            SEED,
            "--set",
            "values.global.proxy.accessLogEncodng=JSON",
        ],
    );
    assert_eq!(run.code, Some(2), "{run}");
    assert!(
        run.text()
            .contains("unknown field \"accessLogEncodng\" in v1alpha1.ProxyConfig"),
        "{run}"
    );
    assert!(
        minikube(&world, "start").is_empty(),
        "{}",
        calls_text(&world)
    );
    let calls = world.calls();
    let istioctl: Vec<_> = calls.iter().filter(|c| c.tool == "istioctl").collect();
    assert!(
        istioctl
            .iter()
            .any(|c| c.has_args(&["manifest", "generate"])),
        "{}",
        calls_text(&world)
    );
    assert!(
        !istioctl
            .iter()
            .any(|c| c.has_args(&["manifest", "apply"]) || c.has_args(&["install"])),
        "{}",
        calls_text(&world)
    );
}
