//! Usage errors in JSON mode are the `meshup.error/v1` document on stdout (docs/exit-codes.md),
//! exit 2, like every other error.

use assert_cmd::Command;

#[test]
fn a_usage_error_in_json_mode_is_the_error_document() {
    for args in [
        vec!["--output", "json", "start", "--bogus"],
        vec!["start", "--output=json", "--cpus"],
        vec!["--output", "json", "no-such-command"],
    ] {
        let out = Command::cargo_bin("meshup")
            .unwrap()
            .args(&args)
            .env_remove("MESHUP_OUTPUT")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let doc: serde_json::Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("{args:?}: not one JSON document ({e}): {stdout}"));
        assert_eq!(doc["schema"], "meshup.error/v1", "{doc}");
        assert_eq!(doc["error"]["exitCode"], 2, "{doc}");
        assert!(!doc["error"]["message"].as_str().unwrap().is_empty());
    }
}

#[test]
fn a_usage_error_in_text_mode_prints_nothing_on_stdout() {
    let out = Command::cargo_bin("meshup")
        .unwrap()
        .args(["start", "--bogus"])
        .env_remove("MESHUP_OUTPUT")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--bogus"));
}
