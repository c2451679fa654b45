//! `meshup matrix FILE`: every expanded cell start → verify → down on the engine, in one
//! process, each with its own profile, isolated kubeconfig, service CIDR (`matrix_ranges`,
//! assigned by the caller), state and diagnostics; as many at once as this host holds (`--parallel auto`) or a cap.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::matrix_board::{Board, BoardSink, Phase};
use crate::cli::MatrixArgs;
use crate::compat::host::HostFacts;
use crate::engine::{self, RunCx, RunOptions};
use crate::error::{ExitKind, Failure};
use crate::report::events::{Mode, Reporter};
use crate::report::{Printer, junit};
use crate::scenario::matrix::Entry;
use crate::scenario::quantity::{Cpus, Memory};
use crate::state::StateRoot;

/// What this host keeps for itself when packing cells: a CPU and 2 GiB.
const RESERVE_CPUS: u64 = 1;
const RESERVE_MB: u64 = 2048;

/// One cell's end, for the results table, JSON and JUnit.
#[derive(Debug)]
pub struct CellResult {
    pub profile: String,
    pub values: Vec<(String, String)>,
    pub exit: ExitKind,
    pub elapsed: Duration,
    pub first_failure: Option<String>,
    pub cases: Vec<junit::Case>,
}

/// `--parallel`: a cap, and whether to pack by resources.
#[derive(Debug, Clone, Copy)]
pub struct Parallel {
    pub cap: usize,
    pub pack: bool,
}

pub fn parse_parallel(text: &str) -> anyhow::Result<Parallel> {
    if text == "auto" {
        return Ok(Parallel {
            cap: usize::MAX,
            pack: true,
        });
    }
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(Parallel {
            cap: n,
            pack: false,
        }),
        _ => Err(Failure::new(
            ExitKind::Usage,
            format!(
                "--parallel: `{}` is not a number of cells; accepted: auto, or a whole number ≥ 1",
                crate::scenario::text::escape_controls(text)
            ),
        )
        .into()),
    }
}

/// A cell's demand on the host: (CPUs, MB). `max` takes the whole machine.
fn demand(e: &Entry, host: &HostFacts) -> (u64, u64) {
    let c = &e.scenario.cluster;
    let cpus = match c.cpus {
        Cpus::Count(n) => n as u64,
        Cpus::Max => host.cpus.unwrap_or(u64::MAX),
    };
    let mb = match c.memory {
        Memory::Mb(mb) => mb,
        Memory::Max => host.memory_mb.unwrap_or(u64::MAX),
    };
    (cpus, mb)
}

/// Whether one more cell fits next to the running ones: under the cap, and (packing) within
/// what the host has less the reserve. A cell always runs when nothing else does.
fn fits(p: Parallel, running: usize, used: (u64, u64), want: (u64, u64), host: &HostFacts) -> bool {
    if running >= p.cap {
        return false;
    }
    if !p.pack || running == 0 {
        return true;
    }
    let cpus = host.cpus.map(|c| c.saturating_sub(RESERVE_CPUS));
    let mb = host.memory_mb.map(|m| m.saturating_sub(RESERVE_MB));
    cpus.is_none_or(|c| used.0 + want.0 <= c) && mb.is_none_or(|m| used.1 + want.1 <= m)
}

