//! The live table `meshup matrix` draws on a terminal: a row per cell, a column per stage
//! (`·` to come, `…` running, `✓` done, `✗` failed, `-` skipped, `!` stopped), then what the
//! cell is doing now or how it ended. It is fed the cells' own event streams
//! (`meshup.events/v1`, parsed back from the JSON lines their reporters write), so it shows
//! exactly what `--output json` would say. Off a terminal the cells' lines are printed instead,
//! each prefixed with its cell.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use crate::plan::StageName;
use crate::report::events::human_duration;

/// The columns: `start`'s stages in the order the plan lists them, then the cell's `down`.
fn columns() -> impl Iterator<Item = &'static str> {
    StageName::ALL
        .into_iter()
        .map(StageName::as_str)
        .chain(["down"])
}

const COLUMN_COUNT: usize = StageName::ALL.len() + 1;

/// The longest "now" text a row shows (it is cut with `…`).
const NOW_WIDTH: usize = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Pending,
    Running,
    Done,
    Failed,
    Skipped,
    Stopped,
}

impl Mark {
    fn symbol(self) -> &'static str {
        match self {
            Mark::Pending => "·",
            Mark::Running => "…",
            Mark::Done => "✓",
            Mark::Failed => "✗",
            Mark::Skipped => "-",
            Mark::Stopped => "!",
        }
    }
}

/// Which of the cell's commands an event comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Start,
    Down,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Queued,
    Running,
    Ended { ok: bool, code: i32, took: Duration },
}

/// One cell's row: a mark per column and what it does now.
#[derive(Debug, Clone)]
pub struct Row {
    pub profile: String,
    marks: Vec<Mark>,
    now: String,
    state: State,
}

impl Row {
    pub fn new(profile: &str) -> Row {
        Row {
            profile: profile.to_owned(),
            marks: vec![Mark::Pending; COLUMN_COUNT],
            now: String::new(),
            state: State::Queued,
        }
    }

    fn column(&mut self, stage: &str) -> Option<&mut Mark> {
        columns()
            .position(|c| c == stage)
            .map(|i| &mut self.marks[i])
    }

    /// Takes one event. `down`'s own stages (`cluster/P`, `state/P`, ...) all go to its column.
    /// Returns a line worth keeping above the table (a stage's failure), if any.
    pub fn apply(&mut self, phase: Phase, event: &Value) -> Option<String> {
        let kind = event["type"].as_str().unwrap_or_default();
        let stage = match phase {
            Phase::Start => event["stage"].as_str().unwrap_or_default().to_owned(),
            Phase::Down => "down".to_owned(),
        };
        let text = |field: &str| event[field].as_str().unwrap_or_default().to_owned();
        let mark = match kind {
            "stage-started" => {
                self.now = format!("{stage}: {}", text("what"));
                Some(Mark::Running)
            }
            "stage-done" => Some(Mark::Done),
            "stage-skipped" => Some(Mark::Skipped),
            "stage-interrupted" => Some(Mark::Stopped),
            "stage-failed" => Some(Mark::Failed),
            "step" | "info" | "warning" => {
                self.now = format!("{stage}: {}", text("message"));
                None
            }
            "download" => {
                self.now = format!("{stage}: downloading {}", text("artifact"));
                None
            }
            _ => None,
        };
        if let Some(mark) = mark
            && let Some(m) = self.column(&stage)
        {
            *m = match phase {
                Phase::Start => mark,
                // `down` runs several stages of its own: the column runs from the first one,
                // a failure marks it for good, and it is done when `down` ends (`down_done`).
                Phase::Down => match (*m, mark) {
                    (Mark::Failed, _) | (_, Mark::Failed) => Mark::Failed,
                    _ => Mark::Running,
                },
            };
        }
        (kind == "stage-failed").then(|| {
            let message = event["error"]["message"].as_str().unwrap_or_default();
            format!(
                "[{}] ✗ {stage}: {}",
                self.profile,
                message.lines().next().unwrap_or_default()
            )
        })
    }

