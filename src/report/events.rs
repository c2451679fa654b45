//! The reporter of long-running commands (`start`, `down`, later `verify` and `matrix`): stages
//! tell it what they do, it shows that to people (an indicatif line per stage on a terminal,
//! plain `[stage] ...` lines otherwise) or to programs (`meshup.events/v1` JSON lines on stdout).
//! Stages run concurrently and share one reporter, hence `&self` and a mutex inside.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use indicatif::ProgressBar;
use serde_json::{Map, Value, json};

use super::Printer;
use super::progress::{Activity, Bars};
use super::style::Style;
use crate::error::{ExitKind, Failure};

pub const SCHEMA: &str = "meshup.events/v1";

/// JSON download events at most every 5 %, plain lines every 10 % (a download reports per chunk).
const JSON_STEP: f64 = 0.05;
const PLAIN_STEP: f64 = 0.10;
/// Without a known size, report every 32 MiB.
const UNSIZED_STEP: u64 = 32 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `--output json`: events on stdout.
    Json,
    /// A terminal: indicatif lines on stderr.
    Bars,
    /// Not a terminal, `--ci`, `--no-progress`, `-v`: one line per event on stderr.
    Plain,
    /// `-q`: only the result.
    Quiet,
}

type Clock = Box<dyn Fn() -> DateTime<Utc> + Send + Sync>;

pub struct Reporter {
    command: &'static str,
    mode: Mode,
    style: Style,
    clock: Clock,
    bars: Option<Bars>,
    inner: Mutex<Inner>,
    /// Set once the `result` is written: a run has one.
    result_sent: AtomicBool,
    /// A stage failed already (the first failure is the one printed at the end).
    failure_seen: AtomicBool,
}

struct Inner {
    /// Events (JSON) and the result: stdout.
    out: Box<dyn Write + Send>,
    /// Plain progress lines: stderr.
    err: Box<dyn Write + Send>,
    began: DateTime<Utc>,
    stages: HashMap<String, Stage>,
    /// Per stage, the last download reported: artifact, fraction, bytes.
    downloads: HashMap<String, (String, Option<f64>, u64)>,
}

struct Stage {
    started: DateTime<Utc>,
    ended: bool,
    bar: Option<ProgressBar>,
}

impl Reporter {
    pub fn new(printer: &Printer, command: &'static str) -> Reporter {
        let mode = if printer.json() {
            Mode::Json
        } else if printer.verbosity < 0 {
            Mode::Quiet
        } else if printer.progress {
            Mode::Bars
        } else {
            Mode::Plain
        };
        Reporter::with_parts(
            command,
            mode,
            printer.style(),
            Box::new(std::io::stdout()),
            Box::new(std::io::stderr()),
            Box::new(Utc::now),
        )
    }

    /// A reporter writing to the given sinks with the given clock (tests, embedding).
    pub fn with_parts(
        command: &'static str,
        mode: Mode,
        style: Style,
        out: Box<dyn Write + Send>,
        err: Box<dyn Write + Send>,
        clock: Clock,
    ) -> Reporter {
        let began = clock();
        Reporter {
            command,
            mode,
            style,
            bars: (mode == Mode::Bars).then(Bars::stderr),
            clock,
            result_sent: AtomicBool::new(false),
            failure_seen: AtomicBool::new(false),
            inner: Mutex::new(Inner {
                out,
                err,
                began,
                stages: HashMap::new(),
                downloads: HashMap::new(),
            }),
        }
    }

    /// Terminal mode draws its lines on `target` instead of stderr (tests read back what was
    /// drawn; an embedding program may draw elsewhere). Other modes draw nothing.
    pub fn draw_to(mut self, target: indicatif::ProgressDrawTarget) -> Reporter {
        if self.bars.is_some() {
            self.bars = Some(Bars::to(target));
        }
        self
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Runs `f` (a question on the terminal) with the progress lines out of its way. The time
    /// the question waits for its answer is not counted in the running stages' durations.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        let asked = (self.clock)();
        let answer = match &self.bars {
            Some(bars) => bars.suspend(f),
            None => f(),
        };
        let waited = (self.clock)() - asked;
        let mut inner = self.lock();
        for stage in inner.stages.values_mut().filter(|s| !s.ended) {
            stage.started += waited;
        }
        answer
    }

