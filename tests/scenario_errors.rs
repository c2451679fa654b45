//! The bad-input corpus: every case exits 2 before anything runs, names the field, and no
//! external program was started (the fakes' call log stays empty).

mod common;

use common::{Fakes, stderr, stdout};

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
        // Issue 13: contract breaks, hostile input, messages.
        flags(
            "--set profile given twice with different values",
            &["--set", "profile=demo", "--set", "profile=minimal"],
            "given twice with different values",
        ),
        flags(
            "--set path given twice with different values",
            &["--set", "a.b=1", "--set", "a.b=2"],
            "`a.b` is given twice",
        ),
        file(
            "duplicate key in mesh.set",
            "mesh:\n  set:\n    a.b: x\n    a.b: y\n",
            "`a.b` is given twice",
        ),
        file(
            "duplicate section",
            "cluster:\n  cpus: 4\ncluster:\n  cpus: 8\n",
            "`cluster` is given twice",
        ),
        file(
            "duplicate cluster.cpus",
            "cluster:\n  cpus: 4\n  cpus: 8\n",
            "`cpus` is given twice",
        ),
        file(
            "numeric and boolean keys in mesh.set",
            "mesh:\n  set: {1: x, true: y}\n",
            "the key `1` is not a path",
        ),
        file(
            "null key in mesh.set",
            "mesh:\n  set:\n    ~: x\n",
            "mesh.set",
        ),
        file(
            "numeric key at the top",
            "1: x\n",
            "the key `1` is not a field name",
        ),
        file(
            "mesh as a string",
            "mesh: istio\n",
            "mesh: `istio` is not a section",
        ),
        file(
            "cluster as a list",
            "cluster: [4]\n",
            "cluster: a list is not a section",
        ),
        file(
            "verify.timeouts as a number",
            "verify:\n  timeouts: 90\n",
            "verify.timeouts: `90` is not a section",
        ),
        file(
            "cpus beyond 64 bits",
            "cluster:\n  cpus: 18446744073709551617\n",
            "is too large",
        ),
        file(
            "cpus as a huge float",
            "cluster:\n  cpus: 1e300\n",
            "cluster.cpus: `1e300` is too large",
        ),
        file(
            "fractional cpus in a file",
            "cluster:\n  cpus: 4.5\n",
            "cluster.cpus",
        ),
        file(
            "memory beyond 64 bits",
            "cluster:\n  memory: 99999999999999999999999\n",
            "is too large",
        ),
        file(
            "extraArgs taking minikube's profile",
            "cluster:\n  extraArgs: [\"-p\", \"minikube\", \"--cpus=64\"]\n",
            "set cluster.profile",
        ),
        file(
            "extraArgs with --cpus",
            "cluster:\n  extraArgs: [\"--cpus=64\"]\n",
            "set cluster.cpus",
        ),
        file(
            "extraArgs with --profile=",
            "cluster:\n  extraArgs: [\"--profile=minikube\"]\n",
            "set cluster.profile",
        ),
        file(
            "extraArgs with a glued -p",
            "cluster:\n  extraArgs: [\"-pminikube\"]\n",
            "set cluster.profile",
        ),
        file(
            "extraArgs with --kubernetes-version",
            "cluster:\n  extraArgs: [\"--kubernetes-version=v1.20.0\"]\n",
            "set cluster.kubernetes",
        ),
        file(
            "extraArgs with --memory as two items",
            "cluster:\n  extraArgs: [\"--memory\", \"8g\"]\n",
            "set cluster.memory",
        ),
        file(
            "extraArgs with --driver",
            "cluster:\n  extraArgs: [\"--driver=kvm2\"]\n",
            "set cluster.driver",
        ),
        file(
            "extraArgs with --vm-driver",
            "cluster:\n  extraArgs: [\"--vm-driver=kvm2\"]\n",
            "set cluster.driver",
        ),
        file(
            "extraArgs with -o json",
            "cluster:\n  extraArgs: [\"-o\", \"json\"]\n",
            "cluster.extraArgs: `-o`",
        ),
        file(
            "extraArgs with --output=json",
            "cluster:\n  extraArgs: [\"--output=json\"]\n",
            "cluster.extraArgs: `--output=json`",
        ),
        file(
            "extraArgs item that is a number",
            "cluster:\n  extraArgs: [4]\n",
            "cluster.extraArgs[0]",
        ),
        file(
            "loadBalancers as a string",
            "verify:\n  loadBalancers: istio-system/x\n",
            "verify.loadBalancers: `istio-system/x` is not a list",
        ),
        file(
            "mesh.profile and mesh.istioProfile both",
            "mesh:\n  profile: demo\n  istioProfile: demo\n",
            "mesh.profile",
        ),
        file(
            "terminal escapes in metadata.name",
            "metadata:\n  name: \"\\e[2J\\e[31mboom\"\n",
            "`\\e[2J\\e[31mboom` is not a scenario name",
        ),
        file(
            "a name with a space",
            "metadata:\n  name: my scenario\n",
            "metadata.name",
        ),
        file(
            "a name too long",
            "metadata:\n  name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
            "metadata.name",
        ),
        file(
            "description as a list",
            "metadata:\n  description: [a]\n",
            "metadata.description",
        ),
        file(
            "negative bare-number timeout",
            "verify:\n  timeouts:\n    check: -5\n",
            "verify.timeouts.check",
        ),
        file(
            "zero timeout",
            "verify:\n  timeouts:\n    total: 0\n",
            "verify.timeouts.total",
        ),
        file("tunnel as a list", "tunnel: [on]\n", "tunnel"),
        file("tagged value", "cluster:\n  cpus: !big 4\n", "cluster.cpus"),
        file(
            "two documents",
            "---\napiVersion: meshup/v1\nkind: Scenario\n",
            "one YAML document",
        ),
        flags("terminal escapes in -p", &["-p", "\u{1b}[2Jx"], "`\\e[2Jx`"),
        flags(
            "terminal escapes in --k8s",
            &["--k8s", "\u{1b}[31m1.15"],
            "`\\e[31m1.15`",
        ),
        flags(
            "cpus beyond 64 bits",
            &["--cpus", "99999999999999999999"],
            "too large",
        ),
        flags(
            "memory beyond 64 bits",
            &["--memory", "99999999999999999999g"],
            "too large",
        ),
        flags("empty kubernetes", &["--k8s", ""], "cluster.kubernetes"),
        flags("empty istio", &["--istio", ""], "mesh.istio"),
        flags("empty --set", &["--set", ""], "--set"),
        flags("empty profile", &["-p", ""], "cluster.profile"),
        flags(
            "a newline in --istio-profile",
            &["--istio-profile", "demo\nx"],
            "`demo\\nx`",
        ),
        file(
            "a number as the name",
            "metadata:\n  name: [x]\n",
            "metadata.name",
        ),
        file(
            "minikube's profile in a file",
            "cluster:\n  profile: minikube\n",
            "cluster.profile",
        ),
        file(
            "empty image",
            "verify:\n  smoke:\n    image: \"\"\n",
            "verify.smoke.image",
        ),
        file(
            "a list as a set value",
            "mesh:\n  set:\n    a.b: [1]\n",
            "mesh.set.a.b",
        ),
        file(
            "set as a list",
            "mesh:\n  set: [a=b]\n",
            "mesh.set: a list is not a map",
        ),
        file(
            "a bell in a set value's path",
            "mesh:\n  set:\n    \"a\\ab\": x\n",
            "mesh.set",
        ),
        flags(
            "terminal escapes in a --set path",
            &["--set", "a\u{1b}[2J=1"],
            "--set",
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

/// Matrix files: every shape problem is exit 2 from `scenario validate` and `matrix`.
#[test]
fn bad_matrices_exit_2_naming_the_field() {
    let fakes = Fakes::new();
    let head = "apiVersion: meshup/v1\nkind: Matrix\n";
    for (name, body, want) in [
        (
            "axes as a list",
            "axes: [cluster.cpus]\n",
            "axes: a list is not a map",
        ),
        (
            "an axis that is not a list",
            "axes:\n  cluster.cpus: 4\n",
            "axes.cluster.cpus: `4` is not a list",
        ),
        (
            "an unknown axis",
            "axes:\n  cluster.cpu: [2, 4]\n",
            "`cluster.cpu` is not a field a matrix can vary",
        ),
        (
            "an empty axis",
            "axes:\n  cluster.cpus: []\n",
            "has no values",
        ),
        (
            "a numeric axis key",
            "axes:\n  1: [2]\n",
            "the key `1` is not a field path",
        ),
        (
            "exclude as a map",
            "axes:\n  cluster.cpus: [2, 4]\nexclude: {cluster.cpus: 2}\n",
            "exclude: a map is not a list",
        ),
        (
            "an exclude item that is not a map",
            "axes:\n  cluster.cpus: [2, 4]\nexclude: [2]\n",
            "exclude[0]",
        ),
        (
            "an exclude key that is no axis",
            "axes:\n  cluster.cpus: [2, 4]\nexclude:\n  - {cluster.memory: 4g}\n",
            "exclude[0].cluster.memory",
        ),
        (
            "an unknown field in base",
            "base:\n  cluster:\n    cpu: 4\naxes:\n  cluster.cpus: [2, 4]\n",
            "base.cluster: unknown field `cpu`",
        ),
        (
            "an unknown top-level field",
            "axis:\n  cluster.cpus: [2]\n",
            "unknown field `axis`",
        ),
        (
            "a bad value in one cell",
            "axes:\n  cluster.cpus: [2, 1]\n",
            "cluster.cpus",
        ),
        (
            "a bad base value in every cell",
            "base:\n  cluster:\n    memory: lots\naxes:\n  cluster.cpus: [2, 3, 4]\n",
            "and 2 more",
        ),
        (
            "257 cells",
            "axes:\n  cluster.cpus: [2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33]\n  cluster.memory: [2g,3g,4g,5g,6g,7g,8g,9g]\n  tunnel: [auto]\n  mesh.method: [istioctl, manifest]\n",
            "expand to 512 scenarios",
        ),
        (
            "an overflowing product",
            &format!(
                "axes:\n{}",
                [
                    "cluster.kubernetes",
                    "cluster.cpus",
                    "cluster.memory",
                    "cluster.driver",
                    "mesh.istio",
                    "mesh.istioProfile",
                    "mesh.jwtPolicy",
                    "mesh.method",
                    "tunnel"
                ]
                .iter()
                .map(|a| format!(
                    "  {a}: [{}]\n",
                    (0..200)
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                ))
                .collect::<String>()
            ),
            "scenarios (",
        ),
    ] {
        let path = fakes.file("m.yaml", &format!("{head}{body}"));
        for args in [&["scenario", "validate"][..], &["matrix", "--dry-run"][..]] {
            let out = fakes.run_with_file(args, &path);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{name} {args:?}: {err}");
            assert!(
                err.contains(want),
                "{name} {args:?}: `{want}` missing in\n{err}"
            );
        }
    }
    assert!(fakes.calls().is_empty(), "{:?}", fakes.calls());
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
fn a_matrix_bomb_is_refused_before_expansion() {
    let fakes = Fakes::new();
    // 1.2 KB, 6 axes, 11.6 million cells (the file had this shape).
    let list = |n: usize, f: &dyn Fn(usize) -> String| (0..n).map(f).collect::<Vec<_>>().join(", ");
    let body = format!(
        "apiVersion: meshup/v1\nkind: Matrix\naxes:\n  cluster.kubernetes: [{}]\n  cluster.cpus: [{}]\n  cluster.memory: [{}]\n  mesh.istioProfile: [{}]\n  mesh.jwtPolicy: [auto, third-party-jwt, first-party-jwt]\n  tunnel: [auto, on, off]\n",
        list(16, &|i| format!("v1.{}.0", 15 + i)),
        list(30, &|i| (i + 2).to_string()),
        list(30, &|i| format!("{}g", i + 2)),
        list(30, &|i| format!("p{i}")),
    );
    let path = fakes.file("bomb.yaml", &body);
    let started = std::time::Instant::now();
    let out = fakes
        .meshup()
        .args(["scenario", "validate"])
        .arg(&path)
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("expand to 3888000 scenarios"), "{err}");
    assert!(err.contains("at most 256 scenarios"), "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let out = fakes.run_with_file(&["matrix", "--dry-run"], &path);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(fakes.calls().is_empty(), "{:?}", fakes.calls());
}

#[test]
fn a_large_valid_matrix_is_summarised_on_one_short_line() {
    let fakes = Fakes::new();
    let path = fakes.file(
        "m.yaml",
        "apiVersion: meshup/v1\nkind: Matrix\naxes:\n  cluster.cpus: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]\n  cluster.memory: [4g, 5g, 6g, 7g, 8g, 9g, 10g, 11g, 12g, 13g, 14g, 15g, 16g]\n",
    );
    let out = fakes.run_with_file(&["scenario", "validate"], &path);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("valid Matrix (208 scenarios:"), "{text}");
    assert!(text.contains("... and 200 more"), "{text}");
    assert!(text.len() < 400, "{} bytes: {text}", text.len());
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
