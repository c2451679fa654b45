//! The run engine on the simulated world: stages overlap as the plan's graph allows, the global
//! timeout stops every stage (exit 9), a second Ctrl-C forces what the first could not stop, a
//! blocked read still honours SIGTERM, and an error with no exit kind is a bug (exit 70).

#[path = "common/cluster_world.rs"]
mod cluster_world;
#[path = "common/fixtures.rs"]
mod fixtures;
#[path = "common/mirror.rs"]
mod mirror;

use std::time::{Duration, Instant};

use cluster_world::*;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

fn event_time(e: &Value) -> String {
    e["time"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn istioctl_downloads_while_minikube_start_runs() {
    // istioctl on PATH is another release, so the seed's 1.5.0 is fetched from the mirror;
    // `minikube start` takes 1.5 s of simulated steps.
    let world = seed_world_with(|k| {
        k.istioctl.version = "1.6.14".into();
        k.minikube.start_ms = 1500;
    });
    let mirror = mirror::Mirror::start();
    fixtures::publish_istio_1_5(
        &mirror,
        world.tool_wrapper("istioctl", "1.5.0").into_bytes(),
    );
    let (istio, kubectl) = (mirror.url("istio"), mirror.url("kubectl"));
    let run = meshup_with(
        &world,
        &["start", "-f", SEED, "--output", "json"],
        &[
            ("MESHUP_ISTIO_MIRROR", istio.as_str()),
            ("MESHUP_KUBECTL_MIRROR", kubectl.as_str()),
        ],
    );
    assert_eq!(run.code, Some(0), "{run}");
    let events = run.events();
    let first_download = events
        .iter()
        .find(|e| e["type"] == "download" && e["stage"] == "tools")
        .unwrap_or_else(|| panic!("no download in the tools stage\n{run}"));
    assert!(
        first_download["artifact"]
            .as_str()
            .unwrap_or_default()
            .contains("istio-1.5.0"),
        "{first_download}"
    );
    let cluster_done = events
        .iter()
        .find(|e| e["type"] == "stage-done" && e["stage"] == "cluster")
        .unwrap_or_else(|| panic!("no cluster stage-done\n{run}"));
    let tools_started = events
        .iter()
        .find(|e| e["type"] == "stage-started" && e["stage"] == "tools")
        .unwrap();
    // Both began right after the preflight; the download began before minikube finished.
    assert!(
        event_time(first_download) < event_time(cluster_done),
        "download at {} is not before the cluster was done at {}",
        event_time(first_download),
        event_time(cluster_done)
    );
    assert!(event_time(tools_started) < event_time(cluster_done));
    let start_call = &minikube(&world, "start")[0];
    assert_eq!(start_call.exit_code, Some(0));
    assert_only_the_daemon_runs(&world);
}

#[test]
fn the_global_timeout_stops_every_stage_and_exits_9() {
    let world = seed_world_with(|k| k.minikube.start_ms = 60_000);
    let run = meshup(
        &world,
        &["start", "-f", SEED, "--timeout", "2s", "--output", "json"],
    );
    assert_eq!(run.code, Some(9), "{run}");
    let result = run.result();
    assert_eq!(result["exitCode"], 9, "{result}");
    let message = result["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("within 2s") && message.contains("cluster"),
        "names the limit and the running stage: {message}"
    );
    assert_eq!(result["error"]["details"]["running"][0], "cluster");
    let interrupted = run
        .events()
        .into_iter()
        .find(|e| e["type"] == "stage-interrupted" && e["stage"] == "cluster")
        .unwrap_or_else(|| panic!("the cluster stage is not reported as stopped\n{run}"));
    assert!(
        interrupted["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("global timeout"),
        "{interrupted}"
    );
    // Nothing after the cluster ran; minikube start was stopped, not left running.
    for stage in ["tunnel", "mesh", "verify"] {
        assert!(
            run.events()
                .iter()
                .any(|e| e["type"] == "stage-skipped" && e["stage"] == stage),
            "{stage} not skipped\n{run}"
        );
    }
    assert_eq!(
        state(&world, "meshup")["stages"]["cluster"]["status"],
        "interrupted"
    );
    assert_only_the_daemon_runs(&world);
}

#[test]
fn a_bad_timeout_is_bad_input() {
    let world = seed_world();
    let run = meshup(&world, &["start", "-f", SEED, "--timeout", "soon"]);
    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stderr.contains("--timeout"), "{run}");
    assert!(
        world
            .calls()
            .iter()
            .all(|c| c.tool != "minikube" || c.argv[0] != "start")
    );
}

#[test]
fn a_second_ctrl_c_kills_what_the_first_could_not_stop() {
    let world = seed_world_with(|k| {
        k.minikube.start_ms = 60_000;
        k.minikube.start_ignores_stop_signals = true;
    });
    let mut cmd = world.command(env!("CARGO_BIN_EXE_meshup"));
    cmd.args(["start", "-f", SEED])
        .env("MESHUP_STOP_GRACE_MS", "60000")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    wait_for("minikube start", || !minikube(&world, "start").is_empty());
    let pid = Pid::from_raw(child.id() as i32);
    kill(pid, Signal::SIGINT).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // The first asked politely; minikube ignores it, so meshup is still waiting.
    assert!(
        child.try_wait().unwrap().is_none(),
        "meshup ended on the first Ctrl-C"
    );
    let second = Instant::now();
    kill(pid, Signal::SIGINT).unwrap();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        // A bound that turns a hang into a failure, not a timing assertion.
        assert!(
            second.elapsed() < Duration::from_secs(60),
            "meshup did not exit"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    // Forced: the process ended at the second signal, before the graceful path (which waits for
    // minikube's grace, then reports the stage and the error) could finish.
    assert!(
        !stderr.contains("error: interrupted"),
        "the run ended the graceful way, not by the second Ctrl-C:\n{stderr}"
    );
    assert_eq!(status.code(), Some(130));
    assert_only_the_daemon_runs(&world);
}

#[test]
fn sigterm_ends_a_read_of_a_fifo_nobody_writes() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("scenario.yaml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_meshup"))
        .args(["scenario", "validate"])
        .arg(&fifo)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let sent = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if sent.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("SIGTERM was ignored while reading a FIFO");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(143));
}

