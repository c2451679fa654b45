//! Merged layer → `Scenario`, collecting every problem instead of stopping at the first.

use indexmap::IndexMap;

use super::error::{Problem, ScenarioError};
use super::layer::{Field, Layer, Origin, Scalar, Sourced};
use super::model::*;
use super::quantity::{self, Cpus, Memory, QuantityError};
use super::{name, set};
use crate::compat::{Minor, Version, istio, kubernetes};

pub const DRIVERS: &[&str] = &[
    "docker",
    "podman",
    "kvm2",
    "kvm",
    "qemu2",
    "qemu",
    "virtualbox",
    "hyperkit",
    "vmware",
    "hyperv",
    "parallels",
    "vfkit",
    "krunkit",
    "ssh",
    "generic",
    "none",
    "native",
];
pub const KUBERNETES_ACCEPTED: &str =
    "v1.15.10, 1.15.10, 1.15 (newest known patch), stable or latest";
pub const JWT_ACCEPTED: &str = "auto, third-party-jwt or first-party-jwt";

/// How strongly a value's origin binds: two settings of one thing from the same level that
/// disagree are an error; otherwise the higher level wins.
fn rank(origin: &Origin) -> u8 {
    match origin {
        Origin::Default => 0,
        Origin::File(_) | Origin::Matrix(_) => 1,
        Origin::Env(_) => 2,
        Origin::Flag(_) => 3,
    }
}

