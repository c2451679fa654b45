use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};

use super::*;

/// A sink the test can read back.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// Starts at 2025-01-01T00:00:00Z and moves 1.5 s on every reading.
fn ticking_clock() -> Clock {
    let ms = Arc::new(AtomicI64::new(0));
    Box::new(move || {
        let t = ms.fetch_add(1500, Ordering::SeqCst);
        DateTime::from_timestamp_millis(1_735_689_600_000 + t).unwrap()
    })
}

fn reporter(mode: Mode) -> (Reporter, Capture, Capture) {
    let (out, err) = (Capture::default(), Capture::default());
    let r = Reporter::with_parts(
        "start",
        mode,
        Style { color: false },
        Box::new(out.clone()),
        Box::new(err.clone()),
        ticking_clock(),
    );
    (r, out, err)
}

/// A cluster stage as minikube reports it, then a skipped tunnel and a result.
fn a_run(r: &Reporter) {
    r.stage_started("cluster", "minikube profile meshup, Kubernetes v1.15.10");
    r.step(
        "cluster",
        1,
        19,
        "Using the docker driver based on user configuration",
    );
    r.step("cluster", 5, 19, "Pulling Base Image");
    for i in 0..=100 {
        r.download(
            "cluster",
            "preloaded-images-k8s-v18-v1.15.10-docker-overlay2-amd64.tar.lz4",
            Some(i as f64 / 100.0),
            None,
        );
    }
    r.warn("cluster", "Your cgroup does not allow setting memory.");
    r.info(
        "cluster",
        "Done! kubectl is now configured to use \"meshup\"",
    );
    r.stage_done("cluster", "created");
    r.stage_skipped("tunnel", "tunnel: off in the scenario");
    r.result(
        ExitKind::Success,
        json!({ "profile": "meshup", "kubernetes": "v1.15.10" }),
    );
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect()
}

#[test]
fn json_events_carry_schema_type_stage_and_time() {
    let (r, out, err) = reporter(Mode::Json);
    a_run(&r);
    assert_eq!(err.text(), "", "JSON mode writes nothing on stderr");
    let events = json_lines(&out.text());
    for e in &events {
        assert_eq!(e["schema"], SCHEMA);
        assert!(e["type"].is_string());
        assert!(e.get("stage").is_some(), "{e}");
        let time = e["time"].as_str().unwrap();
        assert!(DateTime::parse_from_rfc3339(time).is_ok(), "{time}");
    }
    let last = events.last().unwrap();
    assert_eq!(last["type"], "result");
    assert_eq!(last["exitCode"], 0);
    assert_eq!(last["ok"], true);
    assert_eq!(last["summary"]["kubernetes"], "v1.15.10");
    // Downloads are throttled: 101 progress reports become about one per 5 %.
    let downloads = events.iter().filter(|e| e["type"] == "download").count();
    assert!(
        (20..=22).contains(&downloads),
        "{downloads} download events"
    );
    assert_eq!(
        events.iter().rfind(|e| e["type"] == "download").unwrap()["fraction"],
        1.0
    );
    // Everything but the downloads, exactly.
    let rest: Vec<Value> = events
        .into_iter()
        .filter(|e| e["type"] != "download")
        .collect();
    insta::assert_json_snapshot!("json_events", rest);
}

#[test]
fn plain_lines_for_logs_and_ci() {
    let (r, out, err) = reporter(Mode::Plain);
    a_run(&r);
    insta::assert_snapshot!("plain_progress", err.text());
    insta::assert_snapshot!("plain_result", out.text());
}

#[test]
fn a_stage_starts_and_ends_once() {
    let (r, out, _) = reporter(Mode::Json);
    r.stage_started("mesh", "istioctl manifest apply");
    r.stage_started("mesh", "again");
    r.stage_done("mesh", "installed");
    r.stage_failed("mesh", &anyhow::anyhow!("late"));
    r.stage_done("verify", "ok without a start");
    let types: Vec<String> = json_lines(&out.text())
        .iter()
        .map(|e| format!("{} {}", e["type"].as_str().unwrap(), e["stage"]))
        .collect();
    assert_eq!(
        types,
        [
            "stage-started \"mesh\"",
            "stage-done \"mesh\"",
            "stage-done \"verify\""
        ]
    );
}

#[test]
fn a_failure_is_the_result_with_message_hints_and_details() {
    let (r, out, _) = reporter(Mode::Json);
    r.stage_started("cluster", "minikube start");
    let err: anyhow::Error = Failure::new(ExitKind::Cluster, "minikube could not start")
        .hint("free some memory")
        .details(json!({ "minikubeReason": "RSRC_INSUFFICIENT_CORES", "minikubeExitCode": 29 }))
        .into();
    r.stage_failed("cluster", &err);
    assert_eq!(r.result_error(&err), ExitKind::Cluster);
    let events = json_lines(&out.text());
    let failed = &events[1];
    assert_eq!(failed["type"], "stage-failed");
    assert_eq!(failed["error"]["exitCode"], 5);
    assert_eq!(failed["elapsedMs"], 1500);
    let result = &events[2];
    assert_eq!(result["type"], "result");
    assert_eq!(result["ok"], false);
    assert_eq!(result["exitCode"], 5);
    assert_eq!(result["error"]["message"], "minikube could not start");
    assert_eq!(result["error"]["hints"][0], "free some memory");
    assert_eq!(
        result["error"]["details"]["minikubeReason"],
        "RSRC_INSUFFICIENT_CORES"
    );
}

