//! What each check waits for, as pure functions of the objects a watch delivers: `Ok(..)` when
//! the condition holds, `Err(what is still missing)` otherwise — the text an expired check
//! shows ("istio-ingressgateway: 0/1 available; pod x: containers with unready status: [..]").
//! Facts: research/istio.md §6.2–6.7.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use serde_json::Value;

/// The container name Istio injects (research/istio.md §6.6).
pub const PROXY: &str = "istio-proxy";

fn condition<'a>(
    conds: Option<&'a Vec<impl HasCondition>>,
    kind: &str,
) -> Option<&'a dyn HasCondition> {
    conds?
        .iter()
        .find(|c| c.kind() == kind)
        .map(|c| c as &dyn HasCondition)
}

trait HasCondition {
    fn kind(&self) -> &str;
    fn status(&self) -> &str;
    fn message(&self) -> Option<&str>;
}

impl HasCondition for k8s_openapi::api::apps::v1::DeploymentCondition {
    fn kind(&self) -> &str {
        &self.type_
    }
    fn status(&self) -> &str {
        &self.status
    }
    fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}

impl HasCondition for k8s_openapi::api::core::v1::PodCondition {
    fn kind(&self) -> &str {
        &self.type_
    }
    fn status(&self) -> &str {
        &self.status
    }
    fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}

/// A Deployment is Available (its `Available` condition is True and as many replicas are
/// available as wanted). `None`: it does not exist.
pub fn deployment_available(d: Option<&Deployment>, name: &str) -> Result<(), String> {
    let Some(d) = d else {
        return Err(format!("deployment {name} does not exist"));
    };
    let status = d.status.as_ref();
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let have = status.and_then(|s| s.available_replicas).unwrap_or(0);
    let available = condition(status.and_then(|s| s.conditions.as_ref()), "Available")
        .is_some_and(|c| c.status() == "True");
    if available && have >= want {
        Ok(())
    } else {
        Err(format!("{name}: {have}/{want} available"))
    }
}

/// The first ingress address of a LoadBalancer Service.
pub fn load_balancer_address(s: Option<&Service>, name: &str) -> Result<String, String> {
    let Some(s) = s else {
        return Err(format!("service {name} does not exist"));
    };
    let ingress = s
        .status
        .as_ref()
        .and_then(|st| st.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .and_then(|i| i.first());
    match ingress.and_then(|i| i.ip.clone().or_else(|| i.hostname.clone())) {
        Some(addr) => Ok(addr),
        None => Err(format!(
            "service {name} has no external address (EXTERNAL-IP <pending>)"
        )),
    }
}

/// The port of a gateway Service answering `/healthz/ready`: the port named `status-port`,
/// else 15020 on Istio 1.5 and 15021 from 1.6 (research/istio.md §6.7).
pub fn status_port(s: &Service, istio_minor: Option<u32>) -> u16 {
    let named = s
        .spec
        .as_ref()
        .and_then(|sp| sp.ports.as_ref())
        .and_then(|ps| ps.iter().find(|p| p.name.as_deref() == Some("status-port")))
        .and_then(|p| u16::try_from(p.port).ok());
    named.unwrap_or(match istio_minor {
        Some(m) if m <= 5 => 15020,
        _ => 15021,
    })
}

pub(crate) fn pod_ready(p: &Pod) -> bool {
    condition(
        p.status.as_ref().and_then(|s| s.conditions.as_ref()),
        "Ready",
    )
    .is_some_and(|c| c.status() == "True")
}

/// Where the pod's `istio-proxy` is: a classic container, or a native sidecar (an init
/// container with `restartPolicy: Always`, Istio ≥ 1.27 on Kubernetes ≥ 1.33, §6.6).
pub fn has_proxy(p: &Pod) -> bool {
    let Some(spec) = p.spec.as_ref() else {
        return false;
    };
    spec.containers.iter().any(|c| c.name == PROXY)
        || spec
            .init_containers
            .iter()
            .flatten()
            .any(|c| c.name == PROXY && c.restart_policy.as_deref() == Some("Always"))
}

fn proxy_ready(p: &Pod) -> bool {
    let Some(status) = p.status.as_ref() else {
        return false;
    };
    status
        .container_statuses
        .iter()
        .flatten()
        .chain(status.init_container_statuses.iter().flatten())
        .any(|s| s.name == PROXY && s.ready)
}

/// What the smoke Pod says about injection.
#[derive(Debug, Clone, PartialEq)]
pub enum Sidecar {
    /// Ready, with a ready `istio-proxy`.
    Ready,
    /// Ready without `istio-proxy`: injection did not happen. A failure, not a pass.
    NotInjected,
    /// Not there yet; what is missing.
    Waiting(String),
}

pub fn sidecar(p: Option<&Pod>, name: &str) -> Sidecar {
    let Some(p) = p else {
        return Sidecar::Waiting(format!("pod {name} does not exist"));
    };
    if pod_ready(p) {
        return if !has_proxy(p) {
            Sidecar::NotInjected
        } else if proxy_ready(p) {
            Sidecar::Ready
        } else {
            Sidecar::Waiting(format!("pod {name}: {PROXY} not ready"))
        };
    }
    Sidecar::Waiting(pod_not_ready(p, name))
}

/// `pod x: containers with unready status: [istio-proxy]; istio-proxy: waiting (CrashLoopBackOff)`.
pub fn pod_not_ready(p: &Pod, name: &str) -> String {
    let status = p.status.as_ref();
    let ready = condition(status.and_then(|s| s.conditions.as_ref()), "Ready");
    let mut out = match ready.and_then(|c| c.message()) {
        Some(m) => format!("pod {name}: {m}"),
        None => format!(
            "pod {name}: {}",
            status
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "Pending".into())
        ),
    };
    for s in status.into_iter().flat_map(|s| {
        s.init_container_statuses
            .iter()
            .flatten()
            .chain(s.container_statuses.iter().flatten())
    }) {
        if let Some(w) = s.state.as_ref().and_then(|st| st.waiting.as_ref()) {
            let reason = w.reason.as_deref().unwrap_or("waiting");
            match w.message.as_deref() {
                Some(m) => out.push_str(&format!("; {}: {reason}: {m}", s.name)),
                None => out.push_str(&format!("; {}: {reason}", s.name)),
            }
        }
    }
    out
}

