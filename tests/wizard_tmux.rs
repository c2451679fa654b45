//! The onboarding wizard in a real terminal (tmux send-keys / capture-pane), with CI removed
//! from the environment: the defaults it offers make a cluster, and the scenario file it saves
//! reproduces that cluster exactly (a second `meshup start -f` changes nothing).

#[path = "common/cluster_world.rs"]
mod cluster_world;
#[path = "common/fixtures.rs"]
mod fixtures;
#[path = "common/mirror.rs"]
mod mirror;
#[path = "common/tmux.rs"]
mod tmux;

use std::time::Duration;

use cluster_world::*;
use tmux::Tmux;

#[test]
fn the_wizards_defaults_make_a_cluster_and_its_file_reproduces_it() {
    // minikube v1.24.0's stable Kubernetes is v1.22.3; the newest Istio for it is 1.16: the
    // host has both, so the wizard's defaults need no download.
    let world = seed_world_with(|k| k.istioctl.version = "1.16.7".into());
    let Some(tmux) = Tmux::start(&world, &format!("{} start", env!("CARGO_BIN_EXE_meshup"))) else {
        eprintln!("skipped: no tmux");
        return;
    };
    let screen = tmux.wait_for("Kubernetes version");
    assert!(screen.contains("minikube v1.24.0"), "{screen}");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Istio version");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Istio profile");
    tmux.keys(&["Enter"]);
    tmux.wait_for("CPUs");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Memory (GB)");
    tmux.keys(&["Enter"]);
    tmux.wait_for("access logs as JSON");
    tmux.keys(&["Enter"]);
    tmux.wait_for("egress gateway");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Save these answers");
    tmux.keys(&["Enter"]);
    tmux.wait_for("File");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Start it?");
    tmux.keys(&["y"]);
    let screen = tmux.wait_for("EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");

    let saved = world.dir().join("meshup-scenario.yaml");
    let text =
        std::fs::read_to_string(&saved).unwrap_or_else(|_| panic!("no scenario saved\n{screen}"));
    assert!(text.contains("kind: Scenario"), "{text}");
    assert_eq!(minikube(&world, "start").len(), 1, "{}", calls_text(&world));
    // The saved file is the same cluster: a start from it finds nothing to change.
    let again = meshup(
        &world,
        &["start", "-f", saved.to_str().unwrap(), "--output", "json"],
    );
    assert_eq!(again.code, Some(0), "{again}");
    assert_eq!(
        again.result()["summary"]["cluster"]["change"]["action"],
        "nothing",
        "{again}"
    );
    assert_eq!(minikube(&world, "start").len(), 1, "{}", calls_text(&world));
}

#[test]
fn a_question_during_start_is_seen_answered_and_not_timed() {
    // istioctl on PATH is another release: the preflight asks before fetching 1.5.0.
    let world = seed_world_with(|k| k.istioctl.version = "1.6.14".into());
    let mirror = mirror::Mirror::start();
    fixtures::publish_istio_1_5(
        &mirror,
        world.tool_wrapper("istioctl", "1.5.0").into_bytes(),
    );
    let command = format!("{} start -f {SEED}", env!("CARGO_BIN_EXE_meshup"));
    let mirrors = [
        ("MESHUP_ISTIO_MIRROR", mirror.url("istio")),
        ("MESHUP_KUBECTL_MIRROR", mirror.url("kubectl")),
    ];
    let Some(tmux) = Tmux::start_with(&world, &command, &mirrors) else {
        eprintln!("skipped: no tmux");
        return;
    };
    let screen = tmux.wait_for("Download istioctl 1.5.0");
    assert!(
        screen.contains("the scenario needs exactly 1.5.0"),
        "{screen}"
    );
    // Answered after a while: the wait is the user's, not the stage's.
    std::thread::sleep(Duration::from_millis(1500));
    tmux.keys(&["y"]);
    let screen = tmux.wait_for("EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");
    let preflight = screen
        .lines()
        .find(|l| l.contains("[preflight] ok"))
        .unwrap_or_else(|| panic!("no preflight line\n{screen}"));
    let secs: f64 = preflight
        .rsplit('(')
        .next()
        .and_then(|t| t.trim_end_matches(')').trim_end_matches('s').parse().ok())
        .unwrap_or_else(|| panic!("no duration in `{preflight}`"));
    assert!(secs < 1.5, "the question's wait was counted: {preflight}");
}
