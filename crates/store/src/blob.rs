//! Content-addressed blobs behind the [`BlobStore`] trait: the key is derived from the SHA-256 of
//! the content (`sha256/ab/cdef…`), so identical content is stored once.
//!
//! [`LocalBlobs`] keeps them in a local directory (the default); with the cargo feature `s3`,
//! [`ObjectBlobs`] keeps them in any `object_store` backend (S3-compatible storage in production,
//! `InMemory` in tests). A blob is written under a temporary name and moved into place, so a crash
//! never leaves a partial blob under its final name. Whether a blob is still referenced is the
//! database's business (see `repo::files::release_blob`); the store only deletes on request.

use std::fs;
use std::io::{self, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use plenum_domain::Sha256Digest;
use sha2::{Digest, Sha256, Sha512};

/// The bytes of a blob (or of a range of it), as a stream of chunks.
pub type BlobStream = BoxStream<'static, io::Result<Bytes>>;

/// A stored blob's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    pub sha256: Sha256Digest,
    pub storage_key: String,
    pub size: u64,
}

/// The storage key of content with this digest.
pub fn key_for(sha256: &Sha256Digest) -> String {
    let hex = sha256.to_hex();
    format!("sha256/{}/{}", &hex[..2], &hex[2..])
}

/// Where file contents live.
#[async_trait]
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// Stores the finished file at `path` (whose digest and size the caller computed while
    /// writing it) under its content key and removes `path`. Content already stored is kept as is.
    async fn put_file(
        &self,
        path: &Path,
        sha256: &Sha256Digest,
        size: u64,
    ) -> io::Result<StoredBlob>;

    /// The blob's bytes, or only `range` of them (the caller checks the range against the size).
    async fn get(&self, storage_key: &str, range: Option<Range<u64>>) -> io::Result<BlobStream>;

    /// Whether the blob exists.
    async fn exists(&self, storage_key: &str) -> io::Result<bool>;

    /// Removes the blob; removing a missing blob is not an error.
    async fn delete(&self, storage_key: &str) -> io::Result<()>;
}

/// A directory of content-addressed blobs: `ROOT/sha256/ab/cdef…`.
#[derive(Debug, Clone)]
pub struct LocalBlobs {
    root: PathBuf,
}

impl LocalBlobs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The storage key of content with this digest.
    pub fn key_for(sha256: &Sha256Digest) -> String {
        key_for(sha256)
    }

    /// Where the blob with this key lives on disk.
    pub fn path_of(&self, storage_key: &str) -> PathBuf {
        self.root.join(storage_key)
    }

    /// Stores `bytes` (once per content) and returns their address (for small, generated content
    /// such as the demo council's documents).
    pub fn put(&self, bytes: &[u8]) -> io::Result<StoredBlob> {
        let sha256 = Sha256Digest::from_bytes(Sha256::digest(bytes).into());
        let storage_key = key_for(&sha256);
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
    pub fn read(&self, storage_key: &str) -> io::Result<Vec<u8>> {
        fs::read(self.path_of(storage_key))
    }
}

#[async_trait]
impl BlobStore for LocalBlobs {
    async fn put_file(
        &self,
        path: &Path,
        sha256: &Sha256Digest,
        size: u64,
    ) -> io::Result<StoredBlob> {
        let storage_key = key_for(sha256);
        let target = self.path_of(&storage_key);
        if tokio::fs::try_exists(&target).await? {
            tokio::fs::remove_file(path).await?;
        } else {
            let dir = target.parent().unwrap_or(Path::new("."));
            tokio::fs::create_dir_all(dir).await?;
            tokio::fs::File::open(path).await?.sync_all().await?;
            if tokio::fs::rename(path, &target).await.is_err() {
                // Another file system: copy under a temporary name, then move into place.
                let (tmp, _) = tempfile_in(dir)?;
                tokio::fs::copy(path, &tmp).await?;
                tokio::fs::rename(&tmp, &target).await?;
                tokio::fs::remove_file(path).await?;
            }
        }
        Ok(StoredBlob {
            sha256: *sha256,
            storage_key,
            size,
        })
    }

    async fn get(&self, storage_key: &str, range: Option<Range<u64>>) -> io::Result<BlobStream> {
        use futures_util::StreamExt;
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let mut file = tokio::fs::File::open(self.path_of(storage_key)).await?;
        let reader: Box<dyn tokio::io::AsyncRead + Send + Unpin> = match range {
            Some(range) => {
                file.seek(io::SeekFrom::Start(range.start)).await?;
                Box::new(file.take(range.end.saturating_sub(range.start)))
            }
            None => Box::new(file),
        };
        Ok(tokio_util::io::ReaderStream::new(reader).boxed())
    }

