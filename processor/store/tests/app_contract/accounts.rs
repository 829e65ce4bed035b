//! The [`AccountStore`] contract: users, API keys, webhook endpoints, secret rotation.

use tcg_schemas::{Timestamp, UserId};
use tcg_store::*;

use crate::fixtures::*;

pub fn key(id: &str, prefix: &str, user: &UserId) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.into(),
        prefix: prefix.into(),
        hash: "00".into(),
        user: user.clone(),
        admin: false,
        created_at: Timestamp::from_secs(1),
        revoked_at: None,
    }
}

pub fn hook(id: &str, owner: &UserId, secs: i64) -> Webhook {
    Webhook {
        id: id.into(),
        owner: owner.clone(),
        url: format!("https://example.test/{id}"),
        description: None,
        enabled: true,
        secret: format!("whsec_{id}"),
        created_at: Timestamp::from_secs(secs),
        updated_at: Timestamp::from_secs(secs),
    }
}

/// Keys (a duplicate prefix refused), users with their active keys, revocation by prefix,
/// webhooks per owner, a patch, delete, ping.
pub async fn keys_and_webhooks_round_trip(store: &dyn AppStore, ids: Ids) {
    let ana = ids.user("ana");
    let bo = ids.user("bo");
    store.insert_api_key(&key("k1", "abc", &ana)).await.unwrap();
    store.insert_api_key(&key("k2", "def", &ana)).await.unwrap();
    assert!(store.insert_api_key(&key("k3", "abc", &bo)).await.is_err());
    let users = store.users().await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].active_keys, 2);
    let revoked = store
        .revoke_api_key("abc", Timestamp::from_secs(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(Timestamp::from_secs(2)));
    assert!(
        store
            .revoke_api_key("nope", Timestamp::from_secs(2))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.users().await.unwrap()[0].active_keys, 1);

    let hook = Webhook {
        id: "w1".into(),
        owner: ana.clone(),
        url: "https://example.test/h".into(),
        description: None,
        enabled: true,
        secret: "s".into(),
        created_at: Timestamp::from_secs(1),
        updated_at: Timestamp::from_secs(1),
    };
    store.insert_webhook(&hook).await.unwrap();
    assert!(store.webhook(&bo, "w1").await.unwrap().is_none());
    let patch = WebhookPatch {
        enabled: Some(false),
        ..WebhookPatch::default()
    };
    let h = store
        .update_webhook(&ana, "w1", &patch, Timestamp::from_secs(3))
        .await
        .unwrap()
        .unwrap();
    assert!(!h.enabled);
    assert!(store.enabled_webhooks(&ana).await.unwrap().is_empty());
    assert!(!store.delete_webhook(&bo, "w1").await.unwrap());
    assert!(store.delete_webhook(&ana, "w1").await.unwrap());
    store.ping().await.unwrap();
}

/// Users by name (an admin key counts while active), keys newest first, found by prefix,
/// revoked by id (trimmed), once.
pub async fn users_and_keys(store: &dyn AppStore, ids: Ids) {
    let (zed, amy) = (ids.user("zed"), ids.user("amy"));
    store
        .ensure_user(&zed, Timestamp::from_secs(5))
        .await
        .unwrap();
    store
        .ensure_user(&zed, Timestamp::from_secs(9))
        .await
        .unwrap();
    let admin = ApiKeyRecord {
        admin: true,
        created_at: Timestamp::from_secs(20),
        ..key("ka", "pa", &amy)
    };
    let old = ApiKeyRecord {
        created_at: Timestamp::from_secs(10),
        ..key("kb", "pb", &amy)
    };
    let zeds = ApiKeyRecord {
        created_at: Timestamp::from_secs(30),
        revoked_at: Some(Timestamp::from_secs(31)),
        ..key("kc", "pc", &zed)
    };
    for k in [&old, &admin, &zeds] {
        store.insert_api_key(k).await.unwrap();
    }
    // A key with an id already used is refused too.
    assert!(store.insert_api_key(&key("ka", "pz", &amy)).await.is_err());

    let users = store.users().await.unwrap();
    let summary: Vec<_> = users
        .iter()
        .map(|u| (u.name.clone(), u.created_at, u.active_keys, u.admin))
        .collect();
    assert_eq!(
        summary,
        vec![
            // The key's creation time made the user.
            (amy.clone(), Timestamp::from_secs(10), 2, true),
            (zed.clone(), Timestamp::from_secs(5), 0, false),
        ]
    );
    assert_eq!(
        store.api_keys(None).await.unwrap(),
        vec![zeds.clone(), admin.clone(), old.clone()]
    );
    assert_eq!(
        store.api_keys(Some(&amy)).await.unwrap(),
        vec![admin.clone(), old.clone()]
    );
    assert_eq!(store.api_key_by_prefix("pa").await.unwrap(), Some(admin));
    assert_eq!(store.api_key_by_prefix("pc").await.unwrap(), Some(zeds));
    assert_eq!(store.api_key_by_prefix("nope").await.unwrap(), None);

    let r = store
        .revoke_api_key("  ka ", Timestamp::from_secs(40))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (r.id.as_str(), r.revoked_at),
        ("ka", Some(Timestamp::from_secs(40)))
    );
    // Revoking again keeps the first time.
    let again = store
        .revoke_api_key("pa", Timestamp::from_secs(50))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.revoked_at, Some(Timestamp::from_secs(40)));
    let amy_now = store.users().await.unwrap().remove(0);
    assert_eq!((amy_now.active_keys, amy_now.admin), (1, false));
}

