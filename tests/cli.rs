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
