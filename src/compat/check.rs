//! Checks of a version combination, independent of the host.

use super::version::Version;
use super::{Finding, Scope, Severity, istio, istio_paths, kubernetes, minikube};

/// The versions a scenario resolved to, and the choices that depend on them.
#[derive(Debug, Clone)]
pub struct Combination<'a> {
    pub kubernetes: &'a Version,
    pub istio: &'a Version,
    /// `--set` paths the user gave.
    pub set_paths: Vec<&'a str>,
    /// An explicit `jwtPolicy` (None for `auto`).
    pub jwt_policy: Option<&'a str>,
    /// The Istio profile.
    pub profile: &'a str,
}

/// Findings that mean the user asked for something the chosen version does not have (a
/// profile, a `--set` path, a removed JWT policy): bad input, exit 2 (DESIGN.md), not a
/// preflight failure of this host or these versions.
pub const BAD_INPUT: &[&str] = &[
    "istio-profile-unknown",
    "istio-value-path-removed",
    "istio-value-path-unknown",
    "jwt-first-party-removed",
];

pub fn is_bad_input(f: &Finding) -> bool {
    f.is_error() && BAD_INPUT.contains(&f.code)
}

/// What the user asked of the mesh, for the chosen Istio.
#[derive(Debug, Clone)]
pub struct MeshInput<'a> {
    pub istio: &'a Version,
    pub set_paths: Vec<&'a str>,
    pub jwt_policy: Option<&'a str>,
    pub profile: &'a str,
}

pub fn versions(c: &Combination<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let k8s_minor = c.kubernetes.minor();
    let istio_minor = c.istio.minor();

    if minikube::newest_release_for(c.kubernetes).is_none() {
        let mut f = Finding::new(
            Severity::Error,
            Scope::Versions,
            "kubernetes-no-minikube",
            format!(
                "no minikube release meshup knows starts Kubernetes {} without --force",
                c.kubernetes.v()
            ),
        );
        if let Some(alt) = minikube::nearest_startable(c.kubernetes) {
            f = f.alternative(format!("use Kubernetes {}", alt.v()));
        }
        out.push(f);
    }

    if let Some(newest) = kubernetes::newest_patch(k8s_minor)
        && *c.kubernetes > newest
    {
        out.push(Finding::new(
            Severity::Warning,
            Scope::Versions,
            "kubernetes-unknown-patch",
            format!(
                "Kubernetes {} is newer than any {k8s_minor} release meshup knows (newest: {})",
                c.kubernetes.v(),
                newest.v()
            ),
        ));
    }

    if !istio::supports(istio_minor, k8s_minor)
        && let Some(sentence) = istio::support_sentence(istio_minor)
    {
        let mut alternatives = Vec::new();
        if let Some(alt) = istio::nearest_supporting(istio_minor, k8s_minor) {
            let (lo, hi) = istio::supported_kubernetes(alt).expect("offered minors have ranges");
            alternatives.push(format!(
                "Istio {} (supports Kubernetes {lo}–{hi})",
                istio::newest_patch(alt).map_or(alt.to_string(), |v| v.to_string())
            ));
        }
        let (lo, hi) = istio::supported_kubernetes(istio_minor).expect("checked above");
        let nearest_k8s = if k8s_minor > hi { hi } else { lo };
        if let Some(k) = kubernetes::newest_patch(nearest_k8s) {
            alternatives.push(format!("Kubernetes {}", k.v()));
        }
        let mut f = Finding::new(
            Severity::Warning,
            Scope::Versions,
            "istio-kubernetes-unsupported",
            format!("{sentence}, not {k8s_minor}"),
        );
        if !alternatives.is_empty() {
            f = f.alternative(format!("use {}", alternatives.join(" or ")));
        }
        out.push(f);
    }

    out.extend(mesh_input(&MeshInput {
        istio: c.istio,
        set_paths: c.set_paths.clone(),
        jwt_policy: c.jwt_policy,
        profile: c.profile,
    }));
    out
}

