//! Kubernetes releases meshup knows: the newest patch of each minor, so `--k8s 1.15` can be
//! pinned to `v1.15.12` in the plan (minikube resolves `major.minor` the same way, from its
//! built-in list).
//!
//! Sources:
//! - 1.11–1.32: minikube `pkg/minikube/constants/constants_kubernetes_versions.go`
//!   (`ValidKubernetesVersions`, the generated list minikube itself resolves `1.15` from),
//!   https://github.com/kubernetes/minikube/blob/master/pkg/minikube/constants/constants_kubernetes_versions.go
//! - 1.33–1.36: the newest versions of minikube v1.36.0 / v1.37.0 / v1.38.1 and HEAD
//!   (research/minikube.md §3, `NewestKubernetesVersion` at each tag). Newer patches of the
//!   still-maintained minors may exist; a version above these is accepted with a warning.

use super::version::{Minor, Version};

/// (minor, newest patch meshup knows).
const NEWEST_PATCH: &[(u64, u64)] = &[
    (11, 10),
    (12, 10),
    (13, 12),
    (14, 10),
    (15, 12),
    (16, 15),
    (17, 17),
    (18, 20),
    (19, 16),
    (20, 15),
    (21, 14),
    (22, 17),
    (23, 17),
    (24, 17),
    (25, 16),
    (26, 15),
    (27, 16),
    (28, 15),
    (29, 15),
    (30, 12),
    (31, 8),
    (32, 4),
    (33, 1),
    (34, 0),
    (35, 1),
    (36, 2),
];

pub fn oldest_known() -> Minor {
    Minor::new(1, NEWEST_PATCH[0].0)
}

pub fn newest_known() -> Minor {
    Minor::new(1, NEWEST_PATCH[NEWEST_PATCH.len() - 1].0)
}

pub fn is_known_minor(minor: Minor) -> bool {
    newest_patch(minor).is_some()
}

/// The newest patch of a Kubernetes minor that meshup knows, e.g. 1.15 → v1.15.12.
pub fn newest_patch(minor: Minor) -> Option<Version> {
    if minor.major != 1 {
        return None;
    }
    NEWEST_PATCH
        .iter()
        .find(|(m, _)| *m == minor.minor)
        .map(|(m, p)| Minor::new(1, *m).with_patch(*p))
}

/// Every minor meshup knows, oldest first.
pub fn known_minors() -> impl Iterator<Item = Minor> {
    NEWEST_PATCH.iter().map(|(m, _)| Minor::new(1, *m))
}

/// "v1.11–v1.36", for messages.
pub fn known_range_text() -> String {
    format!("v{}–v{}", oldest_known(), newest_known())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compat::version::v;

    #[test]
    fn newest_patch_pins_a_minor() {
        assert_eq!(newest_patch(Minor::new(1, 15)), Some(v("1.15.12")));
        assert_eq!(newest_patch(Minor::new(1, 99)), None);
        assert_eq!(newest_patch(Minor::new(2, 15)), None);
    }

    #[test]
    fn table_is_sorted_and_contiguous() {
        for w in NEWEST_PATCH.windows(2) {
            assert_eq!(w[0].0 + 1, w[1].0);
        }
    }
}
