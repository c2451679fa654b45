//! The tools library against a loopback mirror: resolution, download, verification, extraction,
//! the cache, and every way a download can go wrong (each leaves nothing behind).

#[path = "common/fixtures.rs"]
mod fixtures;
#[path = "common/mirror.rs"]
mod mirror;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use fixtures::{Entry, fake_binary, files_under, istio_archive, publish, sha256};
use meshup::compat::archives::{Arch, Os, Platform};
use meshup::error::{ExitKind, Failure};
use meshup::tools::cache::Cache;
use meshup::tools::lock::{Lock, LockedTool};
use meshup::tools::probe::ExecProbe;
use meshup::tools::resolve::resolve;
use meshup::tools::{DownloadConfig, Installer, Origin, Quiet, Request, Sources, Tool, ToolError};
use mirror::{Mirror, Reply};
use semver::Version;

const LINUX: Platform = Platform {
    os: Os::Linux,
    arch: Arch::Amd64,
};

struct World {
    mirror: Mirror,
    tmp: tempfile::TempDir,
    installer: Installer,
}

fn world() -> World {
    let mirror = Mirror::start();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = DownloadConfig {
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_millis(300),
        retries: 1,
        backoff: Duration::from_millis(1),
    };
    let installer = Installer::new(
        Cache::at(tmp.path().join("tools")),
        LINUX,
        Sources::single(&mirror.url("")),
        cfg,
    )
    .unwrap();
    World {
        mirror,
        tmp,
        installer,
    }
}

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

fn fake_on_path(dir: &Path, name: &str, stdout: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\ncat <<'EOF'\n{stdout}\nEOF\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The failure a user would see: exit 4, and nothing at all in the cache.
fn assert_clean_failure(w: &World, err: ToolError) -> String {
    let text = err.to_string();
    let failure = Failure::from(err);
    assert_eq!(failure.kind, ExitKind::Tools, "{text}");
    assert!(!failure.hints.is_empty(), "{text} has no hint");
    assert_eq!(
        files_under(w.tmp.path()),
        Vec::<String>::new(),
        "{text} left files behind"
    );
    let tools = w.tmp.path().join("tools");
    let dirs: Vec<_> = Tool::ALL
        .iter()
        .flat_map(|t| {
            std::fs::read_dir(tools.join(t.name()))
                .into_iter()
                .flatten()
        })
        .collect();
    assert!(dirs.is_empty(), "{text} left folders behind: {dirs:?}");
    text
}

#[tokio::test]
async fn seed_kubernetes_with_a_new_minikube_on_path_resolves_minikube_1_24_from_the_mirror() {
    let w = world();
    let bin = w.tmp.path().join("bin");
    fake_on_path(
        &bin,
        "minikube",
        r#"{"commit":"2fb0b4b9","minikubeVersion":"v1.38.1"}"#,
    );
    let probe = ExecProbe {
        search_path: Some(bin.clone().into_os_string()),
        ..ExecProbe::default()
    };
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
    fake_on_path(
        &bin,
        "minikube",
        r#"{"commit":"x","minikubeVersion":"v1.38.1"}"#,
    );
    fake_on_path(&bin, "istioctl", "client version: 1.28.0");
    fake_on_path(
        &bin,
        "kubectl",
        r#"{"clientVersion":{"gitVersion":"v1.34.2"}}"#,
    );
    let probe = ExecProbe {
        search_path: Some(bin.clone().into_os_string()),
        ..ExecProbe::default()
    };
    let req = Request {
        kubernetes: v("1.35.0"),
        istio: v("1.28.0"),
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
async fn a_wrong_sha256_file_is_refused() {
    let w = world();
    let path = "minikube/v1.24.0/minikube-linux-amd64";
    w.mirror
        .serve(path, Reply::Body(fake_binary("minikube", "v1.24.0")));
    w.mirror.serve(
        &format!("{path}.sha256"),
        Reply::Body(format!("{}\n", sha256(b"other")).into_bytes()),
    );
    let err = w
        .installer
        .ensure(Tool::Minikube, &v("1.24.0"), None, &Quiet)
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::ChecksumMismatch { .. }), "{err}");
    let text = assert_clean_failure(&w, err);
    assert!(text.contains("its .sha256 file"), "{text}");
    let gets = w
        .mirror
        .requests()
        .iter()
        .filter(|r| r.ends_with("amd64"))
        .count();
    assert_eq!(gets, 1, "a checksum mismatch is not retried");
}

#[tokio::test]
async fn a_truncated_download_is_refused() {
    let w = world();
    let body = fake_binary("minikube", "v1.24.0");
    let path = "minikube/v1.24.0/minikube-linux-amd64";
    publish(&w.mirror, path, body.clone());
    w.mirror.serve(
        path,
        Reply::Truncated {
            body: body[..10].to_vec(),
            claimed: body.len(),
        },
    );
    let err = w
        .installer
        .ensure(Tool::Minikube, &v("1.24.0"), None, &Quiet)
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Truncated { got: 10, .. }), "{err}");
    assert_clean_failure(&w, err);
}