    async fn exists(&self, storage_key: &str) -> io::Result<bool> {
        tokio::fs::try_exists(self.path_of(storage_key)).await
    }

    async fn delete(&self, storage_key: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.path_of(storage_key)).await {
            Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }
}

fn tempfile_in(dir: &Path) -> io::Result<(PathBuf, fs::File)> {
    let name = format!(".tmp-{}", uuid::Uuid::new_v4().simple());
    let path = dir.join(name);
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    Ok((path, file))
}

#[cfg(feature = "s3")]
pub use object::{ObjectBlobs, S3Settings};

#[cfg(feature = "s3")]
mod object {
    use std::sync::Arc;

    use futures_util::{StreamExt, TryStreamExt};
    use object_store::path::Path as ObjectPath;
    use object_store::{GetOptions, ObjectStore, WriteMultipart};
    use tokio::io::AsyncReadExt;

    use super::*;

    /// Blobs in an `object_store` backend (S3-compatible storage, or `InMemory` in tests).
    #[derive(Debug, Clone)]
    pub struct ObjectBlobs {
        store: Arc<dyn ObjectStore>,
    }

    /// Settings of an S3-compatible bucket (credentials also come from the usual `AWS_*`
    /// environment variables).
    #[derive(Debug, Clone, Default)]
    pub struct S3Settings {
        pub bucket: String,
        /// e.g. `https://s3.example.org` for MinIO, Ceph or Garage; empty: AWS.
        pub endpoint: Option<String>,
        pub region: Option<String>,
        pub access_key_id: Option<String>,
        pub secret_access_key: Option<String>,
        /// Plain HTTP endpoints (a local MinIO).
        pub allow_http: bool,
    }

    fn other(err: object_store::Error) -> io::Error {
        match err {
            object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, err),
            err => io::Error::other(err),
        }
    }

    impl ObjectBlobs {
        pub fn new(store: Arc<dyn ObjectStore>) -> Self {
            Self { store }
        }

        /// An S3-compatible bucket.
        pub fn s3(settings: &S3Settings) -> io::Result<Self> {
            let mut builder = object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(&settings.bucket)
                .with_allow_http(settings.allow_http);
            if let Some(endpoint) = &settings.endpoint {
                builder = builder.with_endpoint(endpoint);
            }
            if let Some(region) = &settings.region {
                builder = builder.with_region(region);
            }
            if let Some(key) = &settings.access_key_id {
                builder = builder.with_access_key_id(key);
            }
            if let Some(secret) = &settings.secret_access_key {
                builder = builder.with_secret_access_key(secret);
            }
            Ok(Self::new(Arc::new(builder.build().map_err(other)?)))
        }
    }

    #[async_trait]
    impl BlobStore for ObjectBlobs {
        async fn put_file(
            &self,
            path: &Path,
            sha256: &Sha256Digest,
            size: u64,
        ) -> io::Result<StoredBlob> {
            let storage_key = key_for(sha256);
            let location = ObjectPath::from(storage_key.as_str());
            if !self.exists(&storage_key).await? {
                let upload = self.store.put_multipart(&location).await.map_err(other)?;
                let mut writer = WriteMultipart::new(upload);
                let mut file = tokio::fs::File::open(path).await?;
                let mut buf = vec![0; 64 * 1024];
                loop {
                    let n = file.read(&mut buf).await?;
                    if n == 0 {
                        break;
                    }
                    writer.wait_for_capacity(4).await.map_err(other)?;
                    writer.write(&buf[..n]);
                }
                writer.finish().await.map_err(other)?;
            }
            tokio::fs::remove_file(path).await?;
            Ok(StoredBlob {
                sha256: *sha256,
                storage_key,
                size,
            })
        }

        async fn get(
            &self,
            storage_key: &str,
            range: Option<Range<u64>>,
        ) -> io::Result<BlobStream> {
            let options = GetOptions {
                range: range.map(Into::into),
                ..Default::default()
            };
            let result = self
                .store
                .get_opts(&ObjectPath::from(storage_key), options)
                .await
                .map_err(other)?;
            Ok(result.into_stream().map_err(other).boxed())
        }

        async fn exists(&self, storage_key: &str) -> io::Result<bool> {
            match self.store.head(&ObjectPath::from(storage_key)).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(err) => Err(other(err)),
            }
        }

        async fn delete(&self, storage_key: &str) -> io::Result<()> {
            match self.store.delete(&ObjectPath::from(storage_key)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(err) => Err(other(err)),
            }
        }
    }
}

