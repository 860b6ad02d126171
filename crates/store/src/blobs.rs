//! Uploaded files' bytes (session photos, materials, scanned sign-in sheets, seals,
//! rendered dossiers) on the file system under the data directory. The database keeps
//! only their metadata and key (table `attachment`); see decision 0007.

use std::path::{Path, PathBuf};

use crate::{StoreError, StoreResult};

#[derive(Debug, Clone)]
pub struct Blobs {
    root: PathBuf,
}

impl Blobs {
    pub fn new(root: impl Into<PathBuf>) -> Blobs {
        Blobs { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Stores `bytes` under a fresh random key below `prefix` (a school id) and returns
    /// the key. Written to a temporary name, flushed and renamed, so a crash leaves
    /// either the whole file or none.
    pub async fn put(&self, prefix: &str, bytes: &[u8]) -> StoreResult<String> {
        use rand::RngCore;
        use tokio::io::AsyncWriteExt;
        let mut r = [0u8; 16];
        rand::rng().fill_bytes(&mut r);
        let key = format!("{prefix}/{}", hex::encode(r));
        let path = self.path_of(&key)?;
        let dir = path.parent().expect("key has a prefix");
        tokio::fs::create_dir_all(dir).await.map_err(io)?;
        let tmp = path.with_extension("part");
        let mut f = tokio::fs::File::create(&tmp).await.map_err(io)?;
        f.write_all(bytes).await.map_err(io)?;
        f.sync_all().await.map_err(io)?;
        drop(f);
        tokio::fs::rename(&tmp, &path).await.map_err(io)?;
        Ok(key)
    }

    pub async fn get(&self, key: &str) -> StoreResult<Vec<u8>> {
        let path = self.path_of(key)?;
        match tokio::fs::read(&path).await {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::NotFound),
            Err(e) => Err(io(e)),
        }
    }

    /// Removes the file of `key`; one already gone is fine.
    pub async fn remove(&self, key: &str) -> StoreResult<()> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(e)),
        }
    }

    /// Keys are ours (`{prefix}/{hex}`); anything else is refused so a key read from
    /// the database can never walk out of the root.
    fn path_of(&self, key: &str) -> StoreResult<PathBuf> {
        let ok = !key.is_empty()
            && key.split('/').count() == 2
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '-');
        if !ok {
            return Err(StoreError::Invalid { code: "bad_key" });
        }
        Ok(self.root.join(key))
    }
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Other(format!("blob store: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trip_and_refuses_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let b = Blobs::new(dir.path());
        let k = b.put("12", b"hello").await.unwrap();
        assert!(k.starts_with("12/"));
        assert_eq!(b.get(&k).await.unwrap(), b"hello");
        assert!(matches!(
            b.get("../etc/passwd").await,
            Err(StoreError::Invalid { .. })
        ));
        assert!(matches!(b.get("12/0000").await, Err(StoreError::NotFound)));
    }
}
