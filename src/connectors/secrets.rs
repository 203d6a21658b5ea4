//! Secrets of sources (API tokens, webhook signing secrets), kept OUT of the database.
//!
//! They live in a TOML file beside the database, `<db file>.secrets.toml`, created with mode
//! 0600 and replaced atomically (write a 0600 temporary file, then rename). A file that others
//! can read is refused, as ssh refuses a private key with loose permissions. Values are wrapped
//! in [`Secret`], whose `Debug` and `Display` print `***`, so a secret cannot reach a log line
//! or an API answer by accident. See docs/sources.md for why not the OS keyring.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

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
}

/// The secrets file of one database.
#[derive(Debug, Clone)]
pub struct SecretStore {
    path: PathBuf,
}

impl SecretStore {
    /// `<db file>.secrets.toml`: beside the database it belongs to, never inside it.
    pub fn for_db(db: &Path) -> SecretStore {
        let mut name = db.file_name().unwrap_or_default().to_os_string();
        name.push(".secrets.toml");
        SecretStore {
            path: db.with_file_name(name),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
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

    /// The secrets of `name` (empty when it has none).
    pub fn get(&self, name: &str) -> Result<SourceSecrets, SecretsError> {
        let mut all = self.read_all()?;
        Ok(match all.remove(name) {
            Some(e) => SourceSecrets {
                token: e.token.map(Secret),
                secret: e.secret.map(Secret),
            },
            None => SourceSecrets::default(),
        })
    }

    /// Sets (or, when both are `None`, removes) the secrets of `name`.
    pub fn set(&self, name: &str, s: &SourceSecrets) -> Result<(), SecretsError> {
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

    pub fn remove(&self, name: &str) -> Result<(), SecretsError> {
        self.set(name, &SourceSecrets::default())
    }
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
        let store = SecretStore::for_db(&dir.path().join("s.db"));
        assert_eq!(store.get("a").unwrap(), SourceSecrets::default());
        let s = SourceSecrets {
            token: None,
            secret: Some(Secret::new("k")),
        };
        store.set("a", &s).unwrap();
        assert_eq!(store.get("a").unwrap(), s);
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
                store.get("a"),
                Err(SecretsError::Permissions { .. })
            ));
            std::fs::set_permissions(store.path(), std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        store.remove("a").unwrap();
        assert_eq!(store.get("a").unwrap(), SourceSecrets::default());
    }
}
