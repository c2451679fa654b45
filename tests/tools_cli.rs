//! The meshup binary's tool commands against a loopback mirror: what a user sees (exit code,
//! output, the cache on disk, the mirror's request log).

mod common;
#[path = "common/fixtures.rs"]
mod fixtures;
#[path = "common/mirror.rs"]
mod mirror;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use assert_cmd::Command;
use common::{stderr, stdout};
use fixtures::{
    Entry, fake_binary, files_under, istio_archive, publish, publish_seed_tools, sha256,
};
use mirror::{Mirror, Reply};

struct World {
    mirror: Mirror,
    tmp: tempfile::TempDir,
}

impl World {
    /// A mirror, an empty cache, and a PATH holding only a fake minikube v1.38.1 and `sh`.
    fn new() -> World {
        let w = World {
            mirror: Mirror::start(),
            tmp: tempfile::tempdir().unwrap(),
        };
        let bin = w.tmp.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let minikube = bin.join("minikube");
        std::fs::write(
            &minikube,
            "#!/bin/sh\nif [ \"$1 $2 $3\" = \"version -o json\" ]; then\n  echo '{\"commit\":\"2fb0b4b9\",\"minikubeVersion\":\"v1.38.1\"}'\nelse\n  echo 'minikube version: v1.38.1'\nfi\n",
        )
        .unwrap();
        std::fs::set_permissions(&minikube, std::fs::Permissions::from_mode(0o755)).unwrap();
        for tool in ["sh", "cat", "echo"] {
            let _ = std::os::unix::fs::symlink(format!("/bin/{tool}"), bin.join(tool));
        }
        w
    }

    fn cache(&self) -> std::path::PathBuf {
        self.tmp.path().join("cache")
    }

    fn meshup(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("meshup").unwrap();
        cmd.args(args)
            .current_dir(self.tmp.path())
            .env_clear()
            .env("PATH", self.tmp.path().join("bin"))
            .env("HOME", self.tmp.path())
            .env("MESHUP_TOOLS_DIR", self.cache())
            .env("MESHUP_MINIKUBE_MIRROR", self.mirror.url("minikube"))
            .env("MESHUP_ISTIO_MIRROR", self.mirror.url("istio"))
            .env("MESHUP_KUBECTL_MIRROR", self.mirror.url("kubectl"))
            .env("MESHUP_DOWNLOAD_TIMEOUT_MS", "300")
            .env("MESHUP_DOWNLOAD_RETRIES", "1")
            .env("MESHUP_DOWNLOAD_BACKOFF_MS", "1")
            .timeout(std::time::Duration::from_secs(60));
        cmd
    }
}

