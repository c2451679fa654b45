//! `manifest generate`: a realistic manifest for the emulated version — CRDs and webhooks in
//! the group versions that version used, istiod (with 1.5's legacy `istio-pilot` Service), the
//! gateways with the version's ports, the `istio` ConfigMap carrying the mesh config.

use serde_json::{Value, json};

use super::gateways::{addon, gateway, gateway_ports};
use super::iop::{Istio, Settings};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    Base,
    Pilot,
    IngressGateways,
    EgressGateways,
    AddonComponents,
}

impl Component {
    /// The name in `operator.istio.io/component`.
    pub fn label(self) -> &'static str {
        match self {
            Component::Base => "Base",
            Component::Pilot => "Pilot",
            Component::IngressGateways => "IngressGateways",
            Component::EgressGateways => "EgressGateways",
            Component::AddonComponents => "AddonComponents",
        }
    }

    /// The name in 1.6+ progress lines.
    pub fn user_name(self) -> &'static str {
        match self {
            Component::Base => "Istio core",
            Component::Pilot => "Istiod",
            Component::IngressGateways => "Ingress gateways",
            Component::EgressGateways => "Egress gateways",
            Component::AddonComponents => "Addons",
        }
    }

    pub fn icon(self) -> &'static str {
        match self {
            Component::Base => "⛵️",
            Component::Pilot => "🧠",
            Component::IngressGateways => "🛬",
            Component::EgressGateways => "🛫",
            Component::AddonComponents => "✅",
        }
    }
}

pub struct Rendered {
    pub component: Component,
    pub objects: Vec<Value>,
}

pub(super) const NS: &str = "istio-system";

pub(super) fn labels(istio: &Istio, c: Component, extra: Value) -> Value {
    let mut l = json!({
        "operator.istio.io/component": c.label(),
        "operator.istio.io/managed": "Reconcile",
        "operator.istio.io/version": istio.version,
        "release": "istio",
    });
    if istio.minor >= 6 {
        l["install.operator.istio.io/owning-resource"] = json!("unknown");
    }
    if let (Some(m), Some(e)) = (l.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    l
}

fn crd_names(istio: &Istio) -> Vec<(&'static str, &'static str, &'static str)> {
    let m = istio.minor;
    let mut v = vec![
        ("networking.istio.io", "Gateway", "gateways"),
        ("networking.istio.io", "VirtualService", "virtualservices"),
        ("networking.istio.io", "DestinationRule", "destinationrules"),
        ("networking.istio.io", "ServiceEntry", "serviceentries"),
        ("networking.istio.io", "Sidecar", "sidecars"),
        ("networking.istio.io", "EnvoyFilter", "envoyfilters"),
        (
            "security.istio.io",
            "PeerAuthentication",
            "peerauthentications",
        ),
        (
            "security.istio.io",
            "RequestAuthentication",
            "requestauthentications",
        ),
        (
            "security.istio.io",
            "AuthorizationPolicy",
            "authorizationpolicies",
        ),
    ];
    if m <= 8 {
        v.extend([
            ("config.istio.io", "attributemanifest", "attributemanifests"),
            ("config.istio.io", "handler", "handlers"),
            ("config.istio.io", "instance", "instances"),
            ("config.istio.io", "rule", "rules"),
        ]);
    }
    if m >= 6 {
        v.push(("networking.istio.io", "WorkloadEntry", "workloadentries"));
    }
    if (6..=23).contains(&m) {
        v.push(("install.istio.io", "IstioOperator", "istiooperators"));
    }
    if m >= 9 {
        v.push(("networking.istio.io", "WorkloadGroup", "workloadgroups"));
    }
    if m >= 12 {
        v.push(("telemetry.istio.io", "Telemetry", "telemetries"));
        v.push(("extensions.istio.io", "WasmPlugin", "wasmplugins"));
    }
    if m >= 13 {
        v.push(("networking.istio.io", "ProxyConfig", "proxyconfigs"));
    }
    v
}

/// The versions a release's `crd-all.gen.yaml` serves for a kind, storage version first. Istio
/// never stops serving an older networking version: v1alpha3 stays next to v1beta1 (1.5+) and
/// v1 (1.22+); security.istio.io is v1beta1 (+ v1 from 1.22), telemetry v1alpha1 (+ v1 from
/// 1.22) (research/istio.md §6.8).
fn served_versions(istio: &Istio, group: &str, kind: &str) -> Vec<&'static str> {
    let v1 = istio.minor >= 22;
    let mut vs = match (group, kind) {
        ("install.istio.io", _) => return vec!["v1alpha1"],
        ("config.istio.io", _) => return vec!["v1alpha2"],
        ("extensions.istio.io", _) => return vec!["v1alpha1"],
        ("networking.istio.io", "EnvoyFilter") => return vec!["v1alpha3"],
        ("networking.istio.io", "ProxyConfig") => return vec!["v1beta1"],
        ("networking.istio.io", _) => vec!["v1alpha3", "v1beta1"],
        ("telemetry.istio.io", _) => vec!["v1alpha1"],
        _ => vec!["v1beta1"],
    };
    if v1 {
        vs.push("v1");
    }
    vs
}

