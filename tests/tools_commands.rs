//! `meshup tools list|install|prune`, `meshup lock` and the locked start path, driven through
//! their command functions against a loopback mirror; errors are checked for the exit code
//! `main` derives from them.

#[path = "common/fixtures.rs"]
mod fixtures;
#[path = "common/mirror.rs"]
mod mirror;

use std::time::Duration;

use fixtures::{fake_binary, files_under, publish, publish_seed_tools};
use meshup::commands::lock::{LockArgs, lock};
use meshup::commands::tools::{InstallArgs, PruneArgs, ToolsContext, install, list, prune};
use meshup::compat::archives::{Arch, Os, Platform};
use meshup::error::{ExitKind, exit_kind_of};
use meshup::host::probe::ProbedTools;
use meshup::plan::Probes;
use meshup::tools::cache::Cache;
use meshup::tools::{
    DownloadConfig, Installer, Lock, PrepareOptions, Quiet, Request, Sources, Tool, prepare,
};
use mirror::{Mirror, Reply};
use semver::Version;

const LINUX: Platform = Platform {
    os: Os::Linux,
    arch: Arch::Amd64,
};

struct World {
    mirror: Mirror,
    tmp: tempfile::TempDir,
    /// The host probe's answers: no tool on PATH.
    nothing: Probes,
}

impl World {
    fn new() -> World {
        World {
            mirror: Mirror::start(),
            tmp: tempfile::tempdir().unwrap(),
            nothing: Probes::default(),
        }
    }

    fn installer(&self) -> Installer {
        let cfg = DownloadConfig {
            read_timeout: Duration::from_millis(500),
            retries: 0,
            ..DownloadConfig::default()
        };
        Installer::new(
            Cache::at(self.tmp.path().join("tools")),
            LINUX,
            Sources::single(&self.mirror.url("")),
            cfg,
        )
        .unwrap()
    }

    fn ctx(&self, scenarios: Vec<(String, Request)>) -> ToolsContext {
        ToolsContext {
            installer: self.installer(),
            scenarios,
            lock: None,
        }
    }

    /// A probe that finds nothing on PATH.
    fn probe(&self) -> ProbedTools<'_> {
        ProbedTools(&self.nothing)
    }
}

/// `tools install <spec>` with nothing else set.
fn install_args(spec: &str) -> InstallArgs {
    InstallArgs {
        specs: vec![spec.into()],
        ..InstallArgs::default()
    }
}

fn seed() -> Request {
    Request {
        kubernetes: Version::new(1, 15, 10),
        istio: Version::new(1, 5, 0),
        kubectl: true,
    }
}

