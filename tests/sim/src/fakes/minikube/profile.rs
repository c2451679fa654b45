//! minikube's files: `$MINIKUBE_HOME` (localpath.MiniPath), the profile's `config.json`
//! (ClusterConfig, Go field names), certificates, and the user's kubeconfig.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use serde_yaml::Value as Yaml;

use crate::control::ClusterInfo;
use crate::fakes::common::{home, write_atomically};

/// localpath.MiniPath: `$MINIKUBE_HOME` if its last element is `.minikube`, else
/// `$MINIKUBE_HOME/.minikube`; `~/.minikube` when unset.
pub fn mini_path() -> PathBuf {
    match std::env::var("MINIKUBE_HOME") {
        Ok(h) if !h.is_empty() => {
            let p = PathBuf::from(h);
            if p.file_name().is_some_and(|n| n == ".minikube") {
                p
            } else {
                p.join(".minikube")
            }
        }
        _ => home().join(".minikube"),
    }
}

pub fn profiles_dir() -> PathBuf {
    mini_path().join("profiles")
}

pub fn profile_dir(profile: &str) -> PathBuf {
    profiles_dir().join(profile)
}

/// kubeconfig.PathFromEnv: the first non-empty entry of `KUBECONFIG`, else `~/.kube/config`.
pub fn kubeconfig_path() -> PathBuf {
    if let Some(v) = std::env::var_os("KUBECONFIG")
        && let Some(p) = std::env::split_paths(&v).find(|p| !p.as_os_str().is_empty())
    {
        return p;
    }
    home().join(".kube").join("config")
}

/// The fake's own record of how far a start got (not a file real minikube has).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// start began but never finished (killed, or failed after creating the container).
    Creating,
    Running,
    Stopped,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimState {
    pub phase: Phase,
}

