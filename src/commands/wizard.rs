//! The onboarding wizard: `meshup start` on a terminal with no scenario, no flags and no CI asks
//! what a newcomer would otherwise have to know — which Kubernetes this minikube and this host
//! can run, which Istio supports it, a profile and its size, the seed's common overrides — then
//! shows the plan and asks once. The choices are computed here (pure, tested); dialoguer only
//! asks them.

use std::path::PathBuf;

use crate::cli::ScenarioArgs;
use crate::compat::host::{self, HostFacts};
use crate::compat::{Severity, Version, istio, kubernetes, minikube};

/// One offered answer: the value, how it is shown, and why it will not work here (if so).
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub blocked: Option<String>,
}

/// The Kubernetes versions `minikube` can start (newest patch of each minor in its range,
/// newest first), each checked against this host; the default is minikube's `stable` when it
/// works here, else the newest that does.
pub fn kubernetes_choices(
    minikube_release: &Version,
    host_facts: &HostFacts,
) -> (Vec<Choice>, usize) {
    let Some(range) = minikube::kubernetes_range(minikube_release) else {
        return (Vec::new(), 0);
    };
    let mut out = Vec::new();
    for minor in kubernetes::known_minors()
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        let Some(v) = kubernetes::newest_patch(minor) else {
            continue;
        };
        let v = if minor == range.stable.minor() {
            range.stable.clone()
        } else {
            v
        };
        if !range.contains(&v) {
            continue;
        }
        let blocked = host::check(
            &host::Demand {
                kubernetes: &v,
                cpus: None,
                memory_mb: None,
                driver: None,
            },
            host_facts,
        )
        .into_iter()
        .find(|f| f.severity == Severity::Error)
        .map(|f| f.message);
        let mut label = v.v();
        if v == range.stable {
            label.push_str("  (minikube's stable)");
        }
        if let Some(why) = &blocked {
            label.push_str(&format!("  ✗ {why}"));
        }
        out.push(Choice {
            value: v.v(),
            label,
            blocked,
        });
    }
    let default = out
        .iter()
        .position(|c| c.value == range.stable.v() && c.blocked.is_none())
        .or_else(|| out.iter().position(|c| c.blocked.is_none()))
        .unwrap_or(0);
    (out, default)
}

/// The nearest version that works here, offered when a blocked one was picked.
pub fn nearest_working(choices: &[Choice], picked: usize) -> Option<usize> {
    (0..choices.len())
        .filter(|i| choices[*i].blocked.is_none())
        .min_by_key(|i| i.abs_diff(picked))
}

/// The Istio releases that support a Kubernetes version (newest patch of each offered minor,
/// newest first); the default is the newest.
pub fn istio_choices(k8s: &Version) -> Vec<Choice> {
    istio::offered_minors()
        .rev()
        .filter(|m| istio::supports(*m, k8s.minor()))
        .filter_map(istio::newest_patch)
        .map(|v| Choice {
            value: v.to_string(),
            label: format!(
                "{}  ({})",
                v,
                istio::support_sentence(v.minor()).unwrap_or_default()
            ),
            blocked: None,
        })
        .collect()
}

/// What a profile needs from the cluster (Istio's platform setup guidance: the demo profile
/// wants 4 vCPUs and 8 GB; default and minimal run on 2 and 4 GB).
pub fn profile_needs(profile: &str) -> (u32, u64) {
    match profile {
        "demo" | "preview" => (4, 8192),
        "empty" | "minimal" | "remote" => (2, 4096),
        _ => (2, 6144),
    }
}

pub fn profile_choices(istio_version: &Version) -> Vec<Choice> {
    let mut names: Vec<&str> = istio::profiles(istio_version).to_vec();
    // The everyday ones first.
    names.sort_by_key(|n| match *n {
        "default" => 0,
        "demo" => 1,
        "minimal" => 2,
        _ => 3,
    });
    names
        .into_iter()
        .map(|n| {
            let (cpus, mb) = profile_needs(n);
            Choice {
                value: n.to_owned(),
                label: format!("{n}  (needs about {cpus} CPUs and {} GB)", mb / 1024),
                blocked: None,
            }
        })
        .collect()
}

/// CPUs and memory for a profile, within what this host has (keeping a CPU and 2 GB).
pub fn size_defaults(profile: &str, host_facts: &HostFacts) -> (u32, u64) {
    let (cpus, mb) = profile_needs(profile);
    let cpus = host_facts
        .cpus
        .map_or(cpus, |h| cpus.min(h.saturating_sub(1).max(2) as u32));
    let mb = host_facts
        .memory_mb
        .map_or(mb, |h| mb.min(h.saturating_sub(2048).max(2048)));
    (cpus, mb)
}

