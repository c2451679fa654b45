//! `meshup start` end to end on the simulated world: from nothing to a proven mesh, the
//! terminal back with the tunnel supervised in the background, `status` showing everything,
//! an idempotent re-run, and `down` leaving nothing.

#[path = "common/cluster_world.rs"]
mod cluster_world;

use cluster_world::*;
use meshup_sim::World;

fn installs(world: &World) -> usize {
    world
        .calls()
        .iter()
        .filter(|c| {
            c.tool == "istioctl" && (c.has_args(&["install"]) || c.has_args(&["manifest", "apply"]))
        })
        .count()
}

#[test]
fn the_seed_from_nothing_to_a_proven_mesh_then_status_rerun_and_down() {
    let world = seed_world();
    // Captured output (like `out=$(meshup start)`): returns only if nothing holds the pipes.
    let run = meshup(&world, &["start", "-f", SEED, "--output", "json"]);
    assert_eq!(run.code, Some(0), "{run}");
    let events = run.events();
    for stage in START_STAGES {
        assert!(
            events
                .iter()
                .any(|e| e["type"] == "stage-done" && e["stage"] == stage),
            "{stage} not done\n{run}"
        );
    }
    let result = run.result();
    let checks = result["summary"]["stages"]["verify"]["done"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!checks.is_empty(), "{result}");
    let gateway = &result["summary"]["gateways"][0];
    assert_eq!(
        gateway["service"], "istio-system/istio-ingressgateway",
        "{result}"
    );
    assert!(
        gateway["externalAddress"]
            .as_str()
            .unwrap()
            .starts_with("127."),
        "{result}"
    );
    assert!(
        result["summary"]["next"][0]
            .as_str()
            .unwrap()
            .contains("istio-injection=enabled")
    );
    assert_eq!(installs(&world), 1, "{}", calls_text(&world));

    let status = meshup(&world, &["status", "--output", "json"]);
    assert_eq!(status.code, Some(0), "{status}");
    let doc: serde_json::Value = serde_json::from_str(status.stdout.trim()).unwrap();
    assert_eq!(doc["state"], "running", "{doc}");
    assert_eq!(doc["mesh"]["istio"], "1.5.0", "{doc}");
    assert_eq!(doc["mesh"]["jwtPolicy"], "first-party-jwt", "{doc}");
    assert_eq!(doc["verify"]["ok"], true, "{doc}");
    assert!(doc["tunnel"]["supervised"] == true, "{doc}");
    let human = meshup(&world, &["status"]);
    assert!(
        human.stdout.contains("Mesh") && human.stdout.contains("Verify"),
        "{human}"
    );

    // Again: nothing to start, nothing to install.
    let again = meshup(&world, &["start", "-f", SEED]);
    assert_eq!(again.code, Some(0), "{again}");
    assert_eq!(minikube(&world, "start").len(), 1, "{}", calls_text(&world));
    assert_eq!(installs(&world), 1, "{}", calls_text(&world));

    let down = meshup(&world, &["down", "-f", SEED]);
    assert_eq!(down.code, Some(0), "{down}");
    assert!(!state_dir(&world, "meshup").exists());
    assert_only_the_daemon_runs(&world);
}

#[test]
fn k8s_1_15_alone_picks_an_istio_and_proves_it() {
    // `--k8s v1.15.10` alone picks Istio 1.6.14 (the newest that supports 1.15).
    let world = seed_world_with(|k| k.istioctl.version = "1.6.14".into());
    let run = meshup(&world, &["start", "--k8s", "v1.15.10", "--output", "json"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        run.events()
            .iter()
            .any(|e| e["type"] == "stage-done" && e["stage"] == "verify"),
        "{run}"
    );
    assert_eq!(installs(&world), 1, "{}", calls_text(&world));
    let down = meshup(&world, &["down"]);
    assert_eq!(down.code, Some(0), "{down}");
    assert_only_the_daemon_runs(&world);
}

#[test]
fn start_foreground_keeps_the_tunnel_until_a_signal_and_leaves_no_orphan() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    // Signals at several moments: during the run, and while the tunnel is attached.
    let delays_ms = [200u64, 900, 1700, 2600, 4000, 6000];
    let mut attached = 0;
    for (i, delay) in delays_ms.iter().enumerate() {
        let world = seed_world();
        let name = format!("fg{i}");
        let run = spawn_meshup(&world, &name, &["start", "-f", SEED, "--foreground"]);
        std::thread::sleep(std::time::Duration::from_millis(*delay));
        let signal = if i % 2 == 0 {
            Signal::SIGINT
        } else {
            Signal::SIGTERM
        };
        kill(Pid::from_raw(run.id() as i32), signal).unwrap();
        let run = finish(&world, &name, run);
        assert!(
            matches!(run.code, Some(0 | 130 | 143)),
            "{signal} after {delay} ms: {run}"
        );
        if run.stderr.contains("in the foreground") {
            // It was attached: the signal ended the tunnel too.
            attached += 1;
            let daemon = world.info().pid as i32;
            let left: Vec<i32> = world
                .processes()
                .into_iter()
                .filter(|p| *p != daemon)
                .collect();
            for _ in 0..100 {
                if world.processes().into_iter().all(|p| p == daemon) {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            assert!(
                world.processes().into_iter().all(|p| p == daemon),
                "{signal} after {delay} ms left {left:?}\n{run}"
            );
        } else {
            assert_only_the_daemon_runs(&world);
        }
    }
    assert!(attached > 0, "no run got as far as the attached tunnel");
}

#[test]
fn the_smoke_workload_goes_in_while_the_gateways_still_roll_out() {
    // The gateway's image is big: the mesh stage (istioctl, waiting for every component) ends
    // seconds after istiod, and with it the injector, is Ready.
    let world = seed_world_with(|k| {
        k.cluster.slow_pulls = vec![meshup_sim::knobs::SlowPull {
            pod: "istio-ingressgateway-*".into(),
            namespace: Some("istio-system".into()),
            pull_ms: 3000,
        }];
    });
    let run = meshup(&world, &["start", "-f", SEED, "--output", "json"]);
    assert_eq!(run.code, Some(0), "{run}");
    let events = run.events();
    let at = |kind: &str, stage: &str| {
        events
            .iter()
            .position(|e| e["type"] == kind && e["stage"] == stage)
            .unwrap_or_else(|| panic!("no {kind} of {stage}\n{run}"))
    };
    assert!(
        at("stage-started", "smoke") < at("stage-done", "mesh"),
        "the smoke stage waits for the mesh stage\n{run}"
    );
    assert!(
        at("stage-done", "smoke") < at("stage-done", "mesh"),
        "the smoke workload went in only after the gateways\n{run}"
    );
    let smoke = &events[at("stage-done", "smoke")];
    assert!(
        smoke["outcome"]
            .as_str()
            .is_some_and(|o| o.contains("meshup-smoke/meshup-smoke created")),
        "{smoke}"
    );
    // verify used that workload (it did not make another): the sidecar check passed on it.
    let sidecar = events
        .iter()
        .find(|e| e["type"] == "check" && e["name"] == "sidecar")
        .unwrap_or_else(|| panic!("no sidecar check\n{run}"));
    assert_eq!(sidecar["verdict"], "pass", "{sidecar}");
    assert_eq!(
        world
            .calls()
            .iter()
            .filter(|c| c.tool == "istioctl" && c.has_args(&["manifest", "apply"]))
            .count(),
        1
    );
    assert_eq!(meshup(&world, &["down"]).code, Some(0));
}
