//! Merged layer → `Scenario`, collecting every problem instead of stopping at the first.

use super::error::{Problem, ScenarioError};
use super::layer::{Field, Layer, Scalar, Sourced};
use super::model::*;
use super::name;
use super::overrides::{collect_set, reconcile};
use super::quantity::{self, Cpus, Memory, QuantityError};
pub use super::versions::{KUBERNETES_ACCEPTED, parse_istio, parse_kubernetes};

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
pub const JWT_ACCEPTED: &str = "auto, third-party-jwt or first-party-jwt";

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

    let name = text(
        "metadata.name",
        &layer.name,
        "a name",
        name::SCENARIO_NAME_ACCEPTED,
    );
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
    // docs/scenarios.md: a bare number is seconds (`check: 90`), like the quoted "90".
    let seconds = |f: &Field| -> Field {
        f.as_ref().map(|v| match v.value {
            Scalar::Int(i) if i >= 0 => Sourced::new(Scalar::Str(i.to_string()), v.origin.clone()),
            _ => v.clone(),
        })
    };
    let (check_field, total_field) = (seconds(&layer.check_timeout), seconds(&layer.total_timeout));
    let check_t = text(
        "verify.timeouts.check",
        &check_field,
        "a duration",
        quantity::DURATION_ACCEPTED,
    );
    let total_t = text(
        "verify.timeouts.total",
        &total_field,
        "a duration",
        quantity::DURATION_ACCEPTED,
    );

    if let Some(n) = &name
        && !name::is_scenario_name(n)
    {
        err.push(Problem::bad_value(
            "metadata.name",
            layer.name.as_ref().expect("set"),
            "a scenario name",
            name::SCENARIO_NAME_ACCEPTED,
        ));
    }
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
        let mut p = Problem::new(
            "mesh.istioProfile",
            format!(
                "`{istio_profile}` is not an Istio profile name; accepted: a profile name like default, demo, minimal, empty"
            ),
        );
        if let Some(v) = (layer.istio_profile.as_ref()).or_else(|| layer.set.get("profile")) {
            p = p.from_origin(&v.origin);
        }
        err.push(p);
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
            let mut p = Problem::new(
                "mesh.jwtPolicy",
                format!("`{other}` is not a JWT policy; accepted: {JWT_ACCEPTED}"),
            );
            let from =
                (layer.jwt_policy.as_ref()).or_else(|| layer.set.get("values.global.jwtPolicy"));
            if let Some(v) = from {
                p = p.from_origin(&v.origin);
            }
            err.push(p);
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

    if let Some(args) = &layer.extra_args {
        for arg in &args.value {
            if let Some((flag, instead)) = owned_flag(arg) {
                err.push(
                    Problem::new(
                        "cluster.extraArgs",
                        format!(
                            "`{}` sets minikube's {flag}, which meshup sets itself; accepted: other minikube flags ({instead})",
                            super::text::escape_controls(arg)
                        ),
                    )
                    .from_origin(&args.origin),
                );
            }
        }
    }

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
        // `cpus: 4.0` is 4; YAML reads integers beyond 64 bits as floats too.
        Scalar::Float(x) if x.fract() == 0.0 && *x >= 0.0 => {
            if *x < 1e15 {
                format!("{}", *x as u64)
            } else {
                err.push(
                    Problem::new(
                        field,
                        format!("`{}` is too large; accepted: {accepted}", v.value.display()),
                    )
                    .from_origin(&v.origin),
                );
                return default;
            }
        }
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

/// minikube flags meshup sets from scenario fields: given again in `extraArgs`, minikube would
/// take the later one (another profile, other CPUs) behind meshup's back.
/// Returns the flag and what to use instead.
pub fn owned_flag(arg: &str) -> Option<(&'static str, &'static str)> {
    const OWNED: &[(&str, Option<&str>, &str)] = &[
        ("--profile", Some("-p"), "set cluster.profile or -p"),
        (
            "--kubernetes-version",
            None,
            "set cluster.kubernetes or --k8s",
        ),
        ("--cpus", None, "set cluster.cpus or --cpus"),
        ("--memory", None, "set cluster.memory or --memory"),
        ("--driver", None, "set cluster.driver"),
        ("--vm-driver", None, "set cluster.driver"),
        (
            "--output",
            Some("-o"),
            "meshup reads minikube's output itself; meshup's own is --output",
        ),
    ];
    let name = arg.split_once('=').map_or(arg, |(n, _)| n);
    OWNED.iter().find_map(|(long, short, instead)| {
        let is_short = short.is_some_and(|s| arg.starts_with(s));
        (name == *long || is_short).then_some((*long, *instead))
    })
}
