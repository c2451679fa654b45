//! The fake istioctl per emulated version, against a cluster in the world daemon.

mod support;

use std::io::Write;
use std::process::Stdio;

use support::{SEED_START, Sim, text};

fn istioctl(sim: &Sim, version: &str, args: &[&str]) -> std::process::Output {
    sim.cmd(support::bin())
        .env("MESHUP_SIM_AS", "istioctl")
        .env("MESHUP_SIM_VERSION", version)
        .args(args)
        .output()
        .unwrap()
}

fn seed_cluster(sim: &Sim) {
    let out = sim.run("minikube", SEED_START);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

const SEED_SETS: &[&str] = &[
    "manifest",
    "apply",
    "--set",
    "profile=default",
    "--set",
    "values.global.proxy.accessLogEncoding=JSON",
    "--set",
    "values.global.proxy.accessLogFile=/dev/stdout",
];

/// `istioctl manifest apply` of the seed's settings, with only the world's bin dir on PATH.
fn seed_manifest_apply(sim: &Sim) -> std::process::Output {
    sim.cmd("istioctl")
        .args(SEED_SETS)
        .env("PATH", sim.path().join("bin"))
        .output()
        .unwrap()
}

#[test]
fn istio_1_5_manifest_apply_needs_kubectl_on_path() {
    let sim = Sim::start("minikube:\n  version: v1.24.0\n");
    seed_cluster(&sim);
    std::fs::remove_file(sim.path().join("bin/kubectl")).unwrap();
    let out = seed_manifest_apply(&sim);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("- Applying manifest for component Base...\n✘ Finished applying manifest for component Base."), "{stdout}");
    assert!(
        stdout.contains("exec: \"kubectl\": executable file not found in $PATH"),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains(
            "Error: failed to apply manifests: errors were logged during apply operation"
        )
    );

    std::os::unix::fs::symlink(support::bin(), sim.path().join("bin/kubectl")).unwrap();
    let out = seed_manifest_apply(&sim);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("Detected that your cluster does not support third party JWT authentication. Falling back to less secure first party JWT."), "{stdout}");
    assert!(stdout.contains("✔ Finished applying manifest for component Pilot.\nWaiting for resources to become ready...\n"));
    assert!(stdout.ends_with("\n✔ Installation complete\n"), "{stdout}");
    let applies: Vec<_> = sim
        .calls()
        .into_iter()
        .filter(|c| c.tool == "kubectl" && c.has_args(&["apply"]))
        .collect();
    assert!(
        applies
            .iter()
            .any(|c| c.has_args(&["--selector", "operator.istio.io/component=Base"]))
    );
    assert!(applies.iter().all(|c| c.exit_code == Some(0)));
    let mesh = sim.run(
        "kubectl",
        &[
            "get",
            "configmap",
            "istio",
            "-n",
            "istio-system",
            "-o",
            "jsonpath={.data.mesh}",
        ],
    );
    assert!(
        text(&mesh.stdout).contains("accessLogFile: /dev/stdout"),
        "{}",
        text(&mesh.stdout)
    );
    assert!(text(&mesh.stdout).contains("accessLogEncoding: JSON"));
    let image = sim.run(
        "kubectl",
        &[
            "get",
            "deploy",
            "istiod",
            "-n",
            "istio-system",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ],
    );
    assert_eq!(text(&image.stdout), "docker.io/istio/pilot:1.5.0");
    let v = istioctl(&sim, "1.5.0", &["version"]);
    assert!(
        text(&v.stdout).contains("control plane version: 1.5.0"),
        "{}",
        text(&v.stdout)
    );
}

