//! Bad matrix files: every shape problem is exit 2 from `scenario validate` and `matrix`, a
//! matrix too large to run is refused before it is expanded, and nothing external runs.

mod common;

use common::{Fakes, stderr, stdout};

/// Matrix files: every shape problem is exit 2 from `scenario validate` and `matrix`.
#[test]
fn bad_matrices_exit_2_naming_the_field() {
    let fakes = Fakes::new();
    let head = "apiVersion: meshup/v1\nkind: Matrix\n";
    for (name, body, want) in [
        (
            "axes as a list",
            "axes: [cluster.cpus]\n",
            "axes: a list is not a map",
        ),
        (
            "an axis that is not a list",
            "axes:\n  cluster.cpus: 4\n",
            "axes.cluster.cpus: `4` is not a list",
        ),
        (
            "an unknown axis",
            "axes:\n  cluster.cpu: [2, 4]\n",
            "`cluster.cpu` is not a field a matrix can vary",
        ),
        (
            "an empty axis",
            "axes:\n  cluster.cpus: []\n",
            "has no values",
        ),
        (
            "a numeric axis key",
            "axes:\n  1: [2]\n",
            "the key `1` is not a field path",
        ),
        (
            "exclude as a map",
            "axes:\n  cluster.cpus: [2, 4]\nexclude: {cluster.cpus: 2}\n",
            "exclude: a map is not a list",
        ),
        (
            "an exclude item that is not a map",
            "axes:\n  cluster.cpus: [2, 4]\nexclude: [2]\n",
            "exclude[0]",
        ),
        (
            "an exclude key that is no axis",
            "axes:\n  cluster.cpus: [2, 4]\nexclude:\n  - {cluster.memory: 4g}\n",
            "exclude[0].cluster.memory",
        ),
        (
            "an unknown field in base",
            "base:\n  cluster:\n    cpu: 4\naxes:\n  cluster.cpus: [2, 4]\n",
            "base.cluster: unknown field `cpu`",
        ),
        (
            "an unknown top-level field",
            "axis:\n  cluster.cpus: [2]\n",
            "unknown field `axis`",
        ),
        (
            "a bad value in one cell",
            "axes:\n  cluster.cpus: [2, 1]\n",
            "cluster.cpus",
        ),
        (
            "a bad base value in every cell",
            "base:\n  cluster:\n    memory: lots\naxes:\n  cluster.cpus: [2, 3, 4]\n",
            "and 2 more",
        ),
        (
            "257 cells",
            "axes:\n  cluster.cpus: [2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33]\n  cluster.memory: [2g,3g,4g,5g,6g,7g,8g,9g]\n  tunnel: [auto]\n  mesh.method: [istioctl, manifest]\n",
            "expand to 512 scenarios",
        ),
        (
            "an overflowing product",
            &format!(
                "axes:\n{}",
                [
                    "cluster.kubernetes",
                    "cluster.cpus",
                    "cluster.memory",
                    "cluster.driver",
                    "mesh.istio",
                    "mesh.istioProfile",
                    "mesh.jwtPolicy",
                    "mesh.method",
                    "tunnel"
                ]
                .iter()
                .map(|a| format!(
                    "  {a}: [{}]\n",
                    (0..200)
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                ))
                .collect::<String>()
            ),
            "scenarios (",
        ),
    ] {
        let path = fakes.file("m.yaml", &format!("{head}{body}"));
        for args in [&["scenario", "validate"][..], &["matrix", "--dry-run"][..]] {
            let out = fakes.run_with_file(args, &path);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{name} {args:?}: {err}");
            assert!(
                err.contains(want),
                "{name} {args:?}: `{want}` missing in\n{err}"
            );
        }
    }
    assert!(fakes.calls().is_empty(), "{:?}", fakes.calls());
}

#[test]
fn a_matrix_bomb_is_refused_before_expansion() {
    let fakes = Fakes::new();
    // 1.2 KB, 6 axes, 11.6 million cells (the file had this shape).
    let list = |n: usize, f: &dyn Fn(usize) -> String| (0..n).map(f).collect::<Vec<_>>().join(", ");
    let body = format!(
        "apiVersion: meshup/v1\nkind: Matrix\naxes:\n  cluster.kubernetes: [{}]\n  cluster.cpus: [{}]\n  cluster.memory: [{}]\n  mesh.istioProfile: [{}]\n  mesh.jwtPolicy: [auto, third-party-jwt, first-party-jwt]\n  tunnel: [auto, on, off]\n",
        list(16, &|i| format!("v1.{}.0", 15 + i)),
        list(30, &|i| (i + 2).to_string()),
        list(30, &|i| format!("{}g", i + 2)),
        list(30, &|i| format!("p{i}")),
    );
    let path = fakes.file("bomb.yaml", &body);
    let started = std::time::Instant::now();
    let out = fakes
        .meshup()
        .args(["scenario", "validate"])
        .arg(&path)
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("expand to 3888000 scenarios"), "{err}");
    assert!(err.contains("at most 256 scenarios"), "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let out = fakes.run_with_file(&["matrix", "--dry-run"], &path);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(fakes.calls().is_empty(), "{:?}", fakes.calls());
}

#[test]
fn a_large_valid_matrix_is_summarised_on_one_short_line() {
    let fakes = Fakes::new();
    let path = fakes.file(
        "m.yaml",
        "apiVersion: meshup/v1\nkind: Matrix\naxes:\n  cluster.cpus: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]\n  cluster.memory: [4g, 5g, 6g, 7g, 8g, 9g, 10g, 11g, 12g, 13g, 14g, 15g, 16g]\n",
    );
    let out = fakes.run_with_file(&["scenario", "validate"], &path);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("valid Matrix (208 scenarios:"), "{text}");
    assert!(text.contains("... and 200 more"), "{text}");
    assert!(text.len() < 400, "{} bytes: {text}", text.len());
}
