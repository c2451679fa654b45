use super::*;
use crate::error::{ExitKind, exit_kind_of};

#[test]
fn a_second_lock_on_a_profile_fails_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let root = StateRoot::at(dir.path());
    let profile = root.profile("meshup");
    let held = profile.lock("meshup start -p meshup").unwrap();
    let err = profile.lock("meshup start -p meshup").unwrap_err();
    assert_eq!(exit_kind_of(&err), Some(ExitKind::Locked));
    let text = err.to_string();
    assert!(
        text.contains(&format!("pid {}", std::process::id())),
        "{text}"
    );
    assert!(text.contains("`meshup start -p meshup`"), "{text}");
    drop(held);
    profile.lock("meshup status").unwrap();
}

#[test]
fn other_profiles_are_not_blocked() {
    let dir = tempfile::tempdir().unwrap();
    let root = StateRoot::at(dir.path());
    let _a = root.profile("a").lock("x").unwrap();
    let _b = root.profile("b").lock("y").unwrap();
}

#[test]
fn the_record_round_trips_and_times_stages() {
    let dir = tempfile::tempdir().unwrap();
    let root = StateRoot::at(dir.path());
    let profile = root.profile("meshup");
    assert_eq!(profile.record().unwrap(), Record::default());
    let mut record = Record {
        created_by_meshup: true,
        ..Record::default()
    };
    record.stage_started("cluster");
    record.stage_ended("cluster", StageStatus::Done, "created");
    profile.save(&record).unwrap();
    let back = profile.record().unwrap();
    assert_eq!(back, record);
    let stage = back.stage("cluster").unwrap();
    assert_eq!(stage.status, StageStatus::Done);
    assert!(stage.duration_ms.is_some());
    // One format for both: RFC 3339, UTC, milliseconds, `Z` (e.g. 2025-01-01T00:00:01.500Z).
    let finished = stage.finished.as_deref().unwrap();
    for time in [stage.started.as_str(), finished] {
        assert_eq!(time.len(), "2025-01-01T00:00:01.500Z".len(), "{time}");
        assert!(time.ends_with('Z') && time.as_bytes()[19] == b'.', "{time}");
    }
    assert_eq!(
        root.profiles()
            .unwrap()
            .iter()
            .map(|p| p.name().to_owned())
            .collect::<Vec<_>>(),
        ["meshup"]
    );
    profile.remove().unwrap();
    assert!(!profile.exists());
    profile.remove().unwrap();
}
