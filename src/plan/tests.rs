use std::path::PathBuf;

use super::*;
use crate::compat::Version;
use crate::compat::archives::{Arch, Os, Platform};
use crate::host::probe::ProbedTools;
use crate::scenario::{Layer, Scalar, Sourced, resolve};
use crate::tools::cache::Cache;
use crate::tools::{DownloadConfig, Installer, Origin, Sources, Tool};

fn scenario(pairs: &[(&str, &str)]) -> Scenario {
    let mut layer = Layer::default();
    for (path, value) in pairs {
        let v = Sourced::new(
            Scalar::Str(value.to_string()),
            crate::scenario::Origin::Flag("--test"),
        );
        assert!(layer.set_path(path, v), "{path}");
    }
    resolve(&[layer]).expect("valid")
}

fn on_path(version: &str) -> ToolProbe {
    ToolProbe::Found {
        path: PathBuf::from("/usr/bin/tool"),
        version: Version::parse(version),
        problem: None,
    }
}

/// A mirror that is never asked: resolution builds URLs and reads the cache, nothing more.
const MIRROR: &str = "http://127.0.0.1:9/mirror";

fn installer(cache: &std::path::Path) -> Installer {
    let platform = Platform {
        os: Os::Linux,
        arch: Arch::Amd64,
    };
    Installer::new(
        Cache::at(cache),
        platform,
        Sources::single(MIRROR),
        DownloadConfig::default(),
    )
    .unwrap()
}

/// What the command layer does: `tools::resolve` on the probes' answers, into `Probes::tools`.
async fn resolved(s: &Scenario, mut probes: Probes, installer: &Installer) -> Probes {
    let req = request(s, &probes);
    let r = crate::tools::resolve::resolve(&req, &ProbedTools(&probes), installer, None)
        .await
        .unwrap();
    probes.tools = ToolResolution::Resolved(Box::new(r));
    probes
}

#[tokio::test]
async fn kubernetes_1_15_fetches_the_last_minikube_that_starts_it() {
    let cache = tempfile::tempdir().unwrap();
    let installer = installer(cache.path());
    let s = scenario(&[("cluster.kubernetes", "v1.15.10"), ("mesh.istio", "1.5.0")]);
    let probes = Probes {
        minikube: on_path("v1.38.1"),
        ..Probes::default()
    };
    let plan = build(&s, &resolved(&s, probes, &installer).await);
    let v1_24 = semver::Version::new(1, 24, 0);
    assert_eq!(
        plan.tools[0].source,
        Origin::Download {
            url: installer.url(Tool::Minikube, &v1_24).unwrap(),
            path: cache.path().join("minikube/v1.24.0/minikube"),
        }
    );
    // The mirror's URL, with upstream's layout below it.
    assert_eq!(
        installer.url(Tool::Minikube, &v1_24).unwrap(),
        format!("{MIRROR}/minikube/v1.24.0/minikube-linux-amd64")
    );
    // Istio 1.5 comes from its full release archive, which has the profiles.
    assert!(
        matches!(&plan.tools[1].source, Origin::Download { url, .. } if url.ends_with("/istio/1.5.0/istio-1.5.0-linux.tar.gz")),
        "{:?}",
        plan.tools[1]
    );
    assert!(plan.tools[0].reason.contains("refuses Kubernetes v1.15.10"));
    let probes = Probes {
        minikube: on_path("v1.24.0"),
        ..Probes::default()
    };
    assert!(matches!(
        build(&s, &resolved(&s, probes, &installer).await).tools[0].source,
        Origin::Path { .. }
    ));
}

#[tokio::test]
async fn a_cached_tool_beats_a_download() {
    let cache = tempfile::tempdir().unwrap();
    let installer = installer(cache.path());
    let dir = cache.path().join("istioctl/1.5.0");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("istioctl"), "#!/bin/sh\n").unwrap();
    let meta = crate::tools::cache::Meta {
        tool: Tool::Istioctl,
        version: "1.5.0".into(),
        platform: "linux-amd64".into(),
        url: format!("{MIRROR}/istio/1.5.0/istio-1.5.0-linux.tar.gz"),
        sha256: "a".repeat(64),
        bytes: 10,
        installed_at: "2025-01-01T00:00:00.000Z".into(),
    };
    crate::tools::cache::write_meta(&dir, &meta).unwrap();
    let s = scenario(&[("mesh.istio", "1.5.0"), ("cluster.kubernetes", "v1.15.10")]);
    let plan = build(&s, &resolved(&s, Probes::default(), &installer).await);
    assert_eq!(
        plan.tools[1].source,
        Origin::Cache {
            path: dir.join("istioctl")
        }
    );
}