pub async fn run(
    args: &MatrixArgs,
    entries: Vec<Entry>,
    host: HostFacts,
    printer: &Printer,
) -> anyhow::Result<ExitKind> {
    let parallel = parse_parallel(&args.parallel)?;
    let mut cells: VecDeque<(usize, Entry)> = entries.into_iter().enumerate().collect();
    for (_, e) in cells.iter_mut() {
        crate::commands::start_live::apply_timeout(&mut e.scenario, args.timeout.as_deref())?;
    }
    let total = cells.len();
    let out = Arc::new(Mutex::new(Sinks {
        stdout: Box::new(std::io::stdout()),
        stderr: Box::new(std::io::stderr()),
    }));
    // On a terminal: the live table (cell × stage); otherwise each cell's lines, prefixed.
    let board = (printer.progress && !printer.json() && printer.verbosity >= 0).then(|| {
        let profiles: Vec<String> = cells
            .iter()
            .map(|(_, e)| e.scenario.cluster.profile.clone())
            .collect();
        Board::new(&profiles, indicatif::ProgressDrawTarget::stderr())
    });
    let matrix = Reporter::new(printer, "matrix");
    let stop = crate::exec::shutdown_token().child_token();
    let mut set: JoinSet<(CellResult, (u64, u64))> = JoinSet::new();
    let mut used = (0u64, 0u64);
    let mut results: Vec<CellResult> = Vec::new();
    let mut failed = false;
    loop {
        while let Some((_, next)) = cells.front() {
            let want = demand(next, &host);
            if failed && args.fail_fast || stop.is_cancelled() {
                break;
            }
            if !fits(parallel, set.len(), used, want, &host) {
                break;
            }
            let (i, entry) = cells.pop_front().expect("front exists");
            used = (used.0 + want.0, used.1 + want.1);
            if let Some(b) = &board {
                b.started(&entry.scenario.cluster.profile);
            } else {
                matrix.info(
                    "matrix",
                    &format!(
                        "cell {}/{total} `{}` starts ({} running)",
                        i + 1,
                        entry.scenario.cluster.profile,
                        set.len() + 1
                    ),
                );
            }
            let cell = Cell {
                board: board.clone(),
                entry,
                keep: args.keep,
                printer: printer.clone(),
                out: out.clone(),
                stop: stop.clone(),
            };
            set.spawn(async move { (cell.run().await, want) });
        }
        let Some(joined) = set.join_next().await else {
            break;
        };
        let (result, want) =
            joined.map_err(|e| engine::bug(format!("a matrix cell panicked: {e}")))?;
        used = (used.0 - want.0, used.1 - want.1);
        if let Some(b) = &board {
            b.ended(
                &result.profile,
                result.exit == ExitKind::Success,
                result.exit.code(),
                result.elapsed,
            );
        }
        if result.exit != ExitKind::Success {
            failed = true;
            if args.fail_fast {
                stop.cancel();
            }
        }
        results.push(result);
    }
    let not_run: Vec<String> = cells
        .iter()
        .map(|(_, e)| e.scenario.cluster.profile.clone())
        .collect();
    if let Some(b) = &board {
        b.close();
    }
    finish(args, printer, &matrix, results, not_run)
}

fn finish(
    args: &MatrixArgs,
    printer: &Printer,
    matrix: &Reporter,
    mut results: Vec<CellResult>,
    not_run: Vec<String>,
) -> anyhow::Result<ExitKind> {
    results.sort_by(|a, b| a.profile.cmp(&b.profile));
    if let Some(path) = &args.junit {
        let mut report = quick_junit::Report::new("meshup matrix");
        for r in &results {
            report.add_test_suite(junit::suite(&r.profile, &r.cases));
        }
        let xml = report.to_string()?;
        crate::state::write_atomically(path, xml.as_bytes())?;
    }
    let exit = results
        .iter()
        .find(|r| r.exit != ExitKind::Success)
        .map_or(ExitKind::Success, |r| r.exit);
    let cells: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            serde_json::json!({
                "profile": r.profile,
                "values": r.values.iter().cloned().collect::<indexmap::IndexMap<_, _>>(),
                "ok": r.exit == ExitKind::Success,
                "exitCode": r.exit.code(),
                "elapsedMs": r.elapsed.as_millis() as u64,
                "firstFailure": r.first_failure,
            })
        })
        .collect();
    let summary = serde_json::json!({ "cells": cells, "notRun": not_run });
    if !printer.json() {
        printer.out(&table(&results, &not_run));
    }
    if exit == ExitKind::Success {
        matrix.result(
            exit,
            if printer.json() {
                summary
            } else {
                serde_json::Value::Null
            },
        );
    } else {
        let failed: Vec<&str> = results
            .iter()
            .filter(|r| r.exit != ExitKind::Success)
            .map(|r| r.profile.as_str())
            .collect();
        let err: anyhow::Error = Failure::new(
            exit,
            format!(
                "{} of {} cells failed: {}",
                failed.len(),
                results.len() + not_run.len(),
                failed.join(", ")
            ),
        )
        .details(summary)
        .into();
        matrix.result_error(&err);
        crate::report::error::print_text(&Failure::of(&err), printer);
    }
    Ok(exit)
}

