//! minikube's output: emoji or low-fi prefixes in text mode (out.go, style.go), CloudEvents
//! with string-valued data in JSON mode (register/cloud_events.go), and the per-profile
//! event log `events.json` that start and stop write in both modes.

use std::io::Write;
use std::path::PathBuf;

use serde_json::{Map, Value, json};

use crate::fakes::common::uuid4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Text { emoji: bool },
    Json,
}

pub struct Ui {
    pub mode: Mode,
    /// `~/.minikube/profiles/<p>/events.json` while a start or stop runs.
    pub event_log: Option<PathBuf>,
    /// The step registry of the running command (register.go); `totalsteps` is its length - 1.
    pub registry: &'static [&'static str],
    current: std::cell::Cell<usize>,
    /// Before v1.28 the CloudEvents SDK wrote the keys alphabetically (`data` first).
    pub legacy_order: bool,
}

/// An exit reason (reason.go): id, exit code, advice.
pub struct Reason {
    pub id: &'static str,
    pub code: i32,
    pub advice: &'static str,
    /// The message prefix style: ❌ error, 💣 fatal, ⛔ unmet requirement, 💡 usage, 🙈 downgrade.
    pub emoji: &'static str,
}

pub const REASONS: &[Reason] = &[
    Reason {
        id: "MK_USAGE",
        code: 14,
        advice: "",
        emoji: "❌",
    },
    Reason {
        id: "MK_PATCH_NOT_FOUND",
        code: 14,
        advice: "",
        emoji: "❌",
    },
    Reason {
        id: "RSRC_INSUFFICIENT_REQ_MEMORY",
        code: 23,
        advice: "Start minikube with less memory allocated: 'minikube start --memory=2200mb'",
        emoji: "⛔",
    },
    Reason {
        id: "RSRC_INSUFFICIENT_CORES",
        code: 29,
        advice: "Ensure your docker system has enough CPUs. The minimum allowed is 2 CPUs.",
        emoji: "⛔",
    },
    Reason {
        id: "HOST_KUBECONFIG_UPDATE",
        code: 38,
        advice: "",
        emoji: "❌",
    },
    Reason {
        id: "DRV_UNSUPPORTED_OS",
        code: 56,
        advice: "",
        emoji: "❌",
    },
    Reason {
        id: "DRV_AS_ROOT",
        code: 57,
        advice: "",
        emoji: "❌",
    },
    Reason {
        id: "PROVIDER_DOCKER_NOT_RUNNING",
        code: 63,
        advice: "Start the Docker service",
        emoji: "💣",
    },
    Reason {
        id: "PROVIDER_DOCKER_NOT_FOUND",
        code: 65,
        advice: "Install Docker",
        emoji: "💣",
    },
    Reason {
        id: "GUEST_START",
        code: 80,
        advice: "",
        emoji: "❌",
    },
    Reason {
        id: "GUEST_PROVISION",
        code: 80,
        advice: "",
        emoji: "❌",
    },
    Reason {
        id: "GUEST_PROVISION_CONTAINER_EXITED",
        code: 80,
        advice: "",
        emoji: "❌",
    },
    Reason {
        id: "GUEST_NOT_RUNNING",
        code: 83,
        advice: "",
        emoji: "🤷",
    },
    Reason {
        id: "GUEST_PROFILE_NOT_FOUND",
        code: 85,
        advice: "",
        emoji: "🤷",
    },
    Reason {
        id: "K8S_INSTALL_FAILED",
        code: 100,
        advice: "",
        emoji: "❌",
    },
    Reason {
        id: "K8S_APISERVER_TIMEOUT",
        code: 102,
        advice: "",
        emoji: "❌",
    },
    Reason {
        id: "K8S_APISERVER_MISSING",
        code: 105,
        advice: "Check that the provided apiserver flags are valid, and that SELinux is disabled",
        emoji: "❌",
    },
    Reason {
        id: "K8S_OLD_UNSUPPORTED",
        code: 106,
        advice: "",
        emoji: "❌",
    },
    Reason {
        id: "K8S_NEW_UNSUPPORTED",
        code: 106,
        advice: "",
        emoji: "❌",
    },
    Reason {
        id: "K8S_DOWNGRADE_UNSUPPORTED",
        code: 106,
        advice: "",
        emoji: "🙈",
    },
    Reason {
        id: "HOST_CGROUP_NOT_SUPPORTED",
        code: 36,
        advice: "",
        emoji: "🧯",
    },
    Reason {
        id: "SVC_TUNNEL_START",
        code: 110,
        advice: "",
        emoji: "❌",
    },
    Reason {
        id: "TUNNEL_ALREADY_RUNNING",
        code: 111,
        advice: "",
        emoji: "💡",
    },
    Reason {
        id: "INET_DOWNLOAD_TIMEOUT",
        code: 42,
        advice: "",
        emoji: "❌",
    },
    Reason {
        id: "RUNTIME_ENABLE",
        code: 90,
        advice: "",
        emoji: "❌",
    },
];

