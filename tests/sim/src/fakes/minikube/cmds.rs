//! minikube's smaller commands: version, status, ip, stop, delete, profile list,
//! update-context, logs.

use serde_json::{Value, json};

use super::status::last_step;

use crate::control::{ClusterInfo, ClusterState};
use crate::control_client::ControlClient;
use crate::fakes::common::{Args, Env, sleep_ms};

use super::profile::{self, Phase};
use super::release::Release;
use super::ui::Ui;

/// `minikube profile X` stores the active profile in `~/.minikube/config/config.json`.
pub fn configured_profile() -> Option<String> {
    let text =
        std::fs::read_to_string(profile::mini_path().join("config").join("config.json")).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v["profile"].as_str().map(String::from)
}

pub fn version(rel: &Release, args: &Args) -> i32 {
    if args.bool(&["--short"]) {
        println!("{}", rel.version);
        return 0;
    }
    match args.get(&["-o", "--output"]) {
        Some("json") => println!(
            "{}",
            json!({"commit": rel.commit(), "minikubeVersion": rel.version})
        ),
        Some("yaml") => print!(
            "commit: {}\nminikubeVersion: {}\n",
            rel.commit(),
            rel.version
        ),
        Some(other) if !other.is_empty() => {
            eprintln!(
                "\nX Exiting due to MK_USAGE: Invalid output format: {other}. Valid values: 'json', 'yaml'"
            );
            return 14;
        }
        _ => print!(
            "minikube version: {}\ncommit: {}\n",
            rel.version,
            rel.commit()
        ),
    }
    0
}

/// mustload's tip for a missing profile, on stdout, exit 85.
pub(super) fn not_found(profile: &str) -> i32 {
    let ui = Ui::new(false);
    ui.styled(
        "🤷",
        &format!(
            "Profile \"{profile}\" not found. Run \"minikube profile list\" to view all profiles."
        ),
    );
    let start = if profile == "minikube" {
        "minikube start".to_string()
    } else {
        format!("minikube start -p {profile}")
    };
    ui.styled("👉", &format!("To start a cluster, run: \"{start}\""));
    85
}

pub(super) fn control_or_exit(env: &Env) -> Result<ControlClient, i32> {
    env.control().map_err(|e| {
        eprintln!("X {e}");
        1
    })
}

fn running_cluster(env: &Env, profile: &str) -> Result<ClusterInfo, i32> {
    if profile::load(profile).is_none() {
        return Err(not_found(profile));
    }
    let control = control_or_exit(env)?;
    match control.cluster(profile).ok().flatten() {
        Some(c) if c.state == ClusterState::Running => Ok(c),
        other => {
            let state = if other.is_some() {
                "Stopped"
            } else {
                "Nonexistent"
            };
            let ui = Ui::new(false);
            ui.styled(
                "🤷",
                &format!("The control-plane node {profile} host is not running: state={state}"),
            );
            let start = if profile == "minikube" {
                "minikube start".to_string()
            } else {
                format!("minikube start -p {profile}")
            };
            ui.styled("👉", &format!("To start a cluster, run: \"{start}\""));
            Err(83)
        }
    }
}

pub fn ip(env: &Env, _rel: &Release, profile: &str) -> i32 {
    match running_cluster(env, profile) {
        Ok(c) => {
            println!("{}", c.node_ip);
            0
        }
        Err(code) => code,
    }
}

pub fn stop(env: &Env, rel: &Release, profile: &str, args: &Args) -> i32 {
    if profile::load(profile).is_none() {
        return not_found(profile);
    }
    let mut ui = Ui::new(args.get(&["-o", "--output"]) == Some("json"));
    ui.registry = rel.stop_registry();
    ui.legacy_order = rel.legacy_event_order();
    ui.event_log = Some(profile::profile_dir(profile).join("events.json"));
    let control = match control_or_exit(env) {
        Ok(c) => c,
        Err(code) => return code,
    };
    ui.step(
        "Stopping",
        "✋",
        &format!("Stopping node \"{profile}\"  ..."),
        false,
    );
    if rel.at_least("v1.20.0") {
        ui.step(
            "PowerOff",
            "🛑",
            &format!("Powering off \"{profile}\" via SSH ..."),
            false,
        );
    }
    sleep_ms(env.knobs.minikube.stop_ms);
    if let Err(e) = control.stop_cluster(profile) {
        return ui.exit("GUEST_STOP_TIMEOUT", &format!("Unable to stop VM: {e}"));
    }
    profile::set_phase(profile, Phase::Stopped);
    ui.step("Done", "🛑", "1 node stopped.", false);
    0
}

