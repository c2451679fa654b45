//! Names that end up as minikube profiles, kube contexts, docker containers and namespaces.

pub const DEFAULT_PROFILE: &str = "meshup";
pub const PROFILE_ACCEPTED: &str = "a DNS label: 2–63 lowercase letters, digits or `-`, starting and ending with a letter or digit, not `minikube`";

/// A cluster profile name (DESIGN.md "Names"): a DNS label of 2–63 characters, and never
/// minikube's own `minikube` profile, which meshup must not take over.
pub fn check_profile(name: &str) -> Result<(), &'static str> {
    if name.len() < 2 {
        return Err("is shorter than 2 characters");
    }
    if name.len() > 63 {
        return Err("is longer than 63 characters");
    }
    if !is_dns_label(name) {
        return Err("is not a DNS label");
    }
    if name == "minikube" {
        return Err("is minikube's own default profile, which meshup never uses");
    }
    Ok(())
}

/// RFC 1123 label: lowercase alphanumerics and `-`, alphanumeric at both ends, ≤ 63.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub const SCENARIO_NAME_ACCEPTED: &str =
    "1–63 characters: letters, digits, `-`, `_` and `.`, e.g. seed-istio-1.5-k8s-1.15";

/// `metadata.name`: shown in plans and reports, so plain printable text.
pub fn is_scenario_name(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// An Istio profile name (built-in profiles are lowercase words with `-`).
pub fn is_profile_word(s: &str) -> bool {
    is_dns_label(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles() {
        for ok in ["meshup", "ci-1", "a1", "x-y-z"] {
            assert!(check_profile(ok).is_ok(), "{ok}");
        }
        for bad in [
            "../x",
            "A B",
            "-p",
            "p-",
            "a",
            "minikube",
            "Meshup",
            "a_b",
            "a.b",
            &"a".repeat(64),
        ] {
            assert!(check_profile(bad).is_err(), "{bad}");
        }
    }
}
