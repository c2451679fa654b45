//! JUnit XML for CI (`--junit PATH`): one test suite per run, a test case per stage and per
//! verify check, failures with their message — what CI systems show as a test report.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

/// How one case ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Passed,
    Failed(String),
    Skipped(String),
    /// Stopped by a signal or the global timeout.
    Interrupted(String),
}

#[derive(Debug, Clone)]
pub struct Case {
    /// `stage` or `check` (the JUnit class name, so reports group them).
    pub kind: &'static str,
    pub name: String,
    pub duration: Duration,
    pub outcome: Outcome,
}

/// The report of one suite (`meshup start meshup`), as XML.
pub fn render(suite_name: &str, cases: &[Case]) -> anyhow::Result<String> {
    let mut report = Report::new("meshup");
    report.add_test_suite(suite(suite_name, cases));
    report.to_string().context("rendering the JUnit report")
}

/// Writes the report atomically (a CI step reading it never sees half a file).
pub fn write(path: &Path, suite_name: &str, cases: &[Case]) -> anyhow::Result<()> {
    let xml = render(suite_name, cases)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the folder of {}", path.display()))?;
    }
    crate::state::write_atomically(path, xml.as_bytes())
}

pub fn suite(name: &str, cases: &[Case]) -> TestSuite {
    let mut suite = TestSuite::new(name.to_owned());
    for c in cases {
        let status = match &c.outcome {
            Outcome::Passed => TestCaseStatus::success(),
            Outcome::Failed(message) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(first_line(message));
                s.set_description(message.clone());
                s
            }
            Outcome::Interrupted(message) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_message(first_line(message));
                s
            }
            Outcome::Skipped(why) => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(why.clone());
                s
            }
        };
        let mut case = TestCase::new(c.name.clone(), status);
        case.set_classname(format!("meshup.{}", c.kind));
        case.set_time(c.duration);
        suite.add_test_case(case);
    }
    suite
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_stage_is_a_failure_with_its_message_and_a_skipped_one_is_skipped() {
        let xml = render(
            "meshup start meshup",
            &[
                Case {
                    kind: "stage",
                    name: "cluster".into(),
                    duration: Duration::from_millis(1500),
                    outcome: Outcome::Failed("minikube could not start\nmore".into()),
                },
                Case {
                    kind: "stage",
                    name: "verify".into(),
                    duration: Duration::ZERO,
                    outcome: Outcome::Skipped("needs cluster, which did not finish".into()),
                },
            ],
        )
        .unwrap();
        assert!(xml.contains(r#"<testsuite name="meshup start meshup" tests="2" skipped="1" errors="0" failures="1">"#), "{xml}");
        assert!(
            xml.contains(r#"<testcase name="cluster" classname="meshup.stage" time="1.500">"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<failure message="minikube could not start""#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<skipped message="needs cluster, which did not finish"/>"#),
            "{xml}"
        );
    }
}
