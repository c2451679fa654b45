//! `minikube start`: validations in the real order (start.go:runStart), the step registry,
//! then the cluster in the world (`PUT /clusters/{p}`), certificates, kubeconfig, config.json.

use crate::fakes::common::{Args, Env, parse_version, version_key, which};

use super::profile::{self, Config};
use super::release::Release;
use super::ui::Ui;

/// `pkgutil.CalculateSizeInMB`: a bare number is MB; otherwise go-units RAMInBytes (binary).
pub fn parse_memory_mb(v: &str) -> Result<u64, String> {
    let t = v.trim();
    if let Ok(n) = t.parse::<u64>() {
        return Ok(n);
    }
    let re = regex::Regex::new(r"(?i)^(\d+(?:\.\d+)*) ?([kmgtp])?i?b?$").expect("static regex");
    let bad =
        || format!("Generate unable to parse memory '{v}': FromHumanSize: invalid size: '{v}'");
    let caps = re.captures(t).ok_or_else(bad)?;
    let num: f64 = caps[1].parse().map_err(|_| bad())?;
    let mult = match caps.get(2).map(|m| m.as_str().to_ascii_lowercase()) {
        None => 1.0,
        Some(u) => match u.as_str() {
            "k" => 1024.0,
            "m" => 1024.0 * 1024.0,
            "g" => 1024.0 * 1024.0 * 1024.0,
            "t" => 1024f64.powi(4),
            _ => 1024f64.powi(5),
        },
    };
    Ok((num * mult / (1024.0 * 1024.0)) as u64)
}