#[test]
fn manifest_generate_shows_access_log_and_jwt_policy() {
    let sim = Sim::start("");
    let plain = text(&istioctl(&sim, "1.5.0", &["manifest", "generate"]).stdout);
    let logged = text(
        &istioctl(
            &sim,
            "1.5.0",
            &[
                "manifest",
                "generate",
                "--set",
                "values.global.proxy.accessLogFile=/dev/stdout",
            ],
        )
        .stdout,
    );
    assert!(plain.contains("accessLogFile: \"\"") && !plain.contains("accessLogFile: /dev/stdout"));
    assert!(logged.contains("accessLogFile: /dev/stdout"));
    assert!(
        plain.contains("apiVersion: admissionregistration.k8s.io/v1beta1")
            && plain.contains("apiVersion: apiextensions.k8s.io/v1beta1")
    );
    assert!(plain.contains("name: istio-pilot") && plain.contains("port: 15020"));
    let first = text(
        &istioctl(
            &sim,
            "1.5.0",
            &[
                "manifest",
                "generate",
                "--set",
                "values.global.jwtPolicy=first-party-jwt",
            ],
        )
        .stdout,
    );
    assert!(plain.contains("name: istio-token") && !first.contains("name: istio-token"));
    let new = text(&istioctl(&sim, "1.20.0", &["manifest", "generate"]).stdout);
    assert!(
        new.contains("apiVersion: admissionregistration.k8s.io/v1\n")
            && new.contains("port: 15021")
            && !new.contains("name: istio-pilot")
    );
    // The 1.5 value path is an error from 1.7 on.
    let out = istioctl(
        &sim,
        "1.7.4",
        &[
            "manifest",
            "generate",
            "--set",
            "values.global.proxy.accessLogFile=/dev/stdout",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("Error: unknown field \"accessLogFile\" in v1alpha1.ProxyConfig")
    );
    let out = istioctl(
        &sim,
        "1.6.8",
        &[
            "manifest",
            "generate",
            "--set",
            "values.global.proxy.accessLogFile=/dev/stdout",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains(
        "! global.proxy.accessLogFile is deprecated; use meshConfig.accessLogFile instead"
    ));
}

#[test]
fn commands_exist_only_in_their_versions() {
    let sim = Sim::start("");
    let out = istioctl(&sim, "1.5.0", &["install", "-y"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("Error: unknown command \"install\" for \"istioctl\""));
    for cmd in [["profile", "list"], ["verify-install", "-y"]] {
        let out = istioctl(&sim, "1.24.0", &cmd);
        assert_eq!(out.status.code(), Some(1));
        assert!(text(&out.stderr).contains(&format!("unknown command \"{}\"", cmd[0])));
    }
    let out = istioctl(&sim, "1.8.0", &["profile", "list"]);
    assert_eq!(
        text(&out.stdout),
        "Istio configuration profiles:\n    default\n    demo\n    empty\n    minimal\n    openshift\n    preview\n    remote\n"
    );
    let out = istioctl(&sim, "1.5.0", &["profile", "diff", "default", "demo"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).starts_with("Difference of profiles:\n"));
}

#[test]
fn install_prompts_and_installs_with_y() {
    let sim = Sim::start("minikube:\n  version: v1.38.1\n");
    assert_eq!(
        sim.run("minikube", &["start", "-p", "new"]).status.code(),
        Some(0)
    );
    let out = istioctl(&sim, "1.20.0", &["install", "--context", "new"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).starts_with("This will install the Istio 1.20.0 \"default\" profile (with components: Istio core, Istiod, and Ingress gateways) into the cluster. Proceed? (y/N)"));
    assert!(text(&out.stderr).contains("Cancelled."));
    let ns = sim.run("kubectl", &["get", "ns", "istio-system"]);
    assert_eq!(ns.status.code(), Some(1), "nothing installed");

    let mut child = sim
        .cmd(support::bin())
        .env("MESHUP_SIM_AS", "istioctl")
        .env("MESHUP_SIM_VERSION", "1.20.0")
        .args([
            "install",
            "--context",
            "new",
            "--set",
            "meshConfig.accessLogFile=/dev/stdout",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"y\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    for line in [
        "✔ Istio core installed",
        "✔ Istiod installed",
        "✔ Ingress gateways installed",
        "✔ Installation complete",
        "Made this installation the default for injection and validation.",
    ] {
        assert!(err.contains(&format!("{line}\n")), "{line}: {err}");
    }
    let out = istioctl(&sim, "1.20.0", &["verify-install", "--context", "new"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).ends_with("✔ Istio is installed and verified successfully\n"));
    let out = istioctl(&sim, "1.30.0", &["install", "-y", "--context", "new"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("✔ Istiod installed 🧠\n")
            && text(&out.stderr).contains("/______||__________\\")
    );
}

#[test]
fn uninstall_the_1_5_way_and_the_new_way() {
    let sim = Sim::start("minikube:\n  version: v1.24.0\n");
    seed_cluster(&sim);
    let out = sim.run("istioctl", SEED_SETS);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = sim
        .cmd("/bin/sh")
        .args([
            "-c",
            "istioctl manifest generate | kubectl delete --ignore-not-found -f -",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("deployment.apps \"istiod\" deleted"),
        "{}",
        text(&out.stdout)
    );
    let gone = sim.run(
        "kubectl",
        &["get", "deploy", "istiod", "-n", "istio-system"],
    );
    assert_eq!(gone.status.code(), Some(1));
    assert!(
        text(&gone.stderr)
            .contains("Error from server (NotFound): deployments \"istiod\" not found")
    );

    assert_eq!(
        sim.run(
            "minikube",
            &["start", "-p", "new", "--kubernetes-version=v1.22.3"]
        )
        .status
        .code(),
        Some(0)
    );
    let out = istioctl(&sim, "1.20.0", &["install", "-y", "--context", "new"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = istioctl(
        &sim,
        "1.20.0",
        &["uninstall", "--purge", "-y", "--context", "new"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("  Removed Deployment:istio-system:istiod.\n"));
    assert!(text(&out.stderr).ends_with("✔ Uninstall complete\n"));
    let out = sim.run(
        "kubectl",
        &[
            "--context",
            "new",
            "get",
            "deploy",
            "-n",
            "istio-system",
            "-o",
            "name",
        ],
    );
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        sim.run(
            "kubectl",
            &["--context", "new", "get", "ns", "istio-system"]
        )
        .status
        .code(),
        Some(0)
    );
    let out = istioctl(&sim, "1.6.0", &["uninstall", "--purge", "-y"]);
    assert!(text(&out.stderr).contains("unknown command \"uninstall\""));
}

/// A cluster straight through the control API, with a kubeconfig the fakes read via KUBECONFIG.
fn quick_cluster(sim: &Sim, version: &str) -> std::path::PathBuf {
    let info = sim.world.start_cluster("q", version);
    let kc = sim.path().join("q-kubeconfig");
    std::fs::write(&kc, meshup_sim::world::kubeconfig_yaml(&info)).unwrap();
    kc
}

fn run_in(
    sim: &Sim,
    kc: &std::path::Path,
    tool: &str,
    version: &str,
    args: &[&str],
) -> std::process::Output {
    sim.cmd(support::bin())
        .env("MESHUP_SIM_AS", tool)
        .env("MESHUP_SIM_VERSION", version)
        .env("KUBECONFIG", kc)
        .args(args)
        .output()
        .unwrap()
}

/// `istioctl manifest generate` (no cluster detection, third-party JWT unless set) piped to
/// `kubectl apply`: the seed's alternative path.
fn generate_and_apply(sim: &Sim, kc: &std::path::Path, sets: &[&str]) {
    let mut args = vec!["manifest", "generate"];
    for s in sets {
        args.extend(["--set", s]);
    }
    let generated = run_in(sim, kc, "istioctl", "1.5.0", &args);
    assert_eq!(
        generated.status.code(),
        Some(0),
        "{}",
        text(&generated.stderr)
    );
    let mut child = sim
        .cmd(support::bin())
        .env("MESHUP_SIM_AS", "kubectl")
        .env("KUBECONFIG", kc)
        .args(["apply", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&generated.stdout)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

fn istiod_pod(sim: &Sim, kc: &std::path::Path) -> serde_json::Value {
    let out = run_in(
        sim,
        kc,
        "kubectl",
        "",
        &[
            "get",
            "pods",
            "-n",
            "istio-system",
            "-l",
            "app=istiod",
            "-o",
            "json",
        ],
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    list["items"][0].clone()
}

#[test]
fn third_party_jwt_pods_never_start_without_token_projection() {
    let sim = Sim::start("");
    let kc = quick_cluster(&sim, "v1.15.10");
    // manifest generate assumes third-party-jwt (research/istio.md §2.3): wrong on 1.15.
    generate_and_apply(&sim, &kc, &[]);
    support::eventually("the FailedMount event", || {
        let ev = run_in(
            &sim,
            &kc,
            "kubectl",
            "",
            &["get", "events", "-n", "istio-system", "-o", "json"],
        );
        text(&ev.stdout).contains(
            "MountVolume.SetUp failed for volume \\\"istio-token\\\" : failed to fetch token: the server could not find the requested resource",
        )
    });
    std::thread::sleep(std::time::Duration::from_millis(400));
    let pod = istiod_pod(&sim, &kc);
    assert_eq!(pod["status"]["phase"], "Pending", "{pod}");
    assert_eq!(
        pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
        "ContainerCreating"
    );

    // The same with the policy the cluster supports starts.
    let sim = Sim::start("");
    let kc = quick_cluster(&sim, "v1.15.10");
    generate_and_apply(&sim, &kc, &["values.global.jwtPolicy=first-party-jwt"]);
    support::eventually("istiod Ready", || {
        istiod_pod(&sim, &kc)["status"]["conditions"]
            .as_array()
            .is_some_and(|c| {
                c.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
    });
}

#[test]
fn each_era_has_its_own_flags() {
    let sim = Sim::start("");
    for (version, args, err) in [
        (
            "1.5.0",
            &["manifest", "apply", "-y", "--revision", "canary"][..],
            "Error: unknown flag: --revision",
        ),
        (
            "1.5.0",
            &["manifest", "apply", "-y", "--verify"][..],
            "Error: unknown flag: --verify",
        ),
        (
            "1.5.0",
            &["manifest", "apply", "-y", "-d", "/x"][..],
            "Error: unknown shorthand flag: 'd' in -d",
        ),
        (
            "1.20.0",
            &["install", "-y", "-w"][..],
            "Error: unknown shorthand flag: 'w' in -w",
        ),
        (
            "1.8.0",
            &["install", "-y", "--verify"][..],
            "Error: unknown flag: --verify",
        ),
        (
            "1.20.0",
            &["install", "-y", "--x"][..],
            "Error: unknown flag: --x",
        ),
    ] {
        let out = istioctl(&sim, version, args);
        assert_eq!(out.status.code(), Some(1), "{version} {args:?}");
        assert!(
            text(&out.stderr).contains(err),
            "{version} {args:?}: {}",
            text(&out.stderr)
        );
        assert!(!sim.calls().iter().any(|c| c.tool == "kubectl"));
    }
}

#[test]
fn set_paths_are_checked_against_the_era_schema() {
    let sim = Sim::start("");
    for (version, set, err) in [
        (
            "1.5.0",
            "values.global.proxy.accessLogEncodng=JSON",
            "unknown field \"accessLogEncodng\" in v1alpha1.ProxyConfig",
        ),
        (
            "1.5.0",
            "values.global.proxy.accessLogEncoding=XML",
            "unknown value \"XML\"",
        ),
        (
            "1.8.0",
            "values.global.proxy.accessLogFile=/dev/stdout",
            "unknown field \"accessLogFile\" in v1alpha1.ProxyConfig",
        ),
        (
            "1.8.0",
            "meshConfig.accessLogEncoding=XML",
            "unknown value \"XML\"",
        ),
        (
            "1.5.0",
            "gateways.components.egressGateway.enabled=true",
            "unknown field \"gateways\" in v1alpha1.IstioOperatorSpec",
        ),
        (
            "1.20.0",
            "values.gateways.istio-ingressgateway.type=Loadbalancer",
            "unknown value \"Loadbalancer\"",
        ),
    ] {
        let out = istioctl(&sim, version, &["manifest", "generate", "--set", set]);
        assert_eq!(out.status.code(), Some(1), "{version} {set}");
        assert!(
            text(&out.stderr).contains(err),
            "{version} {set}: {}",
            text(&out.stderr)
        );
    }
    for (version, set) in [
        ("1.5.0", "values.global.proxy.accessLogEncoding=JSON"),
        ("1.8.0", "meshConfig.accessLogFile=/dev/stdout"),
        ("1.5.0", "values.gateways.istio-egressgateway.enabled=true"),
        (
            "1.20.0",
            "components.egressGateways.[name:istio-egressgateway].enabled=true",
        ),
    ] {
        let out = istioctl(&sim, version, &["manifest", "generate", "--set", set]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{version} {set}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn status_port_is_15020_in_values_and_15021_the_gateway_readiness_port_from_1_6() {
    let sim = Sim::start("");
    for version in ["1.5.0", "1.6.8", "1.20.0"] {
        let out = istioctl(
            &sim,
            version,
            &["profile", "dump", "--config-path", "values.global.proxy"],
        );
        assert!(
            text(&out.stdout).contains("statusPort: 15020"),
            "{version}: {}",
            text(&out.stdout)
        );
        let generated = text(&istioctl(&sim, version, &["manifest", "generate"]).stdout);
        let want = if version == "1.5.0" { 15020 } else { 15021 };
        assert!(
            generated.contains(&format!("name: status-port\n    port: {want}"))
                || generated.contains(&format!(
                    "port: {want}\n    protocol: TCP\n    targetPort: {want}"
                )),
            "{version}"
        );
        assert!(
            generated.contains("\\\"statusPort\\\":15020")
                || generated.contains("\"statusPort\":15020"),
            "{version}"
        );
    }
}

#[test]
fn the_seeds_access_log_override_changes_both_configmaps() {
    let sim = Sim::start("");
    let dir = sim.path();
    let base = istioctl(&sim, "1.5.0", &["manifest", "generate"]);
    let logs = istioctl(
        &sim,
        "1.5.0",
        &[
            "manifest",
            "generate",
            "--set",
            "values.global.proxy.accessLogEncoding=JSON",
            "--set",
            "values.global.proxy.accessLogFile=/dev/stdout",
        ],
    );
    std::fs::write(dir.join("a.yaml"), &base.stdout).unwrap();
    std::fs::write(dir.join("b.yaml"), &logs.stdout).unwrap();
    let out = istioctl(
        &sim,
        "1.5.0",
        &[
            "manifest",
            "diff",
            dir.join("a.yaml").to_str().unwrap(),
            dir.join("b.yaml").to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let diff = text(&out.stdout);
    let changed: Vec<&str> = diff.lines().filter(|l| l.starts_with("Object ")).collect();
    assert_eq!(
        changed,
        [
            "Object ConfigMap:istio-system:istio has diffs:",
            "Object ConfigMap:istio-system:istio-sidecar-injector has diffs:"
        ],
        "{diff}"
    );
}
