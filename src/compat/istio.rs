//! Istio: which Kubernetes each minor supports, the patch releases meshup offers, and how
//! istioctl's command line and value paths changed by version.

use super::version::{Minor, Version};

/// Istio minor → Kubernetes minors it supports (for ≤ 1.6: the ones it was tested on).
///
/// Sources (research/istio.md §4, shared/data/compat.yaml `istio:`):
/// - 1.4: https://istio.io/v1.4/docs/setup/getting-started ("tested 1.13, 1.14, 1.15")
/// - 1.5: the 1.5 release's platform note, "tested with 1.14, 1.15, 1.16" (the seed's
///   observation; quoted at https://blog.csdn.net/qq_24794401/article/details/106626083)
/// - 1.6: https://istio.io/v1.7/about/supported-releases
/// - 1.7–1.22: istio.io `data/compatibility/supportStatus.yml`
///   (https://github.com/istio/istio.io/blob/master/data/compatibility/supportStatus.yml)
/// - 1.23–1.29: https://github.com/endoflife-date/endoflife.date/blob/master/products/istio.md
/// - 1.30: https://github.com/istio/istio.io/blob/master/content/en/news/releases/1.30.x/announcing-1.30/_index.md
const SUPPORT: &[(u64, u64, u64)] = &[
    (4, 13, 15),
    (5, 14, 16),
    (6, 15, 18),
    (7, 16, 18),
    (8, 16, 19),
    (9, 17, 20),
    (10, 18, 21),
    (11, 18, 22),
    (12, 19, 22),
    (13, 20, 23),
    (14, 21, 24),
    (15, 22, 25),
    (16, 22, 25),
    (17, 23, 26),
    (18, 24, 27),
    (19, 25, 28),
    (20, 25, 29),
    (21, 26, 29),
    (22, 27, 30),
    (23, 27, 30),
    (24, 28, 31),
    (25, 29, 32),
    (26, 29, 33),
    (27, 29, 33),
    (28, 30, 34),
    (29, 31, 35),
    (30, 32, 36),
];

/// Patch releases meshup offers per minor: (minor, newest patch, patches without an
/// announcement). A patch is offered when istio.io announced it: one
/// `content/en/news/releases/1.N.x/announcing-1.N.P/` page per release in
/// https://github.com/istio/istio.io/tree/master/content/en/news/releases (read 2026-11-24;
/// 1.30.5 of 2026-09-21 is the newest). The gaps are numbers with no announcement page in that
/// index (not checked against the GitHub release list); meshup does not offer them.
/// Istio 1.4 is known for support ranges only: meshup installs 1.5 and later (IstioOperator).
const RELEASES: &[(u64, u64, &[u64])] = &[
    (5, 10, &[]),
    (6, 14, &[]),
    (7, 8, &[]),
    (8, 6, &[]),
    (9, 9, &[]),
    (10, 6, &[]),
    (11, 8, &[4]),
    (12, 9, &[]),
    (13, 9, &[5]),
    (14, 6, &[1]),
    (15, 7, &[]),
    (16, 7, &[]),
    (17, 8, &[]),
    (18, 7, &[]),
    (19, 10, &[]),
    (20, 8, &[6]),
    (21, 6, &[3]),
    (22, 8, &[]),
    (23, 6, &[]),
    (24, 6, &[]),
    (25, 5, &[]),
    (26, 8, &[]),
    (27, 9, &[]),
    (28, 10, &[]),
    (29, 8, &[]),
    (30, 5, &[]),
];

/// The Kubernetes minors an Istio minor supports, as (oldest, newest).
pub fn supported_kubernetes(istio: Minor) -> Option<(Minor, Minor)> {
    if istio.major != 1 {
        return None;
    }
    SUPPORT
        .iter()
        .find(|(i, _, _)| *i == istio.minor)
        .map(|(_, lo, hi)| (Minor::new(1, *lo), Minor::new(1, *hi)))
}

pub fn supports(istio: Minor, k8s: Minor) -> bool {
    supported_kubernetes(istio).is_some_and(|(lo, hi)| lo <= k8s && k8s <= hi)
}

