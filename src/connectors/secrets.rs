//! Secrets of sources (API tokens, webhook signing secrets), kept OUT of the database.
//!
//! Where a Secret Service (GNOME Keyring, KWallet, KeePassXC) runs unlocked in the session,
//! they go to the OS keyring. Elsewhere (a headless server, a wall PC without a keyring) they
//! live in a TOML file beside the database, `<db file>.secrets.toml`, created with mode 0600
//! and replaced atomically (write a 0600 temporary file, then rename). A file that others can
//! read is refused, as ssh refuses a private key with loose permissions. Values are wrapped in
//! [`Secret`], whose `Debug` and `Display` print `***`, so a secret cannot reach a log line or
//! an API answer by accident.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use secret_service::{EncryptionType, SecretService};
use serde::{Deserialize, Serialize};

/// A secret value. Printing it (Debug or Display) shows `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The value itself: only for signing or an `Authorization` header, never for output.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The secrets of one source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceSecrets {
    /// Bearer/access token sent to the network (X, Mastodon, Reddit).
    pub token: Option<Secret>,
    /// Signing secret of a webhook source.
    pub secret: Option<Secret>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
/// One source's secrets as stored (file table or keyring item JSON).
struct FileEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("cannot read the secrets file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the secrets file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the secrets file {path} is not valid TOML: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("the secrets file {path} can be read by other users (mode {mode:o}); run `chmod 600 {path}`")]
    Permissions { path: PathBuf, mode: u32 },
    #[error("OS keyring: {0}")]
    Keyring(String),
}

/// Where secrets are kept: the OS keyring (Secret Service: GNOME Keyring, KWallet, KeePassXC)
/// when one is running and unlocked, else a 0600 file beside the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    Keyring,
    File,
}

/// How long to wait for a Secret Service to answer before using the file.
const KEYRING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// The secrets of one database: in the OS keyring where available, else in
/// `<db file>.secrets.toml`. `SUNWARD_SECRETS=file` forces the file, `SUNWARD_SECRETS=keyring`
/// makes a missing keyring an error instead of a fallback.
#[derive(Clone)]
pub struct SecretStore {
    path: PathBuf,
    /// The database's absolute path: keyring items are keyed by it, so two databases on one
    /// desktop never share a source's secrets.
    db_key: String,
    keyring: Arc<tokio::sync::OnceCell<Option<SecretService<'static>>>>,
}

impl std::fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretStore")
            .field("path", &self.path)
            .finish()
    }
}