/// Whether a namespace asks for injection: `istio-injection=enabled`, or `istio.io/rev` with no
/// `istio-injection` label (research/istio.md §6.5).
pub fn injection_requested(ns: &Namespace) -> bool {
    let labels = ns.metadata.labels.as_ref();
    match labels.and_then(|l| l.get("istio-injection")) {
        Some(v) => v == "enabled",
        None => labels.is_some_and(|l| l.contains_key("istio.io/rev")),
    }
}

/// Pods running without a sidecar in a namespace labelled for injection (Istio's IST0103):
/// started before the label, or before the injector. Opted-out and host-network Pods and
/// finished Pods are not drift.
pub fn drifted(p: &Pod) -> bool {
    let opted_out = |m: Option<&std::collections::BTreeMap<String, String>>| {
        m.and_then(|m| m.get("sidecar.istio.io/inject"))
            .is_some_and(|v| v == "false")
    };
    let running = p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
    running
        && !has_proxy(p)
        && !opted_out(p.metadata.annotations.as_ref())
        && !opted_out(p.metadata.labels.as_ref())
        && p.spec.as_ref().and_then(|s| s.host_network) != Some(true)
}

/// The sidecar injector among MutatingWebhookConfigurations (as JSON: read through discovery,
/// `admissionregistration.k8s.io/v1beta1` on Kubernetes 1.15): `istio-sidecar-injector` or
/// `istio-sidecar-injector-<rev>`, or any with a `*sidecar-injector.istio.io` webhook. Returns
/// its name and the revision it injects for (`None`: the default one).
pub fn injector(configs: &[Value]) -> Option<(String, Option<String>)> {
    configs.iter().find_map(|c| {
        let name = c["metadata"]["name"].as_str()?;
        let istio = name.starts_with("istio-sidecar-injector")
            || c["webhooks"].as_array().is_some_and(|ws| {
                ws.iter().any(|w| {
                    w["name"]
                        .as_str()
                        .is_some_and(|n| n.ends_with("sidecar-injector.istio.io"))
                })
            });
        if !istio || name.starts_with("istio-revision-tag") {
            return None;
        }
        let rev = c["metadata"]["labels"]["istio.io/rev"]
            .as_str()
            .filter(|r| *r != "default")
            .map(String::from);
        Some((name.to_string(), rev))
    })
}

/// Istio's answer through the gateway: Envoy served it (`server: istio-envoy`) with 200.
pub fn routed(code: u16, server: Option<&str>) -> Result<(), String> {
    match (code, server) {
        (200, Some("istio-envoy")) => Ok(()),
        (200, other) => Err(format!(
            "answered 200 but not through Envoy (server: {})",
            other.unwrap_or("none")
        )),
        (code, _) => Err(format!("answered {code}")),
    }
}
