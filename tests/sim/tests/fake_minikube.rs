//! The fake minikube against a real world daemon: versions, validations, exit codes, files.

mod support;

use support::{SEED_START, Sim, text};

const V124: &str = "minikube:\n  version: v1.24.0\n";

#[test]
fn refuses_v1_15_when_emulating_v1_38_1_and_accepts_it_on_v1_24_0() {
    let sim = Sim::start("minikube:\n  version: v1.38.1\n");
    let out = sim.run("minikube", SEED_START);
    assert_eq!(out.status.code(), Some(106), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("! Specified Kubernetes version 1.15.10 is less than the oldest supported version: v1.28.0. Use `minikube config defaults kubernetes-version` for details."), "{err}");
    assert!(err.contains("! You can force an unsupported Kubernetes version via the --force flag"));
    assert!(err.contains("X Exiting due to K8S_OLD_UNSUPPORTED: Kubernetes 1.15.10 is not supported by this release of minikube"));
    assert!(
        sim.control().cluster("seed").unwrap().is_none(),
        "nothing was created"
    );

    // The same, in JSON: the last event is the error and carries the exit code as a string.
    let out = sim.run(
        "minikube",
        &[
            "start",
            "-p",
            "seed",
            "--kubernetes-version=v1.15.10",
            "-o",
            "json",
        ],
    );
    let last: serde_json::Value =
        serde_json::from_str(text(&out.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(last["type"], "io.k8s.sigs.minikube.error");
    assert_eq!(last["data"]["exitcode"], "106");
    assert_eq!(last["data"]["name"], "K8S_OLD_UNSUPPORTED");

    sim.set_knobs(V124);
    let out = sim.run("minikube", SEED_START);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("* [seed] minikube v1.24.0 on "),
        "{stdout}"
    );
    assert!(stdout.contains("* Creating docker container (CPUs=4, Memory=8192MB) ..."));
    assert!(stdout.contains("* Done! kubectl is now configured to use \"seed\" cluster and \"default\" namespace by default"));
    let info = sim
        .control()
        .cluster("seed")
        .unwrap()
        .expect("cluster created");
    assert_eq!(info.spec.kubernetes_version, "v1.15.10");
    assert_eq!((info.spec.cpus, info.spec.memory_mb), (4, 8192));
    let kubeconfig = std::fs::read_to_string(sim.home().join(".kube/config")).unwrap();
    assert!(kubeconfig.contains("current-context: seed"), "{kubeconfig}");
    assert!(kubeconfig.contains(&format!("server: {}", info.server.unwrap())));
    assert!(
        sim.home()
            .join(".minikube/profiles/seed/client.key")
            .exists()
    );
    let ip = sim.run("minikube", &["ip", "-p", "seed"]);
    assert_eq!(text(&ip.stdout).trim(), info.node_ip);
    let kubectl = sim.run("kubectl", &["version", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&kubectl.stdout).unwrap();
    assert_eq!(v["serverVersion"]["gitVersion"], "v1.15.10");
}

#[test]
fn start_in_json_mode_emits_cloud_events_with_string_data() {
    let sim = Sim::start("minikube:\n  version: v1.38.1\n  downloadPreload: true\n");
    let out = sim.run("minikube", &["start", "-p", "js", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let events: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut last_step = -1;
    for e in &events {
        assert_eq!(e["specversion"], "1.0");
        assert_eq!(e["source"], "https://minikube.sigs.k8s.io/");
        assert!(
            e["data"]
                .as_object()
                .unwrap()
                .values()
                .all(|v| v.is_string()),
            "{e}"
        );
        if e["type"] == "io.k8s.sigs.minikube.step" {
            assert_eq!(e["data"]["totalsteps"], "19");
            let step: i64 = e["data"]["currentstep"].as_str().unwrap().parse().unwrap();
            assert!(step > last_step, "steps increase");
            last_step = step;
        }
    }
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "io.k8s.sigs.minikube.download.progress"
                && e["data"]["progress"] == "1")
    );
    assert_eq!(events.last().unwrap()["data"]["name"], "Done");
    assert!(
        sim.home()
            .join(".minikube/profiles/js/events.json")
            .exists()
    );
}

#[test]
fn status_exit_codes_follow_the_bitmask() {
    let sim = Sim::start(V124);
    let out = sim.run("minikube", &["status", "-p", "ghost"]);
    assert_eq!(out.status.code(), Some(85));
    assert!(text(&out.stdout).contains(
        "* Profile \"ghost\" not found. Run \"minikube profile list\" to view all profiles."
    ));
    assert!(text(&out.stdout).contains("* To start a cluster, run: \"minikube start -p ghost\""));

    assert_eq!(
        sim.run("minikube", &["start", "-p", "st"]).status.code(),
        Some(0)
    );
    let out = sim.run("minikube", &["status", "-p", "st", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout).trim(),
        r#"{"Name":"st","Host":"Running","Kubelet":"Running","APIServer":"Running","Kubeconfig":"Configured","Worker":false}"#
    );
    assert_eq!(
        sim.run("minikube", &["stop", "-p", "st"]).status.code(),
        Some(0)
    );
    let out = sim.run("minikube", &["status", "-p", "st"]);
    assert_eq!(out.status.code(), Some(7));
    assert!(text(&out.stdout).contains("host: Stopped"));
    let out = sim.run("minikube", &["ip", "-p", "st"]);
    assert_eq!(out.status.code(), Some(83));
    // Starting it again keeps the profile and warns about a changed size.
    let out = sim.run("minikube", &["start", "-p", "st", "--memory=4gb"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("! You cannot change the memory size for an existing minikube cluster. Please first delete the cluster."));
    assert!(text(&out.stdout).contains("* Restarting existing docker container for \"st\" ..."));
}

#[test]
fn profile_list_json_has_valid_and_invalid_arrays() {
    let sim = Sim::start(V124);
    let out = sim.run("minikube", &["profile", "list", "-o", "json"]);
    assert_eq!(text(&out.stdout).trim(), r#"{"invalid":[],"valid":[]}"#);
    assert_eq!(
        sim.run(
            "minikube",
            &[
                "start",
                "-p",
                "one",
                "--kubernetes-version=1.15",
                "--cpus=3",
                "--memory=3000"
            ]
        )
        .status
        .code(),
        Some(0)
    );
    let out = sim.run("minikube", &["profile", "list", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = &v["valid"][0];
    assert_eq!(p["Name"], "one");
    assert_eq!(p["Status"], "Running");
    assert_eq!(p["Active"], false);
    assert_eq!(p["ActiveKubeContext"], true);
    assert_eq!(p["Config"]["Memory"], 3000);
    assert_eq!(p["Config"]["CPUs"], 3);
    assert_eq!(
        p["Config"]["KubernetesConfig"]["KubernetesVersion"],
        "v1.15.12"
    );
    assert_eq!(
        p["Config"]["KubernetesConfig"]["ServiceCIDR"],
        "10.96.0.0/12"
    );
    assert_eq!(v["invalid"], serde_json::json!([]));
}

#[test]
fn validations_exit_with_the_real_codes() {
    let sim = Sim::start(V124);
    let code = |args: &[&str]| sim.run("minikube", args).status.code();
    assert_eq!(code(&["start", "-p", "a", "--cpus=1"]), Some(29));
    assert_eq!(code(&["start", "-p", "a", "--memory=1024mb"]), Some(23));
    assert_eq!(code(&["start", "-p", "a", "--memory=lots"]), Some(14));
    assert_eq!(code(&["start", "-p", "a", "--driver=fail"]), Some(56));
    assert_eq!(code(&["start", "-p", "a", "--no-such-flag"]), Some(14));
    sim.set_knobs("minikube:\n  version: v1.24.0\nhost:\n  root: true\n");
    let out = sim.run("minikube", &["start", "-p", "a"]);
    assert_eq!(out.status.code(), Some(57));
    assert!(text(&out.stderr).contains("The \"docker\" driver should not be used with root privileges. If you wish to continue as root, use --force."));
    sim.set_knobs("minikube:\n  version: v1.24.0\ndocker:\n  running: false\n");
    let out = sim.run("minikube", &["start", "-p", "a"]);
    assert_eq!(out.status.code(), Some(63));
    assert!(text(&out.stderr).contains("PROVIDER_DOCKER_NOT_RUNNING"));
    let out = sim.run("docker", &["info"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"));
    sim.set_knobs("minikube:\n  version: v1.24.0\n  failStart: GUEST_START\n");
    assert_eq!(code(&["start", "-p", "a"]), Some(80));
    // A refused start on a fresh profile never created the cluster.
    assert!(sim.control().cluster("a").unwrap().is_none());
}

#[test]
fn an_interrupted_start_leaves_a_half_created_profile() {
    let sim = Sim::start("minikube:\n  version: v1.38.1\n  interruptStartAtStep: 8\n");
    let out = sim.run("minikube", &["start", "-p", "half"]);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(9), "killed mid-way");
    let out = sim.run("minikube", &["status", "-p", "half"]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("apiserver: Stopped"));
    let v: serde_json::Value = serde_json::from_slice(
        &sim.run("minikube", &["profile", "list", "-o", "json"])
            .stdout,
    )
    .unwrap();
    assert_eq!(v["valid"][0]["Name"], "half");
    assert_eq!(v["valid"][0]["Status"], "Starting");
    let out = sim.run(
        "minikube",
        &["status", "-p", "half", "-o", "json", "--layout=cluster"],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["StatusCode"].as_u64(), v["StatusName"].as_str()),
        (Some(100), Some("Starting"))
    );
    assert_eq!(v["Step"], "Creating Container");
    let call = sim
        .calls()
        .into_iter()
        .find(|c| c.has_args(&["start", "-p", "half"]))
        .unwrap();
    assert_eq!(
        call.exit_code, None,
        "a killed fake has only its start line"
    );
}

#[test]
fn delete_is_idempotent_and_cleans_the_kubeconfig() {
    let sim = Sim::start(V124);
    assert_eq!(
        sim.run("minikube", &["start", "-p", "gone"]).status.code(),
        Some(0)
    );
    let out = sim.run("minikube", &["delete", "-p", "gone"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("* Removed all traces of the \"gone\" cluster."));
    let kubeconfig = std::fs::read_to_string(sim.home().join(".kube/config")).unwrap();
    assert!(!kubeconfig.contains("gone"), "{kubeconfig}");
    assert!(sim.control().cluster("gone").unwrap().is_none());
    let out = sim.run("minikube", &["delete", "-p", "gone"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("\"gone\" profile does not exist, trying anyways."));
    let calls = sim.calls();
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.tool == "minikube" && c.has_args(&["delete"]))
            .count(),
        2
    );
    assert!(calls.iter().all(|c| c.exit_code == Some(0)));
}

#[test]
fn minikube_home_and_kubeconfig_env_are_honoured() {
    let sim = Sim::start(V124);
    let mk = sim.path().join("mk");
    let kc = sim.path().join("iso/config");
    let out = sim
        .cmd("minikube")
        .args(["start", "-p", "iso", "--keep-context"])
        .env("MINIKUBE_HOME", &mk)
        .env(
            "KUBECONFIG",
            format!(
                "{}:{}",
                kc.display(),
                sim.home().join(".kube/config").display()
            ),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(mk.join(".minikube/profiles/iso/config.json").exists());
    let text = std::fs::read_to_string(&kc).unwrap();
    assert!(
        text.contains("name: iso") && !text.contains("current-context: iso"),
        "{text}"
    );
    assert!(!sim.home().join(".kube/config").exists());
}

#[test]
fn release_quirks_downgrade_and_update_context() {
    let sim = Sim::start("minikube:\n  version: v1.38.1\n");
    let out = sim.run(
        "minikube",
        &["start", "-p", "q", "--kubernetes-version=v1.30.0"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    // v1.37+ draws spinner steps only on a terminal: through a pipe they are gone.
    assert!(
        !stdout.contains("Creating docker container") && !stdout.contains("Preparing Kubernetes"),
        "{stdout}"
    );
    assert!(stdout.contains("* Starting \"q\" primary control-plane node in \"q\" cluster"));
    assert!(text(&out.stderr).contains(
        "! Starting v1.39.0, minikube will default to \"containerd\" container runtime."
    ));
    let out = sim.run(
        "minikube",
        &["start", "-p", "q", "--kubernetes-version=v1.29.0"],
    );
    assert_eq!(out.status.code(), Some(106));
    assert!(text(&out.stderr).contains("Exiting due to K8S_DOWNGRADE_UNSUPPORTED: Unable to safely downgrade existing Kubernetes v1.30.0 cluster to v1.29.0"));

    let kubeconfig = sim.home().join(".kube/config");
    let original = std::fs::read_to_string(&kubeconfig).unwrap();
    std::fs::write(
        &kubeconfig,
        original.replace("server: https://127.0.0.1:", "server: https://127.0.0.1:1"),
    )
    .unwrap();
    let out = sim.run("minikube", &["status", "-p", "q"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(text(&out.stdout).contains("kubeconfig: Misconfigured"));
    let out = sim.run("minikube", &["update-context", "-p", "q"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("* \"q\" context has been updated to point to 127.0.0.1:"));
    assert_eq!(
        sim.run("minikube", &["status", "-p", "q"]).status.code(),
        Some(0)
    );
    let out = sim.run("minikube", &["update-context", "-p", "q"]);
    assert!(
        text(&out.stdout)
            .contains("* No changes required for the \"q\" context\n* Current context is \"q\"")
    );
    assert!(text(&sim.run("minikube", &["logs", "-p", "q"]).stdout).contains("==> Audit <=="));
}

#[test]
fn older_releases_use_the_older_step_registry_and_key_order() {
    let sim = Sim::start(V124);
    let out = sim.run("minikube", &["start", "-p", "old", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    assert!(
        lines.iter().all(|l| l.starts_with("{\"data\":{")),
        "{lines:?}"
    );
    let events: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let steps: Vec<_> = events
        .iter()
        .filter(|e| e["type"] == "io.k8s.sigs.minikube.step")
        .collect();
    assert!(steps.iter().all(|e| e["data"]["totalsteps"] == "12"));
    let done = steps.last().unwrap();
    assert_eq!(
        (
            done["data"]["currentstep"].as_str(),
            done["data"]["name"].as_str()
        ),
        (Some("12"), Some("Done"))
    );
    let certs = steps
        .iter()
        .find(|e| e["data"]["message"] == "Generating certificates and keys ...")
        .unwrap();
    assert_eq!(
        certs["data"]["name"], "Preparing Kubernetes",
        "reported under the current step"
    );
}

/// A test polling for config.json must never read a torn one: the fake replaces it by a rename
/// (IN_MOVED_TO), never writes it in place (IN_CREATE / IN_MODIFY / IN_CLOSE_WRITE).
#[test]
fn config_json_is_replaced_by_a_rename_never_written_in_place() {
    use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
    let sim = Sim::start(V124);
    assert_eq!(
        sim.run("minikube", &["start", "-p", "atomic"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        sim.run("minikube", &["stop", "-p", "atomic"]).status.code(),
        Some(0)
    );
    let dir = sim.home().join(".minikube/profiles/atomic");
    let inotify = Inotify::init(InitFlags::IN_NONBLOCK).unwrap();
    inotify
        .add_watch(
            &dir,
            AddWatchFlags::IN_CREATE
                | AddWatchFlags::IN_MODIFY
                | AddWatchFlags::IN_CLOSE_WRITE
                | AddWatchFlags::IN_MOVED_TO,
        )
        .unwrap();
    // The restart saves the profile at its first step and again once the cluster runs.
    assert_eq!(
        sim.run("minikube", &["start", "-p", "atomic"])
            .status
            .code(),
        Some(0)
    );
    let mut seen = Vec::new();
    while let Ok(events) = inotify.read_events() {
        if events.is_empty() {
            break;
        }
        seen.extend(
            events
                .into_iter()
                .filter(|e| e.name.as_deref() == Some(std::ffi::OsStr::new("config.json")))
                .map(|e| e.mask),
        );
    }
    assert!(!seen.is_empty(), "the restart did not save config.json");
    assert!(
        seen.iter().all(|m| *m == AddWatchFlags::IN_MOVED_TO),
        "{seen:?}"
    );
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}
