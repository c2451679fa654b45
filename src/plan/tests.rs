use std::path::PathBuf;

use super::*;
use crate::compat::Version;
use crate::scenario::{Layer, Origin, Scalar, Sourced, resolve};

fn scenario(pairs: &[(&str, &str)]) -> Scenario {
    let mut layer = Layer::default();
    for (path, value) in pairs {
        let v = Sourced::new(Scalar::Str(value.to_string()), Origin::Flag("--test"));
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

#[test]
fn kubernetes_1_15_fetches_the_last_minikube_that_starts_it() {
    let s = scenario(&[("cluster.kubernetes", "v1.15.10"), ("mesh.istio", "1.5.0")]);
    let probes = Probes {
        minikube: on_path("v1.38.1"),
        ..Probes::default()
    };
    let plan = build(&s, &probes);
    assert_eq!(
        plan.tools[0].source,
        ToolSource::Download {
            version: "v1.24.0".into(),
            url: tools::download_url(Tool::Minikube, &Version::parse("1.24.0").unwrap()),
        }
    );
    let probes = Probes {
        minikube: on_path("v1.24.0"),
        ..Probes::default()
    };
    assert!(matches!(
        build(&s, &probes).tools[0].source,
        ToolSource::Path { .. }
    ));
}

#[test]
fn a_cached_tool_beats_a_download() {
    let s = scenario(&[("mesh.istio", "1.5.0"), ("cluster.kubernetes", "v1.15.10")]);
    let probes = Probes {
        cached: vec![Cached {
            tool: Tool::Istioctl,
            version: Version::parse("1.5.0").unwrap(),
            path: "/cache/istioctl".into(),
        }],
        ..Probes::default()
    };
    let plan = build(&s, &probes);
    assert_eq!(
        plan.tools[1].source,
        ToolSource::Cache {
            path: "/cache/istioctl".into()
        }
    );
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
    assert_eq!(plan.stages[5].needs, [StageName::Mesh]);
    assert!(
        !plan.stages[5]
            .steps
            .iter()
            .any(|s| s.contains("LoadBalancer"))
    );
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