impl SecretStore {
    /// `<db file>.secrets.toml`: beside the database it belongs to, never inside it. For a
    /// PostgreSQL database (shared by several sites), secrets stay on this machine: in the
    /// user's data directory, named after the database's host and name.
    pub fn for_db(db: impl Into<crate::store::DbTarget>) -> SecretStore {
        let db = match db.into() {
            crate::store::DbTarget::Sqlite(p) => p,
            crate::store::DbTarget::Postgres(url) => {
                let key = crate::store::redact_url(&url);
                let safe: String = key
                    .rsplit('@')
                    .next()
                    .unwrap_or("postgres")
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                let dir = crate::config::default_db_path()
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                return SecretStore {
                    path: dir.join(format!("postgres-{safe}.secrets.toml")),
                    db_key: key,
                    keyring: Arc::new(tokio::sync::OnceCell::new()),
                };
            }
        };
        let db = db.as_path();
        let mut name = db.file_name().unwrap_or_default().to_os_string();
        name.push(".secrets.toml");
        let abs = std::path::absolute(db).unwrap_or_else(|_| db.to_path_buf());
        SecretStore {
            path: db.with_file_name(name),
            db_key: abs.display().to_string(),
            keyring: Arc::new(tokio::sync::OnceCell::new()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The keyring, if one answers and is unlocked (asked once per store).
    async fn keyring(&self) -> Result<Option<&SecretService<'static>>, SecretsError> {
        let mode = std::env::var("SUNWARD_SECRETS").unwrap_or_default();
        if mode == "file" {
            return Ok(None);
        }
        let ss = self
            .keyring
            .get_or_init(|| async {
                match tokio::time::timeout(KEYRING_TIMEOUT, connect_keyring()).await {
                    Ok(Ok(ss)) => Some(ss),
                    Ok(Err(e)) => {
                        tracing::debug!(error = %e, "no usable OS keyring; secrets go to the 0600 file");
                        None
                    }
                    Err(_) => {
                        tracing::debug!("the OS keyring did not answer; secrets go to the 0600 file");
                        None
                    }
                }
            })
            .await
            .as_ref();
        if ss.is_none() && mode == "keyring" {
            return Err(SecretsError::Keyring(
                "SUNWARD_SECRETS=keyring but no Secret Service (GNOME Keyring, KWallet, KeePassXC) is running and unlocked in this session".into(),
            ));
        }
        Ok(ss)
    }

    /// Where new secrets of this database go.
    pub async fn backend(&self) -> Backend {
        match self.keyring().await {
            Ok(Some(_)) => Backend::Keyring,
            _ => Backend::File,
        }
    }

    fn attributes<'a>(&'a self, name: &'a str) -> HashMap<&'a str, &'a str> {
        HashMap::from([
            ("application", "sunward"),
            ("database", self.db_key.as_str()),
            ("source", name),
        ])
    }

    async fn keyring_get(
        &self,
        ss: &SecretService<'static>,
        name: &str,
    ) -> Result<Option<SourceSecrets>, SecretsError> {
        let kerr = |e: secret_service::Error| SecretsError::Keyring(e.to_string());
        let found = ss.search_items(self.attributes(name)).await.map_err(kerr)?;
        let Some(item) = found.unlocked.first() else {
            return Ok(None);
        };
        let bytes = item.get_secret().await.map_err(kerr)?;
        let e: FileEntry = serde_json::from_slice(&bytes).map_err(|_| {
            SecretsError::Keyring(format!(
                "the keyring item of source `{name}` is not Sunward's; remove it in the keyring app"
            ))
        })?;
        Ok(Some(SourceSecrets {
            token: e.token.map(Secret),
            secret: e.secret.map(Secret),
        }))
    }

    async fn keyring_delete(
        &self,
        ss: &SecretService<'static>,
        name: &str,
    ) -> Result<(), SecretsError> {
        let kerr = |e: secret_service::Error| SecretsError::Keyring(e.to_string());
        let found = ss.search_items(self.attributes(name)).await.map_err(kerr)?;
        for item in found.unlocked {
            item.delete().await.map_err(kerr)?;
        }
        Ok(())
    }

    /// The secrets of `name` (empty when it has none): the keyring's, else the file's.
    pub async fn get(&self, name: &str) -> Result<SourceSecrets, SecretsError> {
        if let Some(ss) = self.keyring().await? {
            if let Some(s) = self.keyring_get(ss, name).await? {
                return Ok(s);
            }
        }
        self.file_get(name)
    }

    /// Sets (or, when both are `None`, removes) the secrets of `name`, in the keyring when
    /// there is one (and then never also in the file).
    pub async fn set(&self, name: &str, s: &SourceSecrets) -> Result<(), SecretsError> {
        let Some(ss) = self.keyring().await? else {
            return self.file_set(name, s);
        };
        if s.token.is_none() && s.secret.is_none() {
            self.keyring_delete(ss, name).await?;
        } else {
            let kerr = |e: secret_service::Error| SecretsError::Keyring(e.to_string());
            let collection = ss.get_default_collection().await.map_err(kerr)?;
            let entry = FileEntry {
                token: s.token.as_ref().map(|t| t.0.clone()),
                secret: s.secret.as_ref().map(|t| t.0.clone()),
            };
            let bytes =
                serde_json::to_vec(&entry).map_err(|e| SecretsError::Keyring(e.to_string()))?;
            let label = format!("Sunward source {name} ({})", self.db_key);
            collection
                .create_item(
                    &label,
                    self.attributes(name),
                    &bytes,
                    true,
                    "application/json",
                )
                .await
                .map_err(kerr)?;
        }
        // Moved to the keyring: no copy stays behind in the file.
        if self.file_get(name)? != SourceSecrets::default() {
            self.file_set(name, &SourceSecrets::default())?;
        }
        Ok(())
    }

    pub async fn remove(&self, name: &str) -> Result<(), SecretsError> {
        if let Some(ss) = self.keyring().await? {
            self.keyring_delete(ss, name).await?;
        }
        self.file_set(name, &SourceSecrets::default())
    }

    fn read_all(&self) -> Result<BTreeMap<String, FileEntry>, SecretsError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(source) => {
                return Err(SecretsError::Read {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&self.path)
                .map_err(|source| SecretsError::Read {
                    path: self.path.clone(),
                    source,
                })?
                .permissions()
                .mode()
                & 0o777;
            if mode & 0o077 != 0 {
                return Err(SecretsError::Permissions {
                    path: self.path.clone(),
                    mode,
                });
            }
        }
        // The parse error could quote a line of the file: report only where it is.
        toml::from_str(&text).map_err(|e| SecretsError::Parse {
            path: self.path.clone(),
            message: match e.span() {
                Some(s) => format!("error at byte {}", s.start),
                None => "unreadable".into(),
            },
        })
    }

    fn write_all(&self, all: &BTreeMap<String, FileEntry>) -> Result<(), SecretsError> {
        let werr = |source| SecretsError::Write {
            path: self.path.clone(),
            source,
        };
        let text = toml::to_string(all)
            .map_err(|e| werr(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
        if let Some(dir) = self.path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(werr)?;
            }
        }
        let mut tmp_name = self.path.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(".tmp");
        let tmp = self.path.with_file_name(tmp_name);
        let _ = std::fs::remove_file(&tmp);
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(werr)?;
        f.write_all(b"# Sunward source secrets. Keep this file private (mode 0600).\n")
            .and_then(|_| f.write_all(text.as_bytes()))
            .and_then(|_| f.sync_all())
            .map_err(werr)?;
        std::fs::rename(&tmp, &self.path).map_err(werr)
    }

    fn file_get(&self, name: &str) -> Result<SourceSecrets, SecretsError> {
        let mut all = self.read_all()?;
        Ok(match all.remove(name) {
            Some(e) => SourceSecrets {
                token: e.token.map(Secret),
                secret: e.secret.map(Secret),
            },
            None => SourceSecrets::default(),
        })
    }

    fn file_set(&self, name: &str, s: &SourceSecrets) -> Result<(), SecretsError> {
        let mut all = self.read_all()?;
        if s.token.is_none() && s.secret.is_none() {
            if all.remove(name).is_none() {
                return Ok(());
            }
        } else {
            all.insert(
                name.to_string(),
                FileEntry {
                    token: s.token.as_ref().map(|t| t.0.clone()),
                    secret: s.secret.as_ref().map(|t| t.0.clone()),
                },
            );
        }
        self.write_all(&all)
    }
}

/// A Secret Service session with an unlocked default collection, or why not.
async fn connect_keyring() -> Result<SecretService<'static>, String> {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        return Err("no D-Bus session bus".into());
    }
    let ss = SecretService::connect(EncryptionType::Dh)
        .await
        .map_err(|e| e.to_string())?;
    let c = ss
        .get_default_collection()
        .await
        .map_err(|e| e.to_string())?;
    // A locked keyring would pop up a password prompt on a wall screen: use the file instead.
    if c.is_locked().await.map_err(|e| e.to_string())? {
        return Err("the default keyring is locked".into());
    }
    Ok(ss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact() {
        let s = SourceSecrets {
            token: Some(Secret::new("tok-123")),
            secret: Some(Secret::new("shh")),
        };
        let shown = format!("{s:?} {}", s.token.as_ref().unwrap());
        assert!(
            !shown.contains("tok-123") && !shown.contains("shh"),
            "{shown}"
        );
    }

    #[test]
    fn file_is_0600_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let store = SecretStore::for_db(dir.path().join("s.db"));
        assert_eq!(store.file_get("a").unwrap(), SourceSecrets::default());
        let s = SourceSecrets {
            token: None,
            secret: Some(Secret::new("k")),
        };
        store.file_set("a", &s).unwrap();
        assert_eq!(store.file_get("a").unwrap(), s);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path())
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o600);
            std::fs::set_permissions(store.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                store.file_get("a"),
                Err(SecretsError::Permissions { .. })
            ));
            std::fs::set_permissions(store.path(), std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        store.file_set("a", &SourceSecrets::default()).unwrap();
        assert_eq!(store.file_get("a").unwrap(), SourceSecrets::default());
    }
}