/// The seed's common overrides, in the paths this Istio has (`meshConfig` from 1.7).
pub fn access_log_sets(istio_version: &Version) -> Vec<String> {
    if istio_version.minor().minor <= 6 {
        vec![
            "values.global.proxy.accessLogFile=/dev/stdout".into(),
            "values.global.proxy.accessLogEncoding=JSON".into(),
        ]
    } else {
        vec![
            "meshConfig.accessLogFile=/dev/stdout".into(),
            "meshConfig.accessLogEncoding=JSON".into(),
        ]
    }
}

pub fn egress_sets(istio_version: &Version) -> Vec<String> {
    if istio_version.minor().minor <= 5 {
        vec!["values.gateways.istio-egressgateway.enabled=true".into()]
    } else {
        vec!["components.egressGateways[0].enabled=true".into()]
    }
}

/// The answers, as the flags they stand for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answers {
    pub kubernetes: String,
    pub istio: String,
    pub profile: String,
    pub cpus: u32,
    pub memory_mb: u64,
    pub set: Vec<String>,
}

impl Answers {
    pub fn to_args(&self, base: &ScenarioArgs) -> ScenarioArgs {
        ScenarioArgs {
            kubernetes: Some(self.kubernetes.clone()),
            istio: Some(self.istio.clone()),
            istio_profile: Some(self.profile.clone()),
            cpus: Some(self.cpus.to_string()),
            memory: Some(format!("{}mb", self.memory_mb)),
            set: self.set.clone(),
            ..base.clone()
        }
    }

    /// The answers as a scenario file (what `-f` would read back to the same scenario).
    pub fn to_yaml(&self, name: &str) -> String {
        let mut out = format!(
            "# Written by `meshup start`'s wizard; run it again with `meshup start -f {name}.yaml`.\n\
             apiVersion: meshup/v1\nkind: Scenario\nmetadata:\n  name: {name}\ncluster:\n  \
             kubernetes: {}\n  cpus: {}\n  memory: {}mb\nmesh:\n  istio: \"{}\"\n  istioProfile: {}\n",
            self.kubernetes, self.cpus, self.memory_mb, self.istio, self.profile
        );
        if !self.set.is_empty() {
            out.push_str("  set:\n");
            for s in &self.set {
                let (k, v) = s.split_once('=').unwrap_or((s, ""));
                out.push_str(&format!("    {k}: \"{v}\"\n"));
            }
        }
        out
    }
}

/// Asks every question on the terminal. `None`: the user backed out.
pub fn ask(
    minikube_release: &Version,
    host_facts: &HostFacts,
) -> anyhow::Result<Option<(Answers, Option<PathBuf>)>> {
    use dialoguer::{Confirm, Input, Select, theme::ColorfulTheme};
    let theme = ColorfulTheme::default();
    let term = dialoguer::console::Term::stderr();
    let (k8s, default) = kubernetes_choices(minikube_release, host_facts);
    if k8s.is_empty() {
        return Ok(None);
    }
    let labels: Vec<&str> = k8s.iter().map(|c| c.label.as_str()).collect();
    let mut picked = Select::with_theme(&theme)
        .with_prompt(format!(
            "Kubernetes version (minikube {})",
            minikube_release.v()
        ))
        .items(&labels)
        .default(default)
        .interact_on_opt(&term)?;
    let Some(mut k) = picked.take() else {
        return Ok(None);
    };
    if let (Some(why), Some(near)) = (k8s[k].blocked.clone(), nearest_working(&k8s, k)) {
        let switch = Confirm::with_theme(&theme)
            .with_prompt(format!("{why}. Use {} instead?", k8s[near].value))
            .default(true)
            .interact_on(&term)?;
        if switch {
            k = near;
        }
    }
    let kubernetes_v = version(&k8s[k].value)?;
    let istios = istio_choices(&kubernetes_v);
    let labels: Vec<&str> = istios.iter().map(|c| c.label.as_str()).collect();
    let Some(i) = Select::with_theme(&theme)
        .with_prompt("Istio version")
        .items(&labels)
        .default(0)
        .interact_on_opt(&term)?
    else {
        return Ok(None);
    };
    let istio_v = version(&istios[i].value)?;
    let profiles = profile_choices(&istio_v);
    let labels: Vec<&str> = profiles.iter().map(|c| c.label.as_str()).collect();
    let Some(p) = Select::with_theme(&theme)
        .with_prompt("Istio profile")
        .items(&labels)
        .default(0)
        .interact_on_opt(&term)?
    else {
        return Ok(None);
    };
    let profile = profiles[p].value.clone();
    let (cpus, mb) = size_defaults(&profile, host_facts);
    let cpus: u32 = Input::with_theme(&theme)
        .with_prompt("CPUs")
        .default(cpus)
        .interact_on(&term)?;
    let memory_gb: u64 = Input::with_theme(&theme)
        .with_prompt("Memory (GB)")
        .default(mb.div_ceil(1024))
        .interact_on(&term)?;
    let mut set = Vec::new();
    if Confirm::with_theme(&theme)
        .with_prompt("Envoy access logs as JSON on the proxies' stdout?")
        .default(true)
        .interact_on(&term)?
    {
        set.extend(access_log_sets(&istio_v));
    }
    if Confirm::with_theme(&theme)
        .with_prompt("An egress gateway?")
        .default(false)
        .interact_on(&term)?
    {
        set.extend(egress_sets(&istio_v));
    }
    let answers = Answers {
        kubernetes: k8s[k].value.clone(),
        istio: istios[i].value.clone(),
        profile,
        cpus,
        memory_mb: memory_gb * 1024,
        set,
    };
    let save = Confirm::with_theme(&theme)
        .with_prompt("Save these answers as a scenario file?")
        .default(true)
        .interact_on(&term)?;
    let path = if save {
        let name: String = Input::with_theme(&theme)
            .with_prompt("File")
            .default("meshup-scenario.yaml".into())
            .interact_text_on(&term)?;
        Some(PathBuf::from(name))
    } else {
        None
    };
    Ok(Some((answers, path)))
}

