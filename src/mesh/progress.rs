//! istioctl's install output as per-component progress. Both streams are read (1.5 prints
//! everything to stdout; 1.6+ progress goes to stderr), ANSI codes are stripped, and lines are
//! matched on `✔`/`✘` plus the component name — the order of the gateways is not
//! deterministic (research/istio.md §1.3–1.6, §9).

use regex::Regex;
use std::sync::LazyLock;

/// What one line of output meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A component began (1.5 `- Applying manifest for component X...`, 1.6+ `- Processing
    /// resources for X.`), with what it waits for when istioctl says.
    Started {
        component: String,
        waiting: Option<String>,
    },
    Done {
        component: String,
    },
    Failed {
        component: String,
        error: String,
    },
    /// istioctl's own JWT fallback line, or a deprecation notice (`! ...`).
    Notice(String),
    Complete,
}

static ANSI: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]").expect("static regex"));
static APPLYING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^- Applying manifest for component (\S+?)\.\.\.$").expect("static regex")
});
static FINISHED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([✔✘]) Finished applying manifest for component (\S+?)\.$").expect("static regex")
});
static PROCESSING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^- Processing resources for (.+?)\.(?: Waiting for (\S+))?").expect("static regex")
});
static INSTALLED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^✔ (.+?) installed\b").expect("static regex"));
static ERRORED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^✘ (.+?) encountered an error: (.*)$").expect("static regex"));
/// `Deployment/istio-system/istio-ingressgateway (containers with unready status: [...])`.
static RESOURCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([A-Z][A-Za-z]+/[a-z0-9.-]+(?:/[a-z0-9.-]+)?)(?: \((.*)\))?$")
        .expect("static regex")
});

pub fn strip_ansi(s: &str) -> String {
    ANSI.replace_all(s, "").into_owned()
}

/// 1.5's component ids as the 1.6+ names a user knows.
pub fn user_name(component: &str) -> &str {
    match component {
        "Base" => "Istio core",
        "Pilot" => "Istiod",
        "IngressGateways" => "Ingress gateways",
        "EgressGateways" => "Egress gateways",
        "AddonComponents" => "Addons",
        other => other,
    }
}

/// A failure, as far as the output tells it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureReport {
    pub component: Option<String>,
    pub resource: Option<String>,
    pub reason: Option<String>,
    pub error: Option<String>,
}

/// Reads lines one by one; remembers which component failed and the resource that was not
/// ready (the line after the error in every era).
#[derive(Debug, Default)]
pub struct Parser {
    pub failure: FailureReport,
    pub done: Vec<String>,
    pub complete: bool,
}

impl Parser {
    pub fn line(&mut self, raw: &str) -> Option<Event> {
        let line = strip_ansi(raw);
        let line = line.trim_end();
        if let Some(c) = RESOURCE.captures(line.trim())
            && (self.failure.component.is_some() || line.contains("istio-system"))
            && self.failure.resource.is_none()
            && (self.failure.error.is_some() || self.failure.component.is_some())
        {
            self.failure.resource = Some(c[1].to_string());
            self.failure.reason = c.get(2).map(|m| m.as_str().to_string());
            return None;
        }
        if let Some(c) = APPLYING.captures(line) {
            return Some(Event::Started {
                component: user_name(&c[1]).to_string(),
                waiting: None,
            });
        }
        if let Some(c) = FINISHED.captures(line) {
            let component = user_name(&c[2]).to_string();
            if &c[1] == "✔" {
                self.done.push(component.clone());
                return Some(Event::Done { component });
            }
            self.failure.component = Some(component.clone());
            let error = self.failure.error.clone().unwrap_or_default();
            return Some(Event::Failed { component, error });
        }
        if let Some(c) = PROCESSING.captures(line) {
            return Some(Event::Started {
                component: c[1].to_string(),
                waiting: c.get(2).map(|m| m.as_str().to_string()),
            });
        }
        if line.starts_with("✔ Installation complete") {
            self.complete = true;
            return Some(Event::Complete);
        }
        if let Some(c) = INSTALLED.captures(line) {
            let component = c[1].to_string();
            self.done.push(component.clone());
            return Some(Event::Done { component });
        }
        if let Some(c) = ERRORED.captures(line) {
            self.failure.component = Some(c[1].to_string());
            self.failure.error = Some(c[2].to_string());
            return Some(Event::Failed {
                component: c[1].to_string(),
                error: c[2].to_string(),
            });
        }
        // 1.5: `error installer Failed to wait for resource: ...` precedes the resource line.
        if let Some(rest) = line.strip_prefix("error installer ") {
            self.failure.error = Some(rest.to_string());
            return None;
        }
        if let Some(rest) = line.strip_prefix("Error: ")
            && self.failure.error.is_none()
        {
            self.failure.error = Some(rest.to_string());
            return None;
        }
        if line.starts_with("Detected that your cluster does not support third party JWT")
            || line.starts_with("! ")
        {
            return Some(Event::Notice(line.to_string()));
        }
        None
    }