pub fn validate(layer: &Layer) -> Result<Scenario, ScenarioError> {
    let mut err = ScenarioError::default();
    let mut text = |field: &str, f: &Field, what: &str, accepted: &str| -> Option<String> {
        let v = f.as_ref()?;
        match &v.value {
            Scalar::Str(s) => Some(s.trim().to_string()),
            _ => {
                err.push(Problem::bad_value(field, v, what, accepted));
                None
            }
        }
    };

    let name = text("metadata.name", &layer.name, "a name", "a string");
    let provider = text(
        "cluster.provider",
        &layer.provider,
        "a provider",
        "minikube",
    );
    let profile = text(
        "cluster.profile",
        &layer.cluster_profile,
        "a profile name",
        name::PROFILE_ACCEPTED,
    );
    let driver = text(
        "cluster.driver",
        &layer.driver,
        "a minikube driver",
        &DRIVERS.join(", "),
    );
    let kubernetes = text(
        "cluster.kubernetes",
        &layer.kubernetes,
        "a Kubernetes version",
        KUBERNETES_ACCEPTED,
    );
    let tunnel = text("tunnel", &layer.tunnel, "a tunnel mode", "auto, on or off");
    let istio_v = text(
        "mesh.istio",
        &layer.istio,
        "an Istio version",
        "1.5.0, 1.5 or auto",
    );
    let istio_profile = text(
        "mesh.istioProfile",
        &layer.istio_profile,
        "an Istio profile name",
        "a profile name like default, demo, minimal",
    );
    let jwt = text(
        "mesh.jwtPolicy",
        &layer.jwt_policy,
        "a JWT policy",
        JWT_ACCEPTED,
    );
    let method = text(
        "mesh.method",
        &layer.method,
        "an install method",
        "istioctl or manifest",
    );
    let smoke_ns = text(
        "verify.smoke.namespace",
        &layer.smoke_namespace,
        "a namespace",
        "a DNS label",
    );
    let smoke_image = text(
        "verify.smoke.image",
        &layer.smoke_image,
        "an image",
        "an image reference",
    );
    let check_t = text(
        "verify.timeouts.check",
        &layer.check_timeout,
        "a duration",
        quantity::DURATION_ACCEPTED,
    );
    let total_t = text(
        "verify.timeouts.total",
        &layer.total_timeout,
        "a duration",
        quantity::DURATION_ACCEPTED,
    );

    let provider = match provider.as_deref() {
        Some("minikube") | None => Provider::Minikube,
        Some(_) => {
            err.push(Problem::bad_value(
                "cluster.provider",
                layer.provider.as_ref().expect("set"),
                "a provider meshup supports",
                "minikube (kind, k3d and existing contexts are planned)",
            ));
            Provider::Minikube
        }
    };
    let profile = profile.unwrap_or_else(|| name::DEFAULT_PROFILE.to_string());
    if let Err(why) = name::check_profile(&profile) {
        let v = layer
            .cluster_profile
            .as_ref()
            .expect("only non-default names can be bad");
        err.push(
            Problem::new(
                "cluster.profile",
                format!("`{profile}` {why}; accepted: {}", name::PROFILE_ACCEPTED),
            )
            .from_origin(&v.origin),
        );
    }
    if let Some(d) = &driver
        && !DRIVERS.contains(&d.as_str())
    {
        err.push(Problem::bad_value(
            "cluster.driver",
            layer.driver.as_ref().expect("set"),
            "a minikube driver",
            &DRIVERS.join(", "),
        ));
    }

    let kube = match kubernetes.as_deref() {
        None => KubeSpec::Stable,
        Some(s) => parse_kubernetes(s).unwrap_or_else(|why| {
            err.push(
                Problem::new("cluster.kubernetes", why)
                    .from_origin(&layer.kubernetes.as_ref().expect("set").origin),
            );
            KubeSpec::Stable
        }),
    };
    let cpus = quantity_field(
        &mut err,
        "cluster.cpus",
        &layer.cpus,
        quantity::parse_cpus,
        quantity::CPUS_ACCEPTED,
        "a CPU count",
        Cpus::Count(2),
    );
    let memory = quantity_field(
        &mut err,
        "cluster.memory",
        &layer.memory,
        quantity::parse_memory,
        quantity::MEMORY_ACCEPTED,
        "a memory size",
        Memory::Mb(4096),
    );

    let tunnel = match tunnel.as_deref() {
        None | Some("auto") => TunnelMode::Auto,
        Some("on") => TunnelMode::On,
        Some("off") => TunnelMode::Off,
        Some(_) => {
            err.push(Problem::bad_value(
                "tunnel",
                layer.tunnel.as_ref().expect("set"),
                "a tunnel mode",
                "auto, on or off",
            ));
            TunnelMode::Auto
        }
    };
    // YAML reads `tunnel: on` / `off` as booleans in YAML 1.1 only; serde_yaml is YAML 1.2,
    // so they arrive as strings. `true`/`false` are accepted as on/off for the same reason.
    let tunnel = match layer.tunnel.as_ref().map(|t| &t.value) {
        Some(Scalar::Bool(true)) => TunnelMode::On,
        Some(Scalar::Bool(false)) => TunnelMode::Off,
        _ => tunnel,
    };

    let istio = match istio_v.as_deref() {
        None | Some("auto") => IstioSpec::Auto,
        Some(s) => parse_istio(s).unwrap_or_else(|why| {
            err.push(
                Problem::new("mesh.istio", why)
                    .from_origin(&layer.istio.as_ref().expect("set").origin),
            );
            IstioSpec::Auto
        }),
    };

    let (set, set_profile, set_jwt) = collect_set(&mut err, &layer.set);
    let istio_profile = reconcile(
        &mut err,
        "mesh.istioProfile",
        "profile",
        layer.istio_profile.as_ref(),
        istio_profile,
        set_profile,
    )
    .unwrap_or_else(|| "default".to_string());
    if !name::is_profile_word(&istio_profile) {
        err.push(Problem::new("mesh.istioProfile", format!("`{istio_profile}` is not an Istio profile name; accepted: a profile name like default, demo, minimal, empty")));
    }
    let jwt = reconcile(
        &mut err,
        "mesh.jwtPolicy",
        "values.global.jwtPolicy",
        layer.jwt_policy.as_ref(),
        jwt,
        set_jwt,
    );
    let jwt_policy = match jwt.as_deref() {
        None | Some("auto") => JwtPolicy::Auto,
        Some("third-party-jwt") => JwtPolicy::ThirdPartyJwt,
        Some("first-party-jwt") => JwtPolicy::FirstPartyJwt,
        Some(other) => {
            err.push(Problem::new(
                "mesh.jwtPolicy",
                format!("`{other}` is not a JWT policy; accepted: {JWT_ACCEPTED}"),
            ));
            JwtPolicy::Auto
        }
    };
    let method = match method.as_deref() {
        None | Some("istioctl") => Method::Istioctl,
        Some("manifest") => Method::Manifest,
        Some(_) => {
            err.push(Problem::bad_value(
                "mesh.method",
                layer.method.as_ref().expect("set"),
                "an install method",
                "istioctl or manifest",
            ));
            Method::Istioctl
        }
    };

    let load_balancers = layer
        .load_balancers
        .as_ref()
        .map(|l| l.value.clone())
        .unwrap_or_else(|| vec!["istio-system/istio-ingressgateway".to_string()]);
    for lb in &load_balancers {
        let ok = lb
            .split_once('/')
            .is_some_and(|(ns, n)| name::is_dns_label(ns) && name::is_dns_label(n));
        if !ok {
            let origin = &layer
                .load_balancers
                .as_ref()
                .expect("defaults are valid")
                .origin;
            err.push(Problem::new("verify.loadBalancers", format!("`{lb}` is not a Service reference; accepted: namespace/name, e.g. istio-system/istio-ingressgateway")).from_origin(origin));
        }
    }
    let smoke_namespace = smoke_ns.unwrap_or_else(|| "meshup-smoke".to_string());
    if !name::is_dns_label(&smoke_namespace) {
        err.push(Problem::bad_value(
            "verify.smoke.namespace",
            layer.smoke_namespace.as_ref().expect("set"),
            "a namespace name",
            "a DNS label (lowercase letters, digits, `-`)",
        ));
    }
    let smoke_image = smoke_image.unwrap_or_else(|| "docker.io/kennethreitz/httpbin".to_string());
    if smoke_image.is_empty() || smoke_image.contains(char::is_whitespace) {
        err.push(Problem::bad_value(
            "verify.smoke.image",
            layer.smoke_image.as_ref().expect("set"),
            "an image reference",
            "e.g. docker.io/kennethreitz/httpbin",
        ));
    }
    let check_timeout = duration_field(
        &mut err,
        "verify.timeouts.check",
        &layer.check_timeout,
        check_t,
        300,
    );
    let total_timeout = duration_field(
        &mut err,
        "verify.timeouts.total",
        &layer.total_timeout,
        total_t,
        1800,
    );

    if !err.is_empty() {
        return Err(err);
    }
    Ok(Scenario {
        name,
        cluster: Cluster {
            provider,
            profile,
            driver,
            kubernetes: kube,
            cpus,
            memory,
            extra_args: layer
                .extra_args
                .as_ref()
                .map(|a| a.value.clone())
                .unwrap_or_default(),
        },
        tunnel,
        mesh: Mesh {
            istio,
            profile: istio_profile,
            set,
            jwt_policy,
            method,
        },
        verify: Verify {
            load_balancers,
            smoke_namespace,
            smoke_image,
            check_timeout,
            total_timeout,
        },
    })
}