#[test]
fn kubectl_is_planned_when_istio_1_5_or_the_manifest_method_runs_it() {
    let seed = scenario(&[("mesh.istio", "1.5.0"), ("cluster.kubernetes", "v1.15.10")]);
    assert!(request(&seed, &Probes::default()).kubectl);
    let manifest = scenario(&[("mesh.istio", "1.21"), ("mesh.method", "manifest")]);
    assert!(request(&manifest, &Probes::default()).kubectl);
    let plain = scenario(&[("mesh.istio", "1.21")]);
    assert!(!request(&plain, &Probes::default()).kubectl);
}

#[test]
fn stable_and_latest_follow_the_minikube_that_will_be_used() {
    let s = scenario(&[]);
    let probes = Probes {
        minikube: on_path("v1.24.0"),
        ..Probes::default()
    };
    let plan = build(&s, &probes);
    assert_eq!(plan.resolved.kubernetes, "v1.22.3");
    // Istio 1.30 does not support 1.22: the newest that does is picked, with the reason.
    assert_eq!(plan.resolved.istio, "1.16.7");
    assert!(
        plan.resolved
            .istio_reason
            .contains("supports Kubernetes 1.22")
    );
    let latest = build(
        &scenario(&[("cluster.kubernetes", "latest")]),
        &Probes::default(),
    );
    assert_eq!(latest.resolved.kubernetes, "v1.35.1");
}

#[test]
fn tunnel_off_skips_the_stage_and_the_address_checks() {
    let plan = build(&scenario(&[("tunnel", "off")]), &Probes::default());
    let tunnel = &plan.stages[3];
    assert_eq!(tunnel.name, StageName::Tunnel);
    assert_eq!(tunnel.skipped.as_deref(), Some("tunnel: off"));
    let verify = plan.stages.last().unwrap();
    assert_eq!(verify.name, StageName::Verify);
    assert_eq!(verify.needs, [StageName::Mesh, StageName::Smoke]);
    assert!(!verify.steps.iter().any(|s| s.contains("LoadBalancer")));
}

#[test]
fn explicit_jwt_policy_is_passed_and_unsupported_combinations_fail_the_plan() {
    let s = scenario(&[
        ("mesh.istio", "1.21"),
        ("cluster.kubernetes", "1.27"),
        ("mesh.jwtPolicy", "first-party-jwt"),
    ]);
    let plan = build(&s, &Probes::default());
    let line = plan.stages[4].commands[0].to_string();
    assert!(
        line.contains("--set values.global.jwtPolicy=first-party-jwt"),
        "{line}"
    );
    let s = scenario(&[
        ("mesh.istio", "1.22"),
        ("mesh.jwtPolicy", "first-party-jwt"),
    ]);
    let plan = build(&s, &Probes::default());
    assert!(
        plan.errors(Some(Scope::Versions))
            .any(|f| f.code == "jwt-first-party-removed")
    );
}

#[test]
fn the_smoke_workload_waits_for_the_cluster_not_the_mesh() {
    let plan = build(&scenario(&[]), &Probes::default());
    let smoke = plan
        .stages
        .iter()
        .find(|s| s.name == StageName::Smoke)
        .unwrap();
    assert_eq!(smoke.needs, [StageName::Cluster]);
    let verify = plan.stages.last().unwrap();
    assert_eq!(
        verify.needs,
        [StageName::Mesh, StageName::Tunnel, StageName::Smoke]
    );
}

#[test]
fn the_plan_lists_every_stage_in_the_order_stage_name_all_gives() {
    let plan = build(&scenario(&[]), &Probes::default());
    let names: Vec<StageName> = plan.stages.iter().map(|s| s.name).collect();
    assert_eq!(names, StageName::ALL);
}