    /// `down` ended without a failure: its column is done.
    fn down_done(&mut self) {
        if let Some(m) = self.column("down")
            && *m == Mark::Running
        {
            *m = Mark::Done;
        }
    }

    /// The row's fixed part: the cell, then a mark under each column's name.
    pub fn marks(&self, width: usize) -> String {
        let mut line = format!("{:<width$}", self.profile);
        for (mark, name) in self.marks.iter().zip(columns()) {
            line.push_str("  ");
            line.push_str(&format!("{:<w$}", mark.symbol(), w = name.chars().count()));
        }
        line
    }

    /// What follows the marks: what the cell does now, or how it ended.
    pub fn status(&self) -> String {
        match &self.state {
            State::Queued => "queued".to_owned(),
            State::Running => cut(&self.now, NOW_WIDTH),
            State::Ended { ok: true, took, .. } => format!("pass ({})", human(*took)),
            State::Ended { code, took, .. } => format!("fail, exit {code} ({})", human(*took)),
        }
    }
}

fn human(d: Duration) -> String {
    human_duration(d.as_millis() as u64)
}

fn cut(text: &str, max: usize) -> String {
    let one_line = text.lines().next().unwrap_or_default();
    if one_line.chars().count() <= max {
        return one_line.to_owned();
    }
    let mut s: String = one_line.chars().take(max - 1).collect();
    s.push('…');
    s
}

/// The header line over the rows.
pub fn header(width: usize) -> String {
    let mut line = format!("{:<width$}", "CELL");
    for name in columns() {
        line.push_str("  ");
        line.push_str(name);
    }
    line.push_str("  NOW");
    line
}

/// The table on the terminal: a line per row (an indicatif bar each, so a running row's
/// spinner and elapsed time move between events).
pub struct Board {
    multi: MultiProgress,
    /// Kept: a dropped bar leaves the display.
    head: ProgressBar,
    width: usize,
    rows: Mutex<Vec<(Row, ProgressBar)>>,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ")
}

impl Board {
    pub fn new(profiles: &[String], target: ProgressDrawTarget) -> Arc<Board> {
        let multi = MultiProgress::with_draw_target(target);
        let width = profiles
            .iter()
            .map(|p| p.chars().count())
            .max()
            .unwrap_or(0)
            .max("CELL".len());
        let head = multi.add(ProgressBar::new(0).with_style(style("{msg}")));
        head.set_message(header(width));
        head.tick();
        let rows = profiles
            .iter()
            .map(|p| {
                let row = Row::new(p);
                let bar = multi.add(ProgressBar::new(0).with_style(style("{prefix}  {msg}")));
                bar.set_prefix(row.marks(width));
                bar.set_message(row.status());
                bar.tick();
                (row, bar)
            })
            .collect();
        Arc::new(Board {
            multi,
            head,
            width,
            rows: Mutex::new(rows),
        })
    }

    fn with_row(&self, profile: &str, change: impl FnOnce(&mut Row, &ProgressBar)) {
        let mut rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((row, bar)) = rows.iter_mut().find(|(r, _)| r.profile == profile) {
            change(row, bar);
            bar.set_prefix(row.marks(self.width));
            bar.set_message(row.status());
        }
    }

    pub fn started(&self, profile: &str) {
        self.with_row(profile, |row, bar| {
            row.state = State::Running;
            bar.set_style(style("{prefix}  {spinner} {elapsed:>4}  {msg}"));
            bar.reset_elapsed();
            bar.enable_steady_tick(Duration::from_millis(120));
        });
    }

    pub fn apply(&self, profile: &str, phase: Phase, event: &Value) {
        let mut note = None;
        self.with_row(profile, |row, _| note = row.apply(phase, event));
        if let Some(line) = note {
            let _ = self.multi.println(line);
        }
    }