pub fn parse_kubernetes(s: &str) -> Result<KubeSpec, String> {
    let lower = s.to_ascii_lowercase();
    match lower.as_str() {
        "stable" => return Ok(KubeSpec::Stable),
        "latest" | "newest" => return Ok(KubeSpec::Latest),
        _ => {}
    }
    let range = kubernetes::known_range_text();
    if let Some(minor) = Minor::parse(s) {
        return kubernetes::newest_patch(minor)
            .map(|v| KubeSpec::Minor(minor, v))
            .ok_or_else(|| format!("`{s}` is outside the Kubernetes releases meshup knows ({range}); accepted: {KUBERNETES_ACCEPTED}"));
    }
    match Version::parse(s) {
        Some(v) if kubernetes::is_known_minor(v.minor()) => Ok(KubeSpec::Exact(v)),
        Some(_) => Err(format!(
            "`{s}` is outside the Kubernetes releases meshup knows ({range}); accepted: {KUBERNETES_ACCEPTED}"
        )),
        None => Err(format!(
            "`{s}` is not a Kubernetes version; accepted: {KUBERNETES_ACCEPTED}"
        )),
    }
}

pub fn parse_istio(s: &str) -> Result<IstioSpec, String> {
    let range = istio::offered_range_text();
    let accepted = format!("an Istio release meshup offers ({range}) as 1.5.0 or 1.5, or auto");
    if let Some(minor) = Minor::parse(s) {
        return istio::newest_patch(minor)
            .map(|v| IstioSpec::Minor(minor, v))
            .ok_or_else(|| {
                format!("`{s}` is not an Istio minor meshup offers; accepted: {accepted}")
            });
    }
    let Some(v) = Version::parse(s.strip_prefix('v').unwrap_or(s)) else {
        return Err(format!(
            "`{s}` is not an Istio version; accepted: {accepted}"
        ));
    };
    if istio::is_offered(&v) {
        return Ok(IstioSpec::Exact(v));
    }
    let patches = istio::patches(v.minor());
    match (patches.first(), patches.last()) {
        (Some(first), Some(last)) => Err(format!(
            "`{s}` is not an Istio release meshup offers; {} patches: {first}–{last}",
            v.minor()
        )),
        _ => Err(format!(
            "`{s}` is not an Istio minor meshup offers; accepted: {accepted}"
        )),
    }
}

