//! The embedded store: content-addressed files under the data directory,
//! `blobs/ab/abcdef…` (two-character fan-out), spooled under `tmp/` on the same file system
//! so that the commit is an atomic rename.

use super::{BlobInfo, BlobStream, Spooled, is_sha256};
use futures_util::StreamExt;
use std::io::{self, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

#[derive(Clone)]
pub struct FileStore {
    inner: Arc<Dirs>,
}

struct Dirs {
    root: PathBuf,
    blobs: PathBuf,
    spool: PathBuf,
}

impl FileStore {
    pub fn open(root: &Path) -> anyhow::Result<FileStore> {
        let blobs = root.join("blobs");
        let spool = root.join("tmp");
        for dir in [&blobs, &spool] {
            std::fs::create_dir_all(dir).map_err(|e| {
                anyhow::anyhow!(
                    "cannot create the evidence directory {}: {e}",
                    dir.display()
                )
            })?;
        }
        Ok(FileStore {
            inner: Arc::new(Dirs {
                root: root.to_path_buf(),
                blobs,
                spool,
            }),
        })
    }

    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    pub fn spool_dir(&self) -> &Path {
        &self.inner.spool
    }

    fn path_of(&self, sha256: &str) -> io::Result<PathBuf> {
        if !is_sha256(sha256) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a sha256"));
        }
        Ok(self.inner.blobs.join(&sha256[..2]).join(sha256))
    }

    pub async fn commit(&self, spooled: &Spooled) -> io::Result<()> {
        let target = self.path_of(&spooled.sha256)?;
        let parent = target.parent().map(Path::to_path_buf).unwrap_or_default();
        let source = spooled.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            if target.exists() {
                // Stored once: touch it so that the collector's grace starts again.
                std::fs::File::options()
                    .write(true)
                    .open(&target)?
                    .set_modified(std::time::SystemTime::now())?;
                return Ok(());
            }
            std::fs::create_dir_all(&parent)?;
            std::fs::rename(&source, &target)?;
            // The rename is durable once the directory that holds it is.
            std::fs::File::open(&parent)?.sync_all()
        })
        .await
        .map_err(io::Error::other)?
    }

    pub async fn read(&self, sha256: &str, range: Option<(u64, u64)>) -> io::Result<BlobStream> {
        let mut file = tokio::fs::File::open(self.path_of(sha256)?).await?;
        let stream = match range {
            None => tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024).boxed(),
            Some((start, end)) => {
                file.seek(SeekFrom::Start(start)).await?;
                let part = file.take(end - start + 1);
                tokio_util::io::ReaderStream::with_capacity(part, 64 * 1024).boxed()
            }
        };
        Ok(stream)
    }

    pub async fn list(&self) -> io::Result<Vec<BlobInfo>> {
        let blobs = self.inner.blobs.clone();
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for fan in std::fs::read_dir(&blobs)? {
                let fan = fan?;
                if !fan.file_type()?.is_dir() {
                    continue;
                }
                for entry in std::fs::read_dir(fan.path())? {
                    let entry = entry?;
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if !is_sha256(&name) {
                        continue;
                    }
                    let meta = entry.metadata()?;
                    out.push(BlobInfo {
                        sha256: name,
                        size: meta.len(),
                        modified: meta.modified()?,
                    });
                }
            }
            Ok(out)
        })
        .await
        .map_err(io::Error::other)?
    }

    pub async fn delete(&self, sha256: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.path_of(sha256)?).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
