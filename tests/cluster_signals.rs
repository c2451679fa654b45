//! Two meshups on one profile, and Ctrl-C / SIGTERM while `minikube start` runs: the lock
//! names its holder, an interrupted start leaves no minikube behind, is recorded, and the next
//! `meshup start` picks the half-created profile up.

#[path = "common/cluster_world.rs"]
mod cluster_world;

use cluster_world::*;
use meshup_sim::{Knobs, World};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The seed's host with a `minikube start` that lasts until something ends it.
fn slow_start_knobs(start_ms: u64) -> Knobs {
    seed_knobs_with(|k| k.minikube.start_ms = start_ms)
}

#[test]
fn a_second_meshup_on_the_same_profile_exits_10_naming_the_holder() {
    let world = World::start(slow_start_knobs(3000));
    let args = ["start", "-f", SEED, "-p", "same"];
    let first = spawn_meshup(&world, "first", &args);
    let holder = first.id();
    // The first holds the lock once it runs `minikube start` (the lock comes before the stage).
    wait_for("the first meshup's minikube start", || {
        !minikube(&world, "start").is_empty()
    });
    let lock = state_dir(&world, "same").join("lock");
    assert!(
        std::fs::read_to_string(&lock).is_ok_and(|t| !t.is_empty()),
        "the lock file names nobody"
    );

    let second = meshup(&world, &args);
    assert_eq!(second.code, Some(10), "{second}");
    let text = second.text();
    assert!(text.contains(&format!("pid {holder}")), "{second}");
    assert!(text.contains("start -f"), "no command in\n{second}");

    let json = meshup(
        &world,
        &["start", "-f", SEED, "-p", "same", "--output", "json"],
    );
    assert_eq!(json.code, Some(10), "{json}");
    let result = json.result();
    assert_eq!(
        result["error"]["details"]["holder"]["pid"], holder,
        "{result}"
    );

    let first = finish(&world, "first", first);
    assert_eq!(first.code, Some(0), "{first}");
    assert_eq!(minikube(&world, "start").len(), 1, "{}", calls_text(&world));
    assert_only_the_daemon_runs(&world);

    // Released: the next run takes the lock and finds the cluster running.
    let after = meshup(&world, &args);
    assert_eq!(after.code, Some(0), "{after}");
    assert_eq!(minikube(&world, "start").len(), 1);
}

/// Waits until minikube lists `profile` with its settings: the state the next `meshup start`
/// reads (a file merely existing may still be being written).
fn wait_for_the_profile(world: &World, profile: &str) {
    wait_for("minikube start to create the profile", || {
        let list = profile_list(world);
        list["valid"]
            .as_array()
            .into_iter()
            .chain(list["invalid"].as_array())
            .flatten()
            .any(|p| p["Name"] == profile && p["Config"]["Memory"].is_u64())
    });
}

/// Starts the seed, waits until `minikube start` has created the profile, sends `signal` to
/// meshup, and checks what is left; then a normal `meshup start` finishes the job.
fn interrupted_start(signal: Signal, code: i32) {
    let world = World::start(slow_start_knobs(60_000));
    let run = spawn_meshup(&world, "run", &["start", "-f", SEED]);
    wait_for_the_profile(&world, "meshup");
    kill(Pid::from_raw(run.id() as i32), signal).unwrap();
    let run = finish(&world, "run", run);
    assert_eq!(run.code, Some(code), "{run}");

    // The start was ended, not waited for: it has no exit line (killed by a signal).
    let starts = minikube(&world, "start");
    assert_eq!(starts.len(), 1, "{}", calls_text(&world));
    assert_eq!(starts[0].exit_code, None, "{}", calls_text(&world));
    assert_only_the_daemon_runs(&world);

    let record = state(&world, "meshup");
    assert_eq!(
        record["stages"]["cluster"]["status"], "interrupted",
        "{record}"
    );
    assert_eq!(record["createdByMeshup"], true, "{record}");

    // The next start recognises the half-created profile and starts it again.
    world.set_knobs(&seed_knobs());
    let again = meshup(&world, &["start", "-f", SEED, "--output", "json"]);
    assert_eq!(again.code, Some(0), "{again}");
    let change = &again.result()["summary"]["cluster"]["change"];
    assert_eq!(change["action"], "resume", "{again}");
    assert!(
        change["state"]
            .as_str()
            .unwrap_or("")
            .contains("half-created"),
        "{again}"
    );
    let starts = minikube(&world, "start");
    assert_eq!(starts.len(), 2, "{}", calls_text(&world));
    assert_eq!(starts[1].exit_code, Some(0));
    assert_no_minikube(&world, "delete");
    assert_eq!(
        state(&world, "meshup")["stages"]["cluster"]["status"],
        "done"
    );
    assert_only_the_daemon_runs(&world);
}

#[test]
fn ctrl_c_during_minikube_start_exits_130_and_the_next_start_continues() {
    interrupted_start(Signal::SIGINT, 130);
}

#[test]
fn sigterm_during_minikube_start_exits_143_and_the_next_start_continues() {
    interrupted_start(Signal::SIGTERM, 143);
}

#[test]
fn an_interrupted_json_run_still_ends_with_a_result() {
    let world = World::start(slow_start_knobs(60_000));
    let run = spawn_meshup(&world, "run", &["start", "-f", SEED, "--output", "json"]);
    wait_for("minikube start", || !minikube(&world, "start").is_empty());
    kill(Pid::from_raw(run.id() as i32), Signal::SIGINT).unwrap();
    let run = finish(&world, "run", run);
    assert_eq!(run.code, Some(130), "{run}");
    let result = run.result();
    assert_eq!(result["exitCode"], 130, "{result}");
    assert_only_the_daemon_runs(&world);
}

#[test]
fn a_half_created_profile_with_other_settings_is_not_silently_kept() {
    let world = World::start(slow_start_knobs(60_000));
    let run = spawn_meshup(&world, "run", &["start", "-f", SEED]);
    wait_for_the_profile(&world, "meshup");
    kill(Pid::from_raw(run.id() as i32), Signal::SIGINT).unwrap();
    let run = finish(&world, "run", run);
    assert_eq!(run.code, Some(130), "{run}");

    // minikube would start the half-created profile with its old memory and only warn.
    world.set_knobs(&seed_knobs());
    let other = meshup(&world, &["start", "-f", SEED, "--memory", "6gb"]);
    assert_eq!(other.code, Some(5), "{other}");
    assert!(other.text().contains("cluster.memory"), "{other}");
    assert_eq!(minikube(&world, "start").len(), 1, "{}", calls_text(&world));

    // `meshup down` deletes it: meshup created it, half-way or not.
    let down = meshup(&world, &["down", "-f", SEED]);
    assert_eq!(down.code, Some(0), "{down}");
    assert_eq!(
        minikube(&world, "delete").len(),
        1,
        "{}",
        calls_text(&world)
    );
    assert!(
        !world
            .home()
            .join(".minikube/profiles/meshup/config.json")
            .exists()
    );
}
