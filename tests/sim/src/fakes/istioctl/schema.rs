//! The IstioOperator / values schema each era's istioctl validates `--set` paths against, as far
//! as research/istio.md records it. istioctl unmarshals the merged tree into its Go/proto types
//! (`IstioOperatorSpec`, `values_types.proto`, `MeshConfig`), so an unknown field is
//! `unknown field "<f>" in v1alpha1.<Type>` and a bad enum value fails to unmarshal.
//!
//! Sources: research/istio.md §1.7 (IstioOperator fields), §3.1 (access-log paths: 1.5 values,
//! 1.6 both, 1.7+ meshConfig only; the `v1alpha1.ProxyConfig` error text is [REAL] 1.7.4),
//! §3.2 (components lists, `values.gateways.<gw>.enabled`, addons ≤ 1.6), §3.3 (jwtPolicy;
//! first-party removed in 1.22), §6.3 (gateway Service `type`), §6.7 (statusPort). Subtrees the
//! research does not detail (`k8s`, `resources`, `defaultConfig`, ...) are open: anything below
//! them passes, as a free-form map would. The enum error wording is [RECON] (jsonpb's
//! `unknown value "X" for enum <Type>`), not a captured output.

/// What a path in the table is.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// A scalar field.
    Leaf,
    /// A scalar with these values only.
    Enum(&'static str, &'static [&'static str]),
    /// A map or message the research does not detail: any key below it is accepted.
    Open,
}

use Kind::*;

const ENCODING: Kind = Enum(
    "istio.mesh.v1alpha1.MeshConfig_AccessLogEncoding",
    &["TEXT", "JSON"],
);
const JWT: Kind = Enum("jwtPolicy", &["third-party-jwt", "first-party-jwt"]);
const SVC_TYPE: Kind = Enum("serviceType", &["ClusterIP", "NodePort", "LoadBalancer"]);

/// (path with list items as `[]`, first minor, last minor, kind).
const FIELDS: &[(&str, u64, u64, Kind)] = &[
    ("profile", 5, 99, Leaf),
    ("hub", 5, 99, Leaf),
    ("tag", 5, 99, Leaf),
    ("namespace", 5, 99, Leaf),
    ("revision", 5, 99, Leaf),
    ("installPackagePath", 5, 99, Leaf),
    ("unvalidatedValues", 6, 99, Open),
    ("addonComponents", 5, 7, Open),
    // components
    ("components.base.enabled", 5, 99, Leaf),
    ("components.base.k8s", 5, 99, Open),
    ("components.pilot.enabled", 5, 99, Leaf),
    ("components.pilot.k8s", 5, 99, Open),
    ("components.pilot.hub", 5, 99, Leaf),
    ("components.pilot.tag", 5, 99, Leaf),
    ("components.cni.enabled", 5, 99, Leaf),
    ("components.cni.k8s", 5, 99, Open),
    ("components.cni.namespace", 5, 99, Leaf),
    ("components.ztunnel.enabled", 16, 99, Leaf),
    ("components.ztunnel.k8s", 16, 99, Open),
    ("components.istiodRemote.enabled", 8, 99, Leaf),
    ("components.policy.enabled", 5, 5, Leaf),
    ("components.telemetry.enabled", 5, 5, Leaf),
    ("components.citadel.enabled", 5, 5, Leaf),
    ("components.galley.enabled", 5, 5, Leaf),
    ("components.sidecarInjector.enabled", 5, 5, Leaf),
    ("components.nodeAgent.enabled", 5, 5, Leaf),
    ("components.ingressGateways[].name", 5, 99, Leaf),
    ("components.ingressGateways[].enabled", 5, 99, Leaf),
    ("components.ingressGateways[].namespace", 5, 99, Leaf),
    ("components.ingressGateways[].label", 5, 99, Open),
    ("components.ingressGateways[].k8s", 5, 99, Open),
    ("components.egressGateways[].name", 5, 99, Leaf),
    ("components.egressGateways[].enabled", 5, 99, Leaf),
    ("components.egressGateways[].namespace", 5, 99, Leaf),
    ("components.egressGateways[].label", 5, 99, Open),
    ("components.egressGateways[].k8s", 5, 99, Open),
    // meshConfig (1.6+)
    ("meshConfig.accessLogFile", 6, 99, Leaf),
    ("meshConfig.accessLogEncoding", 6, 99, ENCODING),
    ("meshConfig.accessLogFormat", 6, 99, Leaf),
    ("meshConfig.enableTracing", 6, 99, Leaf),
    ("meshConfig.enablePrometheusMerge", 7, 99, Leaf),
    ("meshConfig.enableAutoMtls", 6, 99, Leaf),
    ("meshConfig.rootNamespace", 6, 99, Leaf),
    ("meshConfig.trustDomain", 6, 99, Leaf),
    ("meshConfig.defaultConfig", 6, 99, Open),
    (
        "meshConfig.outboundTrafficPolicy.mode",
        6,
        99,
        Enum(
            "istio.mesh.v1alpha1.MeshConfig_OutboundTrafficPolicy_Mode",
            &["REGISTRY_ONLY", "ALLOW_ANY"],
        ),
    ),
    ("meshConfig.extensionProviders", 10, 99, Open),
    ("meshConfig.defaultProviders", 12, 99, Open),
    // values.global
    ("values.global.hub", 5, 99, Leaf),
    ("values.global.tag", 5, 99, Leaf),
    ("values.global.istioNamespace", 5, 99, Leaf),
    ("values.global.jwtPolicy", 5, 99, JWT),
    (
        "values.global.imagePullPolicy",
        5,
        99,
        Enum("imagePullPolicy", &["Always", "IfNotPresent", "Never"]),
    ),
    ("values.global.logging.level", 5, 99, Leaf),
    ("values.global.meshID", 5, 99, Leaf),
    ("values.global.network", 5, 99, Leaf),
    ("values.global.multiCluster", 5, 99, Open),
    ("values.global.proxy_init", 5, 99, Open),
    ("values.global.defaultResources", 5, 99, Open),
    ("values.global.proxy.accessLogFile", 5, 6, Leaf),
    ("values.global.proxy.accessLogEncoding", 5, 6, ENCODING),
    ("values.global.proxy.accessLogFormat", 5, 6, Leaf),
    ("values.global.proxy.statusPort", 5, 99, Leaf),
    (
        "values.global.proxy.logLevel",
        5,
        99,
        Enum(
            "logLevel",
            &[
                "trace", "debug", "info", "warning", "error", "critical", "off",
            ],
        ),
    ),
    ("values.global.proxy.componentLogLevel", 5, 99, Leaf),
    ("values.global.proxy.privileged", 5, 99, Leaf),
    ("values.global.proxy.image", 5, 99, Leaf),
    ("values.global.proxy.resources", 5, 99, Open),
    (
        "values.global.proxy.holdApplicationUntilProxyStarts",
        7,
        99,
        Leaf,
    ),
    // values.gateways (the alternate enablement paths, §3.2)
    ("values.gateways.istio-ingressgateway.enabled", 5, 99, Leaf),
    ("values.gateways.istio-ingressgateway.type", 5, 99, SVC_TYPE),
    ("values.gateways.istio-ingressgateway.ports", 5, 99, Open),
    (
        "values.gateways.istio-ingressgateway.resources",
        5,
        99,
        Open,
    ),
    (
        "values.gateways.istio-ingressgateway.autoscaleEnabled",
        5,
        99,
        Leaf,
    ),
    ("values.gateways.istio-egressgateway.enabled", 5, 99, Leaf),
    ("values.gateways.istio-egressgateway.type", 5, 99, SVC_TYPE),
    ("values.gateways.istio-egressgateway.ports", 5, 99, Open),
    ("values.gateways.istio-egressgateway.resources", 5, 99, Open),
    (
        "values.gateways.istio-egressgateway.autoscaleEnabled",
        5,
        99,
        Leaf,
    ),
    // other values
    ("values.profile", 5, 99, Leaf),
    ("values.pilot", 5, 99, Open),
    ("values.sidecarInjectorWebhook", 5, 99, Open),
    ("values.telemetry", 5, 99, Open),
    ("values.meshConfig", 5, 99, Open),
    ("values.cni", 5, 99, Open),
    ("values.prometheus.enabled", 5, 6, Leaf),
    ("values.grafana.enabled", 5, 6, Leaf),
    ("values.kiali.enabled", 5, 6, Leaf),
    ("values.tracing.enabled", 5, 6, Leaf),
];

/// The Go type named in `unknown field` errors for the node at `prefix`.
fn type_name(prefix: &str) -> String {
    let t = match prefix {
        "" => "IstioOperatorSpec",
        "components" => "IstioComponentSetSpec",
        "meshConfig" => "MeshConfig",
        "values" => "Values",
        "values.global" => "GlobalConfig",
        "values.global.proxy" => "ProxyConfig",
        "values.gateways" => "GatewaysConfig",
        p if p.starts_with("values.gateways.") => "GatewayConfig",
        p if p.ends_with("[]") => "GatewaySpec",
        p if p.starts_with("components.") => "ComponentSpec",
        _ => "Values",
    };
    format!("v1alpha1.{t}")
}

/// `components.egressGateways.[name:x].enabled` and `...[0]...` → `components.egressGateways[].enabled`.
fn normalize(path: &str) -> String {
    let re = regex::Regex::new(r"\.?\[[^\]]*\]").expect("static regex");
    re.replace_all(path, "[]").into_owned()
}

fn segments(path: &str) -> Vec<&str> {
    path.split('.').collect()
}

/// Checks one `--set path=value` for `minor`; the error is istioctl's message without `Error: `.
pub fn validate(minor: u64, path: &str, value: &str) -> Result<(), String> {
    let norm = normalize(path);
    let fields: Vec<&(&str, u64, u64, Kind)> = FIELDS
        .iter()
        .filter(|(_, from, to, _)| (*from..=*to).contains(&minor))
        .collect();
    for (p, _, _, kind) in &fields {
        let exact = norm == *p;
        let below = norm.starts_with(&format!("{p}.")) || norm.starts_with(&format!("{p}["));
        match kind {
            Open if exact || below => return Ok(()),
            Leaf if exact => return Ok(()),
            Enum(ty, values) if exact => {
                return if values.contains(&value) {
                    Ok(())
                } else {
                    Err(format!("unknown value \"{value}\" for enum {ty}"))
                };
            }
            _ => {}
        }
    }
    // The longest known node the path runs through; its next segment is the unknown field.
    let segs = segments(&norm);
    let mut known = 0;
    for i in 1..=segs.len() {
        let prefix = segs[..i].join(".");
        if fields.iter().any(|(p, ..)| {
            p.starts_with(&format!("{prefix}.")) || p.starts_with(&format!("{prefix}["))
        }) {
            known = i;
        }
    }
    let parent = segs[..known].join(".");
    let field = segs.get(known).copied().unwrap_or(&norm);
    let field = field.trim_end_matches("[]");
    Err(format!(
        "unknown field \"{field}\" in {}",
        type_name(&parent)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_and_bad_enums_fail() {
        assert_eq!(
            validate(5, "values.global.proxy.accessLogEncodng", "JSON"),
            Err("unknown field \"accessLogEncodng\" in v1alpha1.ProxyConfig".into())
        );
        assert!(
            validate(5, "values.global.proxy.accessLogEncoding", "XML")
                .unwrap_err()
                .contains("unknown value \"XML\"")
        );
        assert!(validate(5, "values.global.proxy.accessLogEncoding", "JSON").is_ok());
        assert_eq!(
            validate(7, "values.global.proxy.accessLogFile", "/dev/stdout"),
            Err("unknown field \"accessLogFile\" in v1alpha1.ProxyConfig".into())
        );
        assert!(validate(8, "meshConfig.accessLogFile", "/dev/stdout").is_ok());
        assert!(validate(5, "meshConfig.accessLogFile", "/dev/stdout").is_err());
        assert_eq!(
            validate(5, "gateways.components.egressGateway.enabled", "true"),
            Err("unknown field \"gateways\" in v1alpha1.IstioOperatorSpec".into())
        );
        assert!(
            validate(
                5,
                "components.egressGateways.[name:istio-egressgateway].enabled",
                "true"
            )
            .is_ok()
        );
        assert!(
            validate(
                20,
                "components.egressGateways[0].k8s.resources.requests.cpu",
                "10m"
            )
            .is_ok()
        );
        assert!(validate(20, "components.ingressGateways[0].enabld", "true").is_err());
        assert!(validate(5, "values.gateways.istio-egressgateway.enabled", "true").is_ok());
        assert!(validate(30, "values.gateways.istio-ingressgateway.type", "NodePort").is_ok());
        assert!(validate(30, "values.gateways.istio-ingressgateway.type", "Nodeport").is_err());
        assert!(validate(5, "values.global.jwtPolicy", "first-party-jwt").is_ok());
        assert!(validate(5, "values.global.jwtPolicy", "none").is_err());
    }
}
