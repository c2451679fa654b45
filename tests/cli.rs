//! The CLI's manners: help with the exit-code table, completions, version, usage errors.

mod common;
#[path = "common/terminal.rs"]
mod terminal;

use common::{Fakes, stderr, stdout};
use meshup_sim::{Knobs, World};
use terminal::run_on_terminal;

#[test]
fn help_lists_the_exit_codes_and_only_working_commands() {
    let fakes = Fakes::new();
    let out = fakes.run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for line in [
        "2        usage or bad input",
        "10       the profile is locked",
        "11       no such profile",
        "130/143",
    ] {
        assert!(text.contains(line), "{line} missing in\n{text}");
    }
    for cmd in [
        "start",
        "plan",
        "doctor",
        "scenario",
        "status",
        "stop",
        "down",
        "matrix",
        "completions",
    ] {
        assert!(
            text.contains(&format!("  {cmd}")),
            "{cmd} missing in\n{text}"
        );
    }
}

#[test]
fn completions_for_bash() {
    let fakes = Fakes::new();
    let out = fakes.run(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("_meshup()"));
}

#[test]
fn unknown_flags_are_usage_errors() {
    let fakes = Fakes::new();
    let out = fakes.run(&["start", "--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--bogus"));
    assert!(fakes.calls().is_empty());
}