fn crd(istio: &Istio, group: &str, kind: &str, plural: &str) -> Value {
    let scope = "Namespaced";
    let served = served_versions(istio, group, kind);
    let storage = served[0];
    let names = json!({"kind": kind, "listKind": format!("{kind}List"), "plural": plural, "singular": kind.to_lowercase(), "categories": ["istio-io"]});
    let meta = json!({"name": format!("{plural}.{group}"), "labels": labels(istio, Component::Base, json!({"app": "istio-pilot", "chart": "istio"}))});
    if istio.minor >= 8 {
        let versions: Vec<Value> = served
            .iter()
            .map(|v| {
                json!({"name": v, "served": true, "storage": *v == storage, "subresources": {"status": {}},
                       "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}})
            })
            .collect();
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": meta,
            "spec": {"group": group, "names": names, "scope": scope, "versions": versions}
        })
    } else {
        let versions: Vec<Value> = served
            .iter()
            .map(|v| json!({"name": v, "served": true, "storage": *v == storage}))
            .collect();
        json!({
            "apiVersion": "apiextensions.k8s.io/v1beta1",
            "kind": "CustomResourceDefinition",
            "metadata": meta,
            "spec": {"group": group, "names": names, "scope": scope, "version": storage, "versions": versions, "subresources": {"status": {}}, "preserveUnknownFields": true}
        })
    }
}

fn mesh_config(istio: &Istio, s: &Settings) -> String {
    let mut mesh = format!(
        "accessLogEncoding: {}\naccessLogFile: {}\naccessLogFormat: \"\"\ndefaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n  proxyMetadata: {{}}\n  tracing:\n    zipkin:\n      address: zipkin.istio-system:9411\n",
        s.access_log_encoding,
        if s.access_log_file.is_empty() {
            "\"\"".to_string()
        } else {
            s.access_log_file.clone()
        }
    );
    if istio.minor >= 7 {
        mesh.push_str("enablePrometheusMerge: true\n");
    }
    mesh.push_str("rootNamespace: istio-system\ntrustDomain: cluster.local\n");
    mesh
}

/// The injector's `values`: the whole resolved `values` tree as JSON, as the charts render it,
/// so `global` settings (access log, jwtPolicy, statusPort 15020) show up here as well as in
/// the `istio` ConfigMap's mesh config.
fn injector_values(s: &Settings) -> String {
    let mut values =
        serde_json::to_value(super::iop::sorted(&s.spec["values"])).unwrap_or_default();
    if !values.is_object() {
        values = json!({});
    }
    values["global"]["jwtPolicy"] = json!(s.jwt_policy);
    serde_json::to_string(&values).unwrap_or_default()
}

pub(super) fn token_volume(s: &Settings) -> (Vec<Value>, Vec<Value>) {
    if s.jwt_policy == "third-party-jwt" {
        (
            vec![
                json!({"name": "istio-token", "projected": {"sources": [{"serviceAccountToken": {"audience": "istio-ca", "expirationSeconds": 43200, "path": "istio-token"}}]}}),
            ],
            vec![
                json!({"name": "istio-token", "mountPath": "/var/run/secrets/tokens", "readOnly": true}),
            ],
        )
    } else {
        (vec![], vec![])
    }
}

pub(super) fn deployment(
    istio: &Istio,
    c: Component,
    name: &str,
    pod_labels: Value,
    container: Value,
    volumes: Vec<Value>,
) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS, "labels": labels(istio, c, pod_labels.clone())},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": pod_labels.clone()},
            "strategy": {"rollingUpdate": {"maxSurge": "100%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": pod_labels, "annotations": {"sidecar.istio.io/inject": "false"}},
                "spec": {"serviceAccountName": format!("{name}-service-account"), "containers": [container], "volumes": volumes}
            }
        },
    })
}

pub(super) fn service_account(istio: &Istio, c: Component, name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": NS, "labels": labels(istio, c, json!({}))}})
}

fn webhook_version(istio: &Istio) -> &'static str {
    if istio.minor >= 9 {
        "admissionregistration.k8s.io/v1"
    } else {
        "admissionregistration.k8s.io/v1beta1"
    }
}