/// Webhooks of an owner oldest first, patches (a description cleared), another owner's id is
/// not found, secret rotation, and the full records a copy moves.
pub async fn webhooks_patches_and_rotation(store: &dyn AppStore, ids: Ids) {
    let (ann, bob) = (ids.user("ann"), ids.user("bob"));
    let (w2, w1, w3) = (
        hook("w2", &ann, 10),
        hook("w1", &ann, 10),
        hook("w3", &ann, 5),
    );
    let theirs = hook("w9", &bob, 1);
    for h in [&w2, &w1, &w3, &theirs] {
        store.insert_webhook(h).await.unwrap();
    }
    assert!(store.insert_webhook(&w1).await.is_err(), "ids are unique");
    assert_eq!(
        store.webhooks(&ann).await.unwrap(),
        vec![w3.clone(), w1.clone(), w2.clone()]
    );
    assert_eq!(store.webhook(&ann, "w1").await.unwrap(), Some(w1.clone()));

    let described = store
        .update_webhook(
            &ann,
            "w1",
            &WebhookPatch {
                url: Some("https://example.test/new".into()),
                description: Some(Some("mine".into())),
                enabled: None,
            },
            Timestamp::from_secs(20),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            described.url.as_str(),
            described.description.as_deref(),
            described.updated_at
        ),
        (
            "https://example.test/new",
            Some("mine"),
            Timestamp::from_secs(20)
        )
    );
    let cleared = store
        .update_webhook(
            &ann,
            "w1",
            &WebhookPatch {
                description: Some(None),
                ..WebhookPatch::default()
            },
            Timestamp::from_secs(21),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cleared.description, None);
    assert_eq!(store.webhook(&ann, "w1").await.unwrap(), Some(cleared));
    let nobody = WebhookPatch::default();
    let at = Timestamp::from_secs(22);
    assert!(
        store
            .update_webhook(&bob, "w1", &nobody, at)
            .await
            .unwrap()
            .is_none()
    );

    let rotated = store
        .rotate_webhook_secret(&ann, "w2", "whsec_new", Timestamp::from_secs(100), at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (rotated.secret.as_str(), rotated.updated_at),
        ("whsec_new", at)
    );
    let none = store
        .rotate_webhook_secret(&bob, "w2", "x", Timestamp::from_secs(100), at)
        .await
        .unwrap();
    assert!(none.is_none());
    let health = store.webhook_health(&ann, Some("w2")).await.unwrap();
    assert_eq!(health.len(), 1);
    assert_eq!(
        health[0].previous_secret_until,
        Some(Timestamp::from_secs(100))
    );
    assert_eq!(store.webhook_health(&ann, None).await.unwrap().len(), 3);
    assert!(
        store
            .webhook_attempts(&bob, "w2", 10, None)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.webhook_attempts(&ann, "w2", 10, None).await.unwrap(),
        Some(vec![])
    );

    let records = store.webhook_records().await.unwrap();
    let order: Vec<_> = records.iter().map(|r| r.hook.id.as_str()).collect();
    assert_eq!(order, ["w9", "w3", "w1", "w2"]);
    let w2r = &records[3];
    assert_eq!(w2r.hook, rotated);
    assert_eq!(w2r.previous_secret.as_deref(), Some("whsec_w2"));
    assert_eq!(w2r.previous_secret_until, Some(Timestamp::from_secs(100)));
    assert!(!store.import_webhook(w2r).await.unwrap(), "present: kept");
    let imported = WebhookRecord {
        hook: Webhook {
            enabled: false,
            ..hook("w5", &bob, 50)
        },
        previous_secret: Some("old".into()),
        previous_secret_until: Some(Timestamp::from_secs(60)),
        disabled_reason: Some("410 Gone".into()),
        disabled_at: Some(Timestamp::from_secs(55)),
        failing_since: Some(Timestamp::from_secs(51)),
    };
    assert!(store.import_webhook(&imported).await.unwrap());
    assert_eq!(store.webhook_records().await.unwrap()[4], imported);
    let h = store.webhook_health(&bob, Some("w5")).await.unwrap();
    assert_eq!(
        (
            h[0].disabled_reason.as_deref(),
            h[0].disabled_at,
            h[0].failing_since
        ),
        (
            Some("410 Gone"),
            Some(Timestamp::from_secs(55)),
            Some(Timestamp::from_secs(51))
        )
    );
    store.ping().await.unwrap();
}
