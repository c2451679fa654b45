//! minikube release → the Kubernetes versions `minikube start` accepts without `--force`.
//!
//! Source: `pkg/minikube/constants/constants.go` at each tag (`OldestKubernetesVersion`,
//! `DefaultKubernetesVersion` = what `stable` resolves to, `NewestKubernetesVersion`), via
//! research/minikube.md §3 and shared/data/compat.yaml `minikube:`. Between two listed
//! releases the earlier row holds. Out of range without `--force`: exit 106
//! (K8S_OLD_UNSUPPORTED / K8S_NEW_UNSUPPORTED).

use super::version::{Version, v};

/// The Kubernetes versions one minikube release accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeRange {
    pub oldest: Version,
    /// `stable`, and what minikube starts when no version is given.
    pub stable: Version,
    /// `latest`.
    pub newest: Version,
}

impl KubeRange {
    pub fn contains(&self, k8s: &Version) -> bool {
        self.oldest <= *k8s && *k8s <= self.newest
    }
}

/// (release, oldest, stable, newest), oldest release first.
const RELEASES: &[(&str, &str, &str, &str)] = &[
    ("1.9.0", "1.11.10", "1.18.0", "1.18.0"),
    ("1.12.0", "1.13.0", "1.18.3", "1.18.4-rc.0"),
    ("1.15.0", "1.13.0", "1.19.4", "1.20.0-beta.1"),
    ("1.18.0", "1.14.0", "1.20.2", "1.20.5-rc.0"),
    ("1.20.0", "1.14.0", "1.20.2", "1.22.0-alpha.1"),
    // The last release that starts v1.15.10 without --force.
    ("1.24.0", "1.14.0", "1.22.3", "1.22.4-rc.0"),
    ("1.25.0", "1.16.0", "1.23.1", "1.23.2-rc.0"),
    ("1.28.0", "1.16.0", "1.25.3", "1.25.3"),
    ("1.30.0", "1.16.0", "1.26.3", "1.27.0-rc.0"),
    ("1.32.0", "1.16.0", "1.28.3", "1.28.3"),
    ("1.33.0", "1.20.0", "1.30.0", "1.30.0"),
    ("1.35.0", "1.20.0", "1.32.0", "1.32.0"),
    ("1.36.0", "1.20.0", "1.33.1", "1.33.1"),
    ("1.37.0", "1.28.0", "1.34.0", "1.34.0"),
    ("1.38.0", "1.28.0", "1.35.0", "1.35.0"),
    ("1.38.1", "1.28.0", "1.35.1", "1.35.1"),
];

/// The minikube meshup fetches when none is installed: the newest release in the table.
pub fn default_release() -> Version {
    v(RELEASES[RELEASES.len() - 1].0)
}

fn row(r: &(&str, &str, &str, &str)) -> (Version, KubeRange) {
    (
        v(r.0),
        KubeRange {
            oldest: v(r.1),
            stable: v(r.2),
            newest: v(r.3),
        },
    )
}

/// The Kubernetes range of a minikube release (the nearest listed release at or below it).
/// None for releases older than the table (before v1.9.0).
pub fn kubernetes_range(release: &Version) -> Option<KubeRange> {
    RELEASES
        .iter()
        .map(row)
        .take_while(|(rel, _)| rel <= release)
        .last()
        .map(|(_, range)| range)
}

/// The newest minikube release that starts this Kubernetes version without `--force`.
pub fn newest_release_for(k8s: &Version) -> Option<Version> {
    RELEASES
        .iter()
        .rev()
        .map(row)
        .find(|(_, range)| range.contains(k8s))
        .map(|(rel, _)| rel)
}

/// The Kubernetes version nearest to `k8s` that some listed minikube release can start,
/// for "use vX instead" advice.
pub fn nearest_startable(k8s: &Version) -> Option<Version> {
    let newest = RELEASES
        .iter()
        .map(row)
        .map(|(_, r)| r.newest)
        .filter(|v| !v.is_prerelease())
        .max()?;
    let oldest = RELEASES.iter().map(row).map(|(_, r)| r.oldest).min()?;
    if *k8s > newest {
        Some(newest)
    } else if *k8s < oldest {
        Some(oldest)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_between_listed_releases_take_the_earlier_row() {
        let r = kubernetes_range(&v("1.26.1")).unwrap();
        assert_eq!(r.oldest, v("1.16.0"));
        assert_eq!(r.stable, v("1.23.1"));
        assert_eq!(kubernetes_range(&v("1.38.1")).unwrap().stable, v("1.35.1"));
        assert_eq!(kubernetes_range(&v("1.8.0")), None);
    }

    #[test]
    fn v1_24_is_the_last_that_starts_1_15() {
        assert_eq!(newest_release_for(&v("1.15.10")), Some(v("1.24.0")));
        assert_eq!(newest_release_for(&v("1.35.1")), Some(v("1.38.1")));
        assert_eq!(newest_release_for(&v("1.36.2")), None);
        assert_eq!(newest_release_for(&v("1.10.0")), None);
        assert!(
            !kubernetes_range(&v("1.38.1"))
                .unwrap()
                .contains(&v("1.15.10"))
        );
    }

    #[test]
    fn nearest_startable_clamps() {
        assert_eq!(nearest_startable(&v("1.36.2")), Some(v("1.35.1")));
        assert_eq!(nearest_startable(&v("1.10.0")), Some(v("1.11.10")));
        assert_eq!(nearest_startable(&v("1.20.0")), None);
    }

    #[test]
    fn table_is_ordered() {
        for w in RELEASES.windows(2) {
            assert!(v(w[0].0) < v(w[1].0));
        }
        for r in RELEASES {
            let (_, range) = row(r);
            assert!(range.oldest <= range.stable && range.stable <= range.newest);
        }
    }
}
