//! The bad-input corpus of `tests/scenario_errors.rs`: flags, environment and scenario files
//! that must each be exit 2 naming the field.

pub struct Case {
    pub name: &'static str,
    pub args: &'static [&'static str],
    pub env: &'static [(&'static str, &'static str)],
    /// A scenario file body (the header is added) passed with -f.
    pub file: Option<&'static str>,
    /// What stderr must name.
    pub field: &'static str,
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

pub const HEADER: &str = "apiVersion: meshup/v1\nkind: Scenario\n";

pub fn cases() -> Vec<Case> {
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
