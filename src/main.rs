//! Thin: parse, run, map the error to an exit code.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use meshup::cli::{Cli, Command, ScenarioCommand};
use meshup::commands::{self, input::EnvSourced};
use meshup::error::{ExitKind, Failure};
use meshup::exec::{ShutdownReason, shutdown_reason};
use meshup::report::Printer;
use meshup::report::events::Reporter;

/// How long a command has to stop its children and write its record after Ctrl-C or SIGTERM,
/// before the signal thread ends the process: the engine's own grace comes first, the hard
/// deadline a little after it.
fn shutdown_grace() -> std::time::Duration {
    meshup::engine::stop_grace() + std::time::Duration::from_secs(1)
}

fn main() -> ExitCode {
    // Before anything can block: the signal watcher lives on its own thread.
    if let Err(e) = meshup::engine::signals::install(shutdown_grace()) {
        meshup::report::early_error(&format!("cannot watch for Ctrl-C and SIGTERM: {e}"));
        return ExitCode::from(ExitKind::Internal.code() as u8);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            meshup::report::early_error(&format!("cannot start meshup's runtime: {e}"));
            return ExitCode::from(ExitKind::Internal.code() as u8);
        }
    };
    let code = runtime.block_on(run());
    // Blocking tasks (a read of a FIFO nobody writes) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    ExitCode::from(code)
}

async fn run() -> u8 {
    let matches = match Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => return usage_error(e),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let printer = Printer::from_args(&cli.global);
    init_tracing(&cli.global, &printer);
    let env = env_sourced(&matches);

    let result = dispatch(&cli, &env, &printer).await;
    let result = match (shutdown_reason(), result) {
        // A command cut short by a signal: the signal decides the exit (commands that report
        // it themselves return Ok with it).
        (Some(reason), Err(_)) => {
            let kind = match reason {
                ShutdownReason::Terminate => ExitKind::Terminated,
                ShutdownReason::Interrupt => ExitKind::Interrupted,
            };
            Err(Failure::new(
                kind,
                if kind == ExitKind::Interrupted {
                    "interrupted (SIGINT)"
                } else {
                    "terminated (SIGTERM)"
                },
            )
            .into())
        }
        (_, r) => r,
    };
    let kind = match result {
        Ok(kind) => kind,
        Err(err) => report_error(&err, &cli, &printer),
    };
    kind.code() as u8
}

/// clap's errors: exit 2 for usage errors (0 for --help / --version), printed like every other
/// error — in JSON mode as the `meshup.error/v1` document on stdout too.
fn usage_error(e: clap::Error) -> u8 {
    let code = e.exit_code();
    if code != 0 && json_requested() {
        let text = e.render().to_string();
        let message = text
            .trim()
            .trim_start_matches("error: ")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        let doc = Failure::new(ExitKind::Usage, message)
            .hint("`meshup --help` lists the commands and their flags")
            .to_json();
        meshup::report::early_json(&doc);
    }
    let _ = e.print();
    if code == 0 {
        0
    } else {
        ExitKind::Usage.code() as u8
    }
}

/// Whether the command line (or MESHUP_OUTPUT) asked for JSON, read without clap (which just
/// failed).
fn json_requested() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let flag = args.iter().enumerate().find_map(|(i, a)| {
        if let Some(v) = a.strip_prefix("--output=") {
            Some(v.to_owned())
        } else if a == "--output" {
            args.get(i + 1).cloned()
        } else {
            None
        }
    });
    flag.or_else(|| std::env::var("MESHUP_OUTPUT").ok())
        .is_some_and(|v| v == "json")
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
        Command::Tunnel(args) => commands::tunnel::run(args, env, printer).await,
        Command::Manifest(cmd) => commands::manifest::run(cmd, env, printer).await,
        Command::Istio(cmd) => commands::istio::run(cmd, env, printer).await,
        Command::Completions { shell } => commands::completions(*shell),
    }
}

fn report_error(err: &anyhow::Error, cli: &Cli, printer: &Printer) -> ExitKind {
    match event_command(&cli.command) {
        // Commands that print events end with a `result`; an error that reaches main came
        // before their run began (bad input, a lock held), so this is their only result.
        Some(name) if printer.json() => {
            Reporter::new(printer, name).result_error(err);
            meshup::report::error::print(err, printer, false)
        }
        _ => meshup::report::error::print(err, printer, true),
    }
}

/// Long-running commands print JSON lines (events) ending in a `result`; the rest one document.
fn event_command(command: &Command) -> Option<&'static str> {
    match command {
        Command::Start(a) if !a.dry_run => Some("start"),
        Command::Down(_) => Some("down"),
        Command::Matrix(a) if !a.dry_run && a.emit.is_none() => Some("matrix"),
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
    // A MESHUP_LOG that is not a filter is said out loud (after the logger is up), not ignored.
    let mut rejected = None;
    let filter = match std::env::var("MESHUP_LOG") {
        Ok(f) => EnvFilter::try_new(&f).unwrap_or_else(|e| {
            rejected = Some((f, e));
            EnvFilter::new(default)
        }),
        Err(_) => EnvFilter::new(default),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(printer.color)
        .with_target(false)
        .try_init();
    if let Some((value, why)) = rejected {
        tracing::warn!(
            "MESHUP_LOG={value:?} is not a log filter ({why}); using `{default}`. Accepted: a level \
             (error, warn, info, debug, trace) or directives like meshup=debug"
        );
    }
}