const DRIVERS: &[&str] = &[
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

pub const BOOL_FLAGS: &[&str] = &[
    "--force",
    "--keep-context",
    "--embed-certs",
    "--dry-run",
    "--download-only",
    "--delete-on-failure",
    "--interactive",
    "--no-kubernetes",
    "--ha",
    "--preload",
    "--install-addons",
    "--cache-images",
    "--auto-update-drivers",
    "--native-ssh",
    "--disable-driver-mounts",
    "--mount",
    "--no-vtx-check",
    "--force-systemd",
    "--alsologtostderr",
    "--logtostderr",
    "--skip-audit",
];

pub const VALUE_FLAGS: &[&str] = &[
    "-p",
    "--profile",
    "--kubernetes-version",
    "--cpus",
    "-m",
    "--memory",
    "-d",
    "--driver",
    "--vm-driver",
    "--wait",
    "--wait-timeout",
    "--service-cluster-ip-range",
    "--extra-config",
    "-o",
    "--output",
    "-c",
    "--container-runtime",
    "--addons",
    "-n",
    "--nodes",
    "--cni",
    "--feature-gates",
    "--ports",
    "--listen-address",
    "--static-ip",
    "--subnet",
    "--base-image",
    "--disk-size",
    "--network-plugin",
    "--insecure-registry",
    "--registry-mirror",
    "--image-repository",
    "--apiserver-ips",
    "--apiserver-name",
    "--apiserver-names",
    "--apiserver-port",
    "--mount-string",
    "--network",
    "--dns-domain",
    "--docker-env",
    "--docker-opt",
    "--host-only-cidr",
    "--iso-url",
    "--v",
    "-v",
    "--cert-expiration",
    "--gpus",
    "--user",
];

pub(super) struct Plan {
    pub(super) profile: String,
    pub(super) version: String,
    pub(super) cpus: u32,
    pub(super) memory: u64,
    pub(super) driver: String,
    pub(super) runtime: String,
    pub(super) service_cidr: String,
    pub(super) extra: Vec<(String, String, String)>,
    pub(super) keep_context: bool,
}

pub fn run(env: &Env, rel: &Release, profile: &str, args: &Args) -> i32 {
    let mut ui = Ui::new(args.get(&["-o", "--output"]) == Some("json"));
    ui.registry = rel.start_registry();
    ui.legacy_order = rel.legacy_event_order();
    let knobs = &env.knobs;
    if knobs.minikube.start_ignores_stop_signals {
        use nix::sys::signal::{SigHandler, Signal, signal};
        // SAFETY: SIG_IGN installs no handler code.
        unsafe {
            let _ = signal(Signal::SIGINT, SigHandler::SigIgn);
            let _ = signal(Signal::SIGTERM, SigHandler::SigIgn);
        }
    }
    let force = args.bool(&["--force"]);
    let hide = !crate::fakes::common::stdout_is_tty() && rel.hides_spinner_steps_without_tty();
    let prefix = if profile == "minikube" {
        String::new()
    } else {
        format!("[{profile}] ")
    };
    let existing = profile::load(profile);
    let control = match env.control() {
        Ok(c) => c,
        Err(e) => return ui.exit("GUEST_START", &e),
    };
    let world_cluster = control.cluster(profile).ok().flatten();
    let _ = std::fs::create_dir_all(profile::profile_dir(profile));
    ui.event_log = Some(profile::profile_dir(profile).join("events.json"));
    let _ = std::fs::remove_file(profile::profile_dir(profile).join("events.json"));

    ui.step(
        "Initial Minikube Setup",
        "😄",
        &format!(
            "{prefix}minikube {} on {} (amd64)",
            rel.version, knobs.host.os
        ),
        false,
    );
    if force {
        ui.warning("minikube skips various validations when --force is supplied; this may lead to unexpected behavior");
    }

    // validateKubernetesVersion
    let requested = args.get(&["--kubernetes-version"]).unwrap_or("");
    let version = match resolve_version(rel, requested, existing.as_ref()) {
        Ok(v) => v,
        Err((reason, msg)) => return ui.exit(reason, &msg),
    };
    let bare = version.trim_start_matches('v');
    if version_key(&version) < version_key(&rel.oldest) {
        ui.warning(&format!(
            "Specified Kubernetes version {bare} is less than the oldest supported version: {}.{}",
            rel.oldest,
            rel.defaults_hint()
        ));
        ui.warning("You can force an unsupported Kubernetes version via the --force flag");
        let msg = format!("Kubernetes {bare} is not supported by this release of minikube");
        if !force {
            return ui.exit("K8S_OLD_UNSUPPORTED", &msg);
        }
        ui.error_line(&msg);
    }
    if version_key(&version) > version_key(&rel.newest) {
        ui.warning(&format!(
            "Specified Kubernetes version {bare} is newer than the newest supported version: {}.{}",
            rel.newest,
            rel.defaults_hint()
        ));
        if rel.refuses_too_new() && !force {
            ui.styled("🤔", "Searching the internet for Kubernetes version...");
            return ui.exit(
                "K8S_NEW_UNSUPPORTED",
                &format!("Kubernetes version {bare} is not supported by this release of minikube"),
            );
        }
    }
    if let Some(old) = &existing
        && !old.kubernetes_version.is_empty()
        && version_key(&version) < version_key(&old.kubernetes_version)
    {
        let msg = format!(
            "Unable to safely downgrade existing Kubernetes {} cluster to {version}",
            old.kubernetes_version
        );
        return ui.exit("K8S_DOWNGRADE_UNSUPPORTED", &msg);
    }

    // selectDriver / validateDriver
    let driver = match (args.get(&["-d", "--driver", "--vm-driver"]), &existing) {
        (Some(d), _) => d.to_string(),
        (None, Some(old)) => old.driver.clone(),
        (None, None) => "docker".to_string(),
    };
    if !DRIVERS.contains(&driver.as_str()) {
        return ui.exit(
            "DRV_UNSUPPORTED_OS",
            &format!("The driver '{driver}' is not supported on linux/amd64"),
        );
    }
    let how = if existing.is_some() {
        format!("Using the {driver} driver based on existing profile")
    } else if args.is_set(&["-d", "--driver", "--vm-driver"]) {
        format!("Using the {driver} driver based on user configuration")
    } else {
        format!("Automatically selected the {driver} driver. Other choices: none, ssh")
    };
    ui.step("Selecting Driver", "✨", &how, false);
    if driver == "docker" {
        if which("docker").is_none() {
            return ui.exit("PROVIDER_DOCKER_NOT_FOUND", "The 'docker' provider was not found: exec: \"docker\": executable file not found in $PATH");
        }
        if !knobs.docker.running {
            return ui.exit(
                "PROVIDER_DOCKER_NOT_RUNNING",
                "\"docker version --format {{.Server.Os}}-{{.Server.Version}}:{{.Server.Platform.Name}}\" exit status 1: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
            );
        }
    }

    // validateFlags: cpus and memory
    let avail_cpus = if driver == "docker" {
        knobs.docker.ncpu
    } else {
        knobs.host.cpus
    };
    let cpus = match args.get(&["--cpus"]) {
        None => existing.as_ref().map(|c| c.cpus).unwrap_or(2),
        Some("max") | Some("no-limit") => avail_cpus,
        Some(v) => match v.parse::<u32>() {
            Ok(n) => n,
            Err(_) => return ui.exit("MK_USAGE", &format!("Invalid cpus value: \"{v}\"")),
        },
    };
    if cpus < 2 {
        let msg = format!("Requested cpu count {cpus} is less than the minimum allowed of 2");
        if !force {
            return ui.exit("RSRC_INSUFFICIENT_CORES", &msg);
        }
        ui.error_line(&msg);
    } else if cpus > avail_cpus {
        let msg = format!(
            "Requested cpu count {cpus} is greater than the available cpus of {avail_cpus}"
        );
        if !force {
            return ui.exit("RSRC_INSUFFICIENT_CORES", &msg);
        }
        ui.error_line(&msg);
    }
    let limit_mb = if driver == "docker" {
        knobs.docker.mem_total_mb
    } else {
        knobs.host.memory_mb
    };
    let memory = match args.get(&["-m", "--memory"]) {
        None => existing.as_ref().map(|c| c.memory).unwrap_or_else(|| {
            (knobs.host.memory_mb / 4)
                .clamp(3072, 6144)
                .min(limit_mb.saturating_sub(48))
        }),
        Some("max") | Some("no-limit") => limit_mb.saturating_sub(48),
        Some(v) => match parse_memory_mb(v) {
            Ok(mb) => mb,
            Err(e) => return ui.exit("MK_USAGE", &e),
        },
    };
    if memory < 1800 {
        let msg = format!(
            "Requested memory allocation {memory}MiB is less than the usable minimum of 1800MB"
        );
        if !force {
            return ui.exit("RSRC_INSUFFICIENT_REQ_MEMORY", &msg);
        }
        ui.error_line(&msg);
    } else if memory < 1900 {
        ui.warning(&format!("Requested memory allocation ({memory}MB) is less than the recommended minimum 1900MB. Deployments may fail."));
    }
    if memory > limit_mb && !force {
        return ui.exit(
            "MK_USAGE",
            &format!("{driver} has only {limit_mb}MB memory but you specified {memory}MB"),
        );
    }
    if let Some(old) = &existing {
        if args.is_set(&["-m", "--memory"]) && old.memory != memory {
            ui.warning("You cannot change the memory size for an existing minikube cluster. Please first delete the cluster.");
        }
        if args.is_set(&["--cpus"]) && old.cpus != cpus {
            ui.warning("You cannot change the number of CPUs for an existing minikube cluster. Please first delete the cluster.");
        }
    }

    // validateUser
    if knobs.host.root && driver != "none" {
        if !force {
            return ui.exit(
                "DRV_AS_ROOT",
                &format!("The \"{driver}\" driver should not be used with root privileges. If you wish to continue as root, use --force."),
            );
        }
        ui.info(
            "📌",
            &format!("Using {} driver with root privileges", capitalise(&driver)),
        );
    }

    let runtime = args
        .get(&["-c", "--container-runtime"])
        .map(String::from)
        .or(existing.as_ref().map(|c| c.container_runtime.clone()))
        .unwrap_or_else(|| "docker".into());
    if !["docker", "cri-o", "crio", "containerd"].contains(&runtime.as_str()) {
        return ui.exit("MK_USAGE", &format!("Invalid Container Runtime: {runtime}. Valid runtimes are: [docker cri-o containerd]"));
    }
    if rel.at_least("v1.38.1") && runtime == "docker" {
        ui.warning("Starting v1.39.0, minikube will default to \"containerd\" container runtime. See #21973 for more info.");
    }
    let extra = args
        .all(&["--extra-config"])
        .iter()
        .filter_map(|e| {
            let (ck, v) = e.split_once('=')?;
            let (c, k) = ck.split_once('.')?;
            Some((c.to_string(), k.to_string(), v.to_string()))
        })
        .collect();
    let plan = Plan {
        profile: profile.to_string(),
        version,
        cpus: existing.as_ref().map(|c| c.cpus).unwrap_or(cpus),
        memory: existing.as_ref().map(|c| c.memory).unwrap_or(memory),
        driver,
        runtime,
        service_cidr: args
            .get(&["--service-cluster-ip-range"])
            .map(String::from)
            .or(existing.as_ref().map(|c| c.service_cidr.clone()))
            .unwrap_or_else(|| "10.96.0.0/12".into()),
        extra,
        keep_context: args.bool(&["--keep-context"]),
    };
    super::provision::provision(
        env,
        rel,
        &ui,
        &plan,
        existing.is_some(),
        world_cluster.map(|c| c.state),
        hide,
    )
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// Parses `--kubernetes-version` (start.go:getKubernetesVersion).
fn resolve_version(
    rel: &Release,
    v: &str,
    existing: Option<&Config>,
) -> Result<String, (&'static str, String)> {
    match v {
        "" => Ok(existing
            .map(|c| c.kubernetes_version.clone())
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| rel.stable.clone())),
        "stable" => Ok(rel.stable.clone()),
        "latest" | "newest" => Ok(rel.newest.clone()),
        _ => {
            let Some((major, minor, patch, _)) = parse_version(v) else {
                return Err((
                    "MK_USAGE",
                    format!("Unable to parse \"{v}\": No Major.Minor.Patch elements found"),
                ));
            };
            if v.trim_start_matches('v').split('.').count() == 2 {
                return rel.newest_patch(major, minor).ok_or((
                    "MK_PATCH_NOT_FOUND",
                    format!("Unable to detect the latest patch release for specified major.minor version v{major}.{minor}"),
                ));
            }
            let full = v.trim_start_matches('v');
            let _ = patch;
            Ok(format!("v{full}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_like_minikube() {
        assert_eq!(parse_memory_mb("8192").unwrap(), 8192);
        for v in ["8g", "8gb", "8G", "8GiB", "8 gb", "8192mb", "8192m"] {
            assert_eq!(parse_memory_mb(v).unwrap(), 8192, "{v}");
        }
        assert_eq!(parse_memory_mb("7.5g").unwrap(), 7680);
        assert_eq!(
            parse_memory_mb("lots").unwrap_err(),
            "Generate unable to parse memory 'lots': FromHumanSize: invalid size: 'lots'"
        );
    }

    #[test]
    fn kubernetes_versions() {
        let rel = Release::new("v1.24.0");
        assert_eq!(resolve_version(&rel, "1.15.10", None).unwrap(), "v1.15.10");
        assert_eq!(resolve_version(&rel, "stable", None).unwrap(), "v1.22.3");
        assert_eq!(resolve_version(&rel, "", None).unwrap(), "v1.22.3");
        assert_eq!(
            resolve_version(&rel, "latest", None).unwrap(),
            "v1.22.4-rc.0"
        );
        assert_eq!(resolve_version(&rel, "1.15", None).unwrap(), "v1.15.12");
        assert_eq!(
            resolve_version(&rel, "1.40", None).unwrap_err().0,
            "MK_PATCH_NOT_FOUND"
        );
        assert_eq!(resolve_version(&rel, "x", None).unwrap_err().0, "MK_USAGE");
    }
}
