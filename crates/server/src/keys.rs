//! Server keys kept in the data directory, outside the database: created on first start with
//! mode 0600, never logged.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rand::RngCore;
use secrecy::SecretSlice;

/// Length of the token signing key: 256 bits (RFC 8725).
pub const KEY_BYTES: usize = 32;

/// The file of the audit chain's key, in the data directory.
pub const AUDIT_KEY_FILE: &str = "audit.key";

/// Why a key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create key file {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {path} is damaged: expected {KEY_BYTES} bytes, found {found}")]
    Damaged { path: PathBuf, found: usize },
}

/// The server's secret keys.
pub struct Keys {
    /// Signs access tokens (HS256).
    pub signing: SecretSlice<u8>,
    /// Encrypts TOTP secrets in the database.
    pub totp: SecretSlice<u8>,
    /// Keys the audit chain's HMAC (`audit.key`).
    pub audit: SecretSlice<u8>,
}

impl Keys {
    /// Loads the keys from `data_dir`, creating missing ones.
    pub fn load_or_create(data_dir: &Path) -> Result<Keys, KeyError> {
        Ok(Keys {
            signing: load_or_create_key(&data_dir.join("signing.key"))?,
            totp: load_or_create_key(&data_dir.join("totp.key"))?,
            audit: load_or_create_key(&data_dir.join(AUDIT_KEY_FILE))?,
        })
    }

    /// The audit key in `data_dir`, without creating one (`None` when there is none):
    /// `plenum audit verify` must not invent a key that could not check anything.
    pub fn load_audit_key(data_dir: &Path) -> Result<Option<SecretSlice<u8>>, KeyError> {
        let path = data_dir.join(AUDIT_KEY_FILE);
        if !path.exists() {
            return Ok(None);
        }
        read_key(&path).map(Some)
    }

    /// The keys in the form the API takes them.
    pub fn server_keys(&self) -> plenum_api::ServerKeys {
        use secrecy::ExposeSecret;
        plenum_api::ServerKeys {
            signing: self.signing.expose_secret().to_vec(),
            totp: self.totp.expose_secret().to_vec(),
            audit: self.audit.expose_secret().to_vec(),
        }
    }
}

fn load_or_create_key(path: &Path) -> Result<SecretSlice<u8>, KeyError> {
    let mut key = vec![0u8; KEY_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            let written = file.write_all(&key).and_then(|()| file.sync_all());
            if let Err(source) = written {
                let _ = fs::remove_file(path);
                return Err(KeyError::Create {
                    path: path.to_owned(),
                    source,
                });
            }
            tracing::info!(path = %path.display(), "created a new key");
            Ok(key.into())
        }
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => read_key(path),
        Err(source) => Err(KeyError::Create {
            path: path.to_owned(),
            source,
        }),
    }
}

fn read_key(path: &Path) -> Result<SecretSlice<u8>, KeyError> {
    let read_err = |source| KeyError::Read {
        path: path.to_owned(),
        source,
    };
    let mut file = fs::File::open(path).map_err(read_err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata().map_err(read_err)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(path = %path.display(), mode = format!("{:o}", mode & 0o777),
                "key file was readable by others; restricting it to mode 600");
            fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(read_err)?;
        }
    }
    let mut key = Vec::with_capacity(KEY_BYTES);
    file.read_to_end(&mut key).map_err(read_err)?;
    if key.len() != KEY_BYTES {
        return Err(KeyError::Damaged {
            path: path.to_owned(),
            found: key.len(),
        });
    }
    Ok(key.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn key_is_created_once_with_mode_600_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = Keys::load_or_create(dir.path()).unwrap();
        let second = Keys::load_or_create(dir.path()).unwrap();
        assert_eq!(
            first.signing.expose_secret(),
            second.signing.expose_secret()
        );
        assert_eq!(first.signing.expose_secret().len(), KEY_BYTES);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("signing.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_truncated_key_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("signing.key"), b"short").unwrap();
        assert!(matches!(
            Keys::load_or_create(dir.path()),
            Err(KeyError::Damaged { found: 5, .. })
        ));
    }
}
