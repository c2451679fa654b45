//! meshup's own advice for the failures people meet most, keyed by minikube's reason id (or its
//! exit code when an old release printed no id). minikube's advice is shown too; this adds what
//! to do with meshup.

/// Advice for a failed `minikube start`, in the words of a meshup user.
pub fn for_start_failure(reason: Option<&str>, exit_code: Option<i32>) -> Option<&'static str> {
    let by_reason = reason.and_then(|r| match r {
        "DRV_AS_ROOT" => Some(ROOT),
        "PROVIDER_DOCKER_NOT_RUNNING" | "DRV_DOCKER_NOT_RUNNING" => Some(DOCKER_DOWN),
        r if r.starts_with("RSRC_") && r.ends_with("MEMORY") => Some(MEMORY),
        "RSRC_INSUFFICIENT_CORES" | "RSRC_DOCKER_CORES" => Some(CPUS),
        "K8S_OLD_UNSUPPORTED" | "K8S_NEW_UNSUPPORTED" => Some(VERSION),
        "K8S_DOWNGRADE_UNSUPPORTED" => Some(DOWNGRADE),
        "GUEST_START" | "GUEST_PROVISION" | "GUEST_PROVISION_CONTAINER_EXITED" => Some(GUEST),
        "PROVIDER_DOCKER_NEWGRP" => Some(DOCKER_GROUP),
        "HOST_CGROUP_NOT_SUPPORTED" => Some(CGROUP),
        _ => None,
    });
    by_reason.or(match exit_code? {
        23 => Some(MEMORY),
        29 => Some(CPUS),
        57 => Some(ROOT),
        63 => Some(DOCKER_DOWN),
        80 => Some(GUEST),
        106 => Some(VERSION),
        _ => None,
    })
}

const ROOT: &str = "minikube refuses the docker driver as root. Run meshup as a user in the \
    `docker` group, or add `--force` to the scenario's `cluster.extraArgs` to accept the risk.";
const DOCKER_DOWN: &str = "Docker is not running or not reachable. Start it (`sudo systemctl \
    start docker`, or Docker Desktop), check `docker info`, then run `meshup start` again.";
const MEMORY: &str = "Not enough memory for the requested cluster. Lower `--memory` (Istio needs \
    about 4gb for the demo profile, 8gb is comfortable) or give Docker more memory.";
const CPUS: &str = "Not enough CPUs for the requested cluster. Lower `--cpus` (2 is minikube's \
    floor) or give Docker more CPUs.";
const VERSION: &str = "This minikube release does not support the requested Kubernetes version. \
    `meshup doctor` shows which minikube meshup would use; let meshup fetch a matching release, \
    or choose a version in its range with `--k8s`.";
const DOWNGRADE: &str = "minikube cannot downgrade a cluster. Run `meshup start --recreate` to \
    delete and recreate it, or use a different `--cluster-profile`.";
const GUEST: &str = "The minikube node did not come up. `minikube logs -p <profile>` shows why; \
    `meshup start --recreate` starts from a clean node.";
const DOCKER_GROUP: &str = "Your user is not in the `docker` group yet: run `newgrp docker` or \
    log in again.";
const CGROUP: &str = "The host's cgroup setup does not support this Kubernetes version: \
    Kubernetes older than 1.19 needs a cgroup v1 host. Choose `--k8s v1.19` or newer.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_reasons_have_advice() {
        for (reason, code) in [
            ("RSRC_INSUFFICIENT_REQ_MEMORY", 23),
            ("RSRC_INSUFFICIENT_CORES", 29),
            ("DRV_AS_ROOT", 57),
            ("PROVIDER_DOCKER_NOT_RUNNING", 63),
            ("GUEST_START", 80),
            ("K8S_OLD_UNSUPPORTED", 106),
        ] {
            assert!(
                for_start_failure(Some(reason), Some(code)).is_some(),
                "{reason}"
            );
            assert_eq!(
                for_start_failure(None, Some(code)),
                for_start_failure(Some(reason), Some(code)),
                "{code}"
            );
        }
        assert_eq!(for_start_failure(Some("SOMETHING_NEW"), Some(1)), None);
    }
}
