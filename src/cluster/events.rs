//! `minikube start -o json` prints CloudEvents, one per line, every `data` value a string
//! (research/minikube.md §1.2). Lines that are not JSON happen (the kicbase progress bar leaked
//! into stdout before v1.29) and are not errors.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq)]
pub enum MinikubeEvent {
    Step {
        current: u32,
        total: u32,
        name: String,
        message: String,
    },
    Download {
        current: u32,
        total: u32,
        artifact: String,
        /// 0.0 ..= 1.0 for `download.progress`, None for the `download` announcement.
        progress: Option<f64>,
    },
    Info(String),
    Warning(String),
    Error(MinikubeError),
}

/// A fatal `error` event: its `exitcode` equals the process's exit code.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct MinikubeError {
    pub message: String,
    /// Reason id, e.g. `K8S_OLD_UNSUPPORTED`.
    pub reason: Option<String>,
    pub exit_code: Option<i32>,
    pub advice: Option<String>,
    pub url: Option<String>,
    pub issues: Vec<String>,
}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: std::collections::HashMap<String, serde_json::Value>,
}

impl RawEvent {
    fn text(&self, key: &str) -> String {
        match self.data.get(key) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        }
    }

    fn opt(&self, key: &str) -> Option<String> {
        Some(self.text(key)).filter(|s| !s.is_empty())
    }

    fn number<T: std::str::FromStr>(&self, key: &str) -> Option<T> {
        self.text(key).trim().parse().ok()
    }
}

const PREFIX: &str = "io.k8s.sigs.minikube.";

pub fn parse_line(line: &str) -> Option<MinikubeEvent> {
    let line = line.trim();
    if !line.starts_with('{') {
        return None;
    }
    let raw: RawEvent = serde_json::from_str(line).ok()?;
    let kind = raw.kind.strip_prefix(PREFIX)?;
    let event = match kind {
        "step" => MinikubeEvent::Step {
            current: raw.number("currentstep")?,
            total: raw.number("totalsteps")?,
            name: raw.text("name"),
            message: raw.text("message"),
        },
        "download" | "download.progress" => MinikubeEvent::Download {
            current: raw.number("currentstep").unwrap_or_default(),
            total: raw.number("totalsteps").unwrap_or_default(),
            artifact: raw.text("artifact"),
            progress: if kind == "download" {
                None
            } else {
                Some(raw.number::<f64>("progress")?.clamp(0.0, 1.0))
            },
        },
        "info" => MinikubeEvent::Info(raw.text("message")),
        "warning" => MinikubeEvent::Warning(raw.text("message")),
        "error" => MinikubeEvent::Error(MinikubeError {
            message: raw.text("message"),
            reason: raw.opt("name"),
            exit_code: raw.number("exitcode"),
            advice: raw.opt("advice"),
            url: raw.opt("url"),
            issues: raw
                .text("issues")
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
        }),
        _ => return None,
    };
    Some(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_real_v1_28_step() {
        let line = r#"{"specversion":"1.0","id":"88bb0d21-caf0-4748-9b63-53776cc1d2f2","source":"https://minikube.sigs.k8s.io/","type":"io.k8s.sigs.minikube.step","datacontenttype":"application/json","data":{"currentstep":"3","message":"Starting control plane node minikube in cluster minikube","name":"Starting Node","totalsteps":"19"}}"#;
        assert_eq!(
            parse_line(line),
            Some(MinikubeEvent::Step {
                current: 3,
                total: 19,
                name: "Starting Node".into(),
                message: "Starting control plane node minikube in cluster minikube".into(),
            })
        );
    }

    #[test]
    fn parses_a_real_download_progress() {
        let line = r#"{"specversion":"1.0","id":"1326f1ee","source":"https://minikube.sigs.k8s.io/","type":"io.k8s.sigs.minikube.download.progress","datacontenttype":"application/json","data":{"artifact":"preloaded-images-k8s-v18-v1.25.3-docker-overlay2-arm64.tar.lz4","currentstep":"5","progress":"0.36961245448965924","totalsteps":"19"}}"#;
        match parse_line(line) {
            Some(MinikubeEvent::Download {
                current: 5,
                progress: Some(p),
                artifact,
                ..
            }) => {
                assert!((p - 0.3696).abs() < 1e-3);
                assert!(artifact.starts_with("preloaded-images"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_the_error_event_with_data_first_key_order() {
        let line = r#"{"data":{"advice":"fix me!","exitcode":"4","issues":"https://github.com/kubernetes/minikube/issues/1,https://github.com/kubernetes/minikube/issues/2","message":"my error","name":"BUG","url":"url"},"datacontenttype":"application/json","id":"random-id","source":"https://minikube.sigs.k8s.io/","specversion":"1.0","type":"io.k8s.sigs.minikube.error"}"#;
        let Some(MinikubeEvent::Error(e)) = parse_line(line) else {
            panic!()
        };
        assert_eq!(e.reason.as_deref(), Some("BUG"));
        assert_eq!(e.exit_code, Some(4));
        assert_eq!(e.advice.as_deref(), Some("fix me!"));
        assert_eq!(e.issues.len(), 2);
    }

    #[test]
    fn an_error_with_empty_fields_has_none() {
        let line = r#"{"type":"io.k8s.sigs.minikube.error","data":{"message":"x","exitcode":"","name":"","advice":""}}"#;
        let Some(MinikubeEvent::Error(e)) = parse_line(line) else {
            panic!()
        };
        assert_eq!(e.exit_code, None);
        assert_eq!(e.reason, None);
        assert_eq!(e.advice, None);
    }

    #[test]
    fn tolerates_noise() {
        for line in [
            "",
            "    > gcr.io/k8s-minikube/kicbase...:  1.2 MiB / 400 MiB",
            "{not json",
            r#"{"type":"something.else","data":{}}"#,
            r#"{"type":"io.k8s.sigs.minikube.step","data":{"currentstep":"x"}}"#,
        ] {
            assert_eq!(parse_line(line), None, "{line}");
        }
    }
}
