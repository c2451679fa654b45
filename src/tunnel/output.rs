//! `minikube tunnel`'s output, line by line (research/minikube.md §5): route mode's `Status:`
//! block with its `errors:` section (a value may run over several lines, as sudo's message
//! does under `router:`), and SSH mode's lines, with emoji or low-fi prefixes.

/// Route mode's status block (reporter.go), as printed whenever it changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusBlock {
    pub machine: String,
    pub pid: Option<u32>,
    pub route: String,
    pub minikube: String,
    pub services: Vec<String>,
    /// `errors:` → `minikube:`
    pub minikube_error: String,
    /// `errors:` → `router:` (sudo's failure to add the route shows here)
    pub router_error: String,
    /// `errors:` → `loadbalancer emulator:`
    pub lb_error: String,
}

const NO_ERRORS: &str = "no errors";

impl StatusBlock {
    /// The errors the block reports (without the `no errors` ones), labelled.
    pub fn errors(&self) -> Vec<String> {
        [
            ("minikube", &self.minikube_error),
            ("router", &self.router_error),
            ("loadbalancer emulator", &self.lb_error),
        ]
        .into_iter()
        .filter(|(_, e)| !e.is_empty() && e.as_str() != NO_ERRORS)
        .map(|(k, e)| format!("{k}: {e}"))
        .collect()
    }
}

/// What one line (or a finished block) means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Status(StatusBlock),
    /// SSH mode: `Tunnel successfully started`.
    SshStarted,
    /// SSH mode: `Starting tunnel for service X.`
    ServiceStarted(String),
    /// SSH mode: `Stopping tunnel for service X.`
    ServiceStopped(String),
    /// SSH mode: `The service/ingress X requires privileged ports to be exposed: [80 443]`.
    PrivilegedPorts {
        service: String,
        ports: Vec<u16>,
    },
    /// SSH mode: `sudo permission will be asked for it.`
    SudoWillBeAsked,
    /// `Exiting due to REASON: message` (minikube's exit block).
    Exit {
        reason: String,
        message: String,
    },
    /// Any other line worth keeping (a Go panic, sudo's own words).
    Other(String),
}

/// Feeds lines in, gives events out. Route mode's block ends with its last key.
#[derive(Debug, Default)]
pub struct Parser {
    block: Option<StatusBlock>,
    /// The key of the block whose value the next unindented line continues.
    last_key: Option<&'static str>,
}

/// Drops minikube's prefix: an emoji and two spaces, or low-fi `* `, `! `, `X `, `  - `.
fn strip_prefix(line: &str) -> &str {
    let t = line.trim();
    for low in ["* ", "! ", "X ", "- "] {
        if let Some(rest) = t.strip_prefix(low) {
            return rest.trim_start();
        }
    }
    match t.find("  ") {
        // An emoji (one or two chars, maybe with a variation selector) then two spaces.
        Some(i) if i > 0 && i <= 8 && !t[..i].chars().any(|c| c.is_ascii_alphanumeric()) => {
            t[i..].trim_start()
        }
        _ => t,
    }
}