pub fn sim_state(profile: &str) -> Option<SimState> {
    let text = std::fs::read_to_string(profile_dir(profile).join(".sim-state.json")).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn set_phase(profile: &str, phase: Phase) {
    let dir = profile_dir(profile);
    let _ = std::fs::create_dir_all(&dir);
    // Read by every later minikube call of the profile: never torn.
    let _ = write_atomically(
        &dir.join(".sim-state.json"),
        serde_json::to_vec(&SimState { phase }).unwrap_or_default(),
    );
}

/// The parts of ClusterConfig the fakes use; the file holds the full shape.
#[derive(Debug, Clone)]
pub struct Config {
    pub name: String,
    pub memory: u64,
    pub cpus: u32,
    pub driver: String,
    pub kubernetes_version: String,
    pub service_cidr: String,
    pub container_runtime: String,
    pub node_ip: String,
    pub extra_options: Vec<(String, String, String)>,
    pub keep_context: bool,
}

impl Config {
    /// config.json as minikube writes it (types.go ClusterConfig; Go names, no json tags).
    pub fn to_json(&self, kic_base: &str) -> Value {
        let extra: Vec<Value> = self
            .extra_options
            .iter()
            .map(|(c, k, v)| json!({"Component": c, "Key": k, "Value": v}))
            .collect();
        let base = json!({
            "Name": self.name,
            "KeepContext": self.keep_context,
            "EmbedCerts": false,
            "MinikubeISO": "",
            "KicBaseImage": format!("gcr.io/k8s-minikube/kicbase:{kic_base}"),
            "Memory": self.memory,
            "CPUs": self.cpus,
            "DiskSize": 20000,
            "Driver": self.driver,
            "HyperkitVpnKitSock": "",
            "HyperkitVSockPorts": [],
            "DockerEnv": null,
            "ContainerVolumeMounts": null,
            "InsecureRegistry": null,
            "RegistryMirror": [],
            "HostOnlyCIDR": "192.168.59.1/24",
            "HypervVirtualSwitch": "",
            "HypervUseExternalSwitch": false,
            "HypervExternalAdapter": "",
        });
        let more = json!({
            "KVMNetwork": "default",
            "KVMQemuURI": "qemu:///system",
            "KVMGPU": false,
            "KVMHidden": false,
            "KVMNUMACount": 1,
            "APIServerPort": 8443,
            "DockerOpt": null,
            "DisableDriverMounts": false,
            "NFSShare": [],
            "NFSSharesRoot": "/nfsshares",
            "UUID": "",
            "NoVTXCheck": false,
            "DNSProxy": false,
            "HostDNSResolver": true,
            "HostOnlyNicType": "virtio",
            "NatNicType": "virtio",
            "SSHIPAddress": "",
            "SSHUser": "root",
            "SSHKey": "",
            "SSHPort": 22,
        });
        let kc = json!({
            "KubernetesConfig": {
                "KubernetesVersion": self.kubernetes_version,
                "ClusterName": self.name,
                "Namespace": "default",
                "APIServerHAVIP": "",
                "APIServerName": "minikubeCA",
                "APIServerNames": null,
                "APIServerIPs": null,
                "DNSDomain": "cluster.local",
                "ContainerRuntime": self.container_runtime,
                "CRISocket": "",
                "NetworkPlugin": "cni",
                "FeatureGates": "",
                "ServiceCIDR": self.service_cidr,
                "ImageRepository": "",
                "LoadBalancerStartIP": "",
                "LoadBalancerEndIP": "",
                "CustomIngressCert": "",
                "RegistryAliases": "",
                "ExtraOptions": extra,
                "ShouldLoadCachedImages": true,
                "EnableDefaultCNI": false,
                "CNI": ""
            },
        });
        let rest = json!({
            "Nodes": [{
                "Name": "",
                "IP": self.node_ip,
                "Port": 8443,
                "KubernetesVersion": self.kubernetes_version,
                "ContainerRuntime": self.container_runtime,
                "ControlPlane": true,
                "Worker": true
            }],
            "Addons": {"default-storageclass": true, "storage-provisioner": true},
            "CustomAddonImages": null,
            "CustomAddonRegistries": null,
            "VerifyComponents": {"apiserver": true, "system_pods": true},
            "StartHostTimeout": 360000000000u64,
            "ScheduledStop": null,
            "ExposedPorts": [],
            "ListenAddress": "",
            "Network": "",
            "Subnet": "",
            "MultiNodeRequested": false,
            "ExtraDisks": 0,
            "CertExpiration": 94608000000000000u64,
            "Mount": false,
            "MountString": "",
            "Mount9PVersion": "9p2000.L",
            "MountGID": "docker",
            "MountIP": "",
            "MountMSize": 262144,
            "MountOptions": [],
            "MountPort": 0,
            "MountType": "9p",
            "MountUID": "docker",
            "BinaryMirror": "",
            "DisableOptimizations": false,
            "DisableMetrics": false,
            "CustomQemuFirmwarePath": "",
            "SocketVMnetClientPath": "",
            "SocketVMnetPath": "",
            "StaticIP": "",
            "SSHAuthSock": "",
            "SSHAgentPID": 0,
            "GPUs": "",
            "AutoPauseInterval": 60000000000u64
        });
        let mut out = base;
        for part in [more, kc, rest] {
            if let (Some(o), Value::Object(p)) = (out.as_object_mut(), part) {
                o.extend(p);
            }
        }
        out
    }

    pub fn from_json(v: &Value) -> Option<Config> {
        let kc = &v["KubernetesConfig"];
        Some(Config {
            name: v["Name"].as_str()?.to_string(),
            memory: v["Memory"].as_u64().unwrap_or(0),
            cpus: v["CPUs"].as_u64().unwrap_or(0) as u32,
            driver: v["Driver"].as_str().unwrap_or("docker").to_string(),
            kubernetes_version: kc["KubernetesVersion"].as_str().unwrap_or("").to_string(),
            service_cidr: kc["ServiceCIDR"]
                .as_str()
                .unwrap_or("10.96.0.0/12")
                .to_string(),
            container_runtime: kc["ContainerRuntime"]
                .as_str()
                .unwrap_or("docker")
                .to_string(),
            node_ip: v["Nodes"][0]["IP"].as_str().unwrap_or("").to_string(),
            extra_options: kc["ExtraOptions"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|o| {
                            let s = |k: &str| o[k].as_str().unwrap_or("").to_string();
                            (s("Component"), s("Key"), s("Value"))
                        })
                        .collect()
                })
                .unwrap_or_default(),
            keep_context: v["KeepContext"].as_bool().unwrap_or(false),
        })
    }
}

pub fn config_file(profile: &str) -> PathBuf {
    profile_dir(profile).join("config.json")
}

pub fn load_raw(profile: &str) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(config_file(profile)).ok()?).ok()
}

pub fn load(profile: &str) -> Option<Config> {
    Config::from_json(&load_raw(profile)?)
}

pub fn save(cfg: &Config, kic_base: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(profile_dir(&cfg.name))?;
    let text = serde_json::to_string_pretty(&cfg.to_json(kic_base))?;
    // minikube's SaveProfile replaces an existing config.json through a temp file and a rename
    // (SRC pkg/minikube/config/profile.go); its first write is a plain write, a window of
    // microseconds for a native binary that a fake under a loaded test machine would stretch
    // into a torn file read as "no such profile". So the fake always renames.
    write_atomically(&config_file(&cfg.name), text)
}

/// Every directory under `profiles/` (valid or not).
pub fn all_profiles() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(profiles_dir())
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Certificates the kubeconfig points at. minikube shares one CA (`~/.minikube/ca.crt`)
/// between profiles; the sim gives each cluster its own CA, so the fake keeps it per profile.
pub fn write_certs(
    profile: &str,
    info: &ClusterInfo,
) -> std::io::Result<(PathBuf, PathBuf, PathBuf)> {
    let dir = profile_dir(profile);
    std::fs::create_dir_all(&dir)?;
    let ca = dir.join("ca.crt");
    let crt = dir.join("client.crt");
    let key = dir.join("client.key");
    std::fs::write(&ca, &info.ca_pem)?;
    std::fs::write(&crt, &info.client_cert_pem)?;
    std::fs::write(&key, &info.client_key_pem)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))?;
    Ok((ca, crt, key))
}

