//! `--set` value paths by Istio version: which paths meshup knows moved, which are another
//! era's spelling, and which top-level fields each era's IstioOperator has. Pure data with
//! sources; the check that uses it is `compat::check` (a path a version does not have is bad
//! input, exit 2). The simulated istioctl keeps its own copy of these facts on purpose
//! (tests/sim/README.md, "Why the fakes keep their own copies").

use super::version::Minor;

/// A path that exists only in some versions, and what to use elsewhere.
#[derive(Debug, Clone, Copy)]
pub struct PathChange {
    pub path: &'static str,
    /// The first minor that has it (inclusive) and the last (inclusive).
    pub from: Minor,
    pub to: Minor,
    /// The path to use outside that range, and the range it is valid in.
    pub instead: &'static str,
    pub instead_from: Minor,
    pub instead_to: Minor,
    /// Minors inside `from..=to` that accept it but warn it is deprecated.
    pub deprecated_from: Option<Minor>,
}

const fn m(minor: u64) -> Minor {
    Minor::new(1, minor)
}

const LAST: Minor = m(99);

/// Source: research/istio.md §3.1 (access-log fields: `values.global.proxy.*` in 1.5, both with
/// a deprecation warning in 1.6, only `meshConfig.*` from 1.7 — "unknown field
/// \"accessLogEncoding\" in v1alpha1.ProxyConfig", [REAL] 1.7.4), §3.2 (addons: `values.<x>.enabled`
/// maps to `addonComponents` in 1.5/1.6 only; istioctl stopped installing addons in 1.7/1.8).
pub const PATH_CHANGES: &[PathChange] = &[
    access_log(
        "values.global.proxy.accessLogFile",
        "meshConfig.accessLogFile",
    ),
    access_log(
        "values.global.proxy.accessLogEncoding",
        "meshConfig.accessLogEncoding",
    ),
    access_log(
        "values.global.proxy.accessLogFormat",
        "meshConfig.accessLogFormat",
    ),
];

const fn access_log(old: &'static str, new: &'static str) -> PathChange {
    PathChange {
        path: old,
        from: m(5),
        to: m(6),
        instead: new,
        instead_from: m(6),
        instead_to: LAST,
        deprecated_from: Some(m(6)),
    }
}

/// The same facts seen from the new path: `meshConfig.*` does not exist in 1.5.
pub fn reverse(path: &str) -> Option<PathChange> {
    PATH_CHANGES
        .iter()
        .find(|c| c.instead == path)
        .map(|c| PathChange {
            path: c.instead,
            from: c.instead_from,
            to: c.instead_to,
            instead: c.path,
            instead_from: c.from,
            instead_to: c.to,
            deprecated_from: None,
        })
}

/// Istio 1.4's IstioControlPlane paths (v1alpha2) that 1.5+ only translate in `istioctl
/// manifest migrate`, with the IstioOperator path that does the same. Source: research/istio.md
/// §3.2, translate-ICP-IOP-1.5.yaml; the seed's egress advice is the first row.
pub const V1ALPHA2_PATHS: &[(&str, &str)] = &[
    (
        "gateways.components.egressGateway.enabled",
        "values.gateways.istio-egressgateway.enabled",
    ),
    (
        "gateways.components.ingressGateway.enabled",
        "values.gateways.istio-ingressgateway.enabled",
    ),
];

/// Top-level IstioOperator fields per version: research/istio.md §1.7 (`meshConfig` from 1.6),
/// §3.2 (`addonComponents` in 1.5–1.7).
pub fn top_level_fields(istio: Minor) -> Vec<&'static str> {
    let mut f = vec![
        "profile",
        "hub",
        "tag",
        "namespace",
        "revision",
        "installPackagePath",
        "components",
        "values",
    ];
    if istio >= m(6) {
        f.extend(["meshConfig", "unvalidatedValues"]);
    }
    if istio <= m(7) {
        f.push("addonComponents");
    }
    f
}