impl Parser {
    pub fn line(&mut self, raw: &str) -> Vec<Event> {
        let mut out = Vec::new();
        let trimmed = raw.trim();
        if trimmed == "Status:" {
            if let Some(b) = self.block.take() {
                out.push(Event::Status(b));
            }
            self.block = Some(StatusBlock::default());
            self.last_key = None;
            return out;
        }
        if let Some(block) = self.block.as_mut() {
            if let Some((key, value)) = trimmed.split_once(':') {
                let value = value.trim().to_string();
                let key: Option<&'static str> = match key.trim() {
                    "machine" => Some("machine"),
                    "pid" => Some("pid"),
                    "route" => Some("route"),
                    "minikube"
                        if self
                            .last_key
                            .is_some_and(|k| k == "errors" || k.starts_with("err-")) =>
                    {
                        Some("err-minikube")
                    }
                    "minikube" => Some("minikube"),
                    "services" => Some("services"),
                    "errors" => Some("errors"),
                    "router" => Some("err-router"),
                    "loadbalancer emulator" => Some("err-lb"),
                    _ => None,
                };
                if let Some(key) = key {
                    match key {
                        "machine" => block.machine = value,
                        "pid" => block.pid = value.parse().ok(),
                        "route" => block.route = value,
                        "minikube" => block.minikube = value,
                        // reporter.go joins them with ", ".
                        "services" => {
                            block.services = value
                                .trim_start_matches('[')
                                .trim_end_matches(']')
                                .split([',', ' '])
                                .filter(|s| !s.is_empty())
                                .map(String::from)
                                .collect()
                        }
                        "err-minikube" => block.minikube_error = value,
                        "err-router" => block.router_error = value,
                        "err-lb" => block.lb_error = value,
                        _ => {}
                    }
                    self.last_key = Some(key);
                    if key == "err-lb" {
                        out.push(Event::Status(self.block.take().unwrap_or_default()));
                        self.last_key = None;
                    }
                    return out;
                }
            }
            // A continuation of a multi-line value (sudo's message under `router:`).
            let target = match self.last_key {
                Some("err-router") => Some(&mut block.router_error),
                Some("err-minikube") => Some(&mut block.minikube_error),
                Some("err-lb") => Some(&mut block.lb_error),
                _ => None,
            };
            if let Some(v) = target {
                if !trimmed.is_empty() {
                    v.push('\n');
                    v.push_str(trimmed);
                }
                return out;
            }
        }
        if trimmed.is_empty() {
            return out;
        }
        let text = strip_prefix(raw);
        if let Some(rest) = text.strip_prefix("Exiting due to ") {
            let (reason, message) = rest.split_once(": ").unwrap_or((rest, ""));
            out.push(Event::Exit {
                reason: reason.trim().to_string(),
                message: message.trim().to_string(),
            });
        } else if text.starts_with("Tunnel successfully started") {
            out.push(Event::SshStarted);
        } else if let Some(rest) = text.strip_prefix("Starting tunnel for service ") {
            out.push(Event::ServiceStarted(
                rest.trim_end_matches('.').to_string(),
            ));
        } else if let Some(rest) = text.strip_prefix("Stopping tunnel for service ") {
            out.push(Event::ServiceStopped(
                rest.trim_end_matches('.').to_string(),
            ));
        } else if let Some(rest) = text.strip_prefix("The service/ingress ") {
            if let Some((service, ports)) =
                rest.split_once(" requires privileged ports to be exposed: ")
            {
                out.push(Event::PrivilegedPorts {
                    service: service.to_string(),
                    ports: ports
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .split_whitespace()
                        .filter_map(|p| p.parse().ok())
                        .collect(),
                });
            }
        } else if text.starts_with("sudo permission will be asked") {
            out.push(Event::SudoWillBeAsked);
        } else if !text.starts_with("NOTE: Please do not close this terminal") {
            out.push(Event::Other(text.to_string()));
        }
        out
    }
}

