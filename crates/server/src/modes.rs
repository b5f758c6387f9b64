//! File modes of the data directory. The `plenum` binary sets the umask 077 at start, so every
//! file and directory it creates (the SQLite database and its WAL, file contents, keys, the
//! audit anchor) is readable by its own user only; the data directory is created with mode 700.
//! Older installations may still have looser modes: [`warn_if_loose`] names them at start.

use std::path::{Path, PathBuf};

use crate::config::Config;

/// Sets the process umask to 077 (no group or other bits on anything created from now on).
pub fn restrict_umask() {
    #[cfg(unix)]
    {
        use rustix::fs::Mode;
        rustix::process::umask(Mode::RWXG | Mode::RWXO);
    }
}

/// Creates `dir` (and missing parents) with mode 700.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// The paths whose modes matter: the data directory, the SQLite file with its WAL and shared
/// memory, and the directory of file contents.
pub fn sensitive_paths(config: &Config) -> Vec<PathBuf> {
    let mut paths = vec![config.data_dir.clone()];
    if let Some(db) = sqlite_path(&config.database_url()) {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = db.clone().into_os_string();
            name.push(suffix);
            paths.push(PathBuf::from(name));
        }
    }
    paths.push(config.blob_dir());
    paths
}

/// The paths among [`sensitive_paths`] that exist and that group or others may access, with
/// their modes.
pub fn loose_modes(config: &Config) -> Vec<(PathBuf, u32)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        sensitive_paths(config)
            .into_iter()
            .filter_map(|path| {
                let mode = std::fs::metadata(&path).ok()?.permissions().mode() & 0o777;
                (mode & 0o077 != 0).then_some((path, mode))
            })
            .collect()
    }
    #[cfg(not(unix))]
    {
        let _ = config;
        Vec::new()
    }
}

/// Logs a warning for each path of the data directory that group or others may access.
pub fn warn_if_loose(config: &Config) {
    for (path, mode) in loose_modes(config) {
        let advice = if path.is_dir() {
            "chmod 700"
        } else {
            "chmod 600"
        };
        tracing::warn!(
            path = %path.display(),
            mode = format!("{mode:o}"),
            "readable by other local users; restrict it ({advice})"
        );
    }
}

/// The file of a `sqlite://` URL (none for other databases or an in-memory one).
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://")?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && !path.starts_with(':')).then(|| PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sqlite_file_comes_from_the_url() {
        assert_eq!(
            sqlite_path("sqlite://data/plenum.sqlite3?mode=rwc"),
            Some(PathBuf::from("data/plenum.sqlite3"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://db/plenum"), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_private_dir_has_mode_700_and_loose_modes_are_found() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let data_dir = root.path().join("a/data");
        create_private_dir(&data_dir).unwrap();
        let mode = std::fs::metadata(&data_dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let config = Config {
            data_dir: data_dir.clone(),
            ..Config::default()
        };
        assert!(loose_modes(&config).is_empty());
        std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(loose_modes(&config), vec![(data_dir, 0o755)]);
    }
}
