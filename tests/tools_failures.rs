//! Every way a download can go wrong, at the library level: each is a clear error meaning
//! exit 4, and leaves nothing in the cache.

#[path = "common/fixtures.rs"]
mod fixtures;
#[path = "common/mirror.rs"]
mod mirror;
#[path = "common/world.rs"]
mod world;

use fixtures::{Entry, fake_binary, istio_archive, publish, sha256};
use meshup::tools::{Tool, ToolError};
use mirror::Reply;
use world::{World, assert_clean_failure, world};

/// Istio 1.6.0 for linux-amd64 on the mirror, its archive holding `extra` too.
fn publish_istio_1_6_with(w: &World, extra: Entry) {
    publish(
        &w.mirror,
        "istio/1.6.0/istio-1.6.0-linux-amd64.tar.gz",
        istio_archive("1.6.0", "manifests/profiles", vec![extra]),
    );
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
    let err = w.ensure(Tool::Minikube, "1.24.0").await.unwrap_err();
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
    let err = w.ensure(Tool::Minikube, "1.24.0").await.unwrap_err();
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
    publish_istio_1_6_with(&w, evil);
    let err = w.ensure(Tool::Istioctl, "1.6.0").await.unwrap_err();
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
    publish_istio_1_6_with(&w, evil);
    let err = w.ensure(Tool::Istioctl, "1.6.0").await.unwrap_err();
    assert!(
        matches!(err, ToolError::UnsafeEntry { reason, .. } if reason.contains("link")),
        "{err}"
    );
    assert_clean_failure(&w, err);
}

#[tokio::test]
async fn a_missing_release_is_a_404_without_retries() {
    let w = world();
    let err = w.ensure(Tool::Istioctl, "1.7.9").await.unwrap_err();
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
    let err = w.ensure(Tool::Kubectl, "1.15.12").await.unwrap_err();
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
    let done = w.ensure(Tool::Kubectl, "1.15.12").await.unwrap();
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
async fn kubectl_before_1_16_is_verified_against_its_sha512() {
    let w = world();
    let path = "kubectl/v1.15.10/bin/linux/amd64/kubectl";
    let body = fake_binary("kubectl", "v1.15.10");
    let digest = publish(&w.mirror, path, body.clone());
    let done = w.ensure(Tool::Kubectl, "1.15.10").await.unwrap();
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
    let err = w.ensure(Tool::Kubectl, "1.15.10").await.unwrap_err();
    let text = assert_clean_failure(&w, err);
    assert!(text.contains("its .sha512 file"), "{text}");
}
