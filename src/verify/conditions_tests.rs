//! Each condition on YAML fixtures: holds, does not hold, object missing.

use serde_json::Value;

use super::conditions::*;

fn load<T: serde::de::DeserializeOwned>(yaml: &str) -> T {
    serde_yaml::from_str(yaml).unwrap()
}

#[test]
fn deployment_available_true_false_missing() {
    let ok = load(include_str!("fixtures/istiod-available.yaml"));
    assert_eq!(deployment_available(Some(&ok), "istiod"), Ok(()));
    let not = load(include_str!("fixtures/gateway-unavailable.yaml"));
    assert_eq!(
        deployment_available(Some(&not), "istio-ingressgateway"),
        Err("istio-ingressgateway: 0/1 available".into())
    );
    assert_eq!(
        deployment_available(None, "istiod"),
        Err("deployment istiod does not exist".into())
    );
}

#[test]
fn load_balancer_address_true_false_missing() {
    let ready = load(include_str!("fixtures/lb-ready.yaml"));
    assert_eq!(
        load_balancer_address(Some(&ready), "lb"),
        Ok("127.0.0.1".into())
    );
    let pending = load(include_str!("fixtures/lb-pending.yaml"));
    assert!(
        load_balancer_address(Some(&pending), "lb")
            .unwrap_err()
            .contains("<pending>")
    );
    assert!(
        load_balancer_address(None, "lb")
            .unwrap_err()
            .contains("does not exist")
    );
}

#[test]
fn status_port_by_name_else_by_istio_version() {
    let pending = load(include_str!("fixtures/lb-pending.yaml"));
    assert_eq!(status_port(&pending, Some(5)), 15020);
    let ready = load(include_str!("fixtures/lb-ready.yaml"));
    assert_eq!(status_port(&ready, Some(5)), 15020);
    assert_eq!(status_port(&ready, Some(6)), 15021);
    assert_eq!(status_port(&ready, None), 15021);
}

#[test]
fn sidecar_ready_native_not_injected_unready_missing() {
    let p = load(include_str!("fixtures/pod-sidecar-ready.yaml"));
    assert_eq!(sidecar(Some(&p), "s"), Sidecar::Ready);
    let p = load(include_str!("fixtures/pod-native-sidecar-ready.yaml"));
    assert_eq!(sidecar(Some(&p), "s"), Sidecar::Ready);
    let p = load(include_str!("fixtures/pod-not-injected.yaml"));
    assert_eq!(sidecar(Some(&p), "s"), Sidecar::NotInjected);
    let p = load(include_str!("fixtures/pod-proxy-unready.yaml"));
    assert_eq!(
        sidecar(Some(&p), "s"),
        Sidecar::Waiting("pod s: containers with unready status: [istio-proxy]".into())
    );
    assert!(matches!(sidecar(None, "s"), Sidecar::Waiting(m) if m.contains("does not exist")));
}

#[test]
fn drift_is_a_running_pod_without_proxy() {
    let p = load(include_str!("fixtures/pod-not-injected.yaml"));
    assert!(drifted(&p));
    let p = load(include_str!("fixtures/pod-sidecar-ready.yaml"));
    assert!(!drifted(&p));
    let mut p: k8s_openapi::api::core::v1::Pod =
        load(include_str!("fixtures/pod-not-injected.yaml"));
    p.metadata.annotations =
        Some([("sidecar.istio.io/inject".to_string(), "false".to_string())].into());
    assert!(!drifted(&p), "opted out");
}

#[test]
fn injector_found_by_name_or_webhook_with_its_revision() {
    let list: Vec<Value> = load(include_str!("fixtures/mwc-1.5.yaml"));
    assert_eq!(
        injector(&list),
        Some(("istio-sidecar-injector".into(), None))
    );
    let list: Vec<Value> = load(include_str!("fixtures/mwc-canary.yaml"));
    assert_eq!(
        injector(&list),
        Some((
            "istio-sidecar-injector-canary".into(),
            Some("canary".into())
        ))
    );
    assert_eq!(injector(&list[..0]), None);
}

#[test]
fn namespaces_asking_for_injection() {
    let ns = |labels: &str| -> k8s_openapi::api::core::v1::Namespace {
        load(&format!("metadata: {{name: x, labels: {labels}}}"))
    };
    assert!(injection_requested(&ns("{istio-injection: enabled}")));
    assert!(!injection_requested(&ns(
        "{istio-injection: disabled, istio.io/rev: canary}"
    )));
    assert!(injection_requested(&ns("{istio.io/rev: canary}")));
    assert!(!injection_requested(&ns("{}")));
}

#[test]
fn routed_needs_200_from_envoy() {
    assert_eq!(routed(200, Some("istio-envoy")), Ok(()));
    assert!(routed(200, Some("nginx")).is_err());
    assert_eq!(routed(503, Some("istio-envoy")), Err("answered 503".into()));
}