    pub fn result_sent(&self) -> bool {
        self.result_sent.load(Ordering::SeqCst)
    }

    pub fn stage_started(&self, stage: &str, what: &str) {
        let now = (self.clock)();
        let mut inner = self.lock();
        if inner.stages.get(stage).is_some_and(|s| !s.ended) {
            return; // already running: a line starts once
        }
        let bar = self
            .bars
            .as_ref()
            .map(|b| b.start(&format!("[{stage}]"), what));
        let bar_shown = bar.is_some();
        inner.stages.insert(
            stage.to_owned(),
            Stage {
                started: now,
                ended: false,
                bar,
            },
        );
        // On a terminal the running line itself says the stage started.
        let line = if bar_shown {
            String::new()
        } else {
            format!("[{stage}] started: {what}")
        };
        self.emit(
            &mut inner,
            "stage-started",
            Some(stage),
            now,
            json!({ "what": what }),
            || line,
        );
    }

    pub fn stage_done(&self, stage: &str, outcome: &str) {
        self.end(
            stage,
            "stage-done",
            json!({ "outcome": outcome }),
            |st, took| {
                let took = took.map(|t| format!(" ({t})")).unwrap_or_default();
                format!("{} [{stage}] {outcome}{took}", st.green("✓"))
            },
        );
    }

    pub fn stage_skipped(&self, stage: &str, why: &str) {
        self.end(stage, "stage-skipped", json!({ "reason": why }), |st, _| {
            format!("{} [{stage}] skipped: {why}", st.dim("-"))
        });
    }

    /// A stage's failure. The run's first failure is printed whole (with its hints) once, at
    /// the end, so its line only says that it failed; later ones carry their first line.
    pub fn stage_failed(&self, stage: &str, error: &anyhow::Error) {
        let (_, object) = error_object(error);
        let first = object["message"]
            .as_str()
            .and_then(|m| m.lines().next())
            .unwrap_or_default()
            .to_owned();
        let shown_below = !self.failure_seen.swap(true, Ordering::SeqCst);
        self.end(
            stage,
            "stage-failed",
            json!({ "error": object }),
            |st, took| {
                let took = took.map(|t| format!(" after {t}")).unwrap_or_default();
                if shown_below {
                    format!(
                        "{} [{stage}] failed{took} (the error is below)",
                        st.red("✗")
                    )
                } else {
                    format!("{} [{stage}] failed{took}: {first}", st.red("✗"))
                }
            },
        );
    }

    /// A stage stopped by a signal or the global timeout while it ran: not its failure.
    pub fn stage_interrupted(&self, stage: &str, why: &str) {
        self.end(
            stage,
            "stage-interrupted",
            json!({ "reason": why }),
            |st, took| {
                let took = took.map(|t| format!(" after {t}")).unwrap_or_default();
                format!("{} [{stage}] {why}{took}", st.yellow("■"))
            },
        );
    }

    /// minikube's "step i of n".
    pub fn step(&self, stage: &str, current: u32, total: u32, message: &str) {
        let now = (self.clock)();
        let mut inner = self.lock();
        let text = format!("step {current}/{total} {message}");
        if let Some(bar) = self.running_bar(&inner, stage) {
            self.bars_update(&bar, Activity::Busy(&text));
            return;
        }
        let fields = json!({ "current": current, "total": total, "message": message });
        self.emit(&mut inner, "step", Some(stage), now, fields, || {
            format!("[{stage}] step {current}/{total}: {message}")
        });
    }

