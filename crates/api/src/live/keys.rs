//! Per-poll key files of secret ballots as versions before the ballot boxes kept them; read only
//! to convert a poll left open by such a version (see `ballot_box.rs`).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

use plenum_domain::PollId;
use rand::RngCore;

use crate::auth::crypto::SecretCipher;

#[derive(Debug, Clone)]
pub struct PollKeys {
    dir: PathBuf,
}

impl PollKeys {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn path(&self, poll: PollId) -> PathBuf {
        self.dir.join(format!("{poll}.key"))
    }

    /// Creates the poll's key (or returns the existing one).
    pub fn create(&self, poll: PollId) -> std::io::Result<SecretCipher> {
        if let Some(existing) = self.load(poll)? {
            return Ok(existing);
        }
        fs::create_dir_all(&self.dir)?;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(self.path(poll))?;
        file.write_all(&key)?;
        file.sync_all()?;
        if let Ok(dir) = fs::File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        SecretCipher::new(&key).ok_or_else(|| std::io::Error::other("bad key length"))
    }

    pub fn load(&self, poll: PollId) -> std::io::Result<Option<SecretCipher>> {
        match fs::read(self.path(poll)) {
            Ok(key) => Ok(SecretCipher::new(&key)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Overwrites and deletes the key.
    pub fn destroy(&self, poll: PollId) -> std::io::Result<()> {
        let path = self.path(poll);
        if let Ok(mut file) = OpenOptions::new().write(true).open(&path) {
            let _ = file.write_all(&[0u8; 32]);
            let _ = file.sync_all();
        }
        match fs::remove_file(&path) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }
}