#[test]
fn an_error_with_no_exit_kind_is_a_bug_exit_70_with_its_causes() {
    let world = seed_world();
    let dir = state_dir(&world, "meshup");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("state.json"), "{ not json").unwrap();
    let run = meshup(&world, &["start", "-f", SEED]);
    assert_eq!(run.code, Some(70), "{run}");
    assert!(run.stderr.contains("Caused by:"), "{run}");
    assert!(run.stderr.contains("state.json"), "{run}");
    assert!(run.stderr.contains("report it"), "{run}");
    let json = meshup(&world, &["start", "-f", SEED, "--output", "json"]);
    assert_eq!(json.result()["exitCode"], 70, "{json}");
    assert_only_the_daemon_runs(&world);
}

#[test]
fn ci_json_and_junit_report_every_stage() {
    let world = seed_world();
    let junit = world.dir().join("reports/start.xml");
    let run = meshup(
        &world,
        &[
            "start",
            "-f",
            SEED,
            "--ci",
            "--output",
            "json",
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, Some(0), "{run}");
    let events = run.events();
    assert!(
        events.iter().all(|e| e["schema"] == "meshup.events/v1"),
        "{run}"
    );
    let result = run.result();
    assert_eq!(result["exitCode"], 0);
    assert!(
        result["summary"]["timingsMs"]["cluster"].is_u64(),
        "{result}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    for stage in START_STAGES {
        assert!(
            xml.contains(&format!(
                r#"<testcase name="{stage}" classname="meshup.stage""#
            )),
            "no case for {stage}:\n{xml}"
        );
    }
    assert!(xml.contains(r#"failures="0""#), "{xml}");
    assert_only_the_daemon_runs(&world);
}

#[test]
fn junit_names_the_failed_stage() {
    let world = seed_world_with(|k| k.minikube.fail_start = Some("GUEST_START".into()));
    let junit = world.dir().join("start.xml");
    let run = meshup(
        &world,
        &["start", "-f", SEED, "--junit", junit.to_str().unwrap()],
    );
    assert_eq!(run.code, Some(5), "{run}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains(r#"failures="1""#), "{xml}");
    assert!(xml.contains("<failure message="), "{xml}");
    assert!(
        xml.contains(r#"<skipped message="needs cluster, which did not finish"/>"#),
        "{xml}"
    );
}

#[test]
fn a_failed_run_s_result_carries_its_real_duration() {
    let world = seed_world_with(|k| {
        k.minikube.fail_start = Some("GUEST_START".into());
        k.minikube.start_ms = 300;
    });
    let run = meshup(&world, &["start", "-f", SEED, "--output", "json"]);
    assert_eq!(run.code, Some(5), "{run}");
    let failed = run
        .events()
        .into_iter()
        .find(|e| e["type"] == "stage-failed" && e["stage"] == "cluster")
        .unwrap_or_else(|| panic!("{run}"));
    let result = run.result();
    let stage_ms = failed["elapsedMs"].as_u64().unwrap();
    let run_ms = result["elapsedMs"].as_u64().unwrap();
    assert!(
        stage_ms > 0 && run_ms >= stage_ms,
        "stage {stage_ms} ms, run {run_ms} ms"
    );
    // One result, and the failure is the cluster's (minikube's reason), not a bug.
    assert_eq!(
        run.events()
            .iter()
            .filter(|e| e["type"] == "result")
            .count(),
        1
    );
    assert_eq!(
        result["error"]["details"]["minikubeReason"], "GUEST_START",
        "{result}"
    );
}

#[test]
fn ctrl_c_is_an_interruption_not_a_failure_of_the_stage() {
    let world = seed_world_with(|k| k.minikube.start_ms = 60_000);
    let run = spawn_meshup(&world, "run", &["start", "-f", SEED, "--output", "json"]);
    wait_for("minikube start", || !minikube(&world, "start").is_empty());
    kill(Pid::from_raw(run.id() as i32), Signal::SIGINT).unwrap();
    let run = finish(&world, "run", run);
    assert_eq!(run.code, Some(130), "{run}");
    let events = run.events();
    assert!(
        !events.iter().any(|e| e["type"] == "stage-failed"),
        "an interruption reported as a failure\n{run}"
    );
    let stopped = events
        .iter()
        .find(|e| e["type"] == "stage-interrupted" && e["stage"] == "cluster")
        .unwrap_or_else(|| panic!("{run}"));
    assert!(
        stopped["reason"].as_str().unwrap().contains("SIGINT"),
        "{stopped}"
    );
    let result = run.result();
    assert_eq!(result["exitCode"], 130);
    assert_eq!(result["error"]["kind"], "interrupted", "{result}");
    assert!(result["elapsedMs"].as_u64().unwrap() > 0);
    assert_only_the_daemon_runs(&world);
}