/// "tested on" for the releases that only published what they were tested with.
pub fn support_verb(istio: Minor) -> &'static str {
    if istio <= Minor::new(1, 6) {
        "is tested on"
    } else {
        "supports"
    }
}

/// "Istio 1.5 is tested on Kubernetes 1.14–1.16".
pub fn support_sentence(istio: Minor) -> Option<String> {
    let (lo, hi) = supported_kubernetes(istio)?;
    Some(format!(
        "Istio {istio} {} Kubernetes {lo}–{hi}",
        support_verb(istio)
    ))
}

/// Istio minors meshup can install, oldest first.
pub fn offered_minors() -> impl DoubleEndedIterator<Item = Minor> {
    RELEASES.iter().map(|(m, _, _)| Minor::new(1, *m))
}

/// The patch releases meshup offers for a minor, oldest first (empty if it offers none).
pub fn patches(minor: Minor) -> Vec<Version> {
    if minor.major != 1 {
        return Vec::new();
    }
    RELEASES
        .iter()
        .find(|(m, _, _)| *m == minor.minor)
        .map(|(m, newest, gaps)| {
            (0..=*newest)
                .filter(|p| !gaps.contains(p))
                .map(|p| Minor::new(1, *m).with_patch(p))
                .collect()
        })
        .unwrap_or_default()
}

pub fn newest_patch(minor: Minor) -> Option<Version> {
    patches(minor).pop()
}

pub fn is_offered(version: &Version) -> bool {
    patches(version.minor()).contains(version)
}

/// The newest Istio meshup offers (the built-in default when nothing constrains it).
pub fn newest_offered() -> Version {
    let minor = offered_minors()
        .next_back()
        .expect("the table is not empty");
    newest_patch(minor).expect("every offered minor has patches")
}

/// "1.5–1.30", for messages.
pub fn offered_range_text() -> String {
    let first = offered_minors().next().expect("non-empty");
    let last = offered_minors().next_back().expect("non-empty");
    format!("{first}–{last}")
}

/// The newest offered Istio minor that supports a Kubernetes minor.
pub fn newest_supporting(k8s: Minor) -> Option<Minor> {
    offered_minors().rev().find(|m| supports(*m, k8s))
}

/// The offered Istio minor nearest to `istio` that supports `k8s` (ties go to the newer one).
pub fn nearest_supporting(istio: Minor, k8s: Minor) -> Option<Minor> {
    offered_minors()
        .filter(|m| supports(*m, k8s))
        .min_by_key(|m| (m.minor.abs_diff(istio.minor), u64::MAX - m.minor))
}

/// Built-in profiles by version: `manifests/profiles/*.yaml` at each tag (1.5:
/// `operator/data/profiles`), research/istio.md §2.1.
pub fn profiles(istio: &Version) -> &'static [&'static str] {
    let m = istio.minor().minor;
    match m {
        ..=5 => &["default", "demo", "empty", "minimal", "remote", "separate"],
        6..=7 => &["default", "demo", "empty", "minimal", "preview", "remote"],
        8..=9 => &[
            "default",
            "demo",
            "empty",
            "minimal",
            "openshift",
            "preview",
            "remote",
        ],
        10..=14 => &[
            "default",
            "demo",
            "empty",
            "external",
            "minimal",
            "openshift",
            "preview",
            "remote",
        ],
        15 => &[
            "default",
            "demo",
            "empty",
            "external",
            "minimal",
            "openshift",
            "preview",
        ],
        16..=21 => &[
            "ambient",
            "default",
            "demo",
            "empty",
            "external",
            "minimal",
            "openshift",
            "preview",
            "remote",
        ],
        _ => &[
            "ambient",
            "default",
            "demo",
            "empty",
            "minimal",
            "openshift",
            "openshift-ambient",
            "preview",
            "remote",
            "stable",
        ],
    }
}

/// How istioctl installs, by version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// `manifest apply` in 1.5, `install` from 1.6 (1.7 removed `manifest apply`).
    pub install_argv: &'static [&'static str],
    /// The access-log value paths: 1.5 `values.global.proxy.*`, 1.6+ `meshConfig.*`.
    pub access_log_file: &'static str,
    pub access_log_encoding: &'static str,
    /// The ingress gateway's status port: 15020 in 1.5, 15021 from 1.6.
    pub gateway_status_port: u16,
    /// Whether `values.global.jwtPolicy` still exists (removed with first-party-jwt in 1.22).
    pub jwt_policy_value: bool,
    /// 1.5's `manifest apply` shells out to `kubectl apply`, which must be on PATH.
    pub needs_kubectl: bool,
}