#[test]
fn quiet_and_verbose_conflict() {
    let fakes = Fakes::new();
    let out = fakes.run(&["plan", "-q", "-v"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn quiet_hides_commentary_but_not_results() {
    let fakes = Fakes::new();
    let out = fakes.run(&["start", "--dry-run", "-q"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("Plan for profile meshup"));
    assert!(!stderr(&out).contains("dry run"), "{}", stderr(&out));
}

/// On a pipe colour is off whatever NO_COLOR says, so this runs on a pseudo-terminal: colour
/// there by default, none with NO_COLOR set.
#[test]
fn colour_on_a_terminal_unless_no_color_is_set() {
    let world = World::start(Knobs::default());
    let bad_memory = |no_color: Option<&str>| {
        let mut cmd = world.command(env!("CARGO_BIN_EXE_meshup"));
        cmd.args(["plan", "--memory", "x"])
            .env_remove("NO_COLOR")
            .env_remove("CI");
        if let Some(value) = no_color {
            cmd.env("NO_COLOR", value);
        }
        run_on_terminal(cmd)
    };
    let (code, text) = bad_memory(None);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("\x1b[1;31merror:\x1b[0m"), "{text:?}");
    let (code, text) = bad_memory(Some("1"));
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("error:"), "{text:?}");
    assert!(!text.contains('\x1b'), "{text:?}");
}

#[test]
fn start_offers_recreate_and_an_isolated_kubeconfig() {
    let fakes = Fakes::new();
    let out = fakes.run(&["start", "--help"]);
    let text = stdout(&out);
    for flag in ["--recreate", "--isolated-kubeconfig", "--dry-run"] {
        assert!(text.contains(flag), "{flag} missing in\n{text}");
    }
    assert!(text.contains("minikube cannot change in place"), "{text}");
    assert!(text.contains("export line"), "{text}");
}

#[test]
fn boolean_env_vars_take_1_and_0() {
    let fakes = Fakes::new();
    for (var, value) in [
        ("MESHUP_NO_PROGRESS", "1"),
        ("MESHUP_YES", "0"),
        ("MESHUP_OFFLINE", "yes"),
    ] {
        let out = fakes
            .meshup()
            .env(var, value)
            .args(["start", "--dry-run"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{var}={value}: {}",
            stderr(&out)
        );
    }
}

/// Every command (and nested one) whose help is reachable from `meshup --help`.
fn all_commands() -> Vec<Vec<String>> {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<Vec<String>>) {
        for sub in cmd.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            let mut p = path.clone();
            p.push(sub.get_name().to_string());
            out.push(p.clone());
            walk(sub, p, out);
        }
    }
    let mut out = Vec::new();
    walk(&meshup::cli::Cli::command(), Vec::new(), &mut out);
    out
}

#[test]
fn each_commands_help_keeps_global_flags_apart_and_points_at_the_exit_codes() {
    let fakes = Fakes::new();
    let commands = all_commands();
    assert!(commands.len() >= 12, "{commands:?}");
    for path in commands {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = fakes.run(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let help = stdout(&out);
        let (own, global) = help
            .split_once("\nGlobal options:\n")
            .unwrap_or_else(|| panic!("{args:?}: no Global options heading:\n{help}"));
        // The flags a section lists: its lines that start with `-x, --name` or `--name`.
        let listed = |text: &str, flag: &str| {
            text.lines().any(|l| {
                let l = l.trim_start();
                l.starts_with('-') && l.split([',', ' ', '.']).any(|word| word == flag)
            })
        };
        for flag in [
            "--verbose",
            "--quiet",
            "--output",
            "--ci",
            "--no-progress",
            "--yes",
        ] {
            assert!(
                !listed(own, flag),
                "{args:?}: {flag} among the command's own flags"
            );
            assert!(
                listed(global, flag),
                "{args:?}: {flag} missing under Global options"
            );
        }
        assert!(
            help.contains("Exit codes: 0 ok, 2 bad input") && help.contains("docs/exit-codes.md"),
            "{args:?}: no exit-code pointer:\n{help}"
        );
    }
}

#[test]
fn tools_install_and_lock_take_no_sizes_or_overrides() {
    let fakes = Fakes::new();
    for cmd in [&["tools", "install"][..], &["lock"][..]] {
        for flag in [
            &["--cpus", "4"][..],
            &["--memory", "8g"][..],
            &["--set", "a=b"][..],
            &["--istio-profile", "demo"][..],
        ] {
            let mut args = cmd.to_vec();
            args.extend_from_slice(flag);
            let out = fakes.run(&args);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
            assert!(
                stderr(&out).contains("unexpected argument"),
                "{args:?}: {}",
                stderr(&out)
            );
        }
        let out = fakes.run(&[cmd, &["--help"][..]].concat());
        let help = stdout(&out);
        for flag in ["--file", "--k8s", "--istio"] {
            assert!(help.contains(flag), "{cmd:?}: {flag} missing:\n{help}");
        }
    }
    assert!(fakes.calls().is_empty(), "{:?}", fakes.calls());
}

#[test]
fn down_all_says_what_it_does_with_p_and_f() {
    let fakes = Fakes::new();
    let help = stdout(&fakes.run(&["down", "--help"]));
    assert!(help.contains("Cannot be combined with -p or -f"), "{help}");
    assert!(!help.contains("are not used"), "{help}");
    let out = fakes.run(&["down", "--all", "-p", "demo"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // The environment is for other commands: it does not stop `down --all`.
    let out = fakes
        .meshup()
        .env("MESHUP_CLUSTER_PROFILE", "demo")
        .env("MESHUP_STATE_DIR", fakes.root().join("state"))
        .args(["down", "--all"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Issue 13: a MESHUP_LOG that is not a filter is warned about, not silently ignored.
#[test]
fn a_bad_meshup_log_is_warned_about() {
    let fakes = Fakes::new();
    let path = fakes.file("s.yaml", "apiVersion: meshup/v1\nkind: Scenario\n");
    let out = fakes
        .meshup()
        .env("MESHUP_LOG", "garbage[[[")
        .args(["scenario", "validate"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("MESHUP_LOG=\"garbage[[[\" is not a log filter"),
        "{err}"
    );
    let out = fakes
        .meshup()
        .env("MESHUP_LOG", "warn")
        .args(["scenario", "validate"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!stderr(&out).contains("MESHUP_LOG"), "{}", stderr(&out));
}

/// Issue 13: the README installs with the lock file and names the command whose output ends
/// in one summary line (the line `.ci/run` prints).
#[test]
fn the_readme_installs_locked_and_names_the_summarising_test_command() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains("cargo install --locked --path ."),
        "no --locked"
    );
    assert!(
        !readme.contains("cargo install --path ."),
        "an install without --locked"
    );
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    assert!(
        ci.contains("passed, %d failed, %d skipped"),
        ".ci/run's summary line changed"
    );
    assert!(
        readme.contains(".ci/run") && readme.contains("passed, 0 failed"),
        "README"
    );
}
