//! `status`, `stop` and `down` in the simulated world: a cluster created by the world's fake
//! minikube (as `meshup start` runs it), then meshup's commands against it; assertions on what
//! the user sees and on the fakes' call log.

use std::path::PathBuf;
use std::process::{Command, Output};

use meshup::state::StateRoot;
use meshup_sim::{Knobs, World};
use serde_json::Value;

fn meshup(world: &World) -> Command {
    world.command(env!("CARGO_BIN_EXE_meshup"))
}

fn state_root(world: &World) -> PathBuf {
    world.dir().join("state/meshup")
}

/// `minikube start` through the world's fake, the way the cluster stage runs it.
fn minikube_start(world: &World, profile: &str) {
    let out = world
        .command(world.bin_dir().join("minikube"))
        .args([
            "start",
            "-p",
            profile,
            "--kubernetes-version=v1.30.0",
            "--cpus=4",
            "--memory=8192mb",
            "--driver=docker",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// meshup's record of a profile it created (what `start` writes).
fn record_created(world: &World, profile: &str) {
    let state = StateRoot::at(state_root(world)).profile(profile);
    let record = serde_json::json!({ "createdByMeshup": true, "scenario": {}, "stages": {} });
    state
        .save(&serde_json::from_value(record).unwrap())
        .unwrap();
}

/// A world whose profile `meshup` was started by minikube and recorded as created by meshup.
fn world_with_a_profile_meshup_created() -> World {
    let world = World::start(Knobs::default());
    minikube_start(&world, "meshup");
    record_created(&world, "meshup");
    world
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

fn calls(world: &World, verb: &str) -> Vec<String> {
    world
        .calls()
        .into_iter()
        .filter(|c| c.tool == "minikube" && c.argv.first().map(String::as_str) == Some(verb))
        .map(|c| c.command_line())
        .collect()
}

#[test]
fn status_shows_what_minikube_started() {
    let world = world_with_a_profile_meshup_created();
    let out = run(meshup(&world).args(["status", "--output", "json"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["state"], "running");
    assert_eq!(doc["kubernetes"], "v1.30.0");
    assert_eq!(doc["cpus"], 4);
    assert_eq!(doc["memoryMb"], 8192);
    assert_eq!(doc["driver"], "docker");
    assert_eq!(doc["kubeContext"], "meshup");
    assert!(doc["ip"].as_str().is_some_and(|ip| !ip.is_empty()), "{doc}");
    assert_eq!(doc["meshup"]["createdByMeshup"], true);
}

#[test]
fn status_of_a_profile_minikube_does_not_have_exits_11() {
    let world = World::start(Knobs::default());
    let out = run(meshup(&world).args(["status", "-p", "nope"]));
    assert_eq!(out.status.code(), Some(11), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("there is no cluster profile `nope`"));
}

#[test]
fn stop_then_status_says_stopped() {
    let world = world_with_a_profile_meshup_created();
    let out = run(meshup(&world).arg("stop"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(calls(&world, "stop"), ["minikube stop -p meshup"]);
    let out = run(meshup(&world).args(["status", "--output", "json"]));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["state"], "stopped");
}

#[test]
fn stop_while_another_meshup_holds_the_lock_exits_10() {
    let world = world_with_a_profile_meshup_created();
    let lock = StateRoot::at(state_root(&world))
        .profile("meshup")
        .lock("meshup start")
        .unwrap();
    let out = run(meshup(&world).arg("stop"));
    assert_eq!(out.status.code(), Some(10));
    assert!(text(&out.stderr).contains(&format!("pid {}", std::process::id())));
    assert!(calls(&world, "stop").is_empty());
    drop(lock);
}

#[test]
fn down_removes_the_profile_and_the_state_dir() {
    let world = world_with_a_profile_meshup_created();
    let out = run(meshup(&world).args(["down", "--output", "json"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(calls(&world, "delete"), ["minikube delete -p meshup"]);
    assert!(world.cluster("meshup").is_none(), "the cluster is gone");
    assert!(!state_root(&world).join("profiles/meshup").exists());
    let status = run(meshup(&world).arg("status"));
    assert_eq!(status.status.code(), Some(11));
}

#[test]
fn down_all_leaves_a_profile_meshup_did_not_create() {
    let world = World::start(Knobs::default());
    for p in ["ci-a", "theirs"] {
        minikube_start(&world, p);
    }
    record_created(&world, "ci-a");
    let out = run(meshup(&world).args(["down", "--all"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(calls(&world, "delete"), ["minikube delete -p ci-a"]);
    assert!(world.cluster("theirs").is_some());
    assert!(world.cluster("ci-a").is_none());
}

#[test]
fn status_and_down_after_a_meshup_start() {
    let mut knobs = Knobs::default();
    knobs.istioctl.version = "1.24.0".into();
    let world = World::start(knobs);
    // Offline: the tools on the world's PATH must do; nothing may leave loopback.
    let out = run(meshup(&world).env("MESHUP_OFFLINE", "1").args([
        "start", "--ci", "-p", "dev", "--k8s", "v1.30.0", "--cpus", "4", "--memory", "8gb",
        "--istio", "1.24.0",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = run(meshup(&world).args(["status", "-p", "dev", "--output", "json"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["state"], "running");
    assert_eq!(doc["kubernetes"], "v1.30.0");
    assert_eq!(doc["meshup"]["createdByMeshup"], true);
    assert_eq!(doc["meshup"]["stages"]["cluster"]["status"], "done");
    let out = run(meshup(&world).args(["down", "-p", "dev"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(calls(&world, "delete"), ["minikube delete -p dev"]);
    assert!(!state_root(&world).join("profiles/dev").exists());
}