#[tokio::test]
async fn install_list_and_prune() {
    let w = World::new();
    publish_seed_tools(&w.mirror);
    publish(
        &w.mirror,
        "minikube/v1.38.1/minikube-linux-amd64",
        fake_binary("minikube", "v1.38.1"),
    );
    let ctx = w.ctx(vec![("seed-istio-1.5-k8s-1.15".into(), seed())]);
    let specs = [
        "minikube@v1.24.0",
        "istioctl@1.5.0",
        "kubectl@v1.15.10",
        "minikube@v1.38.1",
    ];
    let args = InstallArgs {
        specs: specs.iter().map(|s| s.to_string()).collect(),
        ..InstallArgs::default()
    };
    let report = install(&ctx, &args, &Quiet).await.unwrap();
    assert!(report.installed.iter().all(|t| t.downloaded));
    let text = report.to_string();
    assert!(
        text.contains("✓ minikube v1.24.0 (downloaded, sha256 verified)"),
        "{text}"
    );

    // Installing again downloads nothing.
    let requests = w.mirror.requests().len();
    let again = install(&ctx, &args, &Quiet).await.unwrap();
    assert!(again.installed.iter().all(|t| !t.downloaded));
    assert_eq!(w.mirror.requests().len(), requests);

    // An interrupted download leaves a .partial folder that list reports and prune removes.
    std::fs::create_dir_all(w.tmp.path().join("tools/minikube/.v1.30.0.partial-abc123")).unwrap();
    let listed = list(&ctx);
    assert_eq!(listed.tools.len(), 4);
    let seed_users: Vec<_> = listed
        .tools
        .iter()
        .filter(|t| !t.used_by.is_empty())
        .map(|t| (t.tool, t.version.as_str()))
        .collect();
    assert_eq!(
        seed_users,
        [
            (Tool::Minikube, "v1.24.0"),
            (Tool::Istioctl, "1.5.0"),
            (Tool::Kubectl, "v1.15.10")
        ]
    );
    let table = listed.to_string();
    assert!(table.starts_with("TOOL "), "{table}");
    assert!(table.contains("1 interrupted download(s)"), "{table}");
    let json = serde_json::to_value(&listed).unwrap();
    assert_eq!(json["tools"][0]["usedBy"][0], "seed-istio-1.5-k8s-1.15");

    let dry = prune(
        &ctx,
        &PruneArgs {
            all: false,
            dry_run: true,
        },
    )
    .unwrap();
    assert_eq!(dry.removed.len(), 2);
    assert_eq!(list(&ctx).tools.len(), 4, "a dry run removes nothing");
    let pruned = prune(
        &ctx,
        &PruneArgs {
            all: false,
            dry_run: false,
        },
    )
    .unwrap();
    assert_eq!(pruned.removed.len(), 2, "{pruned}");
    assert!(!w.tmp.path().join("tools/minikube/v1.38.1").exists());
    assert!(
        !w.tmp
            .path()
            .join("tools/minikube/.v1.30.0.partial-abc123")
            .exists()
    );
    assert_eq!(list(&ctx).tools.len(), 3);
    prune(
        &ctx,
        &PruneArgs {
            all: true,
            dry_run: false,
        },
    )
    .unwrap();
    assert_eq!(
        files_under(&w.tmp.path().join("tools")),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_bad_download_through_install_is_exit_4_and_leaves_nothing() {
    let w = World::new();
    let path = "minikube/v1.24.0/minikube-linux-amd64";
    publish(&w.mirror, path, fake_binary("minikube", "v1.24.0"));
    w.mirror
        .serve(path, Reply::Body(fake_binary("minikube", "tampered")));
    let ctx = w.ctx(vec![]);
    let err = install(&ctx, &install_args("minikube@v1.24.0"), &Quiet)
        .await
        .unwrap_err();
    assert_eq!(exit_kind_of(&err), Some(ExitKind::Tools), "{err:#}");
    assert_eq!(files_under(w.tmp.path()), Vec::<String>::new());

    let err = install(&ctx, &install_args("helm@3.0.0"), &Quiet)
        .await
        .unwrap_err();
    assert_eq!(exit_kind_of(&err), Some(ExitKind::Usage), "{err:#}");
}

#[tokio::test]
async fn lock_then_locked_runs_use_exactly_the_locked_files() {
    let w = World::new();
    publish_seed_tools(&w.mirror);
    let scenario = w.tmp.path().join("scenarios/seed.yaml");
    std::fs::create_dir_all(scenario.parent().unwrap()).unwrap();
    let installer = w.installer();

    let report = lock(
        &seed(),
        Some(&scenario),
        &LockArgs::default(),
        &installer,
        &w.probe(),
    )
    .await
    .unwrap();
    assert!(report.changed);
    // `meshup lock` pins from the .sha256 files; only kubectl v1.15, which publishes a
    // .sha512 only, is downloaded (verified against it) so its sha256 can be computed.
    let large: Vec<String> = w
        .mirror
        .requests()
        .into_iter()
        .filter(|r| !r.ends_with(".sha256") && !r.ends_with(".sha512"))
        .collect();
    assert_eq!(large, ["GET /kubectl/v1.15.10/bin/linux/amd64/kubectl"]);
    assert!(
        w.tmp
            .path()
            .join("tools/kubectl/v1.15.10/kubectl")
            .is_file(),
        "{:?}",
        w.mirror.requests()
    );
    let lock_path = w.tmp.path().join("scenarios/meshup.lock");
    let written = Lock::read(&lock_path).unwrap().unwrap();
    assert_eq!(written.tools[&Tool::Minikube].version, "v1.24.0");
    assert_eq!(written.platform, "linux-amd64");
    let check = LockArgs {
        check: true,
        ..LockArgs::default()
    };
    lock(&seed(), Some(&scenario), &check, &installer, &w.probe())
        .await
        .unwrap();

    // A locked run downloads and verifies against the lock, not against the .sha256 files.
    let opts = PrepareOptions {
        locked: true,
        scenario: Some(scenario.clone()),
        ..PrepareOptions::default()
    };
    let before = w.mirror.requests().len();
    let (resolution, paths) = prepare(&seed(), &opts, &installer, &w.probe(), &Quiet)
        .await
        .unwrap();
    assert!(resolution.all().iter().all(|r| r.sha256.is_some()));
    assert!(
        paths
            .minikube
            .starts_with(w.tmp.path().join("tools/minikube/v1.24.0"))
    );
    assert!(
        w.mirror.requests()[before..]
            .iter()
            .all(|r| !r.ends_with(".sha256"))
    );

    // The mirror now serves another minikube (with a matching .sha256): --locked refuses it.
    prune(
        &w.ctx(vec![]),
        &PruneArgs {
            all: true,
            dry_run: false,
        },
    )
    .unwrap();
    publish(
        &w.mirror,
        "minikube/v1.24.0/minikube-linux-amd64",
        fake_binary("minikube", "rebuilt"),
    );
    let err = prepare(&seed(), &opts, &installer, &w.probe(), &Quiet)
        .await
        .unwrap_err();
    let failure = meshup::error::Failure::from(err);
    assert_eq!(failure.kind, ExitKind::Tools, "{}", failure.message);
    assert!(
        failure.message.contains("meshup.lock"),
        "{}",
        failure.message
    );
    assert!(!w.tmp.path().join("tools/minikube/v1.24.0").exists());
    let err = lock(&seed(), Some(&scenario), &check, &installer, &w.probe())
        .await
        .unwrap_err();
    assert_eq!(exit_kind_of(&err), Some(ExitKind::Tools), "{err:#}");

    // --locked without a lock file is exit 4 too; CI mode without one just resolves.
    std::fs::remove_file(&lock_path).unwrap();
    let err = prepare(&seed(), &opts, &installer, &w.probe(), &Quiet)
        .await
        .unwrap_err();
    assert_eq!(meshup::error::Failure::from(err).kind, ExitKind::Tools);
    let ci = PrepareOptions {
        ci: true,
        scenario: Some(scenario),
        ..PrepareOptions::default()
    };
    prepare(&seed(), &ci, &installer, &w.probe(), &Quiet)
        .await
        .unwrap();
}