fn read_kubeconfig(path: &Path) -> Yaml {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let v: Yaml = serde_yaml::from_str(&text).unwrap_or(Yaml::Null);
    if v.is_mapping() {
        v
    } else {
        serde_yaml::from_str("apiVersion: v1\nclusters: []\ncontexts: []\ncurrent-context: \"\"\nkind: Config\npreferences: {}\nusers: []\n").expect("static")
    }
}

fn write_kubeconfig(path: &Path, v: &Yaml) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_yaml::to_string(v).map_err(std::io::Error::other)?;
    std::fs::write(path, text)
}

fn list_mut<'a>(root: &'a mut Yaml, key: &str) -> &'a mut Vec<Yaml> {
    let m = root.as_mapping_mut().expect("mapping");
    let slot = m.entry(Yaml::from(key)).or_insert(Yaml::Sequence(vec![]));
    if !slot.is_sequence() {
        *slot = Yaml::Sequence(vec![]);
    }
    slot.as_sequence_mut().expect("sequence")
}

fn upsert(list: &mut Vec<Yaml>, name: &str, entry: Yaml) {
    match list
        .iter_mut()
        .find(|e| e.get("name").and_then(Yaml::as_str) == Some(name))
    {
        Some(slot) => *slot = entry,
        None => list.push(entry),
    }
}

fn extension(version: &str) -> Yaml {
    let now = chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S UTC")
        .to_string();
    serde_yaml::from_str(&format!(
        "- extension:\n    last-update: {now}\n    provider: minikube.sigs.k8s.io\n    version: {version}\n  name: cluster_info\n"
    ))
    .expect("static")
}

/// Writes cluster, context and user named after the profile into the kubeconfig, keeping
/// what is there, and makes it the current context unless `keep_context`.
pub fn update_kubeconfig(
    profile: &str,
    server: &str,
    certs: &(PathBuf, PathBuf, PathBuf),
    release: &str,
    keep_context: bool,
) -> std::io::Result<()> {
    let path = kubeconfig_path();
    let mut root = read_kubeconfig(&path);
    let ext = extension(release);
    let cluster: Yaml = serde_yaml::from_str(&format!(
        "cluster:\n  certificate-authority: {}\n  server: {server}\nname: {profile}\n",
        certs.0.display()
    ))
    .map_err(std::io::Error::other)?;
    let mut cluster = cluster;
    cluster["cluster"]
        .as_mapping_mut()
        .expect("map")
        .insert("extensions".into(), ext.clone());
    upsert(list_mut(&mut root, "clusters"), profile, cluster);
    let mut context: Yaml = serde_yaml::from_str(&format!(
        "context:\n  cluster: {profile}\n  namespace: default\n  user: {profile}\nname: {profile}\n"
    ))
    .map_err(std::io::Error::other)?;
    context["context"]
        .as_mapping_mut()
        .expect("map")
        .insert("extensions".into(), ext);
    upsert(list_mut(&mut root, "contexts"), profile, context);
    let user: Yaml = serde_yaml::from_str(&format!(
        "name: {profile}\nuser:\n  client-certificate: {}\n  client-key: {}\n",
        certs.1.display(),
        certs.2.display()
    ))
    .map_err(std::io::Error::other)?;
    upsert(list_mut(&mut root, "users"), profile, user);
    if !keep_context {
        root["current-context"] = Yaml::from(profile);
    }
    write_kubeconfig(&path, &root)
}

/// The server the kubeconfig has for this profile, if any.
pub fn kubeconfig_server(profile: &str) -> Option<String> {
    let root = read_kubeconfig(&kubeconfig_path());
    root.get("clusters")?
        .as_sequence()?
        .iter()
        .find(|c| c.get("name").and_then(Yaml::as_str) == Some(profile))?
        .get("cluster")?
        .get("server")?
        .as_str()
        .map(String::from)
}

pub fn current_context() -> Option<String> {
    let root = read_kubeconfig(&kubeconfig_path());
    root.get("current-context")?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// delete: drop the profile's cluster, context and user; unset current-context if it was it.
pub fn remove_from_kubeconfig(profile: &str) -> std::io::Result<()> {
    let path = kubeconfig_path();
    if !path.exists() {
        return Ok(());
    }
    let mut root = read_kubeconfig(&path);
    for key in ["clusters", "contexts", "users"] {
        list_mut(&mut root, key).retain(|e| e.get("name").and_then(Yaml::as_str) != Some(profile));
    }
    if root.get("current-context").and_then(Yaml::as_str) == Some(profile) {
        root["current-context"] = Yaml::from("");
    }
    write_kubeconfig(&path, &root)
}
