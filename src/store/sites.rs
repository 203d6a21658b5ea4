//! Follow-the-sun sites (src/sites): definitions stored as checked JSON.

use sqlx::Row;

use super::{Store, StoreError};
use crate::sites::SiteSpec;

impl Store {
    /// Inserts or replaces each site, all in one transaction.
    pub async fn sites_put(&self, specs: &[SiteSpec], now_ms: i64) -> Result<(), StoreError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            let mut tx = sqlx::Connection::begin(&mut *w).await?;
            for spec in specs {
                let json = serde_json::to_string(spec)
                    .map_err(|e| StoreError::Sql(sqlx::Error::Protocol(e.to_string())))?;
                sqlx::query(
                    "INSERT INTO sites (name, spec, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at",
                )
                .bind(&spec.name)
                .bind(json)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Every stored site definition, by name. A row that no longer parses is skipped with a
    /// warning (it was checked when written; only a hand-edited database gets here).
    pub async fn sites_list(&self) -> Result<Vec<SiteSpec>, StoreError> {
        on_db!(self, s => {
            let rows = sqlx::query("SELECT name, spec FROM sites ORDER BY name")
                .fetch_all(s.read_pool())
                .await?;
            Ok(rows
                .iter()
                .filter_map(|r| {
                    let name: String = r.get(0);
                    let spec: String = r.get(1);
                    serde_json::from_str(&spec)
                        .map_err(
                            |e| tracing::warn!(site = %name, error = %e, "unreadable site row"),
                        )
                        .ok()
                })
                .collect())
        })
    }

    /// `false` when there was no such site.
    pub async fn sites_remove(&self, name: &str) -> Result<bool, StoreError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            let r = sqlx::query("DELETE FROM sites WHERE name = $1")
                .bind(name)
                .execute(&mut *w)
                .await?;
            Ok(r.rows_affected() > 0)
        })
    }
}

dual! {}
