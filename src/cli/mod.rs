//! Subcommands of the `sunward` binary that belong to one area each. Every area module exposes
//! a clap `Subcommand` enum and `async fn run(cmd) -> anyhow::Result<ExitCode>`; the binary
//! (src/bin/sunward.rs) adds one variant and one match arm per area. Every command with output
//! takes `--json`; exit code 0 = done, 2 = unusable input (with a message that says what to do).

pub mod agents;
pub mod alerts;
pub mod cases;
pub mod drills;
pub mod handoff;
pub mod kpi;
pub mod playbook;
pub mod sentiment;
pub mod sites;
pub mod tokens;
pub mod wall;

use std::path::PathBuf;

use crate::config::default_db_path;

/// Exit code for input the command cannot use (the message says why and what to pass).
pub const EXIT_UNUSABLE: u8 = 2;

#[derive(clap::Args, Clone, Debug)]
pub struct DbArg {
    /// SQLite database file, or a postgres://user@host/db URL for several sites on one
    /// database [default: $SUNWARD_DB or the user's data directory]
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<String>,
}

impl DbArg {
    pub fn target(&self) -> crate::store::DbTarget {
        match &self.db {
            Some(d) => crate::store::DbTarget::parse(d),
            None => crate::config::default_db(),
        }
    }

    /// Where local files of this database go (drill reports): the SQLite file, or the user's
    /// data directory for PostgreSQL.
    pub fn path(&self) -> PathBuf {
        match self.target() {
            crate::store::DbTarget::Sqlite(p) => p,
            crate::store::DbTarget::Postgres(_) => default_db_path(),
        }
    }

    /// Opens (or creates) the database. Creating one is said on stderr: a mistyped `--db`
    /// would otherwise answer "no alerts" from a new, empty file.
    pub async fn open(&self) -> anyhow::Result<crate::store::Store> {
        let target = self.target();
        let new_file = match &target {
            crate::store::DbTarget::Sqlite(p) => !p.exists(),
            crate::store::DbTarget::Postgres(_) => false,
        };
        let store = crate::store::Store::open(&target).await?;
        if new_file {
            eprintln!(
                "note: created a new, empty database at {} (pass --db PATH or set SUNWARD_DB to use an existing one)",
                self.path().display()
            );
        }
        Ok(store)
    }
}

/// Prints `v` as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}
