//! Taking `bin/istioctl` and the profiles folder out of an Istio release archive, safely: the
//! whole archive is refused if any entry is absolute, climbs with `..`, or is a link whose
//! target leaves the archive. Only regular files are written, into a directory the caller
//! created (and removes on error), so nothing outside it is ever touched.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use super::error::{Result, ToolError};

/// Where the extracted pieces land inside the destination directory.
pub const PROFILES_DIR: &str = "profiles";

#[derive(Debug, Default)]
pub struct Extracted {
    pub binary: bool,
    pub profiles: usize,
}

/// Extracts `binary_entry` to `dest/<binary_name>` (0755) and every file below
/// `profiles_entry` to `dest/profiles/`.
pub fn extract_istio(
    archive: &Path,
    archive_name: &str,
    binary_entry: &str,
    profiles_entry: &str,
    dest: &Path,
    binary_name: &str,
) -> Result<Extracted> {
    let bad = |source: io::Error| ToolError::BadArchive {
        archive: archive_name.to_owned(),
        source,
    };
    let file = fs::File::open(archive).map_err(|e| ToolError::io("could not open", archive, e))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(io::BufReader::with_capacity(
        256 * 1024,
        file,
    )));
    let binary_entry = Path::new(binary_entry);
    let profiles_entry = Path::new(profiles_entry);
    let mut done = Extracted::default();
    for entry in tar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let path = entry.path().map_err(bad)?.into_owned();
        let unsafe_entry = |reason| ToolError::UnsafeEntry {
            archive: archive_name.to_owned(),
            entry: path.display().to_string(),
            reason,
        };
        let depth = checked_depth(&path)
            .ok_or_else(|| unsafe_entry("absolute or climbing out with `..`"))?;
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            let target = entry
                .link_name()
                .map_err(bad)?
                .unwrap_or_default()
                .into_owned();
            // A symlink resolves from its own folder, a hard link from the archive root.
            let base = if kind.is_symlink() {
                depth.saturating_sub(1)
            } else {
                0
            };
            if !link_stays_inside(base, &target) {
                return Err(unsafe_entry("a link pointing outside the archive"));
            }
            continue;
        }
        if path == binary_entry {
            if !kind.is_file() {
                return Err(unsafe_entry("istioctl is not a regular file"));
            }
            write_file(&mut entry, &dest.join(binary_name), 0o755)?;
            done.binary = true;
        } else if let Ok(rel) = path.strip_prefix(profiles_entry) {
            let target = dest.join(PROFILES_DIR).join(rel);
            if kind.is_dir() {
                fs::create_dir_all(&target)
                    .map_err(|e| ToolError::io("could not create", &target, e))?;
            } else if kind.is_file() && !rel.as_os_str().is_empty() {
                write_file(&mut entry, &target, 0o644)?;
                done.profiles += 1;
            }
        }
    }
    let missing = |entry: &Path| ToolError::MissingEntry {
        archive: archive_name.to_owned(),
        entry: entry.display().to_string(),
    };
    if !done.binary {
        return Err(missing(binary_entry));
    }
    if done.profiles == 0 {
        return Err(missing(profiles_entry));
    }
    Ok(done)
}

fn write_file(entry: &mut impl io::Read, target: &Path, mode: u32) -> Result<()> {
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent).map_err(|e| ToolError::io("could not create", parent, e))?;
    }
    let mut out =
        fs::File::create(target).map_err(|e| ToolError::io("could not create", target, e))?;
    io::copy(entry, &mut out).map_err(|e| ToolError::io("could not write", target, e))?;
    out.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(|e| ToolError::io("could not set permissions on", target, e))
}

/// The number of normal components, or `None` if the path is absolute or uses `..`.
fn checked_depth(path: &Path) -> Option<usize> {
    let mut depth = 0usize;
    for c in path.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(depth)
}

/// Whether `target`, followed from `depth` folders below the root, stays inside the root.
fn link_stays_inside(depth: usize, target: &Path) -> bool {
    let mut depth = depth as isize;
    for c in target.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

/// A fresh directory next to `final_dir` (same filesystem, so a rename publishes it atomically).
pub fn staging_dir(final_dir: &Path) -> Result<tempfile::TempDir> {
    let parent = final_dir.parent().map(PathBuf::from).unwrap_or_default();
    fs::create_dir_all(&parent).map_err(|e| ToolError::io("could not create", &parent, e))?;
    let prefix = format!(
        ".{}.partial-",
        final_dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("tool")
    );
    tempfile::Builder::new()
        .prefix(&prefix)
        .tempdir_in(&parent)
        .map_err(|e| ToolError::io("could not create a temporary folder in", &parent, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_refuses_climbing_and_absolute_paths() {
        assert_eq!(
            checked_depth(Path::new("istio-1.5.0/bin/istioctl")),
            Some(3)
        );
        assert_eq!(checked_depth(Path::new("./a/b")), Some(2));
        assert_eq!(checked_depth(Path::new("../../x")), None);
        assert_eq!(checked_depth(Path::new("a/../../x")), None);
        assert_eq!(checked_depth(Path::new("/etc/passwd")), None);
    }

    #[test]
    fn links_must_stay_inside() {
        assert!(link_stays_inside(2, Path::new("../x")));
        assert!(link_stays_inside(2, Path::new("../../x")));
        assert!(!link_stays_inside(2, Path::new("../../../x")));
        assert!(!link_stays_inside(1, Path::new("/etc/passwd")));
        assert!(!link_stays_inside(0, Path::new("a/../../b")));
    }
}
