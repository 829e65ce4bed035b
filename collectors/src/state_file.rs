//! The back-fills' progress files: small JSON documents, read (a missing file is the default
//! state) and written atomically (a temporary file, then a rename).

use std::path::Path;

use serde::{Serialize, de::DeserializeOwned};

use crate::CollectorError;

/// Reads the state at `path`; a missing file is `T::default()`.
pub fn load<T: DeserializeOwned + Default>(path: &Path) -> Result<T, CollectorError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| CollectorError::StateFile {
            path: path.to_owned(),
            source,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(e.into()),
    }
}

/// Writes `state` to `path` through a temporary file and a rename.
pub fn save<T: Serialize>(state: &T, path: &Path) -> Result<(), CollectorError> {
    let tmp = path.with_extension("tmp");
    let bytes = serde_json::to_vec_pretty(state).map_err(|source| CollectorError::StateFile {
        path: path.to_owned(),
        source,
    })?;
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
