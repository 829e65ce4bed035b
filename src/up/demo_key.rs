//! The demo user's API key: a user key (never an admin key: those come only from
//! `tcgtracker keys create --admin`), created on the first start and kept in `demo-key.txt`
//! (0600). A key in that file that is an admin key (an earlier version made one), revoked or
//! unknown to the store is revoked and replaced by a new user key.

use std::path::Path;

use anyhow::{Context, Result};
use tcg_schemas::Timestamp;
use tcg_store::AccountStore;

use super::{DemoKey, data_dir};

/// The demo user's name.
pub const DEMO_USER: &str = "demo";

/// What the file's key is in the store.
#[derive(Debug, PartialEq, Eq)]
enum Stored {
    /// A live user key: kept.
    User,
    /// A live admin key: revoked and replaced.
    Admin,
    /// Revoked, unknown, or not a key at all: replaced.
    Unusable,
}

/// The demo key: read from `demo-key.txt`, or created (and written there) on the first start or
/// when the file's key is no longer a live user key.
pub async fn demo_key(store: &dyn AccountStore, data_dir: &Path) -> Result<DemoKey> {
    let file = data_dir.join("demo-key.txt");
    let existing = match std::fs::read_to_string(&file) {
        Ok(text) => Some(text.trim().to_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
    };
    let first_start = existing.is_none();
    if let Some(key) = existing {
        match stored(store, &key).await? {
            Stored::User => {
                return Ok(DemoKey {
                    key,
                    file,
                    first_start,
                    created: false,
                });
            }
            Stored::Admin => {
                if let Some(prefix) = prefix(&key) {
                    store
                        .revoke_api_key(prefix, Timestamp::from(chrono::Utc::now()))
                        .await?;
                }
                eprintln!(
                    "the demo key in {} was an admin key: revoked, and replaced by a user key \
                     (admin keys: tcgtracker keys create --user NAME --admin)",
                    file.display()
                );
            }
            Stored::Unusable => eprintln!(
                "the demo key in {} is revoked or unknown: replaced by a new one",
                file.display()
            ),
        }
    }
    let created = tcg_query_api::create_key(store, DEMO_USER, false).await?;
    data_dir::write_private(&file, format!("{}\n", created.key).as_bytes())?;
    Ok(DemoKey {
        key: created.key,
        file,
        first_start,
        created: true,
    })
}

/// The random prefix of a key `tcg_<prefix>_<secret>`.
fn prefix(key: &str) -> Option<&str> {
    key.strip_prefix("tcg_")?.split_once('_').map(|(p, _)| p)
}

async fn stored(store: &dyn AccountStore, key: &str) -> Result<Stored> {
    let Some(prefix) = prefix(key) else {
        return Ok(Stored::Unusable);
    };
    let record = store.api_key_by_prefix(prefix).await?;
    Ok(match record {
        Some(r) if r.revoked_at.is_none() && r.hash == tcg_query_api::hash_key(key) => {
            if r.admin {
                Stored::Admin
            } else {
                Stored::User
            }
        }
        _ => Stored::Unusable,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use tcg_store::SqliteStore;

    #[tokio::test]
    async fn the_demo_key_is_a_user_key_and_an_old_admin_key_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("t.db")).unwrap();
        let first = demo_key(&store, dir.path()).await.unwrap();
        assert!(first.first_start && first.created);
        let file_mode = std::fs::metadata(&first.file).unwrap().permissions().mode();
        assert_eq!(file_mode & 0o777, 0o600);
        let record = store
            .api_key_by_prefix(prefix(&first.key).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(!record.admin, "the demo key is a user key");
        assert_eq!(record.user.0, DEMO_USER);

        // The next start reads it back.
        let again = demo_key(&store, dir.path()).await.unwrap();
        assert_eq!(again.key, first.key);
        assert!(!again.first_start && !again.created);

        // An admin demo key of an earlier version: revoked, a user key in its place.
        let old = tcg_query_api::create_key(&store, DEMO_USER, true)
            .await
            .unwrap();
        std::fs::write(&first.file, format!("{}\n", old.key)).unwrap();
        let replaced = demo_key(&store, dir.path()).await.unwrap();
        assert_ne!(replaced.key, old.key);
        assert!(replaced.created && !replaced.first_start);
        let old_record = store
            .api_key_by_prefix(&old.record.prefix)
            .await
            .unwrap()
            .unwrap();
        assert!(old_record.revoked_at.is_some(), "the admin key is revoked");
        let new_record = store
            .api_key_by_prefix(prefix(&replaced.key).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(!new_record.admin);
        assert_eq!(
            std::fs::read_to_string(&replaced.file).unwrap().trim(),
            replaced.key
        );

        // A revoked demo key (`tcgtracker keys revoke`) is replaced at the next start.
        store
            .revoke_api_key(&new_record.prefix, Timestamp::from_secs(1))
            .await
            .unwrap();
        let rotated = demo_key(&store, dir.path()).await.unwrap();
        assert!(rotated.created && rotated.key != replaced.key);
    }
}
