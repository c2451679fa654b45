//! `status`, `stop` and `down` against the simulated world's minikube: what the user sees, which
//! minikube calls ran, and what is left in meshup's state dir.

mod common;

use std::path::PathBuf;

use common::{Fakes, stderr, stdout};
use meshup::state::StateRoot;
use serde_json::Value;

fn state_dir(fakes: &Fakes) -> PathBuf {
    fakes.root().join("state")
}

/// The meshup binary with its state in the test directory.
fn meshup(fakes: &Fakes) -> assert_cmd::Command {
    let mut cmd = fakes.meshup();
    cmd.env("MESHUP_STATE_DIR", state_dir(fakes));
    cmd
}

/// meshup's record of a profile it created, as `start` leaves it.
fn meshup_created(fakes: &Fakes, profile: &str, minikube: Option<&str>) {
    let state = StateRoot::at(state_dir(fakes)).profile(profile);
    let tools = minikube.map_or(Value::Null, |m| serde_json::json!({ "minikube": m }));
    let record = serde_json::json!({
        "createdByMeshup": true,
        "scenario": { "tools": tools },
        "stages": { "cluster": {
            "status": "done", "started": "2025-01-01T00:00:00.000Z",
            "finished": "2025-01-01T00:01:00.000Z", "durationMs": 60000, "detail": "created" } },
    });
    state
        .save(&serde_json::from_value(record).unwrap())
        .unwrap();
}

/// A minikube profile `meshup` in `state` that meshup created.
fn meshups_profile(state: &str) -> Fakes {
    let fakes = Fakes::new();
    fakes.minikube_profile("meshup", state);
    meshup_created(&fakes, "meshup", None);
    fakes
}

/// The profile's lock, held as a running `meshup start` would.
fn hold_lock(fakes: &Fakes, profile: &str) -> meshup::state::ProfileLock {
    StateRoot::at(state_dir(fakes))
        .profile(profile)
        .lock("meshup start")
        .unwrap()
}

/// `meshup <args>` to its end.
fn run(fakes: &Fakes, args: &[&str]) -> std::process::Output {
    meshup(fakes).args(args).output().unwrap()
}