/// Source: research/istio.md §0, §3.1, §3.3, §6.7; shared/data/compat.yaml `istioctl:`.
pub fn shape(istio: &Version) -> Shape {
    let m = istio.minor();
    let v15 = m <= Minor::new(1, 5);
    Shape {
        install_argv: if v15 {
            &["manifest", "apply"]
        } else {
            &["install"]
        },
        access_log_file: if v15 {
            "values.global.proxy.accessLogFile"
        } else {
            "meshConfig.accessLogFile"
        },
        access_log_encoding: if v15 {
            "values.global.proxy.accessLogEncoding"
        } else {
            "meshConfig.accessLogEncoding"
        },
        gateway_status_port: if v15 { 15020 } else { 15021 },
        jwt_policy_value: m <= Minor::new(1, 21),
        needs_kubectl: v15,
    }
}

/// Whether `values.global.jwtPolicy=first-party-jwt` exists (≤ 1.21).
pub fn first_party_jwt_allowed(istio: &Version) -> bool {
    istio.minor() <= Minor::new(1, 21)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compat::version::v;

    #[test]
    fn the_seed_observation() {
        assert_eq!(
            support_sentence(Minor::new(1, 5)).unwrap(),
            "Istio 1.5 is tested on Kubernetes 1.14–1.16"
        );
        assert!(!supports(Minor::new(1, 5), Minor::new(1, 17)));
        assert_eq!(
            nearest_supporting(Minor::new(1, 5), Minor::new(1, 17)),
            Some(Minor::new(1, 6))
        );
    }

    #[test]
    fn picks_the_newest_istio_for_a_kubernetes() {
        assert_eq!(newest_supporting(Minor::new(1, 15)), Some(Minor::new(1, 6)));
        assert_eq!(
            newest_supporting(Minor::new(1, 35)),
            Some(Minor::new(1, 30))
        );
        assert_eq!(newest_supporting(Minor::new(1, 12)), None);
    }

    #[test]
    fn patches_skip_unannounced_numbers() {
        assert_eq!(newest_patch(Minor::new(1, 5)), Some(v("1.5.10")));
        assert!(is_offered(&v("1.5.0")));
        assert!(!is_offered(&v("1.5.11")));
        assert!(!is_offered(&v("1.14.1")));
        assert!(is_offered(&v("1.14.2")));
        assert_eq!(newest_offered(), v("1.30.5"));
        assert!(patches(Minor::new(1, 4)).is_empty());
    }

    #[test]
    fn command_shape_by_version() {
        assert_eq!(shape(&v("1.5.0")).install_argv, ["manifest", "apply"]);
        assert_eq!(shape(&v("1.6.0")).install_argv, ["install"]);
        assert_eq!(shape(&v("1.5.0")).gateway_status_port, 15020);
        assert_eq!(shape(&v("1.6.14")).gateway_status_port, 15021);
        assert_eq!(
            shape(&v("1.7.0")).access_log_file,
            "meshConfig.accessLogFile"
        );
        assert!(shape(&v("1.21.0")).jwt_policy_value);
        assert!(!shape(&v("1.22.0")).jwt_policy_value);
        assert!(first_party_jwt_allowed(&v("1.21.6")));
        assert!(!first_party_jwt_allowed(&v("1.22.0")));
    }

    #[test]
    fn profiles_by_version() {
        assert!(profiles(&v("1.5.0")).contains(&"separate"));
        assert!(!profiles(&v("1.5.0")).contains(&"ambient"));
        assert!(profiles(&v("1.16.0")).contains(&"ambient"));
        assert!(!profiles(&v("1.22.0")).contains(&"external"));
    }

    #[test]
    fn every_offered_minor_has_a_support_range() {
        for m in offered_minors() {
            assert!(supported_kubernetes(m).is_some(), "{m}");
        }
    }
}