fn version(text: &str) -> anyhow::Result<Version> {
    Version::parse(text)
        .ok_or_else(|| crate::engine::bug(format!("the wizard offered `{text}`, not a version")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(cgroup: u8) -> HostFacts {
        HostFacts {
            cgroup_version: Some(cgroup),
            cpus: Some(8),
            memory_mb: Some(16000),
            ..HostFacts::default()
        }
    }

    #[test]
    fn kubernetes_1_15_is_offered_by_minikube_1_24_but_marked_on_cgroup_v2() {
        let mk = Version::parse("v1.24.0").unwrap();
        let (choices, default) = kubernetes_choices(&mk, &facts(2));
        let k115 = choices
            .iter()
            .position(|c| c.value == "v1.15.12")
            .expect("1.15 offered");
        assert!(
            choices[k115]
                .blocked
                .as_deref()
                .unwrap()
                .contains("cgroup v2")
        );
        assert!(choices[default].blocked.is_none());
        let near = nearest_working(&choices, k115).unwrap();
        assert_eq!(
            choices[near].value, "v1.19.16",
            "the nearest that runs on cgroup v2"
        );
        let (v1, _) = kubernetes_choices(&mk, &facts(1));
        assert!(v1.iter().all(|c| c.blocked.is_none()));
    }

    #[test]
    fn istio_choices_support_the_kubernetes_and_access_logs_follow_the_era() {
        let k = Version::parse("v1.15.12").unwrap();
        let choices = istio_choices(&k);
        assert!(
            choices.iter().any(|c| c.value.starts_with("1.5.")),
            "{choices:?}"
        );
        assert!(
            choices.iter().all(|c| !c.value.starts_with("1.2")),
            "{choices:?}"
        );
        let old = Version::parse("1.5.0").unwrap();
        let new = Version::parse("1.20.0").unwrap();
        assert!(access_log_sets(&old)[0].starts_with("values.global.proxy."));
        assert!(access_log_sets(&new)[0].starts_with("meshConfig."));
    }

    #[test]
    fn sizes_fit_the_host() {
        let small = HostFacts {
            cpus: Some(2),
            memory_mb: Some(6000),
            ..HostFacts::default()
        };
        assert_eq!(size_defaults("demo", &small), (2, 3952));
        assert_eq!(size_defaults("minimal", &facts(2)), (2, 4096));
    }

    #[test]
    fn answers_round_trip_as_flags_and_as_a_file() {
        let a = Answers {
            kubernetes: "v1.19.16".into(),
            istio: "1.9.9".into(),
            profile: "demo".into(),
            cpus: 4,
            memory_mb: 8192,
            set: vec!["meshConfig.accessLogFile=/dev/stdout".into()],
        };
        let args = a.to_args(&ScenarioArgs::default());
        assert_eq!(args.memory.as_deref(), Some("8192mb"));
        let yaml = a.to_yaml("mine");
        assert!(yaml.contains("istioProfile: demo"), "{yaml}");
        assert!(
            yaml.contains("meshConfig.accessLogFile: \"/dev/stdout\""),
            "{yaml}"
        );
    }
}