pub fn reason(id: &str) -> Reason {
    REASONS
        .iter()
        .find(|r| r.id == id)
        .map(|r| Reason {
            id: r.id,
            code: r.code,
            advice: r.advice,
            emoji: r.emoji,
        })
        .unwrap_or(Reason {
            id: "GUEST_START",
            code: 80,
            advice: "",
            emoji: "❌",
        })
}

/// out.go:wantsColor: emoji only on a colour terminal; `MINIKUBE_IN_STYLE` forces either way.
pub fn wants_emoji() -> bool {
    if let Ok(v) = std::env::var("MINIKUBE_IN_STYLE") {
        return v == "true" || v == "1";
    }
    let term = std::env::var("TERM").unwrap_or_default();
    let colorterm = std::env::var("COLORTERM").unwrap_or_default();
    let colour =
        term.contains("color") || ["truecolor", "24bit", "yes"].contains(&colorterm.as_str());
    colour && crate::fakes::common::stdout_is_tty()
}

impl Ui {
    pub fn new(json: bool) -> Ui {
        let mode = if json {
            Mode::Json
        } else {
            Mode::Text {
                emoji: wants_emoji(),
            }
        };
        Ui {
            mode,
            event_log: None,
            registry: super::release::START_STEPS,
            current: std::cell::Cell::new(0),
            legacy_order: false,
        }
    }

    fn emoji(&self) -> bool {
        matches!(self.mode, Mode::Text { emoji: true })
    }

    fn event(&self, kind: &str, data: Map<String, Value>) {
        let ev = if self.legacy_order {
            json!({
                "data": Value::Object(data),
                "datacontenttype": "application/json",
                "id": uuid4(),
                "source": "https://minikube.sigs.k8s.io/",
                "specversion": "1.0",
                "type": format!("io.k8s.sigs.minikube.{kind}"),
            })
        } else {
            json!({
                "specversion": "1.0",
                "id": uuid4(),
                "source": "https://minikube.sigs.k8s.io/",
                "type": format!("io.k8s.sigs.minikube.{kind}"),
                "datacontenttype": "application/json",
                "data": Value::Object(data),
            })
        };
        let line = format!("{ev}\n");
        if self.mode == Mode::Json {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(line.as_bytes());
            let _ = out.flush();
        }
        if let Some(path) = &self.event_log
            && let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
        {
            let _ = f.write_all(line.as_bytes());
        }
    }

    fn data(pairs: &[(&str, String)]) -> Map<String, Value> {
        let mut m: Vec<_> = pairs.to_vec();
        m.sort_by(|a, b| a.0.cmp(b.0));
        m.into_iter()
            .map(|(k, v)| (k.to_string(), Value::String(v)))
            .collect()
    }

    fn text_out(&self, emoji: &str, low: &str, msg: &str, stderr: bool) {
        let line = if self.emoji() {
            format!("{emoji}  {msg}\n")
        } else {
            format!("{low}{msg}\n")
        };
        if stderr {
            let _ = std::io::stderr().write_all(line.as_bytes());
        } else {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(line.as_bytes());
            let _ = out.flush();
        }
    }

    /// Moves to a step if this release's registry has it (else the message is reported under
    /// the current one, as register.SetStep leaves it), then logs it.
    fn step_event(&self, name: &str, msg: &str) {
        if let Some(i) = self.registry.iter().position(|s| *s == name) {
            self.current.set(i);
        }
        let i = self.current.get();
        self.event(
            "step",
            Self::data(&[
                ("currentstep", i.to_string()),
                ("totalsteps", self.total_steps().to_string()),
                (
                    "name",
                    self.registry.get(i).copied().unwrap_or("").to_string(),
                ),
                ("message", msg.trim().to_string()),
            ]),
        );
    }

