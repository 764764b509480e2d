//! Where the bytes of evidence files live: a blob store keyed by the content's sha256.
//!
//! Every upload is first spooled to a local file while it streams in (hashed on the way,
//! cut off at the size limit, fsynced), its kind is read from its bytes, and only then is it
//! committed to the store: renamed into place on the file store, uploaded on S3. Metadata
//! is written after the commit, so a crash at any point leaves at worst a blob nobody
//! names, which `parindex evidence gc` removes; never metadata without its bytes.
//!
//! Blobs are never deleted by a request: deleting a file's metadata leaves its blob to the
//! collector, which removes only blobs no metadata names and untouched for an hour. A
//! commit of content already stored touches it, so an upload racing the collector keeps
//! its bytes.

pub mod file;
pub mod s3;
pub use parindex_domain::file_kind as sniff;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::{Duration, SystemTime};
use tokio::io::AsyncWriteExt;

pub use parindex_domain::file_kind::FileKind;

/// A stream of a blob's bytes (or a range of them).
pub type BlobStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// How long an unnamed blob or a spool file is left alone before the collector may take it.
pub const GC_GRACE: Duration = Duration::from_secs(3600);

/// An upload spooled to a local file, hashed and fsynced; removed when dropped unless the
/// store took it.
pub struct Spooled {
    path: PathBuf,
    pub sha256: String,
    pub size: u64,
}

impl Spooled {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Spooled {
    fn drop(&mut self) {
        // Gone already when the file store renamed it into place.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Why a spool stopped.
#[derive(Debug)]
pub enum SpoolError {
    /// The body grew past the limit (bytes).
    TooLarge(u64),
    /// The client's stream failed (disconnect, malformed multipart).
    Client(String),
    /// No byte arrived for this long.
    Stalled(Duration),
    Io(std::io::Error),
}

/// Whether an I/O error says the disk (or the volume's quota) is full.
pub fn is_storage_full(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    ) || matches!(e.raw_os_error(), Some(28) | Some(122)) // ENOSPC, EDQUOT
}

/// The 507 of an evidence store (or its spool) with no room left: nothing was kept.
pub fn store_full() -> crate::error::ApiError {
    crate::error::ApiError::insufficient_storage(
        "insufficient_storage",
        crate::error::text!(
            "the evidence store is full: the file was not kept; retry once space is freed",
            "kho lưu tài liệu kiểm chứng đã đầy: tệp chưa được lưu; hãy thử lại khi đã giải phóng dung lượng"
        ),
    )
    .with_retry_after(60)
}

impl From<std::io::Error> for SpoolError {
    fn from(e: std::io::Error) -> Self {
        SpoolError::Io(e)
    }
}

/// Streams `body` into a new file of `dir`, hashing it, refusing it past `max` bytes or
/// when no byte arrives for `idle`.
pub async fn spool<S, E>(
    dir: &Path,
    mut body: S,
    max: u64,
    idle: Duration,
) -> Result<Spooled, SpoolError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    tokio::fs::create_dir_all(dir).await?;
    let path = dir.join(format!("{}.part", uuid::Uuid::new_v4()));
    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .await?;
    // From here on the guard removes the file on every early return.
    let mut spooled = Spooled {
        path,
        sha256: String::new(),
        size: 0,
    };
    let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, file);
    let mut hasher = Sha256::new();
    loop {
        let next = tokio::time::timeout(idle, body.next())
            .await
            .map_err(|_| SpoolError::Stalled(idle))?;
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|e| SpoolError::Client(e.to_string()))?;
        spooled.size += chunk.len() as u64;
        if spooled.size > max {
            return Err(SpoolError::TooLarge(max));
        }
        hasher.update(&chunk);
        out.write_all(&chunk).await?;
    }
    out.flush().await?;
    out.into_inner().sync_all().await?;
    spooled.sha256 = hex(&hasher.finalize());
    Ok(spooled)
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Is `s` a sha256 as the stores name blobs (64 lower-case hex digits)?
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The kind of a spooled file, read off the async workers.
pub async fn kind_of(spooled: &Spooled) -> std::io::Result<Option<FileKind>> {
    let path = spooled.path.clone();
    tokio::task::spawn_blocking(move || {
        let f = std::fs::File::open(path)?;
        Ok(sniff::sniff(std::io::BufReader::new(f)))
    })
    .await
    .map_err(std::io::Error::other)?
}

/// One stored blob, as the collector sees it.
#[derive(Clone, Debug)]
pub struct BlobInfo {
    pub sha256: String,
    pub size: u64,
    pub modified: SystemTime,
}

/// The configured store.
#[derive(Clone)]
pub enum BlobStore {
    File(file::FileStore),
    S3(s3::S3Store),
}

impl BlobStore {
    pub fn open(config: &crate::config::EvidenceStorage) -> anyhow::Result<BlobStore> {
        Ok(match config {
            crate::config::EvidenceStorage::File { dir } => {
                BlobStore::File(file::FileStore::open(dir)?)
            }
            crate::config::EvidenceStorage::S3(s3) => BlobStore::S3(s3::S3Store::open(s3)?),
        })
    }

    /// Where uploads are spooled before they are committed.
    pub fn spool_dir(&self) -> &Path {
        match self {
            BlobStore::File(s) => s.spool_dir(),
            BlobStore::S3(s) => s.spool_dir(),
        }
    }

    /// Makes the spooled bytes durable under their sha256.
    pub async fn commit(&self, spooled: &Spooled) -> std::io::Result<()> {
        match self {
            BlobStore::File(s) => s.commit(spooled).await,
            BlobStore::S3(s) => s.commit(spooled).await,
        }
    }

    /// The bytes of a blob, all or `range` (start, end inclusive).
    pub async fn read(
        &self,
        sha256: &str,
        range: Option<(u64, u64)>,
    ) -> std::io::Result<BlobStream> {
        match self {
            BlobStore::File(s) => s.read(sha256, range).await,
            BlobStore::S3(s) => s.read(sha256, range).await,
        }
    }

    pub async fn list(&self) -> std::io::Result<Vec<BlobInfo>> {
        match self {
            BlobStore::File(s) => s.list().await,
            BlobStore::S3(s) => s.list().await,
        }
    }

    pub async fn delete(&self, sha256: &str) -> std::io::Result<()> {
        match self {
            BlobStore::File(s) => s.delete(sha256).await,
            BlobStore::S3(s) => s.delete(sha256).await,
        }
    }

    /// Removes spool files older than `grace` (left by a crash mid-upload); returns them.
    pub async fn clean_spool(&self, grace: Duration) -> std::io::Result<Vec<PathBuf>> {
        let dir = self.spool_dir().to_path_buf();
        tokio::task::spawn_blocking(move || {
            let mut removed = Vec::new();
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(removed),
                Err(e) => return Err(e),
            };
            for entry in entries {
                let entry = entry?;
                let age = entry.metadata()?.modified()?.elapsed().unwrap_or_default();
                if age >= grace {
                    std::fs::remove_file(entry.path())?;
                    removed.push(entry.path());
                }
            }
            Ok(removed)
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// What the store is, for logs and the gc report.
    pub fn describe(&self) -> String {
        match self {
            BlobStore::File(s) => format!("file store at {}", s.root().display()),
            BlobStore::S3(s) => s.describe(),
        }
    }
}
