//! The second half of `minikube start`, once every check passed: the steps with their
//! durations, the cluster in the world (`PUT /clusters/{p}`), certificates, kubeconfig,
//! config.json; failures and interruptions injected by knobs.

use crate::control::{ClusterSpec, ClusterState};
use crate::fakes::common::{Env, sleep_ms, version_key};

use super::profile::{self, Config, Phase};
use super::release::Release;
use super::start::Plan;
use super::ui::Ui;

pub(super) fn provision(
    env: &Env,
    rel: &Release,
    ui: &Ui,
    p: &Plan,
    existed: bool,
    state: Option<ClusterState>,
    hide: bool,
) -> i32 {
    let knobs = &env.knobs.minikube;
    let fresh = !existed || state.is_none();
    let total = if fresh {
        knobs.start_ms
    } else {
        knobs.restart_ms
    };
    let tick = total / 10;
    let interrupt = |step: u32| {
        if knobs.interrupt_start_at_step.is_some_and(|s| s <= step) {
            // A start killed mid-way: no exit line, no cleanup, like SIGKILL from a user.
            let _ =
                nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGKILL);
        }
    };
    let mut cfg = Config {
        name: p.profile.clone(),
        memory: p.memory,
        cpus: p.cpus,
        driver: p.driver.clone(),
        kubernetes_version: p.version.clone(),
        service_cidr: p.service_cidr.clone(),
        container_runtime: p.runtime.clone(),
        node_ip: String::new(),
        extra_options: p.extra.clone(),
        keep_context: p.keep_context,
    };
    ui.step(
        "Starting Node",
        "👍",
        &rel.starting_node_line(&p.profile),
        false,
    );
    if profile::sim_state(&p.profile).is_none() || fresh {
        profile::set_phase(&p.profile, Phase::Creating);
    }
    let _ = profile::save(&cfg, rel.kic_version());
    interrupt(3);
    let base = if rel.at_least("v1.33.0") {
        format!("Pulling base image {} ...", rel.kic_version())
    } else {
        "Pulling base image ...".to_string()
    };
    ui.step("Pulling Base Image", "🚜", &base, false);
    if fresh && knobs.download_preload {
        let artifact = format!(
            "preloaded-images-k8s-v18-{}-{}-overlay2-amd64.tar.lz4",
            p.version, p.runtime
        );
        ui.download(&artifact, None);
        for i in 1..=4 {
            sleep_ms(tick / 4);
            ui.download(&artifact, Some(i as f64 / 4.0));
        }
    } else {
        sleep_ms(tick);
    }
    interrupt(5);
    let machine = if p.driver == "docker" || p.driver == "podman" {
        "container"
    } else {
        "VM"
    };
    let create = match state {
        None => format!(
            "Creating {} {machine} (CPUs={}, Memory={}MB) ...",
            p.driver, p.cpus, p.memory
        ),
        Some(ClusterState::Stopped) => format!(
            "Restarting existing {} {machine} for \"{}\" ...",
            p.driver, p.profile
        ),
        Some(ClusterState::Running) => format!(
            "Updating the running {} \"{}\" {machine} ...",
            p.driver, p.profile
        ),
    };
    ui.step(
        "Creating Container",
        if state.is_none() { "🔥" } else { "🏃" },
        &create,
        hide,
    );
    sleep_ms(tick * 2);
    interrupt(8);
    if let Some(reason) = &knobs.fail_start {
        let msg = match reason.as_str() {
            "GUEST_START" => "failed to start node: wait 6m0s for node: wait for healthy API server: apiserver healthz never reported healthy: context deadline exceeded".to_string(),
            "K8S_APISERVER_MISSING" => "wait 6m0s for node: wait for apiserver proc: apiserver process never appeared".to_string(),
            "GUEST_PROVISION_CONTAINER_EXITED" => "Docker container exited prematurely after it was created, consider investigating Docker's performance/health.".to_string(),
            other => format!("failed to start node: {other}"),
        };
        return ui.exit(reason, &msg);
    }
    ui.step(
        "Preparing Kubernetes",
        "🐳",
        &format!(
            "Preparing Kubernetes {} on Docker {} ...",
            p.version,
            rel.docker_in_node()
        ),
        hide,
    );
    if fresh {
        ui.sub_step(
            "Generating certificates",
            "Generating certificates and keys ...",
            hide,
        );
        sleep_ms(tick);
        interrupt(12);
    }
    let control = match env.control() {
        Ok(c) => c,
        Err(e) => return ui.exit("GUEST_START", &e),
    };
    let spec = ClusterSpec {
        kubernetes_version: p.version.clone(),
        cpus: p.cpus,
        memory_mb: p.memory,
        driver: p.driver.clone(),
        service_cidr: p.service_cidr.clone(),
    };
    if fresh {
        ui.sub_step(
            "Booting control plane",
            "Booting up control plane ...",
            hide,
        );
    }
    let info = match control.put_cluster(&p.profile, &spec) {
        Ok(i) => i,
        Err(e) => return ui.exit("GUEST_START", &format!("failed to start node: {e}")),
    };
    sleep_ms(tick * 2);
    interrupt(13);
    if fresh {
        ui.sub_step("Configuring RBAC rules", "Configuring RBAC rules ...", hide);
        sleep_ms(tick);
    }
    if version_key(&p.version) >= version_key("v1.24.0") && p.runtime == "docker" {
        ui.step(
            "Configuring CNI",
            "🔗",
            "Configuring bridge CNI (Container Networking Interface) ...",
            false,
        );
    }
    cfg.node_ip = info.node_ip.clone();
    let _ = profile::save(&cfg, rel.kic_version());
    let Some(server) = info.server.clone() else {
        return ui.exit(
            "GUEST_START",
            "failed to start node: the cluster has no API server address",
        );
    };
    let certs = match profile::write_certs(&p.profile, &info) {
        Ok(c) => c,
        Err(e) => {
            return ui.exit(
                "HOST_KUBECONFIG_UPDATE",
                &format!("Failed to update kubeconfig file: {e}"),
            );
        }
    };
    if let Err(e) =
        profile::update_kubeconfig(&p.profile, &server, &certs, &rel.version, p.keep_context)
    {
        return ui.exit(
            "HOST_KUBECONFIG_UPDATE",
            &format!("Failed to update kubeconfig file: {e}"),
        );
    }
    ui.step(
        "Verifying Kubernetes",
        "🔎",
        "Verifying Kubernetes components...",
        false,
    );
    sleep_ms(tick);
    interrupt(17);
    ui.sub_info("Using image gcr.io/k8s-minikube/storage-provisioner:v5");
    ui.step(
        "Enabling Addons",
        "🌟",
        "Enabled addons: storage-provisioner, default-storageclass",
        false,
    );
    profile::set_phase(&p.profile, Phase::Running);
    let done = if p.keep_context {
        format!("To connect to this cluster, use:  --context={}", p.profile)
    } else {
        format!(
            "Done! kubectl is now configured to use \"{}\" cluster and \"default\" namespace by default",
            p.profile
        )
    };
    ui.step(
        "Done",
        if p.keep_context { "💗" } else { "🏄" },
        &done,
        false,
    );
    0
}
