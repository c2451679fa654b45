//! Thin: parse, run, map the error to an exit code.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use meshup::cli::{Cli, Command, ScenarioCommand};
use meshup::commands::{self, input::EnvSourced};
use meshup::error::{ExitKind, Failure};
use meshup::exec::{ShutdownReason, shutdown, shutdown_reason, shutdown_token};
use meshup::report::Printer;
use meshup::report::events::{self, Reporter};

/// How long a command has to stop its children and write its record after Ctrl-C or SIGTERM.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(15);

#[tokio::main]
async fn main() -> ExitCode {
    let matches = match Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            // clap: exit 2 for usage errors, 0 for --help / --version.
            let _ = e.print();
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(ExitKind::Usage.code() as u8);
        }
    };
    let printer = Printer::from_args(&cli.global);
    init_tracing(&cli.global, &printer);
    let env = env_sourced(&matches);
    tokio::spawn(watch_signals());

    let token = shutdown_token();
    let run = dispatch(&cli, &env, &printer);
    tokio::pin!(run);
    let result = tokio::select! {
        r = &mut run => r,
        _ = token.cancelled() => {
            // The command sees the same token: its children get their stop signal and a grace
            // period, and it records where it stopped. Past this, dropping it kills them.
            match tokio::time::timeout(SHUTDOWN_GRACE, &mut run).await {
                Ok(r) => r,
                Err(_) => Ok(ExitKind::Interrupted),
            }
        }
    };
    let result = match shutdown_reason() {
        Some(ShutdownReason::Terminate) => Ok(ExitKind::Terminated),
        Some(ShutdownReason::Interrupt) => Ok(ExitKind::Interrupted),
        None => result,
    };
    let kind = match result {
        Ok(kind @ (ExitKind::Interrupted | ExitKind::Terminated)) => {
            // Event streams end with a `result` even when cut short.
            if printer.json()
                && let Some(name) = event_command(&cli.command)
                && !events::result_sent()
            {
                let why = if kind == ExitKind::Interrupted {
                    "interrupted (SIGINT)"
                } else {
                    "terminated (SIGTERM)"
                };
                Reporter::new(&printer, name).result_error(&Failure::new(kind, why).into());
            }
            kind
        }
        Ok(kind) => kind,
        Err(err) => report_error(&err, &cli, &printer),
    };
    ExitCode::from(kind.code() as u8)
}

async fn dispatch(cli: &Cli, env: &EnvSourced, printer: &Printer) -> anyhow::Result<ExitKind> {
    match &cli.command {
        Command::Start(args) => commands::start::run(args, env, printer).await,
        Command::Plan(args) => commands::plan::run(args, env, printer).await,
        Command::Doctor(args) => commands::doctor::run(args, env, printer).await,
        Command::Scenario(ScenarioCommand::Validate { file }) => {
            commands::scenario::validate(file, printer)
        }
        Command::Status(args) => commands::status::run(args, env, printer).await,
        Command::Stop(args) => commands::stop::run(args, env, printer).await,
        Command::Down(args) => commands::down::run(args, env, printer).await,
        Command::Verify(args) => commands::verify::run(args, env, printer).await,
        Command::Matrix(args) => commands::matrix::run(args, printer).await,
        Command::Tools(args) => commands::tools::run(args, env, printer).await,
        Command::Lock(args) => commands::lock::run(args, env, printer).await,
        Command::Completions { shell } => commands::completions(*shell),
    }
}

fn report_error(err: &anyhow::Error, cli: &Cli, printer: &Printer) -> ExitKind {
    let failure = err.chain().find_map(|e| e.downcast_ref::<Failure>());
    let kind = failure.map_or(ExitKind::Differences, |f| f.kind);
    if printer.json() {
        match event_command(&cli.command) {
            // One path for errors of commands that print events: their `result` event.
            Some(name) if !events::result_sent() => {
                Reporter::new(printer, name).result_error(err);
            }
            Some(_) => {}
            None => {
                let json = match failure {
                    Some(f) => f.to_json(),
                    None => Failure::new(kind, format!("{err:#}")).to_json(),
                };
                printer.out_json(&json, false);
            }
        }
    }
    if printer.verbosity >= -1 {
        let text = match failure {
            Some(f) => f.render_text(printer.color),
            // Not a Failure: a bug or an unexpected I/O error; show the whole chain.
            None => Failure::new(kind, format!("{err:#}"))
                .hint("this is unexpected; rerun with -vv and report it")
                .render_text(printer.color),
        };
        eprint!("{text}");
    }
    kind
}

/// Long-running commands print JSON lines (events) ending in a `result`; the rest one document.
fn event_command(command: &Command) -> Option<&'static str> {
    match command {
        Command::Start(_) => Some("start"),
        Command::Down(_) => Some("down"),
        Command::Verify(_) => Some("verify"),
        _ => None,
    }
}

/// Which scenario flags clap filled from their environment variable.
fn env_sourced(matches: &clap::ArgMatches) -> EnvSourced {
    let mut out = Vec::new();
    let mut cur = Some(matches);
    while let Some(m) = cur {
        for id in commands::input::ENV_IDS {
            if m.ids().any(|i| i.as_str() == *id)
                && m.value_source(id) == Some(clap::parser::ValueSource::EnvVariable)
            {
                out.push(id.to_string());
            }
        }
        cur = m.subcommand().map(|(_, s)| s);
    }
    EnvSourced(out)
}

fn init_tracing(g: &meshup::cli::GlobalArgs, printer: &Printer) {
    use tracing_subscriber::EnvFilter;
    let default = match (g.quiet, g.verbose) {
        (q, _) if q > 0 => "error",
        (_, 0) => "warn",
        (_, 1) => "meshup=info",
        (_, 2) => "meshup=debug",
        _ => "trace",
    };
    let filter = std::env::var("MESHUP_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(printer.color)
        .with_target(false)
        .try_init();
}

async fn watch_signals() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return;
    };
    tokio::select! {
        _ = int.recv() => shutdown(ShutdownReason::Interrupt),
        _ = term.recv() => shutdown(ShutdownReason::Terminate),
    }
    // A second signal means now: no more grace.
    tokio::select! {
        _ = int.recv() => std::process::exit(ExitKind::Interrupted.code()),
        _ = term.recv() => std::process::exit(ExitKind::Terminated.code()),
    }
}
