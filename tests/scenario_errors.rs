//! The bad-input corpus: every case exits 2 before anything runs, names the field, and no
//! external program was started (the fakes' call log stays empty).

mod common;

use bad_inputs::{HEADER, cases};
use common::{Fakes, stderr, stdout};

#[path = "common/bad_inputs.rs"]
mod bad_inputs;

#[test]
fn every_bad_input_exits_2_naming_the_field_and_runs_nothing() {
    let mut failures = Vec::new();
    let all = cases();
    assert!(all.len() >= 40, "the corpus has {} cases", all.len());
    for case in &all {
        let fakes = Fakes::new();
        let mut cmd = fakes.meshup();
        cmd.args(["start", "--dry-run"]).args(case.args);
        for (k, v) in case.env {
            cmd.env(k, v);
        }
        if let Some(body) = case.file {
            let path = fakes.file("scenario.yaml", &format!("{HEADER}{body}"));
            cmd.arg("-f").arg(path);
        }
        let out = cmd.output().unwrap();
        let err = stderr(&out);
        let code = out.status.code();
        let calls = fakes.calls();
        // Messages speak of fields and values, never of meshup's Rust types, and never pass a
        // terminal command through.
        let leaks = ["struct ", "u128", "Raw", "invalid type", "\u{1b}"]
            .iter()
            .any(|l| err.contains(l));
        if code != Some(2) || !err.contains(case.field) || !calls.is_empty() || leaks {
            failures.push(format!(
                "{}: exit {code:?}, expected field `{}`, calls {calls:?}\n{err}",
                case.name, case.field
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn files_that_are_not_scenarios() {
    let fakes = Fakes::new();
    for (name, body, field) in [
        ("empty.yaml", "", "(document)"),
        (
            "v2.yaml",
            "apiVersion: meshup/v2\nkind: Scenario\n",
            "apiVersion",
        ),
        ("pod.yaml", "apiVersion: meshup/v1\nkind: Pod\n", "kind"),
        (
            "matrix.yaml",
            "apiVersion: meshup/v1\nkind: Matrix\naxes:\n  cluster.cpus: [2, 4]\n",
            "kind",
        ),
    ] {
        let path = fakes.file(name, body);
        let out = fakes.run_with_file(&["plan", "-f"], &path);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains(field), "{name}: {}", stderr(&out));
    }
    let out = fakes.run(&["plan", "-f", "missing.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read missing.yaml"),
        "{}",
        stderr(&out)
    );
    assert!(fakes.calls().is_empty(), "{:?}", fakes.calls());
}

#[test]
fn yaml_errors_carry_file_line_and_column() {
    let fakes = Fakes::new();
    let path = fakes.file(
        "s.yaml",
        "apiVersion: meshup/v1\nkind: Scenario\ncluster:\n  cpu: 4\n",
    );
    let out = fakes.run_with_file(&["scenario", "validate"], &path);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("s.yaml:4:3: cluster: unknown field `cpu`"),
        "{err}"
    );
}

#[test]
fn all_problems_are_reported_at_once() {
    let fakes = Fakes::new();
    let out = fakes.run(&[
        "start",
        "--dry-run",
        "--cpus",
        "1",
        "--memory",
        "8gbx",
        "-p",
        "A B",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2));
    for field in [
        "cluster.cpus",
        "cluster.memory",
        "cluster.profile",
        "3 problems",
    ] {
        assert!(err.contains(field), "{field} missing in\n{err}");
    }
}

#[test]
fn json_errors_name_the_field() {
    let fakes = Fakes::new();
    let out = fakes.run(&["plan", "--output", "json", "--memory", "8gbx"]);
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["schema"], "meshup.error/v1");
    assert_eq!(doc["error"]["exitCode"], 2);
    assert_eq!(
        doc["error"]["details"]["problems"][0]["field"],
        "cluster.memory"
    );
    assert_eq!(doc["error"]["details"]["problems"][0]["source"], "--memory");
}

#[test]
fn env_is_overridden_by_flags_and_named_when_wrong() {
    let fakes = Fakes::new();
    // A bad env value is fine when a flag replaces it.
    let out = fakes
        .meshup()
        .env("MESHUP_CPUS", "1")
        .args(["plan", "--cpus", "4"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = fakes
        .meshup()
        .env("MESHUP_CPUS", "1")
        .args(["plan"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("(from $MESHUP_CPUS)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unknown_field_hides_no_other_problem() {
    let fakes = Fakes::new();
    let path = fakes.file(
        "s.yaml",
        &format!(
            "{HEADER}cluster:\n  cpu: 4\n  memory: 8gbx\n  kubernetes: banana\nmesh:\n  jwtPolicy: second-party-jwt\ntunnel: sometimes\n"
        ),
    );
    for args in [
        &["scenario", "validate"][..],
        &["start", "--dry-run", "-f"][..],
    ] {
        let out = fakes.run_with_file(args, &path);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        for want in [
            "5 problems",
            "s.yaml:4:3: cluster: unknown field `cpu`",
            "s.yaml:5:3: cluster.memory: `8gbx`",
            "s.yaml:6:3: cluster.kubernetes: `banana`",
            "s.yaml:8:3: mesh.jwtPolicy",
            "s.yaml:9:1: tunnel: `sometimes`",
        ] {
            assert!(err.contains(want), "{args:?}: `{want}` missing in\n{err}");
        }
    }
    assert!(fakes.calls().is_empty(), "{:?}", fakes.calls());
}

#[test]
fn what_the_docs_promise_is_accepted() {
    let fakes = Fakes::new();
    for (name, body) in [
        // docs/scenarios.md: a bare number is seconds.
        (
            "bare-seconds.yaml",
            format!("{HEADER}verify:\n  timeouts:\n    check: 90\n    total: 1800\n"),
        ),
        // A whole number written as a float is that number of CPUs.
        (
            "cpus-float.yaml",
            format!("{HEADER}cluster:\n  cpus: 4.0\n"),
        ),
        // Editors on Windows write a UTF-8 byte-order mark.
        ("bom.yaml", format!("\u{feff}{HEADER}cluster:\n  cpus: 4\n")),
        (
            "same-set-twice.yaml",
            format!("{HEADER}mesh:\n  istioProfile: demo\n  set:\n    profile: demo\n"),
        ),
    ] {
        let path = fakes.file(name, &body);
        let out = fakes.run_with_file(&["scenario", "validate"], &path);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
    }
    let path = fakes.file(
        "t.yaml",
        &format!("{HEADER}verify:\n  timeouts:\n    check: 90\n"),
    );
    let out = fakes.run_with_file(&["plan", "--output", "json", "-f"], &path);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("\"checkTimeout\": \"1m30s\"") || stdout(&out).contains("1m30s"),
        "{}",
        stdout(&out)
    );
    // The same value twice on one command line is one value.
    let out = fakes.run(&[
        "plan",
        "--set",
        "meshConfig.accessLogFile=/dev/stdout",
        "--set",
        "meshConfig.accessLogFile=/dev/stdout",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_set_value_with_terminal_escapes_is_printed_escaped() {
    let fakes = Fakes::new();
    let out = fakes.run(&["plan", "--set", "values.x=\u{1b}[2J\u{1b}[31m"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains('\u{1b}'), "raw escape on stdout:\n{text}");
    assert!(text.contains("values.x=\\e[2J\\e[31m"), "{text}");
}

#[test]
fn oversized_deep_and_endless_files_are_refused_quickly() {
    let fakes = Fakes::new();
    let big = fakes.file(
        "big.yaml",
        &format!("{HEADER}# {}\n", "x".repeat(300 * 1024)),
    );
    let deep = fakes.file("deep.yaml", &"[".repeat(100_000));
    let dir = fakes.root().join("adir");
    std::fs::create_dir_all(&dir).unwrap();
    let latin1 = fakes.root().join("latin1.yaml");
    std::fs::write(
        &latin1,
        b"apiVersion: meshup/v1\nkind: Scenario\nmetadata:\n  name: caf\xe9\n",
    )
    .unwrap();
    // An endless stream (a FIFO or device) is cut at the limit too.
    let zero = std::path::PathBuf::from("/dev/zero");
    for (path, want) in [
        (&big, "larger than 256 KiB"),
        (&deep, "more than 32 levels deep"),
        (&dir, "is a directory"),
        (&latin1, "is not UTF-8"),
        (&zero, "larger than 256 KiB"),
    ] {
        for args in [&["scenario", "validate"][..], &["plan", "-f"][..]] {
            let started = std::time::Instant::now();
            let out = fakes
                .meshup()
                .args(args)
                .arg(path)
                .timeout(std::time::Duration::from_secs(20))
                .output()
                .unwrap();
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{path:?} {args:?}: {err}");
            assert!(err.contains(want), "{path:?}: `{want}` missing in\n{err}");
            assert!(
                started.elapsed() < std::time::Duration::from_secs(5),
                "{path:?} took {:?}",
                started.elapsed()
            );
        }
    }
}

#[test]
fn a_scenario_from_a_pipe_with_a_writer_is_read() {
    let fakes = Fakes::new();
    let fifo = fakes.root().join("fifo.yaml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut w = std::fs::OpenOptions::new()
            .write(true)
            .open(&writer_path)
            .unwrap();
        w.write_all(format!("{HEADER}cluster:\n  cpus: 4\n").as_bytes())
            .unwrap();
    });
    // The writer blocks in open() until meshup opens the read end.
    let out = fakes.run_with_file(&["scenario", "validate"], &fifo);
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("4 CPUs"), "{}", stdout(&out));
}

#[test]
fn problems_in_a_hostile_file_are_bounded() {
    let fakes = Fakes::new();
    let keys: String = (0..5000).map(|i| format!("k{i}: 1\n")).collect();
    let path = fakes.file("many.yaml", &format!("{HEADER}{keys}"));
    let out = fakes.run_with_file(&["scenario", "validate", "--output", "json"], &path);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["error"]["details"]["count"], 5000);
    assert_eq!(
        doc["error"]["details"]["problems"]
            .as_array()
            .unwrap()
            .len(),
        100
    );
    let out = fakes.run_with_file(&["scenario", "validate"], &path);
    let err = stderr(&out);
    assert!(
        err.contains("... and 4980 more"),
        "{}",
        &err[..err.len().min(2000)]
    );
    assert!(err.lines().count() < 30, "{} lines", err.lines().count());
}

#[test]
fn a_file_name_with_terminal_escapes_is_printed_escaped() {
    let fakes = Fakes::new();
    let good = fakes.file("\u{1b}[2Jgood.yaml", HEADER);
    let bad = fakes.file("\u{1b}[2Jbad.yaml", &format!("{HEADER}tunnel: sometimes\n"));
    for (path, code) in [(&good, 0), (&bad, 2)] {
        let out = fakes.run_with_file(&["scenario", "validate"], path);
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(!all.contains('\u{1b}'), "raw escape:\n{all}");
        assert!(all.contains("\\e[2J"), "{all}");
    }
}
