//! API tokens (src/auth.rs): issue, look up by hash, list, revoke.

use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError};
use crate::auth::{token_hash, Principal, Role};

#[derive(Debug, Clone, Serialize)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl Store {
    /// Stores the hash of `token` for `name` with `role`; returns the token's id.
    pub async fn token_add(
        &self,
        name: &str,
        role: Role,
        token: &str,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            let r = sqlx::query(
                "INSERT INTO api_tokens (name, role, hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(name)
            .bind(role.as_str())
            .bind(token_hash(token))
            .bind(now_ms)
            .fetch_one(&mut *w)
            .await?;
            Ok(r.try_get(0)?)
        })
    }

    /// The holder of `token`, if it was issued and not revoked.
    pub async fn token_principal(&self, token: &str) -> Result<Option<Principal>, StoreError> {
        on_db!(self, s => {
            let row = sqlx::query(
                "SELECT name, role FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL",
            )
            .bind(token_hash(token))
            .fetch_optional(s.read_pool())
            .await?;
            Ok(row.and_then(|r| {
                let role: String = r.get(1);
                role.parse()
                    .ok()
                    .map(|role| Principal::new(r.get::<String, _>(0), role))
            }))
        })
    }

    pub async fn token_list(&self) -> Result<Vec<TokenRow>, StoreError> {
        on_db!(self, s => {
            let rows = sqlx::query(
                "SELECT id, name, role, created_at, revoked_at FROM api_tokens ORDER BY id",
            )
            .fetch_all(s.read_pool())
            .await?;
            Ok(rows
                .into_iter()
                .filter_map(|r| {
                    Some(TokenRow {
                        id: r.get(0),
                        name: r.get(1),
                        role: r.get::<String, _>(2).parse().ok()?,
                        created_at: r.get(3),
                        revoked_at: r.get(4),
                    })
                })
                .collect())
        })
    }

    /// Revokes every live token of `name`; returns how many.
    pub async fn token_revoke(&self, name: &str, now_ms: i64) -> Result<u64, StoreError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            let r = sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL",
            )
            .bind(now_ms)
            .bind(name)
            .execute(&mut *w)
            .await?;
            Ok(r.rows_affected())
        })
    }
}

dual! {}