/// What is wrong with a `--set` path on this version, if meshup knows: (message, what to do).
pub fn problem(istio: Minor, path: &str) -> Option<(String, String)> {
    if let Some((_, new)) = V1ALPHA2_PATHS.iter().find(|(old, _)| *old == path) {
        return Some((
            format!(
                "`{path}` is Istio 1.4's IstioControlPlane path; Istio {istio} has no such field (1.5 only migrates it with `istioctl manifest migrate`)"
            ),
            format!("use `--set {new}=true` (Istio 1.5 and newer)"),
        ));
    }
    let change = PATH_CHANGES
        .iter()
        .copied()
        .find(|c| c.path == path)
        .or_else(|| reverse(path));
    if let Some(c) = change
        && !(c.from <= istio && istio <= c.to)
    {
        let range = |a: Minor, b: Minor| {
            if b >= LAST {
                format!("{a} and newer")
            } else if a == b {
                a.to_string()
            } else {
                format!("{a}–{b}")
            }
        };
        return Some((
            format!(
                "`{path}` does not exist in Istio {istio} (Istio {} has it; istioctl fails with `unknown field`)",
                range(c.from, c.to)
            ),
            format!(
                "use `--set {}=...` (Istio {})",
                c.instead,
                range(c.instead_from, c.instead_to)
            ),
        ));
    }
    let root = path.split(['.', '[']).next().unwrap_or_default();
    let fields = top_level_fields(istio);
    if !fields.contains(&root) {
        let others: Vec<Minor> = (5..=30)
            .map(m)
            .filter(|v| top_level_fields(*v).contains(&root))
            .collect();
        let which = match (others.first(), others.last()) {
            (Some(a), Some(b)) => format!(" (Istio {a}–{b} has it)"),
            _ => String::new(),
        };
        return Some((
            format!("`{path}`: Istio {istio}'s IstioOperator has no field `{root}`{which}"),
            format!("the fields are {}", fields.join(", ")),
        ));
    }
    None
}

/// Whether `path` is deprecated (still accepted, with a warning) on `istio`.
pub fn deprecated(istio: Minor, path: &str) -> Option<&'static str> {
    PATH_CHANGES
        .iter()
        .find(|c| c.path == path)
        .filter(|c| c.deprecated_from.is_some_and(|d| d <= istio) && istio <= c.to)
        .map(|c| c.instead)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_log_paths_moved_in_1_7() {
        let (msg, fix) = problem(m(8), "values.global.proxy.accessLogFile").unwrap();
        assert!(msg.contains("Istio 1.5–1.6 has it"), "{msg}");
        assert_eq!(
            fix,
            "use `--set meshConfig.accessLogFile=...` (Istio 1.6 and newer)"
        );
        assert!(problem(m(5), "values.global.proxy.accessLogFile").is_none());
        assert!(problem(m(6), "values.global.proxy.accessLogEncoding").is_none());
        assert_eq!(
            deprecated(m(6), "values.global.proxy.accessLogEncoding"),
            Some("meshConfig.accessLogEncoding")
        );
        let (_, fix) = problem(m(5), "meshConfig.accessLogFile").unwrap();
        assert!(fix.contains("values.global.proxy.accessLogFile"), "{fix}");
    }

    #[test]
    fn the_seeds_egress_advice_is_recognised() {
        let (msg, fix) = problem(m(5), "gateways.components.egressGateway.enabled").unwrap();
        assert!(msg.contains("Istio 1.4"), "{msg}");
        assert_eq!(
            fix,
            "use `--set values.gateways.istio-egressgateway.enabled=true` (Istio 1.5 and newer)"
        );
    }

    #[test]
    fn unknown_top_level_fields() {
        assert!(problem(m(20), "meshconfig.accessLogFile").is_some());
        assert!(problem(m(20), "addonComponents.grafana.enabled").is_some());
        assert!(problem(m(6), "addonComponents.grafana.enabled").is_none());
        assert!(problem(m(20), "values.global.proxy.logLevel").is_none());
    }
}