fn delete_one(env: &Env, ui: &Ui, control: &ControlClient, profile: &str) {
    let exists = profile::profile_dir(profile).exists();
    let cfg = profile::load(profile);
    if !exists {
        let _ = ui;
        if !matches!(ui.mode, super::ui::Mode::Json) {
            let emoji = super::ui::wants_emoji();
            eprintln!(
                "{}\"{profile}\" profile does not exist, trying anyways.",
                if emoji { "🙄  " } else { "* " }
            );
        }
    } else {
        let driver = cfg
            .as_ref()
            .map(|c| c.driver.clone())
            .unwrap_or_else(|| "docker".into());
        ui.step(
            "Deleting",
            "🔥",
            &format!("Deleting \"{profile}\" in {driver} ..."),
            false,
        );
        ui.info("🔥", &format!("Deleting container \"{profile}\" ..."));
        ui.info(
            "🔥",
            &format!(
                "Removing {} ...",
                profile::mini_path()
                    .join("machines")
                    .join(profile)
                    .display()
            ),
        );
    }
    sleep_ms(env.knobs.minikube.delete_ms);
    let _ = control.delete_cluster(profile);
    let _ = std::fs::remove_dir_all(profile::profile_dir(profile));
    let _ = std::fs::remove_dir_all(profile::mini_path().join("machines").join(profile));
    let _ = profile::remove_from_kubeconfig(profile);
    ui.step(
        "Done",
        "💀",
        &format!("Removed all traces of the \"{profile}\" cluster."),
        false,
    );
}

pub fn delete(env: &Env, rel: &Release, profile: &str, args: &Args) -> i32 {
    let mut ui = Ui::new(args.get(&["-o", "--output"]) == Some("json"));
    ui.registry = rel.delete_registry();
    ui.legacy_order = rel.legacy_event_order();
    let control = match control_or_exit(env) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if args.bool(&["--all"]) {
        for p in profile::all_profiles() {
            delete_one(env, &ui, &control, &p);
        }
        if let Ok(clusters) = control.clusters() {
            for c in clusters {
                let _ = control.delete_cluster(&c.profile);
            }
        }
        ui.styled("🔥", "Successfully deleted all profiles");
        if args.bool(&["--purge"]) {
            let _ = std::fs::remove_dir_all(profile::mini_path());
        }
    } else {
        delete_one(env, &ui, &control, profile);
    }
    0
}

fn status_name(rel: &Release, profile: &str, cluster: Option<&ClusterInfo>) -> &'static str {
    match cluster.map(|c| &c.state) {
        Some(ClusterState::Running) => {
            if rel.at_least("v1.27.0") {
                "OK"
            } else {
                "Running"
            }
        }
        Some(ClusterState::Stopped) => "Stopped",
        // events.json ends in a step that is not Done: GetState reports the transient state.
        None if last_step(profile).is_some_and(|(_, n)| n != "Done") => "Starting",
        None if profile::sim_state(profile).is_some_and(|s| s.phase == Phase::Creating) => {
            "Starting"
        }
        None => "Unknown",
    }
}