/// Lower-case hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-512 of `content` as 128 lower-case hex digits.
pub fn sha512_hex(content: &[u8]) -> String {
    to_hex(&Sha512::digest(content))
}

/// Computes and records the SHA-512 of every live file stored without one (files uploaded before
/// Plenum recorded it), reading each blob once. Runs in the background after start; a blob that
/// cannot be read is logged and skipped (tried again at the next start). How many were recorded.
pub async fn backfill_sha512(
    db: &sea_orm::DatabaseConnection,
    blobs: &dyn BlobStore,
) -> crate::Result<u64> {
    use futures_util::StreamExt;
    let mut recorded = 0;
    // Files uploaded meanwhile carry their SHA-512 already.
    for file in crate::repo::files::without_sha512(db).await? {
        {
            let mut hasher = Sha512::new();
            let read: io::Result<()> = async {
                let mut stream = blobs.get(&file.storage_key, None).await?;
                while let Some(chunk) = stream.next().await {
                    hasher.update(&chunk?);
                }
                Ok(())
            }
            .await;
            match read {
                Ok(()) => {
                    let hex = to_hex(&hasher.finalize());
                    let now = crate::record::now().max(file.meta.modified);
                    if crate::repo::files::set_sha512(db, file.id, &hex, now).await? {
                        recorded += 1;
                    }
                }
                Err(err) => {
                    tracing::warn!(file = %file.id, error = %err, "cannot read a file to compute its SHA-512");
                }
            }
        }
    }
    Ok(recorded)
}

#[cfg(test)]
mod tests {
    use futures_util::TryStreamExt;

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

    async fn collect(stream: BlobStream) -> Vec<u8> {
        let chunks: Vec<Bytes> = stream.try_collect().await.unwrap();
        chunks.concat()
    }

    /// The contract every [`BlobStore`] keeps: put from a file (once per content), ranged reads,
    /// delete.
    async fn exercise(store: &dyn BlobStore, scratch: &Path) {
        let content = b"Satzung ueber die Erhebung von Gebuehren".to_vec();
        let sha256 = Sha256Digest::from_bytes(Sha256::digest(&content).into());
        for _ in 0..2 {
            let upload = scratch.join(uuid::Uuid::new_v4().to_string());
            fs::write(&upload, &content).unwrap();
            let stored = store
                .put_file(&upload, &sha256, content.len() as u64)
                .await
                .unwrap();
            assert_eq!(stored.storage_key, key_for(&sha256));
            assert!(!upload.exists(), "the upload's temporary file is consumed");
        }
        let key = key_for(&sha256);
        assert!(store.exists(&key).await.unwrap());
        assert_eq!(collect(store.get(&key, None).await.unwrap()).await, content);
        assert_eq!(
            collect(store.get(&key, Some(8..12)).await.unwrap()).await,
            b"ueber"[..4].to_vec()
        );
        store.delete(&key).await.unwrap();
        assert!(!store.exists(&key).await.unwrap());
        store.delete(&key).await.unwrap();
        assert_eq!(
            store.get(&key, None).await.err().map(|e| e.kind()),
            Some(io::ErrorKind::NotFound)
        );
    }

    #[tokio::test]
    async fn local_blobs_keep_the_blob_store_contract() {
        let dir = std::env::temp_dir().join(format!("plenum-blobs-{}", uuid::Uuid::new_v4()));
        fs::create_dir_all(&dir).unwrap();
        let blobs = LocalBlobs::new(dir.join("files"));
        exercise(&blobs, &dir).await;
        let _ = fs::remove_dir_all(dir);
    }

    #[cfg(feature = "s3")]
    #[tokio::test]
    async fn object_store_blobs_keep_the_blob_store_contract() {
        let dir = std::env::temp_dir().join(format!("plenum-blobs-{}", uuid::Uuid::new_v4()));
        fs::create_dir_all(&dir).unwrap();
        let blobs = ObjectBlobs::new(std::sync::Arc::new(object_store::memory::InMemory::new()));
        exercise(&blobs, &dir).await;
        let _ = fs::remove_dir_all(dir);
    }
}