/// Is this sudo saying it needs a password it cannot get (sudo 1.8/1.9 wording)?
pub fn is_sudo_password_failure(text: &str) -> bool {
    text.contains("a terminal is required to read the password")
        || text.contains("a password is required")
        || text.contains("no tty present and no askpass program specified")
        || text.contains("incorrect password attempt")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(text: &str) -> Vec<Event> {
        let mut p = Parser::default();
        text.lines().flat_map(|l| p.line(l)).collect()
    }

    /// reporter.go's exact bytes (research/minikube.md §5).
    const BLOCK: &str = "Status:\t\n\tmachine: minikube\n\tpid: 39087\n\troute: 10.96.0.0/12 -> 192.168.49.2\n\tminikube: Running\n\tservices: [hello-minikube, istio-ingressgateway]\n    errors: \n\t\tminikube: no errors\n\t\trouter: no errors\n\t\tloadbalancer emulator: no errors\n";

    #[test]
    fn route_mode_status_block() {
        let events = feed(BLOCK);
        let [Event::Status(b)] = events.as_slice() else {
            panic!("{events:?}")
        };
        assert_eq!(b.machine, "minikube");
        assert_eq!(b.pid, Some(39087));
        assert_eq!(b.route, "10.96.0.0/12 -> 192.168.49.2");
        assert_eq!(b.minikube, "Running");
        assert_eq!(b.services, ["hello-minikube", "istio-ingressgateway"]);
        assert!(b.errors().is_empty(), "{:?}", b.errors());
    }

    #[test]
    fn the_real_handbook_block_without_tabs() {
        let real = "Password:\nStatus:\nmachine: minikube\npid: 39087\nroute: 10.96.0.0/12 -> 192.168.64.194\nminikube: Running\nservices: [hello-minikube]\n    errors:\n  minikube: no errors\n  router: no errors\n  loadbalancer emulator: no errors\n";
        // The handbook's copy lost the tabs: keys are found without them too.
        let events = feed(real);
        let status: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::Status(b) => Some(b),
                _ => None,
            })
            .collect();
        assert_eq!(status.len(), 1);
        assert_eq!(status[0].route, "10.96.0.0/12 -> 192.168.64.194");
        assert!(status[0].errors().is_empty());
    }

    #[test]
    fn sudo_failure_under_router_spans_lines() {
        let text = BLOCK.replace(
            "\t\trouter: no errors\n",
            "\t\trouter: error adding Route: sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper\nsudo: a password is required\n, 3\n",
        );
        let events = feed(&text);
        let [Event::Status(b)] = events.as_slice() else {
            panic!("{events:?}")
        };
        assert!(
            b.router_error
                .starts_with("error adding Route: sudo: a terminal is required")
        );
        assert!(
            b.router_error
                .contains("\nsudo: a password is required\n, 3")
        );
        assert!(is_sudo_password_failure(&b.router_error));
        assert_eq!(b.errors().len(), 1);
        assert!(b.errors()[0].starts_with("router: error adding Route"));
    }

    #[test]
    fn ssh_mode_lines_with_and_without_emoji() {
        for (ok, warn, key, run) in [
            (
                "✅  Tunnel successfully started",
                "❗  The service/ingress istio-ingressgateway requires privileged ports to be exposed: [80 443]",
                "🔑  sudo permission will be asked for it.",
                "🏃  Starting tunnel for service istio-ingressgateway.",
            ),
            (
                "* Tunnel successfully started",
                "! The service/ingress istio-ingressgateway requires privileged ports to be exposed: [80 443]",
                "* sudo permission will be asked for it.",
                "* Starting tunnel for service istio-ingressgateway.",
            ),
        ] {
            let text = format!(
                "{ok}\n\n* NOTE: Please do not close this terminal as this process must stay alive for the tunnel to be accessible ...\n\n{warn}\n{key}\n{run}\n"
            );
            assert_eq!(
                feed(&text),
                vec![
                    Event::SshStarted,
                    Event::PrivilegedPorts {
                        service: "istio-ingressgateway".into(),
                        ports: vec![80, 443]
                    },
                    Event::SudoWillBeAsked,
                    Event::ServiceStarted("istio-ingressgateway".into()),
                ]
            );
        }
        assert_eq!(
            feed("✋  Stopping tunnel for service web."),
            vec![Event::ServiceStopped("web".into())]
        );
    }

    #[test]
    fn exit_blocks() {
        assert_eq!(
            feed("\n* Exiting due to TUNNEL_ALREADY_RUNNING: Another tunnel process is already running, terminate the existing instance to start a new one\n"),
            vec![Event::Exit { reason: "TUNNEL_ALREADY_RUNNING".into(), message: "Another tunnel process is already running, terminate the existing instance to start a new one".into() }]
        );
        let e = feed(
            "❌  Exiting due to SVC_TUNNEL_START: error starting tunnel: error creating tunnel: another tunnel is already running, shut it down first: ID { Route: 10.96.0.0/12 -> 192.168.49.2, machineName: minikube, Pid: 16524 }",
        );
        assert!(
            matches!(&e[0], Event::Exit { reason, message } if reason == "SVC_TUNNEL_START" && message.ends_with("Pid: 16524 }"))
        );
    }
}