pub fn profile_list(env: &Env, rel: &Release, args: &Args) -> i32 {
    let control = match control_or_exit(env) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let clusters = control.clusters().unwrap_or_default();
    let active = configured_profile().unwrap_or_else(|| "minikube".into());
    let context = profile::current_context();
    let mut valid = Vec::new();
    let mut invalid = Vec::new();
    let mut rows = Vec::new();
    for name in profile::all_profiles() {
        let Some(raw) = profile::load_raw(&name) else {
            invalid.push(json!({"Name": name, "Status": "", "Config": null, "Active": false, "ActiveKubeContext": false}));
            continue;
        };
        let cluster = clusters.iter().find(|c| c.profile == name);
        let status = status_name(rel, &name, cluster);
        let cfg = profile::Config::from_json(&raw);
        if let Some(c) = &cfg {
            rows.push(vec![
                name.clone(),
                c.driver.clone(),
                c.container_runtime.clone(),
                c.node_ip.clone(),
                "8443".into(),
                c.kubernetes_version.clone(),
                status.to_string(),
                "1".into(),
                if active == name {
                    "*".into()
                } else {
                    String::new()
                },
            ]);
        }
        valid.push(json!({
            "Name": name,
            "Status": status,
            "Config": raw,
            "Active": active == name,
            "ActiveKubeContext": context.as_deref() == Some(name.as_str()),
        }));
    }
    if args.get(&["-o", "--output"]) == Some("json") {
        println!("{}", json!({"invalid": invalid, "valid": valid}));
        return 0;
    }
    if rows.is_empty() {
        let ui = Ui::new(false);
        return ui.exit("MK_USAGE", "No minikube profile was found.");
    }
    let header = [
        "Profile",
        "VM Driver",
        "Runtime",
        "IP",
        "Port",
        "Version",
        "Status",
        "Nodes",
        "Active",
    ];
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let sep: String = format!(
        "|{}|",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("|")
    );
    let line = |cells: Vec<String>| {
        format!(
            "|{}|",
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!(" {c:<w$} "))
                .collect::<Vec<_>>()
                .join("|")
        )
    };
    println!("{sep}");
    println!("{}", line(header.iter().map(|h| h.to_string()).collect()));
    println!("{sep}");
    for r in rows {
        println!("{}", line(r));
    }
    println!("{sep}");
    0
}

pub fn update_context(env: &Env, rel: &Release, profile: &str) -> i32 {
    let c = match running_cluster(env, profile) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let ui = Ui::new(false);
    let server = c.server.clone().unwrap_or_default();
    let hostport = server.trim_start_matches("https://").to_string();
    if profile::kubeconfig_server(profile).as_deref() == Some(server.as_str()) {
        ui.styled(
            "🙄",
            &format!("No changes required for the \"{profile}\" context"),
        );
        if profile::current_context().as_deref() != Some(profile) {
            let certs = match profile::write_certs(profile, &c) {
                Ok(x) => x,
                Err(e) => return ui.exit("HOST_KUBECONFIG_UPDATE", &format!("update config: {e}")),
            };
            let _ = profile::update_kubeconfig(profile, &server, &certs, &rel.version, false);
        }
    } else {
        let certs = match profile::write_certs(profile, &c) {
            Ok(x) => x,
            Err(e) => return ui.exit("HOST_KUBECONFIG_UPDATE", &format!("update config: {e}")),
        };
        if let Err(e) = profile::update_kubeconfig(profile, &server, &certs, &rel.version, false) {
            return ui.exit("HOST_KUBECONFIG_UPDATE", &format!("update config: {e}"));
        }
        ui.styled(
            "🎉",
            &format!("\"{profile}\" context has been updated to point to {hostport}"),
        );
    }
    ui.styled("💗", &format!("Current context is \"{profile}\""));
    0
}

pub fn logs(env: &Env, rel: &Release, profile: &str) -> i32 {
    let c = match running_cluster(env, profile) {
        Ok(c) => c,
        Err(code) => return code,
    };
    println!(
        "\n==> Audit <==\n|---------|------|---------|------|---------|\n| Command | Args | Profile | User | Version |\n|---------|------|---------|------|---------|\n| start   |      | {profile} | {} | {} |\n",
        env.knobs.host.user, rel.version
    );
    println!(
        "==> Last Start <==\nLog file created at: {}\n",
        chrono::Utc::now().format("%Y/%m/%d %H:%M:%S")
    );
    println!(
        "==> kube-apiserver [0a1b2c3d4e5f] <==\nI1124 00:00:00.000000       1 server.go:565] external host was not specified, using {}\n",
        c.node_ip
    );
    println!(
        "==> kubelet <==\n-- Logs begin --\nkubelet.go:1950] \"Started kubelet\" version=\"{}\"",
        c.spec.kubernetes_version
    );
    0
}
