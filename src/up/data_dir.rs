//! The data directory and its files are private to the user who runs `up`: the directory is
//! created 0700, and the files `up` keeps there (the SQLite database and its `-wal`/`-shm`,
//! `demo-key.txt`, the core's state, the back-fill's progress) are 0600, whatever the umask.
//!
//! Modes are set explicitly after creation (`open(2)` and `mkdir(2)` apply the umask to the
//! mode they are given, and an existing file keeps its mode); a secret is written only once its
//! file is private. SQLite creates `-wal` and `-shm` with the database file's mode.

use std::{
    fs::{self, OpenOptions, Permissions},
    io::Write,
    os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
};

use anyhow::{Context, Result};

/// The mode of the data directory.
pub const DIR_MODE: u32 = 0o700;
/// The mode of every file `up` keeps in it.
pub const FILE_MODE: u32 = 0o600;
/// The SQLite database's file name in the data directory.
pub const DB_FILE: &str = "tcgtracker.db";
/// The files of the data directory that are made private at start (an earlier version, or
/// another command, may have created them with the umask's mode).
const KNOWN_FILES: [&str; 7] = [
    DB_FILE,
    "tcgtracker.db-wal",
    "tcgtracker.db-shm",
    "tcgtracker.db-journal",
    "demo-key.txt",
    "core-state.json",
    "backfill.json",
];

/// Creates the data directory 0700 (with its missing parents). An existing directory that holds
/// a database of `up` is made 0700 too; any other existing directory keeps its mode, with a
/// warning when other users may enter it. Then the known files in it are made 0600.
pub fn prepare(dir: &Path) -> Result<()> {
    match fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => anyhow::bail!("{} is not a directory", dir.display()),
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                if dir.join(DB_FILE).exists() {
                    // Another owner's directory cannot be changed: say so, and go on.
                    if let Err(e) = set_mode(dir, DIR_MODE) {
                        eprintln!("warning: {e:#}: the data directory stays open to other users");
                    }
                } else {
                    eprintln!(
                        "warning: the data directory {} is open to other users (mode {mode:o}); \
                         `chmod 700` it to keep the API keys' database private",
                        dir.display()
                    );
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(DIR_MODE)
                .create(dir)
                .with_context(|| format!("creating {}", dir.display()))?;
            set_mode(dir, DIR_MODE)?;
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    }
    restrict_known(dir)
}

/// The database's path, its file created empty and 0600 when missing (an empty file is an
/// empty SQLite database), so that SQLite creates its `-wal` and `-shm` 0600 as well.
pub fn database(dir: &Path) -> Result<PathBuf> {
    let path = dir.join(DB_FILE);
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.set_permissions(Permissions::from_mode(FILE_MODE))
        .with_context(|| format!("making {} private", path.display()))?;
    Ok(path)
}

/// Makes the files `up` keeps in `dir` that exist 0600 (after the store is open, for the
/// `-wal` and `-shm` of an earlier run).
pub fn restrict_known(dir: &Path) -> Result<()> {
    for name in KNOWN_FILES {
        let path = dir.join(name);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_file() && meta.permissions().mode() & 0o777 != FILE_MODE => {
                set_mode(&path, FILE_MODE)?;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }
    Ok(())
}

/// Writes `bytes` to `path`, which is 0600 before anything is written to it (created so, or
/// an existing file restricted first, then truncated).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.set_permissions(Permissions::from_mode(FILE_MODE))
        .with_context(|| format!("making {} private", path.display()))?;
    file.set_len(0)
        .and_then(|()| file.write_all(bytes))
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    fs::set_permissions(path, Permissions::from_mode(mode))
        .with_context(|| format!("setting mode {mode:o} on {}", path.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_data_dir_is_0700_and_its_files_0600_even_when_they_existed_open() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/data");
        prepare(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let db = database(&dir).unwrap();
        assert_eq!(mode(&db), 0o600);
        assert_eq!(fs::metadata(&db).unwrap().len(), 0);

        // Files an earlier version left world-readable are made private.
        let key = dir.join("demo-key.txt");
        let wal = dir.join("tcgtracker.db-wal");
        for p in [&key, &wal] {
            fs::write(p, "old").unwrap();
            fs::set_permissions(p, Permissions::from_mode(0o644)).unwrap();
        }
        write_private(&key, b"tcg_new\n").unwrap();
        assert_eq!(
            (mode(&key), fs::read_to_string(&key).unwrap()),
            (0o600, "tcg_new\n".into())
        );
        restrict_known(&dir).unwrap();
        assert_eq!(mode(&wal), 0o600);

        // An existing data dir of `up` (it holds the database) open to others is closed.
        fs::set_permissions(&dir, Permissions::from_mode(0o755)).unwrap();
        prepare(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        // Another existing directory keeps its mode (only a warning).
        let other = tmp.path().join("other");
        fs::create_dir(&other).unwrap();
        fs::set_permissions(&other, Permissions::from_mode(0o755)).unwrap();
        prepare(&other).unwrap();
        assert_eq!(mode(&other), 0o755);
        // A database of another process is not truncated by `database`.
        fs::write(&db, b"SQLite format 3\0").unwrap();
        database(&dir).unwrap();
        assert_eq!(fs::metadata(&db).unwrap().len(), 16);
    }
}