    /// A download's progress: `fraction` 0..=1 and/or bytes done (of total). Throttled.
    pub fn download(
        &self,
        stage: &str,
        artifact: &str,
        fraction: Option<f64>,
        bytes: Option<(u64, Option<u64>)>,
    ) {
        let now = (self.clock)();
        let mut inner = self.lock();
        let fraction = fraction
            .or_else(|| match bytes {
                Some((done, Some(total))) if total > 0 => Some(done as f64 / total as f64),
                _ => None,
            })
            .map(|f| f.clamp(0.0, 1.0));
        if let Some(bar) = self.running_bar(&inner, stage) {
            let label = format!("download {artifact}");
            self.bars_update(
                &bar,
                Activity::Download {
                    label: &label,
                    fraction,
                    bytes,
                },
            );
            return;
        }
        let step = if self.mode == Mode::Json {
            JSON_STEP
        } else {
            PLAIN_STEP
        };
        let done_bytes = bytes.map_or(0, |b| b.0);
        let due = match inner.downloads.get(stage) {
            Some((a, last, last_bytes)) if a == artifact => match (fraction, *last) {
                (Some(f), Some(l)) => f >= 1.0 && l < 1.0 || f - l >= step - 1e-9,
                (Some(_), None) => true,
                (None, _) => done_bytes >= last_bytes + UNSIZED_STEP,
            },
            _ => true,
        };
        if !due {
            return;
        }
        inner.downloads.insert(
            stage.to_owned(),
            (artifact.to_owned(), fraction, done_bytes),
        );
        let fields = json!({
            "artifact": artifact,
            "fraction": fraction,
            "bytes": bytes.map(|(done, total)| json!({ "done": done, "total": total })),
        });
        self.emit(&mut inner, "download", Some(stage), now, fields, || {
            let mut line = format!("[{stage}] download {artifact}");
            if let Some(f) = fraction {
                line.push_str(&format!(": {:.0}%", f * 100.0));
            }
            if let Some((done, total)) = bytes {
                line.push_str(&match total {
                    Some(t) => format!(" ({} / {})", mib(done), mib(t)),
                    None => format!(" ({})", mib(done)),
                });
            }
            line
        });
    }

    pub fn info(&self, stage: &str, message: &str) {
        let now = (self.clock)();
        let mut inner = self.lock();
        self.emit(
            &mut inner,
            "info",
            Some(stage),
            now,
            json!({ "message": message }),
            || format!("[{stage}] {message}"),
        );
    }

    pub fn warn(&self, stage: &str, message: &str) {
        let now = (self.clock)();
        let mut inner = self.lock();
        let st = self.style;
        self.emit(
            &mut inner,
            "warning",
            Some(stage),
            now,
            json!({ "message": message }),
            || format!("[{stage}] {} {message}", st.yellow("warning:")),
        );
    }

    /// The final event: JSON `result`, or the summary on stdout for people.
    pub fn result(&self, exit: ExitKind, summary: Value) {
        let now = (self.clock)();
        let mut inner = self.lock();
        let elapsed = elapsed_ms(inner.began, now);
        let ok = exit == ExitKind::Success;
        self.end_open_stages(&mut inner, now);
        if self.mode == Mode::Json {
            let fields = json!({
                "command": self.command,
                "ok": ok,
                "exitCode": exit.code(),
                "elapsedMs": elapsed,
                "summary": summary,
            });
            self.emit(&mut inner, "result", None, now, fields, String::new);
        } else {
            let st = self.style;
            let mark = if ok { st.green("✓") } else { st.red("✗") };
            let head = format!(
                "{mark} meshup {} {} in {}",
                self.command,
                if ok { "done" } else { "finished with errors" },
                human_duration(elapsed)
            );
            self.human_line(&mut inner, &head);
            if !summary.is_null() {
                let text = serde_yaml::to_string(&summary).unwrap_or_default();
                let _ = inner.out.write_all(text.as_bytes());
                let _ = inner.out.flush();
            }
        }
        self.result_sent.store(true, Ordering::SeqCst);
    }

