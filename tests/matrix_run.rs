//! `meshup matrix FILE` on the simulated world: every cell start → down on the engine, at most
//! `--parallel` at once, each with its own profile, kubeconfig and service range; a failing
//! cell makes the exit non-zero and is named.

#[path = "common/cluster_world.rs"]
mod cluster_world;

use std::collections::HashSet;

use cluster_world::*;
use meshup_sim::World;
use serde_json::Value;

fn matrix_file(world: &World, memories: &str) -> String {
    let path = world.dir().join("grid.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: meshup/v1\nkind: Matrix\nmetadata:\n  name: grid\nbase:\n  cluster:\n    profile: grid\n    kubernetes: v1.15.10\n  mesh:\n    istio: 1.5.0\naxes:\n  cluster.cpus: [2, 3, 4]\n  cluster.memory: [{memories}]\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

/// The most cells running at one time, from each cell's first and last event.
fn most_at_once(events: &[Value]) -> usize {
    let mut spans: std::collections::BTreeMap<String, (String, String)> = Default::default();
    for e in events {
        let Some(cell) = e["cell"].as_str() else {
            continue;
        };
        let t = e["time"].as_str().unwrap_or_default().to_owned();
        let span = spans
            .entry(cell.to_owned())
            .or_insert((t.clone(), t.clone()));
        span.0 = span.0.clone().min(t.clone());
        span.1 = span.1.clone().max(t);
    }
    let mut points: Vec<(String, i32)> = Vec::new();
    for (a, b) in spans.values() {
        points.push((a.clone(), 1));
        points.push((b.clone(), -1));
    }
    // Ends before starts at the same millisecond: touching spans do not overlap.
    points.sort_by(|x, y| x.0.cmp(&y.0).then(x.1.cmp(&y.1)));
    let (mut now, mut most) = (0, 0);
    for (_, d) in points {
        now += d;
        most = most.max(now);
    }
    most as usize
}

#[test]
fn six_cells_three_at_a_time_all_pass_with_their_own_service_ranges() {
    let world = World::start(seed_knobs_with(|k| k.minikube.start_ms = 400));
    let file = matrix_file(&world, "4g, 6g");
    let junit = world.dir().join("matrix.xml");
    let run = meshup(
        &world,
        &[
            "matrix",
            &file,
            "--parallel",
            "3",
            "--output",
            "json",
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, Some(0), "{run}");
    let events = run.events();
    let result = events.last().unwrap();
    assert_eq!(result["type"], "result", "{run}");
    assert_eq!(result["command"], "matrix");
    let cells = result["summary"]["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 6, "{result}");
    assert!(cells.iter().all(|c| c["ok"] == true), "{result}");
    let most = most_at_once(&events);
    assert!(
        (2..=3).contains(&most),
        "{most} cells ran at once (parallel, never more than 3)"
    );

    let starts = minikube(&world, "start");
    assert_eq!(starts.len(), 6, "{}", calls_text(&world));
    let ranges: HashSet<String> = starts
        .iter()
        .filter_map(|c| {
            c.argv
                .iter()
                .find(|a| a.starts_with("--service-cluster-ip-range="))
                .cloned()
        })
        .collect();
    assert_eq!(ranges.len(), 6, "{ranges:?}");
    // Each cell went down again: no cluster and no state left.
    assert_eq!(
        minikube(&world, "delete").len(),
        6,
        "{}",
        calls_text(&world)
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testsuite ").count(), 6, "{xml}");
    assert!(xml.contains(r#"failures="0""#), "{xml}");
    assert_only_the_daemon_runs(&world);
}

#[test]
fn a_failing_cell_makes_the_exit_non_zero_and_is_named() {
    let world = World::start(seed_knobs_with(|k| k.minikube.start_ms = 100));
    // 99g is more than the host has: that cell stops at its preflight.
    let file = matrix_file(&world, "4g, 99g");
    let run = meshup(&world, &["matrix", &file, "--parallel", "2"]);
    assert_ne!(run.code, Some(0), "{run}");
    assert!(
        run.stdout.contains("CELL") && run.stdout.contains("fail"),
        "{run}"
    );
    let failing: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("fail ("))
        .collect();
    assert_eq!(failing.len(), 3, "{run}");
    assert!(failing.iter().all(|l| l.contains("99g")), "{run}");
    assert!(run.stderr.contains("3 of 6 cells failed"), "{run}");
    assert_only_the_daemon_runs(&world);
}

#[test]
fn emit_github_matrix_prints_the_cells() {
    let world = World::start(seed_knobs());
    let file = matrix_file(&world, "4g, 6g");
    let run = meshup(&world, &["matrix", &file, "--emit", "github-matrix"]);
    assert_eq!(run.code, Some(0), "{run}");
    let doc: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    let include = doc["include"].as_array().unwrap();
    assert_eq!(include.len(), 6);
    assert_eq!(include[0]["cluster.cpus"], "2", "{doc}");
    assert!(include[0]["profile"].as_str().unwrap().starts_with("grid-"));
    assert!(
        world
            .calls()
            .iter()
            .all(|c| c.tool != "minikube" || c.argv[0] != "start")
    );
}

#[path = "common/tmux.rs"]
mod tmux;

#[test]
fn on_a_terminal_the_matrix_draws_a_live_table_of_cells_and_stages() {
    let world = World::start(seed_knobs_with(|k| k.minikube.start_ms = 400));
    let path = world.dir().join("pair.yaml");
    std::fs::write(
        &path,
        "apiVersion: meshup/v1\nkind: Matrix\nmetadata:\n  name: pair\nbase:\n  cluster:\n    profile: pair\n    kubernetes: v1.15.10\n  mesh:\n    istio: 1.5.0\naxes:\n  cluster.cpus: [2, 3]\n",
    )
    .unwrap();
    let Some(term) = tmux::Tmux::start(
        &world,
        &format!("{MESHUP} matrix {} --parallel 2", path.display()),
    ) else {
        eprintln!("no tmux: skipped");
        return;
    };
    // While the cells run: the header and a row per cell, a mark per stage.
    let running = term.wait_for("CELL");
    assert!(
        running.contains("preflight  tools  cluster  tunnel  mesh  smoke  verify  down  NOW"),
        "{running}"
    );
    let screen = term.wait_for("EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");
    let rows: Vec<&str> = screen
        .lines()
        .filter(|l| l.starts_with("pair-") && l.contains("pass ("))
        .collect();
    assert_eq!(rows.len(), 2, "a finished row per cell:\n{screen}");
    for row in rows {
        // seven stages and down, each done.
        assert_eq!(row.matches('✓').count(), 8, "{row}\n{screen}");
    }
    // Then the results table (stdout).
    assert!(
        screen.contains("CELL") && screen.contains("RESULT"),
        "{screen}"
    );
}

/// A range pinned in the matrix's `base:` is every cell's: with cells running at once their
/// tunnels would route the same range, so meshup refuses before anything starts.
#[test]
fn a_pinned_service_range_shared_by_parallel_cells_is_refused_before_anything_starts() {
    let world = World::start(seed_knobs());
    let path = world.dir().join("pinned.yaml");
    std::fs::write(
        &path,
        "apiVersion: meshup/v1\nkind: Matrix\nmetadata:\n  name: grid\nbase:\n  cluster:\n    profile: grid\n    kubernetes: v1.15.10\n    extraArgs: [--service-cluster-ip-range=10.96.0.0/12]\n  mesh:\n    istio: 1.5.0\naxes:\n  cluster.cpus: [2, 3]\n",
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let run = meshup(&world, &["matrix", file, "--parallel", "2"]);
    assert_eq!(run.code, Some(2), "{run}");
    assert!(
        run.stderr
            .contains("cells that may run at once (--parallel 2) pin colliding service ranges"),
        "{run}"
    );
    assert!(
        run.stderr
            .contains("`grid-2` (10.96.0.0/12) and `grid-3` (10.96.0.0/12): the same range"),
        "{run}"
    );
    assert!(
        run.stderr.contains("hint: leave `--service-cluster-ip-range` out of `cluster.extraArgs` and meshup gives each cell a /16 of its own"),
        "{run}"
    );
    assert!(
        world.calls().iter().all(|c| c.tool != "minikube"),
        "{}",
        calls_text(&world)
    );
    // One cell at a time, each torn down before the next: accepted (planned here).
    let one = meshup(&world, &["matrix", file, "--parallel", "1", "--dry-run"]);
    assert_eq!(one.code, Some(0), "{one}");
    assert_only_the_daemon_runs(&world);
}