#[test]
fn an_unexpected_error_is_exit_70_with_its_chain() {
    let err = anyhow::anyhow!("disk full").context("writing state.json");
    let (kind, object) = error_object(&err);
    assert_eq!(kind, ExitKind::Internal);
    assert_eq!(object["exitCode"], 70);
    assert_eq!(
        object["message"],
        "writing state.json\n\nCaused by:\n    0: disk full"
    );
    assert_eq!(object["details"]["causes"][0], "disk full");
    assert!(object["hints"][0].as_str().unwrap().contains("report it"));
}

#[test]
fn interrupted_stages_end_when_the_result_comes() {
    let (r, _, err) = reporter(Mode::Plain);
    r.stage_started("cluster", "minikube start");
    r.result_error(&Failure::new(ExitKind::Interrupted, "interrupted").into());
    assert!(
        err.text().contains("✗ [cluster] interrupted after 1.5s"),
        "{}",
        err.text()
    );
}

#[test]
fn byte_downloads_without_a_size_are_reported_every_32_mib() {
    let (r, _, err) = reporter(Mode::Plain);
    for mib in 0..100u64 {
        r.download(
            "tools",
            "istioctl-1.5.0-linux-amd64.tar.gz",
            None,
            Some((mib << 20, None)),
        );
    }
    let lines = err.text().lines().count();
    assert_eq!(lines, 4, "{}", err.text());
}

#[test]
fn quiet_prints_only_the_result() {
    let (r, out, err) = reporter(Mode::Quiet);
    a_run(&r);
    assert_eq!(err.text(), "");
    assert_eq!(out.text(), "profile: meshup\nkubernetes: v1.15.10\n");
}

#[test]
fn durations_for_people() {
    assert_eq!(human_duration(400), "0.4s");
    assert_eq!(human_duration(12_340), "12.3s");
    assert_eq!(human_duration(125_000), "2m05s");
}

#[test]
fn stages_running_concurrently_share_one_reporter() {
    let (r, out, _) = reporter(Mode::Json);
    let r = Arc::new(r);
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let r = Arc::clone(&r);
            std::thread::spawn(move || {
                let stage = format!("s{i}");
                r.stage_started(&stage, "work");
                for n in 0..100 {
                    r.info(&stage, &format!("message {n} of stage {i}"));
                }
                r.stage_done(&stage, "ok");
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // Every line is one whole event (`json_lines` panics on a torn one), and each stage's
    // events are complete and in order although the threads interleaved.
    let events = json_lines(&out.text());
    assert_eq!(events.len(), 4 * 102);
    for i in 0..4 {
        let stage = format!("s{i}");
        let kinds: Vec<&str> = events
            .iter()
            .filter(|e| e["stage"] == stage.as_str())
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(kinds.len(), 102);
        assert_eq!(kinds[0], "stage-started");
        assert_eq!(kinds[101], "stage-done");
    }
}

/// A terminal that records what indicatif draws on it.
#[derive(Debug, Clone, Default)]
struct Screen(Arc<Mutex<String>>);

impl Screen {
    fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

impl indicatif::TermLike for Screen {
    fn width(&self) -> u16 {
        120
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        let mut text = self.0.lock().unwrap();
        text.push_str(s);
        text.push('\n');
        Ok(())
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.0.lock().unwrap().push_str(s);
        Ok(())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn terminal_mode_draws_bars_not_lines() {
    let (r, out, err) = reporter(Mode::Bars);
    let screen = Screen::default();
    let r = r.draw_to(indicatif::ProgressDrawTarget::term_like(Box::new(
        screen.clone(),
    )));
    r.stage_started("cluster", "minikube start");
    r.download(
        "cluster",
        "kicbase",
        None,
        Some((10 << 20, Some(400 << 20))),
    );
    r.download("cluster", "preload", Some(0.5), None);
    r.step("cluster", 6, 19, "Creating docker container");
    r.stage_done("cluster", "created");
    r.result(ExitKind::Success, Value::Null);
    let drawn = screen.text();
    // The running line, then its final text and the summary, all on the terminal ...
    assert!(drawn.contains("[cluster] minikube start"), "{drawn}");
    assert!(
        drawn.contains("step 6/19 Creating docker container"),
        "{drawn}"
    );
    assert!(drawn.contains("✓ [cluster] created ("), "{drawn}");
    assert!(drawn.contains("✓ meshup start done in"), "{drawn}");
    // ... and no plain `[cluster] started:` line anywhere.
    assert!(!drawn.contains("started:"), "{drawn}");
    assert_eq!(err.text(), "");
    assert_eq!(out.text(), "");
}

#[test]
fn a_question_s_waiting_time_is_not_the_stage_s() {
    let (r, out, _) = reporter(Mode::Json);
    r.stage_started("cluster", "minikube profile meshup");
    // The clock ticks 1.5 s per reading: the question waited one tick (asked → answered).
    let answer = r.suspend(|| true);
    assert!(answer);
    r.stage_done("cluster", "created");
    let done: Value = out
        .text()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["type"] == "stage-done")
        .unwrap();
    // started, asked, answered, done: 4.5 s on the clock, 1.5 s of it waiting for the answer.
    assert_eq!(done["elapsedMs"], 3000, "{done}");
}