    /// "component Ingress gateways: Deployment/istio-system/istio-ingressgateway was not ready
    /// (containers with unready status: [istio-proxy])".
    pub fn describe_failure(&self) -> Option<String> {
        let f = &self.failure;
        let component = f.component.as_deref()?;
        let mut s = format!("component {component}");
        if let Some(r) = &f.resource {
            s.push_str(&format!(": {r} was not ready"));
            if let Some(why) = &f.reason {
                s.push_str(&format!(" ({why})"));
            }
        }
        if let Some(e) = &f.error {
            s.push_str(&format!(" — {e}"));
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(text: &str) -> (Parser, Vec<Event>) {
        let mut p = Parser::default();
        let events = text.lines().filter_map(|l| p.line(l)).collect();
        (p, events)
    }

    #[test]
    fn istio_1_5_output() {
        // [REAL] istio/istio#23271 (research/istio.md §1.3)
        let (p, events) = feed(
            "Detected that your cluster does not support third party JWT authentication. Falling back to less secure first party JWT\n\
             - Applying manifest for component Base...\n\
             ✔ Finished applying manifest for component Base.\n\
             - Applying manifest for component Pilot...\n\
             ✔ Finished applying manifest for component Pilot.\n\
             Waiting for resources to become ready...\n\
             - Applying manifest for component IngressGateways...\n\
             ✔ Finished applying manifest for component IngressGateways.\n\
             \n\
             ✔ Installation complete\n",
        );
        assert!(matches!(events[0], Event::Notice(_)));
        assert_eq!(p.done, ["Istio core", "Istiod", "Ingress gateways"]);
        assert!(p.complete);
    }

    #[test]
    fn a_failure_names_component_and_resource() {
        // [REAL] istio/istio#54790, #31706 (research/istio.md §1.4), with colour codes.
        let (p, _) = feed(
            "\x1b[32m✔\x1b[0m Istio core installed ⛵️\n\
             ✔ Istiod installed 🧠\n\
             ✘ Ingress gateways encountered an error: failed to wait for resource: resources not ready after 5m0s: timed out waiting for the condition\n\
             Deployment/istio-system/istio-ingressgateway (containers with unready status: [istio-proxy])\n\
             Error: failed to install manifests: errors occurred during operation\n",
        );
        assert_eq!(p.done, ["Istio core", "Istiod"]);
        assert_eq!(
            p.describe_failure().unwrap(),
            "component Ingress gateways: Deployment/istio-system/istio-ingressgateway was not ready \
             (containers with unready status: [istio-proxy]) — failed to wait for resource: resources \
             not ready after 5m0s: timed out waiting for the condition"
        );
        assert!(!p.complete);
    }

    #[test]
    fn istio_1_5_wait_failure() {
        // [REAL] istio/istio#22677: the wait error, then the resource.
        let (p, _) = feed(
            "- Applying manifest for component Pilot...\n\
             ✔ Finished applying manifest for component Pilot.\n\
             Waiting for resources to become ready...\n\
             error installer Failed to wait for resource: resources not ready after 10m0s: timed out waiting for the condition\n\
             Deployment/istio-system/istiod\n\
             ✘ Finished applying manifest for component Pilot.\n",
        );
        let d = p.describe_failure().unwrap();
        assert!(
            d.starts_with("component Istiod: Deployment/istio-system/istiod was not ready"),
            "{d}"
        );
    }
}
