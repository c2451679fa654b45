//! The harness itself: the world's environment and files, the wrapper scripts, and that no
//! process of a world outlives it, even when the test panics.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use meshup_sim::world::processes_with_marker;
use meshup_sim::{Knobs, World};

#[test]
fn the_world_has_its_files_and_environment() {
    let world = World::start(Knobs::default());
    let dir = world.dir().to_path_buf();
    assert!(dir.join("world.json").is_file());
    assert!(dir.join("knobs.yaml").is_file());
    for tool in ["minikube", "istioctl", "kubectl", "docker"] {
        assert!(world.bin_dir().join(tool).exists(), "{tool}");
    }
    let env = world.env();
    let get = |k: &str| {
        env.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(get("PATH"), world.bin_dir().display().to_string());
    assert_eq!(get("MESHUP_SIM_ID"), world.id());
    assert!(world.info().loopback_prefix.starts_with("127."));
    assert_ne!(world.info().loopback_prefix, "127.0.0");

    let out = world
        .command("/bin/sh")
        .args(["-c", "echo $HOME; echo ${KUBECONFIG:-unset}"])
        .env("KUBECONFIG", "/x")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(&world.home().display().to_string()),
        "{text}"
    );
    assert!(world.control().healthy());
    drop(world);
    assert!(!dir.exists());
}

#[test]
fn knobs_can_change_between_calls() {
    let world = World::start(Knobs::default());
    let mut knobs = world.knobs();
    knobs.cluster.delays.pod_schedule_ms = 1234;
    world.set_knobs(&knobs);
    assert_eq!(world.knobs().cluster.delays.pod_schedule_ms, 1234);
}

#[test]
fn a_tool_wrapper_execs_the_sim_as_that_tool() {
    let world = World::start(Knobs::default());
    let script = world.tool_wrapper("minikube", "v1.24.0");
    assert!(script.starts_with("#!/bin/sh\n"));
    assert!(
        script.contains("MESHUP_SIM_AS='minikube'")
            && script.contains("MESHUP_SIM_VERSION='v1.24.0'")
    );
    assert!(script.contains("exec '"));
}

#[test]
fn no_process_outlives_a_panicking_test() {
    let mut id = String::new();
    let mut children = Vec::new();
    let result = catch_unwind(AssertUnwindSafe(|| {
        let world = World::start(Knobs::default());
        id = world.id().to_string();
        // a child that ignores SIGTERM (and so does its own child), and one that does not
        let stubborn = world
            .command("/bin/sh")
            .args(["-c", "trap '' TERM; /bin/sleep 60 & wait"])
            .spawn();
        children.push(stubborn.unwrap());
        children.push(world.command("/bin/sleep").arg("60").spawn().unwrap());
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            world.processes().len() >= 4,
            "daemon, sh, sleep, sleep: {:?}",
            world.processes()
        );
        panic!("the test fails");
    }));
    assert!(result.is_err());
    assert!(!id.is_empty());
    assert_eq!(processes_with_marker(&id), Vec::<i32>::new());
    for mut child in children {
        assert!(
            !child.wait().unwrap().success(),
            "killed by the world's Drop"
        );
    }
}

#[test]
fn two_worlds_get_distinct_loopback_prefixes() {
    let a = World::start(Knobs::default());
    let b = World::start(Knobs::default());
    assert_ne!(a.info().loopback_prefix, b.info().loopback_prefix);
    assert_ne!(a.id(), b.id());
}