    /// The final event for a command that failed: `result` carrying the error (JSON mode), one
    /// path for every command that prints events. People get the error from `main` on stderr.
    pub fn result_error(&self, err: &anyhow::Error) -> ExitKind {
        let now = (self.clock)();
        let (kind, object) = error_object(err);
        let mut inner = self.lock();
        self.end_open_stages(&mut inner, now);
        if self.mode == Mode::Json {
            let fields = json!({
                "command": self.command,
                "ok": false,
                "exitCode": kind.code(),
                "elapsedMs": elapsed_ms(inner.began, now),
                "error": object,
            });
            self.emit(&mut inner, "result", None, now, fields, String::new);
        }
        self.result_sent.store(true, Ordering::SeqCst);
        kind
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind: keep reporting.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The live line of a running stage (terminal mode only).
    fn running_bar(&self, inner: &Inner, stage: &str) -> Option<ProgressBar> {
        self.bars.as_ref()?;
        inner
            .stages
            .get(stage)
            .filter(|s| !s.ended)
            .and_then(|s| s.bar.clone())
    }

    fn bars_update(&self, bar: &ProgressBar, activity: Activity<'_>) {
        if let Some(bars) = &self.bars {
            bars.update(bar, activity);
        }
    }

    fn end(
        &self,
        stage: &str,
        kind: &str,
        mut fields: Value,
        line: impl FnOnce(Style, Option<String>) -> String,
    ) {
        let now = (self.clock)();
        let mut inner = self.lock();
        let (started, bar) = match inner.stages.get_mut(stage) {
            Some(s) if s.ended => return, // a line ends once
            Some(s) => {
                s.ended = true;
                (Some(s.started), s.bar.take())
            }
            None => {
                inner.stages.insert(
                    stage.to_owned(),
                    Stage {
                        started: now,
                        ended: true,
                        bar: None,
                    },
                );
                (None, None)
            }
        };
        let elapsed = started.map(|s| elapsed_ms(s, now));
        if let (Some(ms), Some(map)) = (elapsed, fields.as_object_mut()) {
            map.insert("elapsedMs".into(), ms.into());
        }
        let text = line(self.style, elapsed.map(human_duration));
        match (&self.bars, bar) {
            (Some(bars), Some(bar)) => bars.finish(&bar, text),
            _ => self.emit(&mut inner, kind, Some(stage), now, fields, || text),
        }
    }

    /// Stages still running when the result comes were cut short (cancelled, or never ended).
    fn end_open_stages(&self, inner: &mut Inner, now: DateTime<Utc>) {
        let mut open: Vec<(String, DateTime<Utc>, Option<ProgressBar>)> = inner
            .stages
            .iter_mut()
            .filter(|(_, s)| !s.ended)
            .map(|(name, s)| {
                s.ended = true;
                (name.clone(), s.started, s.bar.take())
            })
            .collect();
        open.sort_by_key(|(_, started, _)| *started);
        for (name, started, bar) in open {
            let took = human_duration(elapsed_ms(started, now));
            let text = format!("{} [{name}] interrupted after {took}", self.style.red("✗"));
            match (&self.bars, bar) {
                (Some(bars), Some(bar)) => bars.finish(&bar, text),
                _ => self.human_line(inner, &text),
            }
        }
    }

    /// Writes one event: a JSON line, or (lazily built) a human line.
    fn emit(
        &self,
        inner: &mut Inner,
        kind: &str,
        stage: Option<&str>,
        time: DateTime<Utc>,
        fields: Value,
        human: impl FnOnce() -> String,
    ) {
        match self.mode {
            Mode::Json => {
                let line = event_json(kind, stage, time, fields).to_string();
                let _ = writeln!(inner.out, "{line}");
                let _ = inner.out.flush();
            }
            Mode::Quiet => {}
            Mode::Plain | Mode::Bars => {
                let text = human();
                if !text.is_empty() {
                    self.human_line(inner, &text);
                }
            }
        }
    }

    fn human_line(&self, inner: &mut Inner, text: &str) {
        match (&self.bars, self.mode) {
            (_, Mode::Quiet | Mode::Json) => {}
            (Some(bars), _) => bars.line(text),
            (None, _) => {
                let _ = writeln!(inner.err, "{text}");
                let _ = inner.err.flush();
            }
        }
    }
}

/// `{schema, type, stage, time, ...fields}`.
pub fn event_json(kind: &str, stage: Option<&str>, time: DateTime<Utc>, fields: Value) -> Value {
    let mut map = Map::new();
    map.insert("schema".into(), SCHEMA.into());
    map.insert("type".into(), kind.into());
    map.insert("stage".into(), stage.map_or(Value::Null, Value::from));
    map.insert(
        "time".into(),
        time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            .into(),
    );
    if let Value::Object(fields) = fields {
        map.extend(fields);
    }
    Value::Object(map)
}

/// An error as JSON (`kind`, `exitCode`, `message`, `hints`, `details`) and the exit it means:
/// a `Failure` in the chain decides; anything else is a bug (exit 70, the whole chain).
pub fn error_object(err: &anyhow::Error) -> (ExitKind, Value) {
    let f = Failure::of(err);
    (f.kind, f.error_json())
}

fn elapsed_ms(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    (to - from).num_milliseconds().max(0) as u64
}

/// `0.4s`, `12.3s`, `2m05s`.
pub fn human_duration(ms: u64) -> String {
    if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        let s = ms / 1000;
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
