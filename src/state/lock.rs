use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt;
use serde::{Deserialize, Serialize};

use crate::error::{ExitKind, Failure};

/// Held while a meshup works on a profile; released when dropped (or when the process dies:
/// the kernel drops the lock, so a crashed meshup never blocks the next one).
#[derive(Debug)]
pub struct ProfileLock {
    file: File,
    path: PathBuf,
}

#[derive(Debug, Serialize, Deserialize)]
struct Holder {
    pid: u32,
    command: String,
    since: String,
}

impl ProfileLock {
    pub fn acquire(path: &Path, profile: &str, command: &str) -> anyhow::Result<ProfileLock> {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        if !file.try_lock_exclusive()? {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(locked_error(profile, serde_json::from_str(&text).ok()).into());
        }
        let holder = Holder {
            pid: std::process::id(),
            command: command.to_owned(),
            since: super::record::now(),
        };
        file.set_len(0)?;
        file.rewind()?;
        file.write_all(&serde_json::to_vec(&holder)?)?;
        file.flush()?;
        Ok(ProfileLock {
            file,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ProfileLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = FileExt::unlock(&self.file);
    }
}

fn locked_error(profile: &str, holder: Option<Holder>) -> Failure {
    match holder {
        Some(h) => Failure::new(
            ExitKind::Locked,
            format!(
                "profile `{profile}` is in use by another meshup (pid {}, `{}`, since {})",
                h.pid, h.command, h.since
            ),
        )
        .hint(format!(
            "wait for it to finish, or stop it (`kill {}`) and run again",
            h.pid
        ))
        .details(
            serde_json::json!({"holder": {"pid": h.pid, "command": h.command, "since": h.since}}),
        ),
        None => Failure::new(
            ExitKind::Locked,
            format!("profile `{profile}` is in use by another meshup"),
        )
        .hint("wait for it to finish, then run again"),
    }
}