fn minikube_calls(fakes: &Fakes, verb: &str) -> Vec<String> {
    let prefix = format!("minikube {verb} ");
    fakes
        .calls()
        .into_iter()
        .filter(|c| c.starts_with(&prefix))
        .collect()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn status_shows_the_cluster_and_meshups_record() {
    let fakes = meshups_profile("Running");
    let out = run(&fakes, &["status"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let ip = format!("IP          {}", fakes.minikube_ip("meshup"));
    for want in [
        "Profile meshup",
        "State       Running",
        "Kubernetes  v1.15.10",
        "CPUs        4",
        "Memory      8192 MB",
        &ip,
        "Context     meshup",
        "created this profile",
        "cluster   done: created",
    ] {
        assert!(text.contains(want), "{want} missing in\n{text}");
    }
    assert_eq!(
        minikube_calls(&fakes, "status"),
        ["minikube status -p meshup -o json"]
    );
}

#[test]
fn status_as_json_is_one_document() {
    let fakes = Fakes::new();
    fakes.minikube_profile("ci-1", "Stopped");
    let out = run(&fakes, &["status", "-p", "ci-1", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["schema"], "meshup.status/v1");
    assert_eq!(doc["profile"], "ci-1");
    assert_eq!(doc["state"], "stopped");
    assert_eq!(doc["kubernetes"], "v1.15.10");
    assert_eq!(doc["cpus"], 4);
    assert_eq!(doc["memoryMb"], 8192);
    assert_eq!(doc["kubeContext"], "ci-1");
    assert_eq!(doc["meshup"]["createdByMeshup"], false);
    // A stopped host has no `minikube ip`; the recorded node address stands in.
    assert_eq!(doc["ip"], fakes.minikube_ip("ci-1").as_str());
    assert!(minikube_calls(&fakes, "ip").is_empty());
}

#[test]
fn status_takes_the_profile_from_the_scenario_file() {
    let fakes = Fakes::new();
    fakes.minikube_profile("from-file", "Running");
    let file = fakes.file(
        "s.yaml",
        "apiVersion: meshup/v1\nkind: Scenario\ncluster:\n  profile: from-file\n",
    );
    let out = meshup(&fakes)
        .args(["status", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("Profile from-file"));
}

#[test]
fn status_of_a_missing_profile_exits_11() {
    let fakes = Fakes::new();
    let out = run(&fakes, &["status", "-p", "nope", "--output", "json"]);
    assert_eq!(out.status.code(), Some(11));
    assert!(
        stderr(&out).contains("there is no cluster profile `nope`"),
        "{}",
        stderr(&out)
    );
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["schema"], "meshup.error/v1");
    assert_eq!(doc["error"]["exitCode"], 11);
}

#[test]
fn status_uses_the_minikube_meshup_recorded() {
    let fakes = Fakes::new();
    fakes.minikube_profile("meshup", "Running");
    let kept = fakes.root().join("tools");
    std::fs::create_dir_all(&kept).unwrap();
    std::fs::copy(fakes.bin().join("minikube"), kept.join("minikube")).unwrap();
    let recorded = kept.join("minikube").display().to_string();
    meshup_created(&fakes, "meshup", Some(&recorded));
    let fakes = fakes.without("minikube");
    let out = run(&fakes, &["status"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains(&recorded));
}

#[test]
fn status_without_minikube_is_a_preflight_failure() {
    let fakes = Fakes::new().without("minikube");
    let out = run(&fakes, &["status"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("`minikube` was not found"));
}

#[test]
fn stop_stops_a_running_profile_once() {
    let fakes = Fakes::new();
    fakes.minikube_profile("meshup", "Running");
    let out = run(&fakes, &["stop"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("profile meshup stopped"));
    assert_eq!(minikube_calls(&fakes, "stop"), ["minikube stop -p meshup"]);
    assert_eq!(fakes.minikube_state("meshup").as_deref(), Some("Stopped"));

    let again = run(&fakes, &["stop", "--output", "json"]);
    assert_eq!(again.status.code(), Some(0));
    let doc: Value = serde_json::from_str(&stdout(&again)).unwrap();
    assert_eq!(doc["action"], "already stopped");
    assert_eq!(minikube_calls(&fakes, "stop").len(), 1);
    // Stopping a profile meshup has no state for leaves no state behind.
    assert!(!state_dir(&fakes).join("profiles/meshup").exists());
}

#[test]
fn stop_of_a_missing_profile_exits_11() {
    let fakes = Fakes::new();
    let out = run(&fakes, &["stop", "-p", "gone"]);
    assert_eq!(out.status.code(), Some(11));
    assert!(minikube_calls(&fakes, "stop").is_empty());
}

#[test]
fn stop_while_another_meshup_holds_the_lock_exits_10() {
    let fakes = meshups_profile("Running");
    let lock = hold_lock(&fakes, "meshup");
    let out = run(&fakes, &["stop"]);
    assert_eq!(out.status.code(), Some(10));
    let err = stderr(&out);
    assert!(err.contains("in use by another meshup"), "{err}");
    assert!(
        err.contains(&format!("pid {}", std::process::id())),
        "{err}"
    );
    assert!(err.contains("meshup start"), "{err}");
    assert!(minikube_calls(&fakes, "stop").is_empty());
    drop(lock);
}

#[test]
fn down_deletes_the_cluster_and_the_state_but_keeps_diagnostics() {
    let fakes = meshups_profile("Running");
    let bundle = state_dir(&fakes).join("diagnostics/meshup-20250101T000000Z");
    std::fs::create_dir_all(&bundle).unwrap();
    let out = run(&fakes, &["down", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        minikube_calls(&fakes, "delete"),
        ["minikube delete -p meshup"]
    );
    assert_eq!(fakes.minikube_state("meshup"), None, "not deleted");
    assert!(!state_dir(&fakes).join("profiles/meshup").exists());
    assert!(bundle.is_dir(), "diagnostics are kept");
    let events = json_lines(&stdout(&out));
    assert!(events.iter().all(|e| e["schema"] == "meshup.events/v1"));
    let seen: Vec<String> = events
        .iter()
        .map(|e| format!("{} {}", e["type"].as_str().unwrap(), e["stage"]))
        .collect();
    assert_eq!(
        seen,
        [
            "stage-started \"cluster/meshup\"",
            "stage-done \"cluster/meshup\"",
            "stage-started \"state/meshup\"",
            "stage-done \"state/meshup\"",
            "info \"down\"",
            "result null",
        ]
    );
    let result = events.last().unwrap();
    assert_eq!(result["exitCode"], 0);
    assert_eq!(result["summary"]["profiles"][0]["cluster"], "deleted");
    assert_eq!(
        result["summary"]["diagnosticsKept"][0],
        bundle.display().to_string()
    );
}

#[test]
fn down_in_plain_text_names_each_step() {
    let fakes = meshups_profile("Stopped");
    let out = run(&fakes, &["down"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    for want in [
        "[cluster/meshup] started: minikube delete -p meshup",
        "✓ [cluster/meshup] deleted",
        "✓ [state/meshup] removed",
        "✓ meshup down done in",
    ] {
        assert!(err.contains(want), "{want} missing in\n{err}");
    }
    assert!(stdout(&out).contains("cluster: deleted"));
}

#[test]
fn down_refuses_a_profile_meshup_did_not_create_unless_forced() {
    let fakes = Fakes::new();
    fakes.minikube_profile("theirs", "Running");
    let out = run(&fakes, &["down", "-p", "theirs"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("meshup did not create profile `theirs`"));
    assert!(minikube_calls(&fakes, "delete").is_empty());

    let forced = run(&fakes, &["down", "-p", "theirs", "--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert_eq!(
        minikube_calls(&fakes, "delete"),
        ["minikube delete -p theirs"]
    );
    assert!(!state_dir(&fakes).join("profiles/theirs").exists());
}

#[test]
fn down_of_nothing_is_a_quiet_success() {
    let fakes = Fakes::new();
    let out = run(&fakes, &["down", "-p", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(minikube_calls(&fakes, "delete").is_empty());
}

#[test]
fn down_all_deletes_only_what_meshup_created() {
    let fakes = Fakes::new();
    for p in ["ci-a", "ci-b", "theirs"] {
        fakes.minikube_profile(p, "Running");
    }
    meshup_created(&fakes, "ci-a", None);
    meshup_created(&fakes, "ci-b", None);
    let out = run(&fakes, &["down", "--all", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        minikube_calls(&fakes, "delete"),
        ["minikube delete -p ci-a", "minikube delete -p ci-b"]
    );
    assert_eq!(fakes.minikube_state("theirs").as_deref(), Some("Running"));
    let result = json_lines(&stdout(&out)).pop().unwrap();
    assert_eq!(result["summary"]["profiles"].as_array().unwrap().len(), 2);
}

#[test]
fn down_all_takes_no_profile() {
    let fakes = Fakes::new();
    let out = run(&fakes, &["down", "--all", "-p", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(fakes.calls().is_empty());
}

#[test]
fn down_while_locked_exits_10_with_a_result_event() {
    let fakes = meshups_profile("Running");
    let lock = hold_lock(&fakes, "meshup");
    let out = run(&fakes, &["down", "--output", "json"]);
    assert_eq!(out.status.code(), Some(10));
    let events = json_lines(&stdout(&out));
    let result = events.last().unwrap();
    assert_eq!(result["type"], "result");
    assert_eq!(result["exitCode"], 10);
    assert_eq!(
        events.iter().filter(|e| e["type"] == "result").count(),
        1,
        "{events:?}"
    );
    assert!(minikube_calls(&fakes, "delete").is_empty());
    assert!(
        state_dir(&fakes)
            .join("profiles/meshup/state.json")
            .exists()
    );
    drop(lock);
}

/// Issue 13: `down` of a profile that does not exist is a success even without minikube
/// (there is nothing to do), and no stage fails that never started.
#[test]
fn down_of_a_missing_profile_without_minikube_succeeds() {
    let fakes = Fakes::new().without("minikube");
    for force in [false, true] {
        let mut args = vec!["down", "-p", "never", "--output", "json"];
        if force {
            args.push("--force");
        }
        let out = run(&fakes, &args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        let events = json_lines(&stdout(&out));
        let mut started = Vec::new();
        for e in &events {
            let stage = e["stage"].as_str().unwrap_or_default().to_owned();
            match e["type"].as_str().unwrap_or_default() {
                "stage-started" => started.push(stage),
                "stage-failed" => panic!("{args:?}: a stage failed: {e}"),
                "stage-done" => assert!(
                    started.contains(&stage),
                    "{args:?}: done without started: {e}"
                ),
                _ => {}
            }
        }
        let result = events.last().unwrap();
        assert_eq!(result["type"], "result", "{result}");
        assert_eq!(result["exitCode"], 0, "{result}");
    }
    // meshup's own profile whose minikube is gone: its state cannot be cleaned up blindly.
    let fakes = Fakes::new().without("minikube");
    meshup_created(&fakes, "meshup", None);
    let out = run(&fakes, &["down", "--output", "json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let events = json_lines(&stdout(&out));
    for e in &events {
        if e["type"] == "stage-failed" {
            let stage = &e["stage"];
            assert!(
                events
                    .iter()
                    .any(|s| s["type"] == "stage-started" && s["stage"] == *stage),
                "failed without started: {e}"
            );
        }
    }
}

/// meshup's record of a profile it created with the seed's settings.
fn seed_recorded(fakes: &Fakes, profile: &str) {
    let state = StateRoot::at(state_dir(fakes)).profile(profile);
    let record = serde_json::json!({
        "createdByMeshup": true,
        "scenario": { "kubernetes": "v1.15.10", "istio": "1.5.0", "cpus": "4",
                      "memory": "8192mb", "driver": "docker", "tools": null },
    });
    state
        .save(&serde_json::from_value(record).unwrap())
        .unwrap();
}

/// Issue 13: `meshup start -p NAME` alone resumes a profile with the settings it was created
/// with (meshup's record), instead of the built-in default that then asks to recreate it; and
/// `stop`'s hint says what is true.
#[test]
fn start_alone_resumes_a_profile_with_its_recorded_settings() {
    let fakes = Fakes::new();
    fakes.minikube_profile("meshup", "Running");
    seed_recorded(&fakes, "meshup");
    let out = run(&fakes, &["stop"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(
            "`meshup start -p meshup` starts it again with the settings it was created with"
        ),
        "{}",
        stdout(&out)
    );
    for args in [
        &["start", "--dry-run"][..],
        &["start", "--dry-run", "-p", "meshup"][..],
    ] {
        let out = run(&fakes, args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        let plan = stdout(&out);
        assert!(plan.contains("Kubernetes  v1.15.10"), "{args:?}\n{plan}");
        assert!(
            plan.contains("4 CPUs, memory 8192mb, driver docker"),
            "{args:?}\n{plan}"
        );
        assert!(
            stderr(&out).contains("resuming profile meshup"),
            "{}",
            stderr(&out)
        );
    }
    // Any scenario setting means a new scenario: the record is not used.
    let out = run(&fakes, &["start", "--dry-run", "--cpus", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stdout(&out).contains("v1.15.10"), "{}", stdout(&out));
    assert!(!stderr(&out).contains("resuming"), "{}", stderr(&out));
    // A profile meshup has no record of: the hint says -f.
    fakes.minikube_profile("theirs", "Running");
    let out = run(&fakes, &["stop", "-p", "theirs"]);
    assert!(stdout(&out).contains("-f SCENARIO"), "{}", stdout(&out));
}