fn pilot(istio: &Istio, s: &Settings) -> Vec<Value> {
    let c = Component::Pilot;
    let rev = if s.revision.is_empty() {
        "default".to_string()
    } else {
        s.revision.clone()
    };
    let istiod = if s.revision.is_empty() {
        "istiod".to_string()
    } else {
        format!("istiod-{}", s.revision)
    };
    let pod_labels = json!({"app": "istiod", "istio": "pilot", "istio.io/rev": rev});
    let (vols, mounts) = token_volume(s);
    let container = json!({
        "name": "discovery",
        "image": format!("{}/pilot:{}", s.hub, s.tag),
        "args": ["discovery", "--monitoringAddr=:15014", "--log_output_level=default:info", "--domain", "cluster.local", "--keepaliveMaxServerConnectionAge", "30m"],
        "ports": [{"containerPort": 8080, "protocol": "TCP"}, {"containerPort": 15010, "protocol": "TCP"}, {"containerPort": 15017, "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "initialDelaySeconds": 1, "periodSeconds": 3, "timeoutSeconds": 5},
        "env": [{"name": "JWT_POLICY", "value": s.jwt_policy}, {"name": "PILOT_CERT_PROVIDER", "value": "istiod"}, {"name": "PILOT_TRACE_SAMPLING", "value": "1"}],
        "resources": {"requests": {"cpu": "500m", "memory": "2048Mi"}},
        "volumeMounts": mounts,
    });
    let dep = deployment(istio, c, &istiod, pod_labels.clone(), container, vols);
    let mut svc_ports = vec![
        json!({"name": "https-dns", "port": 15012, "protocol": "TCP"}),
        json!({"name": "https-webhook", "port": 443, "targetPort": 15017, "protocol": "TCP"}),
    ];
    if istio.minor >= 8 {
        svc_ports.insert(
            0,
            json!({"name": "grpc-xds", "port": 15010, "protocol": "TCP"}),
        );
        svc_ports.push(json!({"name": "http-monitoring", "port": 15014, "protocol": "TCP"}));
    }
    let mut objs = vec![
        service_account(istio, c, &format!("{istiod}-service-account")),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "istiod-istio-system", "labels": labels(istio, c, json!({"app": "istiod"}))},
               "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "istiod-istio-system", "labels": labels(istio, c, json!({"app": "istiod"}))},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "istiod-istio-system"},
               "subjects": [{"kind": "ServiceAccount", "name": format!("{istiod}-service-account"), "namespace": NS}]}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": if s.revision.is_empty() { "istio".to_string() } else { format!("istio-{}", s.revision) }, "namespace": NS, "labels": labels(istio, c, json!({"istio.io/rev": rev}))},
               "data": {"mesh": mesh_config(istio, s), "meshNetworks": "networks: {}"}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio-sidecar-injector", "namespace": NS, "labels": labels(istio, c, json!({"istio.io/rev": rev}))},
               "data": {"values": injector_values(s), "config": "policy: enabled\nalwaysInjectSelector: []\nneverInjectSelector: []\ntemplate: |\n  {{ .Values }}\n"}}),
        dep,
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": istiod, "namespace": NS, "labels": labels(istio, c, json!({"app": "istiod", "istio": "pilot"}))},
               "spec": {"selector": {"app": "istiod", "istio": "pilot"}, "ports": svc_ports}}),
    ];
    if istio.minor == 5 {
        let pilot_ports: Vec<Value> = [
            ("grpc-xds", 15010),
            ("https-xds", 15011),
            ("https-dns", 15012),
            ("http-legacy-discovery", 8080),
            ("http-monitoring", 15014),
            ("https-webhook", 443),
        ]
        .iter()
        .map(|(n, p)| json!({"name": n, "port": p, "protocol": "TCP"}))
        .collect();
        objs.push(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "istio-pilot", "namespace": NS, "labels": labels(istio, c, json!({"app": "pilot", "istio": "pilot"}))},
            "spec": {"selector": {"istio": "pilot"}, "ports": pilot_ports}}));
    }
    let client =
        json!({"service": {"name": istiod, "namespace": NS, "path": "/inject"}, "caBundle": ""});
    let mut injector = json!({"name": "sidecar-injector.istio.io", "clientConfig": client, "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}],
        "failurePolicy": "Fail", "namespaceSelector": {"matchLabels": {"istio-injection": "enabled"}}});
    if !s.revision.is_empty() {
        // research/istio.md §6.5: a revisioned webhook selects `istio.io/rev In [rev]` and
        // `istio-injection DoesNotExist`.
        injector["namespaceSelector"] = json!({"matchExpressions": [
            {"key": "istio.io/rev", "operator": "In", "values": [s.revision]},
            {"key": "istio-injection", "operator": "DoesNotExist"}]});
    }
    let mut validator = json!({"name": "validation.istio.io", "clientConfig": {"service": {"name": istiod, "namespace": NS, "path": "/validate"}, "caBundle": ""},
        "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": ["networking.istio.io", "security.istio.io"], "apiVersions": ["*"], "resources": ["*"]}], "failurePolicy": "Ignore"});
    if istio.minor >= 9 {
        for w in [&mut injector, &mut validator] {
            w["sideEffects"] = json!("None");
            w["admissionReviewVersions"] = json!(["v1beta1", "v1"]);
        }
    }
    let mwc_name = if s.revision.is_empty() {
        "istio-sidecar-injector".to_string()
    } else {
        format!("istio-sidecar-injector-{}", s.revision)
    };
    objs.push(json!({"apiVersion": webhook_version(istio), "kind": "MutatingWebhookConfiguration", "metadata": {"name": mwc_name, "labels": labels(istio, c, json!({"app": "sidecar-injector", "istio.io/rev": rev}))}, "webhooks": [injector]}));
    let vwc_name = if istio.minor >= 12 {
        "istio-validator-istio-system"
    } else {
        "istiod-istio-system"
    };
    objs.push(json!({"apiVersion": webhook_version(istio), "kind": "ValidatingWebhookConfiguration", "metadata": {"name": vwc_name, "labels": labels(istio, c, json!({"app": "istiod"}))}, "webhooks": [validator]}));
    objs
}