    pub fn total_steps(&self) -> usize {
        self.registry.len().saturating_sub(1)
    }

    /// A registered step (`out.Step` after `register.SetStep`). `spinner` steps vanish in text
    /// mode without a TTY on releases that only draw them through the spinner.
    pub fn step(&self, name: &str, emoji: &str, msg: &str, spinner_hidden: bool) {
        self.step_event(name, msg);
        if matches!(self.mode, Mode::Text { .. }) && !spinner_hidden {
            self.text_out(emoji, "* ", msg, false);
        }
    }

    /// A sub-step (`▪`, low-fi `  - `).
    pub fn sub_step(&self, name: &str, msg: &str, spinner_hidden: bool) {
        self.step_event(name, msg);
        if matches!(self.mode, Mode::Text { .. }) && !spinner_hidden {
            let line = if self.emoji() {
                format!("    ▪ {msg}\n")
            } else {
                format!("  - {msg}\n")
            };
            print!("{line}");
        }
    }

    pub fn info(&self, emoji: &str, msg: &str) {
        self.event("info", Self::data(&[("message", msg.to_string())]));
        if let Mode::Text { .. } = self.mode {
            self.text_out(emoji, "* ", msg, false);
        }
    }

    /// An indented info line (`    ▪ `, low-fi `  - `).
    pub fn sub_info(&self, msg: &str) {
        self.event("info", Self::data(&[("message", msg.to_string())]));
        if let Mode::Text { emoji } = self.mode {
            if emoji {
                println!("    ▪ {msg}");
            } else {
                println!("  - {msg}");
            }
        }
    }

    /// Plain `out.Styled` text on stdout (no event in JSON mode).
    pub fn styled(&self, emoji: &str, msg: &str) {
        if let Mode::Text { .. } = self.mode {
            self.text_out(emoji, "* ", msg, false);
        }
    }

    /// `out.Step(style.Warning, ...)`: a warning's prefix (`❗`, low-fi `! `) on **stdout**,
    /// as the tunnel's "requires privileged ports to be exposed" (ssh_conn.go).
    pub fn step_warning(&self, msg: &str) {
        if let Mode::Text { .. } = self.mode {
            self.text_out("❗", "! ", msg, false);
        }
    }

    pub fn warning(&self, msg: &str) {
        self.event("warning", Self::data(&[("message", msg.to_string())]));
        if let Mode::Text { .. } = self.mode {
            self.text_out("❗", "! ", msg, true);
        }
    }

    /// `out.ErrT` without exiting (what `--force` turns an exit into).
    pub fn error_line(&self, msg: &str) {
        self.event("error", Self::data(&[("message", msg.to_string())]));
        if let Mode::Text { .. } = self.mode {
            self.text_out("❌", "X ", msg, true);
        }
    }

    pub fn download(&self, artifact: &str, progress: Option<f64>) {
        let mut pairs = vec![
            ("currentstep", self.current.get().to_string()),
            ("totalsteps", self.total_steps().to_string()),
            ("artifact", artifact.to_string()),
        ];
        match progress {
            Some(p) => {
                pairs.push(("progress", p.to_string()));
                self.event("download.progress", Self::data(&pairs));
            }
            None => self.event("download", Self::data(&pairs)),
        }
    }

    /// The fatal exit block (exit.go:Message): returns the reason's exit code.
    pub fn exit(&self, reason_id: &str, msg: &str) -> i32 {
        let r = reason(reason_id);
        self.event(
            "error",
            Self::data(&[
                ("advice", r.advice.to_string()),
                ("exitcode", r.code.to_string()),
                ("issues", String::new()),
                ("message", msg.to_string()),
                ("name", r.id.to_string()),
                ("url", String::new()),
            ]),
        );
        if let Mode::Text { .. } = self.mode {
            eprintln!();
            // style.go: only the failure styles have a low-fi prefix of their own (`X `);
            // the rest fall back to the bullet, e.g. `* Exiting due to TUNNEL_ALREADY_RUNNING`.
            let low = if matches!(r.emoji, "❌" | "💣") {
                "X "
            } else {
                "* "
            };
            self.text_out(
                r.emoji,
                low,
                &format!("Exiting due to {}: {msg}", r.id),
                true,
            );
            if !r.advice.is_empty() {
                self.text_out("💡", "* ", &format!("Suggestion: {}", r.advice), true);
            }
            eprintln!();
        }
        r.code
    }
}