#[tokio::test]
async fn an_archive_entry_climbing_out_is_refused() {
    let w = world();
    let evil = Entry::RawFile {
        path: "../../x".into(),
        body: b"owned".to_vec(),
    };
    publish(
        &w.mirror,
        "istio/1.6.0/istio-1.6.0-linux-amd64.tar.gz",
        istio_archive("1.6.0", "manifests/profiles", vec![evil]),
    );
    let err = w
        .installer
        .ensure(Tool::Istioctl, &v("1.6.0"), None, &Quiet)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ToolError::UnsafeEntry { entry, .. } if entry == "../../x"),
        "{err}"
    );
    assert_clean_failure(&w, err);
    assert!(!w.tmp.path().parent().unwrap().join("x").exists());
}

#[tokio::test]
async fn a_symlink_pointing_out_of_the_archive_is_refused() {
    let w = world();
    let evil = Entry::Symlink {
        path: "istio-1.6.0/manifests/profiles/evil.yaml".into(),
        target: "../../../../etc/passwd".into(),
    };
    publish(
        &w.mirror,
        "istio/1.6.0/istio-1.6.0-linux-amd64.tar.gz",
        istio_archive("1.6.0", "manifests/profiles", vec![evil]),
    );
    let err = w
        .installer
        .ensure(Tool::Istioctl, &v("1.6.0"), None, &Quiet)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ToolError::UnsafeEntry { reason, .. } if reason.contains("link")),
        "{err}"
    );
    assert_clean_failure(&w, err);
}

#[tokio::test]
async fn a_missing_release_is_a_404_without_retries() {
    let w = world();
    let err = w
        .installer
        .ensure(Tool::Istioctl, &v("1.7.9"), None, &Quiet)
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::NotFound { .. }), "{err}");
    let text = assert_clean_failure(&w, err);
    assert!(
        text.contains("istio-1.7.9-linux-amd64.tar.gz.sha256"),
        "{text}"
    );
    assert_eq!(w.mirror.requests().len(), 1);
}

#[tokio::test]
async fn a_stalled_server_times_out_after_the_retries() {
    let w = world();
    let path = "kubectl/v1.15.12/bin/linux/amd64/kubectl";
    publish(&w.mirror, path, fake_binary("kubectl", "v1.15.12"));
    w.mirror.serve(path, Reply::Stall);
    let err = w
        .installer
        .ensure(Tool::Kubectl, &v("1.15.12"), None, &Quiet)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ToolError::Stalled { attempts: 2, .. }),
        "{err}"
    );
    assert_clean_failure(&w, err);
}

#[tokio::test]
async fn a_server_error_is_retried() {
    let w = world();
    let path = "kubectl/v1.15.12/bin/linux/amd64/kubectl";
    let body = fake_binary("kubectl", "v1.15.12");
    publish(&w.mirror, path, body.clone());
    w.mirror.serve(
        path,
        Reply::Sequence(vec![Reply::Status(503), Reply::Body(body.clone())]),
    );
    let done = w
        .installer
        .ensure(Tool::Kubectl, &v("1.15.12"), None, &Quiet)
        .await
        .unwrap();
    assert_eq!(std::fs::read(done.entry.binary).unwrap(), body);
    assert_eq!(
        w.mirror
            .requests()
            .iter()
            .filter(|r| r.ends_with("/kubectl"))
            .count(),
        2
    );
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
    let probe = ExecProbe {
        search_path: Some(w.tmp.path().join("nothing").into_os_string()),
        ..ExecProbe::default()
    };
    let req = Request {
        kubernetes: v("1.15.10"),
        istio: v("1.5.0"),
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

#[tokio::test]
async fn kubectl_before_1_16_is_verified_against_its_sha512() {
    let w = world();
    let path = "kubectl/v1.15.10/bin/linux/amd64/kubectl";
    let body = fake_binary("kubectl", "v1.15.10");
    let digest = publish(&w.mirror, path, body.clone());
    let done = w
        .installer
        .ensure(Tool::Kubectl, &v("1.15.10"), None, &Quiet)
        .await
        .unwrap();
    assert_eq!(
        done.entry.meta.sha256, digest,
        "meshup records the sha256 it computed"
    );
    assert!(w.mirror.requests().contains(&format!("GET /{path}.sha512")));

    let w = world();
    w.mirror.serve(
        &format!("{path}.sha512"),
        Reply::Body(format!("{}\n", "0".repeat(128)).into_bytes()),
    );
    w.mirror.serve(path, Reply::Body(body));
    let err = w
        .installer
        .ensure(Tool::Kubectl, &v("1.15.10"), None, &Quiet)
        .await
        .unwrap_err();
    let text = assert_clean_failure(&w, err);
    assert!(text.contains("its .sha512 file"), "{text}");
}
