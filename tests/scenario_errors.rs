//! The bad-input corpus: every case exits 2 before anything runs, names the field, and no
//! external program was started (the fakes' call log stays empty).

mod common;

use common::{Fakes, stderr};

struct Case {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    /// A scenario file body (the header is added) passed with -f.
    file: Option<&'static str>,
    /// What stderr must name.
    field: &'static str,
}

const fn flags(name: &'static str, args: &'static [&'static str], field: &'static str) -> Case {
    Case {
        name,
        args,
        env: &[],
        file: None,
        field,
    }
}
const fn env(
    name: &'static str,
    env: &'static [(&'static str, &'static str)],
    field: &'static str,
) -> Case {
    Case {
        name,
        args: &[],
        env,
        file: None,
        field,
    }
}
const fn file(name: &'static str, body: &'static str, field: &'static str) -> Case {
    Case {
        name,
        args: &[],
        env: &[],
        file: Some(body),
        field,
    }
}

const HEADER: &str = "apiVersion: meshup/v1\nkind: Scenario\n";

fn cases() -> Vec<Case> {
    vec![
        flags(
            "memory with a bad unit",
            &["--memory", "8gbx"],
            "cluster.memory",
        ),
        flags(
            "memory below the floor (MB)",
            &["--memory", "1024"],
            "cluster.memory",
        ),
        flags(
            "memory below the floor (g)",
            &["--memory", "1g"],
            "cluster.memory",
        ),
        flags("negative memory", &["--memory=-8g"], "cluster.memory"),
        flags("empty memory", &["--memory", ""], "cluster.memory"),
        flags(
            "memory with two dots",
            &["--memory", "7.5.1g"],
            "cluster.memory",
        ),
        flags("one cpu", &["--cpus", "1"], "cluster.cpus"),
        flags("zero cpus", &["--cpus", "0"], "cluster.cpus"),
        flags("fractional cpus", &["--cpus", "2.5"], "cluster.cpus"),
        flags("cpus in words", &["--cpus", "four"], "cluster.cpus"),
        flags("negative cpus", &["--cpus=-4"], "cluster.cpus"),
        flags(
            "kubernetes minor out of range",
            &["--k8s", "v1.99.0"],
            "cluster.kubernetes",
        ),
        flags(
            "kubernetes not a number",
            &["--k8s", "1.x"],
            "cluster.kubernetes",
        ),
        flags(
            "kubernetes major 2",
            &["--k8s", "v2.0.0"],
            "cluster.kubernetes",
        ),
        flags(
            "kubernetes with four parts",
            &["--k8s", "1.15.10.1"],
            "cluster.kubernetes",
        ),
        flags(
            "kubernetes garbage",
            &["--k8s", "banana"],
            "cluster.kubernetes",
        ),
        flags(
            "kubernetes too old",
            &["--k8s", "1.9"],
            "cluster.kubernetes",
        ),
        flags(
            "istio minor not offered",
            &["--istio", "1.4.0"],
            "mesh.istio",
        ),
        flags(
            "istio patch that does not exist",
            &["--istio", "1.5.11"],
            "mesh.istio",
        ),
        flags("istio 2.0", &["--istio", "2.0"], "mesh.istio"),
        flags("istio garbage", &["--istio", "newest-please"], "mesh.istio"),
        flags("profile with a path", &["-p", "../x"], "cluster.profile"),
        flags("profile with a space", &["-p", "A B"], "cluster.profile"),
        flags(
            "profile that looks like a flag",
            &["-p", "-p"],
            "cluster.profile",
        ),
        flags(
            "minikube's own profile",
            &["-p", "minikube"],
            "cluster.profile",
        ),
        flags("one-letter profile", &["-p", "a"], "cluster.profile"),
        flags(
            "64-character profile",
            &[
                "-p",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            ],
            "cluster.profile",
        ),
        flags("--set without =", &["--set", "novalue"], "--set"),
        flags("--set with an empty key", &["--set", "=x"], "--set"),
        flags("--set with an empty segment", &["--set", "a..b=1"], "--set"),
        flags(
            "--set with a bad selector",
            &["--set", "components.egressGateways.[name].enabled=true"],
            "--set",
        ),
        flags(
            "--istio-profile disagrees with --set profile",
            &["--istio-profile", "demo", "--set", "profile=default"],
            "mesh.istioProfile",
        ),
        flags(
            "istio profile with capitals",
            &["--istio-profile", "Demo"],
            "mesh.istioProfile",
        ),
        env(
            "MESHUP_CPUS below the floor",
            &[("MESHUP_CPUS", "1")],
            "MESHUP_CPUS",
        ),
        env(
            "MESHUP_MEMORY garbage",
            &[("MESHUP_MEMORY", "lots")],
            "cluster.memory",
        ),
        env(
            "MESHUP_K8S out of range",
            &[("MESHUP_K8S", "v1.2.3")],
            "cluster.kubernetes",
        ),
        env(
            "MESHUP_CLUSTER_PROFILE upper case",
            &[("MESHUP_CLUSTER_PROFILE", "UPPER")],
            "cluster.profile",
        ),
        env(
            "MESHUP_ISTIO unknown",
            &[("MESHUP_ISTIO", "1.99")],
            "mesh.istio",
        ),
        file(
            "unknown top-level field",
            "clusters:\n  cpus: 4\n",
            "clusters",
        ),
        file("unknown nested field", "cluster:\n  cpu: 4\n", "cluster"),
        file("cpus as a list", "cluster:\n  cpus: [4]\n", "cluster.cpus"),
        file(
            "memory as a boolean",
            "cluster:\n  memory: true\n",
            "cluster.memory",
        ),
        file(
            "unquoted version read as a number",
            "cluster:\n  kubernetes: 1.10\n",
            "cluster.kubernetes",
        ),
        file(
            "cpus below the floor in a file",
            "cluster:\n  cpus: 1\n",
            "cluster.cpus",
        ),
        file(
            "unknown jwtPolicy",
            "mesh:\n  jwtPolicy: second-party-jwt\n",
            "mesh.jwtPolicy",
        ),
        file(
            "YAML syntax error",
            "cluster:\n  cpus: [4\n  memory: 8g\n",
            "scenario.yaml:",
        ),
        file("bad tunnel mode", "tunnel: sometimes\n", "tunnel"),
        file(
            "unknown install method",
            "mesh:\n  method: helm\n",
            "mesh.method",
        ),
        file(
            "unquoted float in mesh.set",
            "mesh:\n  set:\n    tag: 1.10\n",
            "mesh.set.tag",
        ),
        file(
            "bad set path in a file",
            "mesh:\n  set:\n    \"a b\": x\n",
            "mesh.set",
        ),
        file(
            "unknown driver",
            "cluster:\n  driver: hyperv2\n",
            "cluster.driver",
        ),
        file(
            "unsupported provider",
            "cluster:\n  provider: kind\n",
            "cluster.provider",
        ),
        file(
            "extraArgs as a string",
            "cluster:\n  extraArgs: --foo\n",
            "cluster.extraArgs",
        ),
        file(
            "bad duration",
            "verify:\n  timeouts:\n    check: 5 minutes\n",
            "verify.timeouts.check",
        ),
        file(
            "load balancer without namespace",
            "verify:\n  loadBalancers: [ingress]\n",
            "verify.loadBalancers",
        ),
        file(
            "jwtPolicy disagrees with its --set value in one file",
            "mesh:\n  jwtPolicy: first-party-jwt\n  set:\n    values.global.jwtPolicy: third-party-jwt\n",
            "mesh.jwtPolicy",
        ),
        file(
            "istioProfile disagrees with set.profile in one file",
            "mesh:\n  istioProfile: demo\n  set:\n    profile: minimal\n",
            "mesh.istioProfile",
        ),
        file(
            "bad smoke namespace",
            "verify:\n  smoke:\n    namespace: Smoke_NS\n",
            "verify.smoke.namespace",
        ),
    ]
}

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
        if code != Some(2) || !err.contains(case.field) || !calls.is_empty() {
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
