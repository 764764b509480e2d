//! The distributed store: S3-compatible object storage (AWS S3, MinIO, Ceph, moto…)
//! through `object_store`, for several API replicas sharing one bucket. Blobs are objects
//! `<prefix>blobs/<sha256>`; uploads are spooled locally first (hashed, sniffed), then
//! sent in one PUT (small) or as a multipart upload in 8 MiB parts, two in flight, so
//! memory stays bounded whatever the file's size.

use super::{BlobInfo, BlobStream, Spooled, is_sha256};
use crate::config::S3Settings;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncReadExt;

/// Files up to this size go in one PUT; larger ones as a multipart upload.
const SINGLE_PUT_MAX: u64 = 8 * 1024 * 1024;
const PART_SIZE: usize = 8 * 1024 * 1024;

#[derive(Clone)]
pub struct S3Store {
    inner: Arc<Inner>,
}

struct Inner {
    store: AmazonS3,
    bucket: String,
    prefix: String,
    spool: PathBuf,
}

fn io_error(e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, e),
        other => io::Error::other(other),
    }
}

impl S3Store {
    pub fn open(settings: &S3Settings) -> anyhow::Result<S3Store> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region);
        if let Some(endpoint) = &settings.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let (Some(key), Some(secret)) = (&settings.access_key_id, &settings.secret_access_key) {
            builder = builder
                .with_access_key_id(key)
                .with_secret_access_key(secret.expose());
        }
        if let Some(token) = &settings.session_token {
            builder = builder.with_token(token.expose());
        }
        let store = builder
            .build()
            .map_err(|e| anyhow::anyhow!("S3 evidence store: {e}"))?;
        let spool = settings.spool_dir.clone();
        std::fs::create_dir_all(&spool).map_err(|e| {
            anyhow::anyhow!("cannot create the spool directory {}: {e}", spool.display())
        })?;
        Ok(S3Store {
            inner: Arc::new(Inner {
                store,
                bucket: settings.bucket.clone(),
                prefix: settings.prefix.clone(),
                spool,
            }),
        })
    }

    pub fn spool_dir(&self) -> &Path {
        &self.inner.spool
    }

    pub fn describe(&self) -> String {
        format!(
            "S3 bucket {} under {:?}",
            self.inner.bucket,
            format!("{}blobs/", self.inner.prefix)
        )
    }

    fn key(&self, sha256: &str) -> io::Result<ObjectPath> {
        if !is_sha256(sha256) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a sha256"));
        }
        Ok(ObjectPath::from(format!(
            "{}blobs/{sha256}",
            self.inner.prefix
        )))
    }

    /// Uploads the spooled file. Content already stored is uploaded again: its
    /// last-modified date is then fresh, which the collector's grace relies on.
    pub async fn commit(&self, spooled: &Spooled) -> io::Result<()> {
        let key = self.key(&spooled.sha256)?;
        let mut file = tokio::fs::File::open(spooled.path()).await?;
        if spooled.size <= SINGLE_PUT_MAX {
            let mut bytes = Vec::with_capacity(spooled.size as usize);
            file.read_to_end(&mut bytes).await?;
            self.inner
                .store
                .put(&key, PutPayload::from(bytes))
                .await
                .map_err(io_error)?;
            return Ok(());
        }
        let upload = self
            .inner
            .store
            .put_multipart(&key)
            .await
            .map_err(io_error)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut buf = vec![0u8; 1024 * 1024];
        let result: io::Result<()> = async {
            loop {
                let n = file.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                writer.wait_for_capacity(2).await.map_err(io_error)?;
                writer.write(&buf[..n]);
            }
            Ok(())
        }
        .await;
        match result {
            Ok(()) => writer.finish().await.map(|_| ()).map_err(io_error),
            Err(e) => {
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }

    pub async fn read(&self, sha256: &str, range: Option<(u64, u64)>) -> io::Result<BlobStream> {
        let key = self.key(sha256)?;
        let options = GetOptions::new().with_range(range.map(|(start, end)| start..end + 1));
        let got = self
            .inner
            .store
            .get_opts(&key, options)
            .await
            .map_err(io_error)?;
        Ok(got.into_stream().map_err(io_error).boxed())
    }

    pub async fn list(&self) -> io::Result<Vec<BlobInfo>> {
        let prefix = ObjectPath::from(format!("{}blobs", self.inner.prefix));
        let metas: Vec<_> = self
            .inner
            .store
            .list(Some(&prefix))
            .try_collect()
            .await
            .map_err(io_error)?;
        Ok(metas
            .into_iter()
            .filter_map(|m| {
                let sha = m.location.filename()?.to_string();
                is_sha256(&sha).then(|| BlobInfo {
                    sha256: sha,
                    size: m.size,
                    modified: m.last_modified.into(),
                })
            })
            .collect())
    }

    pub async fn delete(&self, sha256: &str) -> io::Result<()> {
        let key = self.key(sha256)?;
        match self.inner.store.delete(&key).await {
            Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
            Err(e) => Err(io_error(e)),
        }
    }
}