/// The manifest per component, in install order.
pub fn render(istio: &Istio, s: &Settings) -> Vec<Rendered> {
    let mut out = Vec::new();
    if s.base {
        let mut objs = Vec::new();
        if istio.minor == 5 {
            objs.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS, "labels": labels(istio, Component::Base, json!({"istio-injection": "disabled", "istio-operator-managed": "Reconcile"}))}}));
        }
        objs.extend(
            crd_names(istio)
                .into_iter()
                .map(|(g, k, p)| crd(istio, g, k, p)),
        );
        objs.push(service_account(
            istio,
            Component::Base,
            "istio-reader-service-account",
        ));
        objs.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "istio-reader-istio-system", "labels": labels(istio, Component::Base, json!({"app": "istio-reader"}))},
            "rules": [{"apiGroups": ["config.istio.io", "security.istio.io", "networking.istio.io", "authentication.istio.io"], "resources": ["*"], "verbs": ["get", "list", "watch"]}]}));
        out.push(Rendered {
            component: Component::Base,
            objects: objs,
        });
    }
    if s.pilot {
        out.push(Rendered {
            component: Component::Pilot,
            objects: pilot(istio, s),
        });
    }
    if s.ingress {
        out.push(Rendered {
            component: Component::IngressGateways,
            objects: gateway(
                istio,
                s,
                Component::IngressGateways,
                "istio-ingressgateway",
                "ingressgateway",
                &s.ingress_type,
                gateway_ports(istio, s),
            ),
        });
    }
    if s.egress {
        let ports = if istio.minor >= 7 {
            vec![("http2".into(), 80, 8080), ("https".into(), 443, 8443)]
        } else {
            vec![
                ("http2".into(), 80, 80),
                ("https".into(), 443, 443),
                ("tls".into(), 15443, 15443),
            ]
        };
        out.push(Rendered {
            component: Component::EgressGateways,
            objects: gateway(
                istio,
                s,
                Component::EgressGateways,
                "istio-egressgateway",
                "egressgateway",
                "ClusterIP",
                ports,
            ),
        });
    }
    if !s.addons.is_empty() {
        let mut objs = Vec::new();
        for a in &s.addons {
            objs.extend(match *a {
                "prometheus" => addon(
                    istio,
                    "prometheus",
                    "docker.io/prom/prometheus:v2.15.1",
                    9090,
                ),
                "grafana" => addon(istio, "grafana", "grafana/grafana:6.5.2", 3000),
                "kiali" => addon(istio, "kiali", "quay.io/kiali/kiali:v1.15", 20001),
                _ => addon(
                    istio,
                    "istio-tracing",
                    "docker.io/jaegertracing/all-in-one:1.16",
                    16686,
                ),
            });
        }
        out.push(Rendered {
            component: Component::AddonComponents,
            objects: objs,
        });
    }
    out
}

/// Multi-document YAML, `---` between objects.
pub fn to_yaml(objects: &[Value]) -> String {
    objects
        .iter()
        .map(|o| serde_yaml::to_string(o).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("---\n")
}

/// The Deployments a component waits for (`namespace/name`).
pub fn deployments(r: &Rendered) -> Vec<String> {
    r.objects
        .iter()
        .filter(|o| o["kind"] == "Deployment")
        .filter_map(|o| o["metadata"]["name"].as_str().map(String::from))
        .collect()
}
