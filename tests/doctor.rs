//! `meshup doctor`: a checklist of this host against a scenario; exit 3 when something blocks.

mod common;

use common::{Fakes, stderr, stdout};

const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/seed-istio-1.5-k8s-1.15.yaml"
);

#[test]
fn a_host_that_fits_is_ready() {
    let fakes = Fakes::new();
    let out = fakes.run(&["doctor"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(text.contains("✓ minikube  v1.38.1 at"), "{text}");
    assert!(text.contains("✓ docker    27.3.1, cgroup v1"), "{text}");
    assert!(
        text.contains("Ready: nothing blocks this scenario"),
        "{text}"
    );
    // doctor may ask kubectl its version (a dry-run does not).
    assert!(
        fakes
            .calls()
            .contains(&"kubectl version --client -o json".to_string())
    );
}

#[test]
fn cgroup_v2_blocks_kubernetes_1_15_with_exit_3_and_a_fix() {
    let fakes = Fakes::new().host(|k| k.docker.cgroup_version = "2".into());
    let out = fakes.run(&["doctor", "-f", SEED]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("✗ error: Kubernetes v1.15.10 cannot run on this cgroup v2 host"),
        "{text}"
    );
    assert!(text.contains("→ use Kubernetes v1.19.0 or newer"), "{text}");
    assert!(text.contains("Not ready: 1 problem(s)"), "{text}");
    // The minikube on PATH is too new for 1.15: meshup fetches one, which is not a problem.
    assert!(text.contains("cannot start Kubernetes v1.15.10"), "{text}");
    assert!(
        text.contains("fix: nothing to do: meshup fetches minikube v1.24.0"),
        "{text}"
    );
}

#[test]
fn missing_tools_are_findings_not_crashes() {
    let fakes = Fakes::new()
        .without("minikube")
        .without("istioctl")
        .without("kubectl")
        .without("docker");
    let out = fakes.run(&["doctor", "--output", "json", "--cpus", "2"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["schema"], "meshup.doctor/v1");
    let check = |name: &str| {
        doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(check("minikube")["status"], "info");
    assert_eq!(check("istioctl")["status"], "info");
    // The driver is auto: minikube may pick another, so a missing docker only warns.
    assert_eq!(check("docker")["status"], "warn");
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "docker-missing")
    );
    assert!(fakes.calls().is_empty());
    assert!(matches!(out.status.code(), Some(0 | 3)), "{}", stderr(&out));
}

#[test]
fn a_stopped_docker_daemon_with_the_docker_driver_blocks() {
    let fakes = Fakes::new().host(|k| k.docker.running = false);
    let f = fakes.file(
        "d.yaml",
        "apiVersion: meshup/v1\nkind: Scenario\ncluster:\n  driver: docker\n  cpus: 2\n",
    );
    let out = fakes.run_with_file(&["doctor", "-f"], &f);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("Cannot connect to the Docker daemon"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn more_cpus_than_the_host_has_blocks() {
    let fakes = Fakes::new().host(|k| k.docker.ncpu = 2);
    let out = fakes.run(&["doctor", "--cpus", "4"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stdout(&out).contains("✗ cpus      4 CPUs requested but this host has 2"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn without_dockers_figures_the_machines_are_named_as_such() {
    // Docker is down: its NCPU is unknown, and the machine's own count must not read as Docker's.
    let fakes = Fakes::new().host(|k| k.docker.running = false);
    let out = fakes
        .meshup()
        .args(["doctor", "--cpus", "4096"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = stdout(&out);
    assert!(
        text.contains("4096 CPUs requested but this machine has")
            && text.contains("docker gave no figures"),
        "{text}"
    );
    assert!(!text.contains("this host has"), "{text}");
}
