//! The tools library against a loopback mirror: resolution, download, verification, extraction,
//! the cache, the lock. The ways a download can go wrong: tools_failures.rs.

#[path = "common/fixtures.rs"]
mod fixtures;
#[path = "common/mirror.rs"]
mod mirror;
#[path = "common/world.rs"]
mod world;

use std::os::unix::fs::PermissionsExt;

use fixtures::{fake_binary, files_under, istio_archive, publish, sha256};
use meshup::error::{ExitKind, Failure};
use meshup::host::probe::ProbedTools;
use meshup::plan::Probes;
use meshup::tools::lock::{Lock, LockedTool};
use meshup::tools::resolve::resolve;
use meshup::tools::{Origin, Quiet, Request, Tool, ToolError};
use mirror::Reply;
use world::{LINUX, assert_clean_failure, found_in, v, world};

#[tokio::test]
async fn seed_kubernetes_with_a_new_minikube_on_path_resolves_minikube_1_24_from_the_mirror() {
    let w = world();
    let bin = w.tmp.path().join("bin");
    let probes = found_in(&bin, &[(Tool::Minikube, "v1.38.1")]);
    let probe = ProbedTools(&probes);
    let minikube = fake_binary("minikube", "v1.24.0");
    let digest = sha256(&minikube);
    w.mirror.serve(
        "minikube/v1.24.0/minikube-linux-amd64.sha256",
        Reply::Body(format!("{digest}\n").into_bytes()),
    );
    w.mirror.serve(
        "minikube/v1.24.0/minikube-linux-amd64",
        Reply::Body(minikube.clone()),
    );
    publish(
        &w.mirror,
        "kubectl/v1.15.10/bin/linux/amd64/kubectl",
        fake_binary("kubectl", "v1.15.10"),
    );
    publish(
        &w.mirror,
        "istio/1.5.0/istio-1.5.0-linux.tar.gz",
        istio_archive("1.5.0", "install/kubernetes/operator/profiles", vec![]),
    );

    let req = Request {
        kubernetes: v("1.15.10"),
        istio: v("1.5.0"),
        // Istio 1.5's `manifest apply` runs kubectl.
        kubectl: true,
    };
    let plan = resolve(&req, &probe, &w.installer, None).await.unwrap();
    assert_eq!(plan.minikube.version, "v1.24.0");
    assert_eq!(
        plan.minikube.origin,
        Origin::Download {
            url: w.mirror.url("minikube/v1.24.0/minikube-linux-amd64"),
            path: w.tmp.path().join("tools/minikube/v1.24.0/minikube"),
        }
    );
    assert!(
        plan.minikube
            .why
            .contains("minikube v1.38.1 on PATH refuses Kubernetes v1.15.10"),
        "{}",
        plan.minikube.why
    );
    assert_eq!(plan.istioctl.version, "1.5.0");
    assert!(
        plan.kubectl.needed,
        "Istio 1.5's manifest apply runs kubectl"
    );
    assert_eq!(plan.downloads().len(), 3);
    assert!(
        w.mirror.requests().is_empty(),
        "resolution downloads nothing"
    );

    let paths = meshup::tools::ensure(&plan, &w.installer, &Quiet)
        .await
        .unwrap();
    assert_eq!(
        paths.minikube,
        w.tmp.path().join("tools/minikube/v1.24.0/minikube")
    );
    assert_eq!(std::fs::read(&paths.minikube).unwrap(), minikube);
    assert_eq!(
        std::fs::metadata(&paths.minikube)
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o755
    );
    let meta: serde_json::Value = serde_json::from_slice(
        &std::fs::read(w.tmp.path().join("tools/minikube/v1.24.0/meshup-tool.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta["sha256"], digest.as_str());
    assert_eq!(
        paths.istio_profiles,
        Some(w.tmp.path().join("tools/istioctl/1.5.0/profiles"))
    );
    let child_path = paths.child_path().into_string().unwrap();
    let first: Vec<&str> = child_path.split(':').take(3).collect();
    let kubectl_dir = w.tmp.path().join("tools/kubectl/v1.15.10");
    assert!(
        first.contains(&kubectl_dir.to_str().unwrap()),
        "kubectl's folder leads PATH: {child_path}"
    );
    assert!(!first.contains(&bin.to_str().unwrap()));

    // A second run finds everything in the cache and makes no request.
    let before = w.mirror.requests().len();
    let again = resolve(&req, &probe, &w.installer, None).await.unwrap();
    assert!(
        matches!(again.minikube.origin, Origin::Cache { .. }),
        "{:?}",
        again.minikube.origin
    );
    assert!(again.downloads().is_empty());
    meshup::tools::ensure(&again, &w.installer, &Quiet)
        .await
        .unwrap();
    assert_eq!(w.mirror.requests().len(), before);
}

#[tokio::test]
async fn a_minikube_on_path_that_supports_the_version_is_used_as_it_is() {
    let w = world();
    let bin = w.tmp.path().join("bin");
    let probes = found_in(
        &bin,
        &[
            (Tool::Minikube, "v1.38.1"),
            (Tool::Istioctl, "1.28.0"),
            (Tool::Kubectl, "v1.34.2"),
        ],
    );
    let probe = ProbedTools(&probes);
    let req = Request {
        kubernetes: v("1.35.0"),
        istio: v("1.28.0"),
        kubectl: false,
    };
    let plan = resolve(&req, &probe, &w.installer, None).await.unwrap();
    assert_eq!(
        plan.minikube.origin,
        Origin::Path {
            path: bin.join("minikube")
        }
    );
    assert_eq!(
        plan.istioctl.origin,
        Origin::Path {
            path: bin.join("istioctl")
        }
    );
    assert_eq!(
        plan.kubectl.origin,
        Origin::Path {
            path: bin.join("kubectl")
        }
    );
    assert!(!plan.kubectl.needed);
    assert!(plan.downloads().is_empty());
}

#[tokio::test]
async fn each_istio_era_is_fetched_by_its_archive_name_with_binary_and_profiles() {
    let w = world();
    let eras = [
        (
            "1.5.0",
            "istio/1.5.0/istio-1.5.0-linux.tar.gz",
            "install/kubernetes/operator/profiles",
        ),
        (
            "1.6.0",
            "istio/1.6.0/istio-1.6.0-linux-amd64.tar.gz",
            "manifests/profiles",
        ),
        (
            "1.18.2",
            "istio/1.18.2/istio-1.18.2-linux-amd64.tar.gz",
            "manifests/profiles",
        ),
        (
            "1.19.0",
            "istio/1.19.0/istio-1.19.0-linux-amd64.tar.gz",
            "manifests/profiles",
        ),
    ];
    for (version, path, profiles) in eras {
        publish(&w.mirror, path, istio_archive(version, profiles, vec![]));
        let done = w
            .installer
            .ensure(Tool::Istioctl, &v(version), None, &Quiet)
            .await
            .unwrap();
        assert!(done.downloaded);
        assert_eq!(
            std::fs::read(&done.entry.binary).unwrap(),
            fake_binary("istioctl", version)
        );
        assert_eq!(
            files_under(&done.entry.dir),
            [
                "istioctl",
                "meshup-tool.json",
                "profiles/default.yaml",
                "profiles/demo.yaml"
            ],
            "{version}"
        );
    }
    let got: Vec<String> = w
        .mirror
        .requests()
        .into_iter()
        .filter(|r| !r.ends_with(".sha256"))
        .collect();
    assert_eq!(got, eras.map(|(_, p, _)| format!("GET /{p}")));
}

#[tokio::test]
async fn a_locked_digest_that_differs_from_the_served_file_is_refused() {
    let w = world();
    let path = "minikube/v1.24.0/minikube-linux-amd64";
    let digest = publish(&w.mirror, path, fake_binary("minikube", "v1.24.0"));
    let wrong = "0".repeat(64);
    let err = w
        .installer
        .ensure(Tool::Minikube, &v("1.24.0"), Some(&wrong), &Quiet)
        .await
        .unwrap_err();
    let text = assert_clean_failure(&w, err);
    assert!(text.contains("meshup.lock"), "{text}");
    assert!(
        !w.mirror.requests().iter().any(|r| r.ends_with(".sha256")),
        "a lock needs no .sha256"
    );

    // The right digest installs; afterwards a different pin refuses the cached copy too.
    w.installer
        .ensure(Tool::Minikube, &v("1.24.0"), Some(&digest), &Quiet)
        .await
        .unwrap();
    let err = w
        .installer
        .ensure(Tool::Minikube, &v("1.24.0"), Some(&wrong), &Quiet)
        .await
        .unwrap_err();
    assert_eq!(Failure::from(err).kind, ExitKind::Tools);
}

#[tokio::test]
async fn a_lock_pinning_a_minikube_that_refuses_the_version_is_a_mismatch() {
    let w = world();
    let mut lock = Lock::new(LINUX);
    let pin = |version: &str| LockedTool {
        version: version.into(),
        url: "http://x".into(),
        sha256: "a".repeat(64),
    };
    lock.tools.insert(Tool::Minikube, pin("v1.38.1"));
    lock.tools.insert(Tool::Istioctl, pin("1.5.0"));
    lock.tools.insert(Tool::Kubectl, pin("v1.15.12"));
    let nothing = Probes::default();
    let probe = ProbedTools(&nothing);
    let req = Request {
        kubernetes: v("1.15.10"),
        istio: v("1.5.0"),
        // Istio 1.5's `manifest apply` runs kubectl.
        kubectl: true,
    };
    let err = resolve(&req, &probe, &w.installer, Some(&lock))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ToolError::LockMismatch {
                tool: Tool::Minikube,
                ..
            }
        ),
        "{err}"
    );

    lock.tools.insert(Tool::Minikube, pin("v1.24.0"));
    let plan = resolve(&req, &probe, &w.installer, Some(&lock))
        .await
        .unwrap();
    assert_eq!(
        plan.minikube.sha256.as_deref(),
        Some("a".repeat(64).as_str())
    );
    assert_eq!(plan.kubectl.version, "v1.15.12");
}