/// The mesh request against the chosen Istio alone (no Kubernetes, no host): its profile,
/// `--set` paths and JWT policy. Known as soon as the Istio version is, so `start` checks it
/// before it runs anything when the version is pinned.
pub fn mesh_input(m: &MeshInput<'_>) -> Vec<Finding> {
    let c = m;
    let mut out = Vec::new();
    let known = istio::profiles(c.istio);
    if !known.contains(&c.profile) {
        let mut f = Finding::new(
            Severity::Error,
            Scope::Versions,
            "istio-profile-unknown",
            format!(
                "Istio {} has no `{}` profile; it has {}",
                c.istio,
                c.profile,
                known.join(", ")
            ),
        );
        if let Some(m) = istio::offered_minors().find(|m| {
            istio::newest_patch(*m).is_some_and(|v| istio::profiles(&v).contains(&c.profile))
        }) {
            f = f.alternative(format!(
                "use the `default` profile, or Istio {m} or newer for `{}`",
                c.profile
            ));
        } else {
            f = f.alternative("use the `default` profile");
        }
        out.push(f);
    }

    if c.jwt_policy == Some("first-party-jwt") && !istio::first_party_jwt_allowed(c.istio) {
        out.push(
            Finding::new(
                Severity::Error,
                Scope::Versions,
                "jwt-first-party-removed",
                format!(
                    "Istio {} has no first-party-jwt policy (removed in 1.22)",
                    c.istio
                ),
            )
            .alternative("use jwtPolicy: auto (third-party-jwt), or Istio 1.21 or older"),
        );
    }

    for path in &c.set_paths {
        if let Some((message, fix)) = istio_paths::problem(c.istio.minor(), path) {
            let code = if istio_paths::PATH_CHANGES
                .iter()
                .any(|p| p.path == *path || p.instead == *path)
            {
                "istio-value-path-removed"
            } else {
                "istio-value-path-unknown"
            };
            out.push(
                Finding::new(Severity::Error, Scope::Versions, code, message).alternative(fix),
            );
        } else if let Some(new) = istio_paths::deprecated(c.istio.minor(), path) {
            out.push(
                Finding::new(
                    Severity::Warning,
                    Scope::Versions,
                    "istio-value-path-deprecated",
                    format!("`{path}` is deprecated in Istio {}", c.istio),
                )
                .alternative(format!("use `--set {new}=...`")),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compat::version::v;

    fn combo<'a>(k8s: &'a Version, istio: &'a Version) -> Combination<'a> {
        Combination {
            kubernetes: k8s,
            istio,
            set_paths: Vec::new(),
            jwt_policy: None,
            profile: "default",
        }
    }

    #[test]
    fn istio_1_5_on_kubernetes_1_17_warns_with_alternatives() {
        let (k, i) = (v("1.17.0"), v("1.5.0"));
        let f = versions(&combo(&k, &i));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(
            f[0].message
                .contains("Istio 1.5 is tested on Kubernetes 1.14–1.16"),
            "{}",
            f[0].message
        );
        let alt = f[0].alternative.as_deref().unwrap();
        assert!(
            alt.contains("Istio 1.6.14") && alt.contains("Kubernetes v1.16.15"),
            "{alt}"
        );
    }

    #[test]
    fn the_seed_is_clean() {
        let (k, i) = (v("1.15.10"), v("1.5.0"));
        let mut c = combo(&k, &i);
        c.set_paths = vec!["values.global.proxy.accessLogFile"];
        assert!(versions(&c).is_empty());
    }

    #[test]
    fn moved_paths_and_removed_policies() {
        let (k, i) = (v("1.18.0"), v("1.7.0"));
        let mut c = combo(&k, &i);
        c.set_paths = vec!["values.global.proxy.accessLogFile"];
        assert_eq!(versions(&c)[0].code, "istio-value-path-removed");
        let (k, i) = (v("1.30.0"), v("1.22.0"));
        let mut c = combo(&k, &i);
        c.jwt_policy = Some("first-party-jwt");
        assert_eq!(versions(&c)[0].code, "jwt-first-party-removed");
    }

    #[test]
    fn profiles_that_a_version_does_not_have() {
        let (k, i) = (v("1.15.10"), v("1.5.0"));
        let mut c = combo(&k, &i);
        c.profile = "ambient";
        let f = versions(&c);
        assert_eq!(f[0].code, "istio-profile-unknown");
        assert!(
            f[0].alternative
                .as_deref()
                .unwrap()
                .contains("Istio 1.16 or newer"),
            "{:?}",
            f[0]
        );
    }

    #[test]
    fn kubernetes_no_minikube_can_start() {
        let (k, i) = (v("1.36.2"), v("1.30.5"));
        let f = versions(&combo(&k, &i));
        assert_eq!(f[0].code, "kubernetes-no-minikube");
        assert_eq!(f[0].alternative.as_deref(), Some("use Kubernetes v1.35.1"));
    }
}
