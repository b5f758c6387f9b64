//! Content-addressed blobs on local disk: `ROOT/sha256/ab/cdef…`. Identical content is stored
//! once; a blob is written to a temporary file and renamed into place, so a crash never leaves a
//! partial blob under its final name.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use plenum_domain::Sha256Digest;
use sha2::{Digest, Sha256};

/// A directory of content-addressed blobs.
#[derive(Debug, Clone)]
pub struct LocalBlobs {
    root: PathBuf,
}

/// A stored blob's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    pub sha256: Sha256Digest,
    pub storage_key: String,
    pub size: u64,
}

impl LocalBlobs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The storage key of content with this digest.
    pub fn key_for(sha256: &Sha256Digest) -> String {
        let hex = sha256.to_hex();
        format!("sha256/{}/{}", &hex[..2], &hex[2..])
    }

    /// Where the blob with this key lives on disk.
    pub fn path_of(&self, storage_key: &str) -> PathBuf {
        self.root.join(storage_key)
    }

    /// Stores `bytes` (once per content) and returns their address.
    pub fn put(&self, bytes: &[u8]) -> std::io::Result<StoredBlob> {
        let sha256 = Sha256Digest::from_bytes(Sha256::digest(bytes).into());
        let storage_key = Self::key_for(&sha256);
        let path = self.path_of(&storage_key);
        if !path.is_file() {
            let dir = path.parent().unwrap_or(Path::new("."));
            fs::create_dir_all(dir)?;
            let mut tmp = tempfile_in(dir)?;
            tmp.1.write_all(bytes)?;
            tmp.1.sync_all()?;
            fs::rename(&tmp.0, &path)?;
        }
        Ok(StoredBlob {
            sha256,
            storage_key,
            size: bytes.len() as u64,
        })
    }

    /// The blob's bytes.
    pub fn read(&self, storage_key: &str) -> std::io::Result<Vec<u8>> {
        fs::read(self.path_of(storage_key))
    }
}

fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, fs::File)> {
    let name = format!(".tmp-{}", uuid::Uuid::new_v4().simple());
    let path = dir.join(name);
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    Ok((path, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_content_is_stored_once_under_its_digest() {
        let dir = std::env::temp_dir().join(format!("plenum-blobs-{}", uuid::Uuid::new_v4()));
        let blobs = LocalBlobs::new(&dir);
        let a = blobs.put(b"Haushaltsplan").unwrap();
        let b = blobs.put(b"Haushaltsplan").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.size, 13);
        assert!(a.storage_key.starts_with("sha256/"));
        assert_eq!(blobs.read(&a.storage_key).unwrap(), b"Haushaltsplan");
        let files = fs::read_dir(blobs.path_of(&a.storage_key).parent().unwrap())
            .unwrap()
            .count();
        assert_eq!(files, 1, "no temporary files are left behind");
        let _ = fs::remove_dir_all(dir);
    }
}