fn quantity_field<T>(
    err: &mut ScenarioError,
    field: &str,
    value: &Field,
    parse: impl Fn(&str) -> Result<T, QuantityError>,
    accepted: &str,
    what: &str,
    default: T,
) -> T {
    let Some(v) = value else { return default };
    let text = match &v.value {
        Scalar::Str(s) => s.clone(),
        Scalar::Int(i) => i.to_string(),
        _ => {
            err.push(Problem::bad_value(field, v, what, accepted));
            return default;
        }
    };
    match parse(&text) {
        Ok(t) => t,
        Err(QuantityError::TooSmall) => {
            err.push(
                Problem::new(
                    field,
                    format!("`{text}` is below what minikube accepts; accepted: {accepted}"),
                )
                .from_origin(&v.origin),
            );
            default
        }
        Err(QuantityError::TooLarge) => {
            err.push(
                Problem::new(
                    field,
                    format!("`{text}` is too large; accepted: {accepted}"),
                )
                .from_origin(&v.origin),
            );
            default
        }
        Err(QuantityError::Malformed) => {
            err.push(Problem::bad_value(field, v, what, accepted));
            default
        }
    }
}

fn duration_field(
    err: &mut ScenarioError,
    field: &str,
    value: &Field,
    text: Option<String>,
    default_secs: u64,
) -> std::time::Duration {
    let default = std::time::Duration::from_secs(default_secs);
    let Some(text) = text else { return default };
    quantity::parse_duration(&text).unwrap_or_else(|_| {
        err.push(Problem::bad_value(
            field,
            value.as_ref().expect("set"),
            "a duration",
            quantity::DURATION_ACCEPTED,
        ));
        default
    })
}

type SetParts = (
    IndexMap<String, String>,
    Option<Sourced<String>>,
    Option<Sourced<String>>,
);

/// Splits `mesh.set` into plain overrides and the two keys that have their own fields.
fn collect_set(err: &mut ScenarioError, entries: &IndexMap<String, Sourced<Scalar>>) -> SetParts {
    let mut out = IndexMap::new();
    let (mut profile, mut jwt) = (None, None);
    for (key, v) in entries {
        if let Err(why) = set::check_path(key) {
            err.push(
                Problem::new(
                    format!("mesh.set.{key}"),
                    format!("{why}; accepted: {}", set::SET_ACCEPTED),
                )
                .from_origin(&v.origin),
            );
            continue;
        }
        let value = match &v.value {
            Scalar::Str(s) => s.clone(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Bool(b) => b.to_string(),
            _ => {
                err.push(Problem::bad_value(
                    &format!("mesh.set.{key}"),
                    v,
                    "a value istioctl can take",
                    "a string (quote numbers like \"1.10\")",
                ));
                continue;
            }
        };
        match key.as_str() {
            "profile" => profile = Some(Sourced::new(value, v.origin.clone())),
            "values.global.jwtPolicy" => jwt = Some(Sourced::new(value, v.origin.clone())),
            _ => {
                out.insert(key.clone(), value);
            }
        }
    }
    (out, profile, jwt)
}

/// A field that can also be given through `--set`: equal levels must agree, else the higher
/// level wins.
fn reconcile(
    err: &mut ScenarioError,
    field: &str,
    set_key: &str,
    field_src: Option<&Sourced<Scalar>>,
    field_value: Option<String>,
    via_set: Option<Sourced<String>>,
) -> Option<String> {
    let Some(set_v) = via_set else {
        return field_value;
    };
    let (Some(fv), Some(fsrc)) = (field_value, field_src) else {
        return Some(set_v.value);
    };
    if fv == set_v.value {
        return Some(fv);
    }
    match rank(&fsrc.origin).cmp(&rank(&set_v.origin)) {
        std::cmp::Ordering::Greater => Some(fv),
        std::cmp::Ordering::Less => Some(set_v.value),
        std::cmp::Ordering::Equal => {
            err.push(Problem::new(
                field,
                format!("`{fv}` (from {}) disagrees with `--set {set_key}={}` (from {}); accepted: one value, given once", fsrc.origin, set_v.value, set_v.origin),
            ));
            Some(fv)
        }
    }
}