/// Nothing at all under the cache: no tool, no partial file, no partial folder.
fn assert_empty(dir: &Path) {
    assert_eq!(files_under(dir), Vec::<String>::new());
    for tool in ["minikube", "istioctl", "kubectl"] {
        let left: Vec<_> = std::fs::read_dir(dir.join(tool))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}

#[test]
fn the_seed_scenario_gets_minikube_1_24_from_the_mirror_and_a_second_run_downloads_nothing() {
    let w = World::new();
    publish_seed_tools(&w.mirror);
    let out = w
        .meshup(&["tools", "install", "--k8s", "v1.15.10", "--istio", "1.5.0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("✓ minikube v1.24.0 (cached)"), "{text}");
    assert!(
        text.contains("minikube v1.38.1 on PATH refuses Kubernetes v1.15.10"),
        "{text}"
    );
    assert!(text.contains("✓ istioctl 1.5.0 (cached)"), "{text}");
    let minikube = w.cache().join("minikube/v1.24.0/minikube");
    assert_eq!(
        std::fs::read(&minikube).unwrap(),
        fake_binary("minikube", "v1.24.0")
    );
    assert!(
        w.cache()
            .join("istioctl/1.5.0/profiles/default.yaml")
            .is_file()
    );

    let requests = w.mirror.requests();
    assert!(
        requests.contains(&"GET /minikube/v1.24.0/minikube-linux-amd64".to_string()),
        "{requests:?}"
    );
    let out = w
        .meshup(&["tools", "install", "--k8s", "v1.15.10", "--istio", "1.5.0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        w.mirror.requests(),
        requests,
        "the second run made requests"
    );

    let out = w
        .meshup(&["tools", "list", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed: Vec<String> = json["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{}@{}",
                t["tool"].as_str().unwrap(),
                t["version"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        listed,
        ["minikube@v1.24.0", "istioctl@1.5.0", "kubectl@v1.15.10"]
    );
}

#[test]
fn every_bad_download_is_exit_4_with_a_clear_error_and_nothing_in_the_cache() {
    const MINIKUBE: &str = "minikube/v1.24.0/minikube-linux-amd64";
    const ISTIO: &str = "istio/1.6.0/istio-1.6.0-linux-amd64.tar.gz";
    type Setup = fn(&Mirror);
    let cases: [(&str, &str, Setup, &str); 6] = [
        (
            "wrong .sha256",
            "minikube@v1.24.0",
            |m| {
                publish(m, MINIKUBE, fake_binary("minikube", "v1.24.0"));
                m.serve(
                    &format!("{MINIKUBE}.sha256"),
                    Reply::Body(format!("{}\n", sha256(b"x")).into_bytes()),
                );
            },
            "checksum mismatch",
        ),
        (
            "truncated",
            "minikube@v1.24.0",
            |m| {
                publish(m, MINIKUBE, fake_binary("minikube", "v1.24.0"));
                m.serve(
                    MINIKUBE,
                    Reply::Truncated {
                        body: b"#!/bin/sh".to_vec(),
                        claimed: 4096,
                    },
                );
            },
            "ended early",
        ),
        (
            "../../x",
            "istioctl@1.6.0",
            |m| {
                let evil = Entry::RawFile {
                    path: "../../x".into(),
                    body: b"x".to_vec(),
                };
                publish(
                    m,
                    ISTIO,
                    istio_archive("1.6.0", "manifests/profiles", vec![evil]),
                );
            },
            "unsafe entry \"../../x\"",
        ),
        (
            "symlink out",
            "istioctl@1.6.0",
            |m| {
                let evil = Entry::Symlink {
                    path: "istio-1.6.0/bin/kubectl".into(),
                    target: "/usr/bin/kubectl".into(),
                };
                publish(
                    m,
                    ISTIO,
                    istio_archive("1.6.0", "manifests/profiles", vec![evil]),
                );
            },
            "a link pointing outside the archive",
        ),
        ("404", "istioctl@1.6.0", |_| {}, "(HTTP 404)"),
        (
            "stalled",
            "minikube@v1.24.0",
            |m| {
                publish(m, MINIKUBE, fake_binary("minikube", "v1.24.0"));
                m.serve(MINIKUBE, Reply::Stall);
            },
            "sent nothing for 300ms",
        ),
    ];
    for (name, spec, setup, message) in cases {
        let w = World::new();
        setup(&w.mirror);
        let out = w.meshup(&["tools", "install", spec]).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(4), "{name}: {err}");
        assert!(err.contains(message), "{name}: {err}");
        assert!(err.contains("hint"), "{name} gives no advice: {err}");
        assert_empty(&w.cache());
    }
}

#[test]
fn locked_refuses_a_file_whose_sha256_differs_from_the_lock() {
    let w = World::new();
    publish_seed_tools(&w.mirror);
    let out = w
        .meshup(&["lock", "--k8s", "v1.15.10", "--istio", "1.5.0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lock = std::fs::read_to_string(w.tmp.path().join("meshup.lock")).unwrap();
    assert!(lock.contains("lockVersion: 1"), "{lock}");
    assert!(
        lock.contains(&sha256(&fake_binary("minikube", "v1.24.0"))),
        "{lock}"
    );

    // The mirror now serves a different minikube with a matching .sha256.
    publish(
        &w.mirror,
        "minikube/v1.24.0/minikube-linux-amd64",
        fake_binary("minikube", "evil"),
    );
    let out = w
        .meshup(&[
            "tools", "install", "--locked", "--k8s", "v1.15.10", "--istio", "1.5.0",
        ])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("meshup.lock"), "{err}");
    assert!(!w.cache().join("minikube/v1.24.0").exists());
    let out = w
        .meshup(&["lock", "--check", "--k8s", "v1.15.10", "--istio", "1.5.0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));

    // Without --locked the .sha256 agrees with the file, which is exactly why the lock matters.
    let out = w
        .meshup(&["tools", "install", "--k8s", "v1.15.10", "--istio", "1.5.0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_bad_tool_spec_is_a_usage_error() {
    let w = World::new();
    let out = w
        .meshup(&["tools", "install", "helm@3.0.0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(w.mirror.requests().is_empty());
}

/// Issue 13: every JSON document meshup prints carries its `schema`, first.
#[test]
fn tools_json_documents_carry_a_schema() {
    let w = World::new();
    for (args, schema) in [
        (
            &["tools", "list", "--output", "json"][..],
            "meshup.tools.list/v1",
        ),
        (
            &["tools", "prune", "--dry-run", "--output", "json"][..],
            "meshup.tools.prune/v1",
        ),
        (
            &["tools", "prune", "--output", "json"][..],
            "meshup.tools.prune/v1",
        ),
    ] {
        let out = w.meshup(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        let text = stdout(&out);
        let json: serde_json::Value = serde_json::from_str(&text).expect("one JSON document");
        assert_eq!(json["schema"], schema, "{args:?}: {text}");
        assert!(
            text.trim_start().starts_with("{\n  \"schema\""),
            "{args:?}: schema is not the first field\n{text}"
        );
    }
}
