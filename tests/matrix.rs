//! Matrix expansion: deterministic, distinct valid profile names, excludes honoured.

mod common;

use common::{Fakes, stderr, stdout};

const SUPPORT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/support-matrix.yaml");

fn profiles(fakes: &Fakes, file: &str) -> Vec<String> {
    let out = fakes.run(&["matrix", file, "--dry-run", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["profile"].as_str().unwrap().to_string())
        .collect()
}

fn is_dns_label(s: &str) -> bool {
    (2..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[test]
fn three_versions_by_two_cpus_by_two_memories_minus_one_is_eleven() {
    let fakes = Fakes::new();
    let first = profiles(&fakes, SUPPORT);
    assert_eq!(first.len(), 11, "{first:?}");
    let mut unique = first.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 11, "names collide: {first:?}");
    assert!(first.iter().all(|p| is_dns_label(p)), "{first:?}");
    assert!(
        !first.contains(&"support-v1-33-1-2-4g".to_string()),
        "the excluded one is gone"
    );
    assert_eq!(first[0], "support-v1-28-15-2-4g");
    assert_eq!(
        profiles(&fakes, SUPPORT),
        first,
        "expanding twice gives the same names"
    );
}

#[test]
fn the_grid_shows_each_scenarios_versions() {
    let fakes = Fakes::new();
    let out = fakes.run(&["matrix", SUPPORT, "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Matrix"), "{text}");
    assert!(
        text.lines().any(|l| l.contains("support-v1-28-15-4-8g")
            && l.contains("v1.28.15")
            && l.contains("8192mb")),
        "{text}"
    );
}

#[test]
fn validate_counts_the_scenarios() {
    let fakes = Fakes::new();
    let out = fakes.run(&["scenario", "validate", SUPPORT]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("valid Matrix (11 scenarios"),
        "{}",
        stdout(&out)
    );
    assert!(fakes.calls().is_empty(), "validate runs nothing");
}

#[test]
fn bad_axes_and_values_are_exit_2() {
    let fakes = Fakes::new();
    for (body, field) in [
        ("axes:\n  cluster.nodes: [1, 2]\n", "axes.cluster.nodes"),
        ("axes:\n  cluster.cpus: []\n", "axes.cluster.cpus"),
        ("axes:\n  cluster.cpus: [2, 1]\n", "cluster.cpus"),
        (
            "axes:\n  cluster.cpus: [2]\nexclude:\n  - mesh.istio: \"1.5\"\n",
            "exclude[0].mesh.istio",
        ),
    ] {
        let f = fakes.file(
            "m.yaml",
            &format!("apiVersion: meshup/v1\nkind: Matrix\n{body}"),
        );
        let out = fakes.run_with_file(&["matrix", "--dry-run"], &f);
        assert_eq!(out.status.code(), Some(2), "{body}: {}", stderr(&out));
        assert!(stderr(&out).contains(field), "{body}: {}", stderr(&out));
    }
    assert!(fakes.calls().is_empty());
}

#[test]
fn a_bad_parallel_is_bad_input_before_anything_runs() {
    let fakes = Fakes::new();
    for bad in ["0", "lots", "-1"] {
        let out = fakes.run(&["matrix", SUPPORT, &format!("--parallel={bad}")]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        assert!(stderr(&out).contains("--parallel"), "{}", stderr(&out));
    }
}