/// The results table: one row per cell.
fn table(results: &[CellResult], not_run: &[String]) -> String {
    let mut rows = vec![[
        "CELL".to_owned(),
        "RESULT".to_owned(),
        "DURATION".to_owned(),
        "FIRST FAILURE".to_owned(),
    ]];
    for r in results {
        rows.push([
            r.profile.clone(),
            if r.exit == ExitKind::Success {
                "pass".into()
            } else {
                format!("fail ({})", r.exit.code())
            },
            crate::report::events::human_duration(r.elapsed.as_millis() as u64),
            r.first_failure.clone().unwrap_or_default(),
        ]);
    }
    for n in not_run {
        rows.push([n.clone(), "not run".into(), String::new(), String::new()]);
    }
    let widths: Vec<usize> = (0..4)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

struct Sinks {
    stdout: Box<dyn Write + Send>,
    stderr: Box<dyn Write + Send>,
}

/// One cell's output: its lines go to the shared stdout/stderr whole, each marked with the
/// cell (a `[cell]` prefix for people, a `cell` field in JSON events).
struct CellSink {
    cell: String,
    json: bool,
    err: bool,
    buf: Vec<u8>,
    out: Arc<Mutex<Sinks>>,
}

impl Write for CellSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        while let Some(n) = self.buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=n).collect();
            let text = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
            let marked = if self.json {
                match serde_json::from_str::<serde_json::Value>(&text) {
                    Ok(serde_json::Value::Object(mut map)) => {
                        map.insert("cell".into(), self.cell.clone().into());
                        serde_json::Value::Object(map).to_string()
                    }
                    _ => text,
                }
            } else {
                format!("[{}] {text}", self.cell)
            };
            let mut sinks = self.out.lock().unwrap_or_else(|e| e.into_inner());
            let sink = if self.err {
                &mut sinks.stderr
            } else {
                &mut sinks.stdout
            };
            writeln!(sink, "{marked}")?;
            sink.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Cell {
    board: Option<Arc<Board>>,
    entry: Entry,
    keep: bool,
    printer: Printer,
    out: Arc<Mutex<Sinks>>,
    stop: CancellationToken,
}

impl Cell {
    async fn run(self) -> CellResult {
        let began = Instant::now();
        let scenario = self.entry.scenario;
        let profile = scenario.cluster.profile.clone();
        let json = self.printer.json();
        let sink = |err: bool, phase: Phase| -> Box<dyn Write + Send> {
            if let Some(board) = &self.board {
                return Box::new(BoardSink {
                    board: board.clone(),
                    cell: profile.clone(),
                    phase,
                    buf: Vec::new(),
                });
            }
            Box::new(CellSink {
                cell: profile.clone(),
                json,
                err,
                buf: Vec::new(),
                out: self.out.clone(),
            })
        };
        // The table reads the cell's events; people see them there, not as lines.
        let mode = if json || self.board.is_some() {
            Mode::Json
        } else if self.printer.verbosity < 0 {
            Mode::Quiet
        } else {
            Mode::Plain
        };
        // The cell's reporters (its start, then its down) write through its own sinks.
        let reporter_for = |command: &'static str, phase: Phase| {
            Reporter::with_parts(
                command,
                mode,
                self.printer.style(),
                sink(false, phase),
                sink(true, phase),
                Box::new(chrono::Utc::now),
            )
        };
        let reporter = Arc::new(reporter_for("start", Phase::Start));
        let options = RunOptions {
            scenario_file: None,
            isolated_kubeconfig: true,
            yes: true,
            ci: true,
            interactive: false,
            timeout: scenario.verify.total_timeout,
            ..RunOptions::default()
        };
        let root = StateRoot::from_env();
        let cx = Arc::new(RunCx::new(
            scenario,
            options,
            reporter.clone(),
            root.profile(&profile),
            &self.stop,
        ));
        let end = engine::run(cx.clone(), crate::stages::all()).await;
        let mut cases = crate::commands::start_live::junit_cases(&end);
        match &end.error {
            None => reporter.result(
                ExitKind::Success,
                crate::commands::start_live::summary(&cx, &end),
            ),
            Some(e) => {
                reporter.result_error(e);
            }
        }
        let first_failure = end.error.as_ref().map(|e| {
            Failure::of(e)
                .message
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned()
        });
        drop(cx); // releases the profile's lock for `down`
        if !self.keep {
            let down = reporter_for("down", Phase::Down);
            let began_down = Instant::now();
            let outcome = crate::commands::down::down_one(&root, &profile, false, &down).await;
            cases.push(junit::Case {
                kind: "stage",
                name: "down".into(),
                duration: began_down.elapsed(),
                outcome: match &outcome {
                    Ok(_) => junit::Outcome::Passed,
                    Err(e) => junit::Outcome::Failed(format!("{e:#}")),
                },
            });
        }
        CellResult {
            profile: profile.clone(),
            values: self.entry.values,
            exit: end.exit,
            elapsed: began.elapsed(),
            first_failure,
            cases,
        }
    }
}
