//! Source secrets in the OS keyring (Secret Service). Runs against a real gnome-keyring-daemon:
//! scripts/test-all starts one in a private D-Bus session and sets SUNWARD_TEST_KEYRING=required.
//! Elsewhere (no session bus, no keyring) the test says it is skipped and why.

use sunward::connectors::{self, Backend, Kind, NewSource, Secret, SecretStore, SourceSecrets};

async fn keyring_or_skip(store: &SecretStore) -> bool {
    let required = std::env::var("SUNWARD_TEST_KEYRING").as_deref() == Ok("required");
    match store.backend().await {
        Backend::Keyring => true,
        Backend::File if required => {
            panic!("SUNWARD_TEST_KEYRING=required but no unlocked Secret Service answers")
        }
        Backend::File => {
            eprintln!("skipped: no unlocked Secret Service in this session (scripts/test-all runs this test inside `dbus-run-session` with gnome-keyring-daemon)");
            false
        }
    }
}

#[tokio::test]
async fn secrets_go_to_the_keyring_and_never_to_the_file_or_the_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("k.db");
    let store = SecretStore::for_db(&db);
    if !keyring_or_skip(&store).await {
        return;
    }
    let _s = sunward::store::Store::open_sqlite(&db)
        .await
        .expect("store");
    connectors::add_source(
        &db,
        NewSource {
            kind: Kind::Webhook,
            name: "partner".into(),
            url: None,
            interval_ms: None,
            token_env: None,
            secret_env: Some("PARTNER_SECRET".into()),
        },
        SourceSecrets {
            token: None,
            secret: Some(Secret::new("keyring-held-secret")),
        },
        0,
    )
    .await
    .expect("add");
    // Not in the file beside the database, not in the database.
    if store.path().exists() {
        let text = std::fs::read_to_string(store.path()).expect("read");
        assert!(!text.contains("keyring-held-secret"), "{text}");
    }
    let raw = std::fs::read(&db).expect("db");
    assert!(!raw.windows(19).any(|w| w == b"keyring-held-secret"));

    // Another store of the same database (another process) reads it back from the keyring.
    let again = SecretStore::for_db(&db);
    let got = again.get("partner").await.expect("get");
    assert_eq!(
        got.secret.as_ref().map(Secret::expose),
        Some("keyring-held-secret")
    );
    // Another database's store does not see it.
    let other = SecretStore::for_db(dir.path().join("other.db"));
    assert_eq!(
        other.get("partner").await.expect("get"),
        SourceSecrets::default()
    );

    // A secret stored in the file earlier (before a keyring existed) is still found, and moves
    // to the keyring when it is set again.
    std::fs::write(store.path(), "[legacy]\ntoken = \"from-the-file\"\n").expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(store.path(), std::fs::Permissions::from_mode(0o600))
            .expect("chmod");
    }
    let legacy = store.get("legacy").await.expect("get");
    assert_eq!(
        legacy.token.as_ref().map(Secret::expose),
        Some("from-the-file")
    );
    store.set("legacy", &legacy).await.expect("set");
    let text = std::fs::read_to_string(store.path()).expect("read");
    assert!(
        !text.contains("from-the-file"),
        "moved out of the file: {text}"
    );
    assert_eq!(store.get("legacy").await.expect("get"), legacy);

    // Removing the source removes its keyring item.
    assert!(connectors::remove_source(&db, "partner")
        .await
        .expect("remove"));
    assert_eq!(
        again.get("partner").await.expect("get"),
        SourceSecrets::default()
    );
    store.remove("legacy").await.expect("remove");
}