    pub fn ended(&self, profile: &str, ok: bool, code: i32, took: Duration) {
        self.with_row(profile, |row, bar| {
            row.down_done();
            row.state = State::Ended { ok, code, took };
            bar.disable_steady_tick();
            bar.set_style(style("{prefix}  {msg}"));
        });
        let rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, bar)) = rows.iter().find(|(r, _)| r.profile == profile) {
            bar.finish();
        }
    }

    /// Leaves the table as it stands on the screen (bars finished, not cleared).
    pub fn close(&self) {
        self.head.finish();
        let rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        for (_, bar) in rows.iter() {
            bar.finish();
        }
    }
}

/// A cell's output in table mode: its reporters write JSON event lines here, which become the
/// row's marks.
pub struct BoardSink {
    pub board: Arc<Board>,
    pub cell: String,
    pub phase: Phase,
    pub buf: Vec<u8>,
}

impl Write for BoardSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        while let Some(n) = self.buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=n).collect();
            if let Ok(event) = serde_json::from_slice::<Value>(&line) {
                self.board.apply(&self.cell, self.phase, &event);
            }
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(kind: &str, stage: &str) -> Value {
        json!({"type": kind, "stage": stage, "what": "it", "message": "m"})
    }

    #[test]
    fn events_move_the_marks_and_a_failure_is_kept_above_the_table() {
        let mut row = Row::new("grid-1");
        assert_eq!(
            header(6),
            "CELL    preflight  tools  cluster  tunnel  mesh  smoke  verify  down  NOW"
        );
        assert_eq!(
            row.marks(6).trim_end(),
            "grid-1  ·          ·      ·        ·       ·     ·      ·       ·"
        );
        assert_eq!(row.status(), "queued");
        row.state = State::Running;
        for (kind, stage) in [
            ("stage-started", "preflight"),
            ("stage-done", "preflight"),
            ("stage-started", "cluster"),
            ("stage-done", "cluster"),
            ("stage-skipped", "tunnel"),
            ("stage-started", "mesh"),
        ] {
            assert_eq!(row.apply(Phase::Start, &ev(kind, stage)), None);
        }
        assert_eq!(row.status(), "mesh: it");
        let failed = json!({"type": "stage-failed", "stage": "mesh", "error": {"message": "istioctl failed\nmore"}});
        assert_eq!(
            row.apply(Phase::Start, &failed).as_deref(),
            Some("[grid-1] ✗ mesh: istioctl failed")
        );
        assert_eq!(
            row.marks(6).trim_end(),
            "grid-1  ✓          ·      ✓        -       ✗     ·      ·       ·"
        );
        // `down`'s stages share one column: running, then done once down ends.
        row.apply(Phase::Down, &ev("stage-started", "cluster/grid-1"));
        row.apply(Phase::Down, &ev("stage-done", "cluster/grid-1"));
        assert!(
            row.marks(6).trim_end().ends_with('…'),
            "{}",
            row.marks(6).trim_end()
        );
        row.down_done();
        row.state = State::Ended {
            ok: false,
            code: 7,
            took: Duration::from_millis(61_000),
        };
        assert!(row.marks(6).trim_end().ends_with('✓'));
        assert_eq!(row.status(), "fail, exit 7 (1m01s)");
    }

    #[test]
    fn a_failure_in_down_stays_on_its_column() {
        let mut row = Row::new("c");
        row.apply(Phase::Down, &ev("stage-started", "cluster/c"));
        let failed =
            json!({"type": "stage-failed", "stage": "state/c", "error": {"message": "busy"}});
        assert_eq!(
            row.apply(Phase::Down, &failed).as_deref(),
            Some("[c] ✗ down: busy")
        );
        row.apply(Phase::Down, &ev("stage-done", "mesh/c"));
        row.down_done();
        assert!(
            row.marks(4).trim_end().ends_with('✗'),
            "{}",
            row.marks(4).trim_end()
        );
    }

    #[test]
    fn the_now_text_is_one_line_and_bounded() {
        let mut row = Row::new("c");
        row.state = State::Running;
        let long = "x".repeat(200);
        row.apply(
            Phase::Start,
            &json!({"type": "info", "stage": "mesh", "message": format!("{long}\nsecond")}),
        );
        assert_eq!(row.status().chars().count(), NOW_WIDTH);
        assert!(row.status().ends_with('…'));
    }
}
