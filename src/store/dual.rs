//! One body of SQL code for both databases.
//!
//! sqlx types each query by its database (`SqliteRow` vs `PgRow`, `SqliteConnection` vs
//! `PgConnection`), and generic code over `sqlx::Database` drowns in trait bounds. Instead an
//! area module writes its SQL once and these macros compile it twice:
//! - `dual! { items }` puts the area's helper functions (row mappers, in-transaction helpers)
//!   into two modules, `sq` and `pg`, each with its own `DB`, `Conn`, `DbRow`, `BEGIN_SQL` and
//!   `PG` (true for PostgreSQL, for the few statements whose dialects differ);
//! - `on_db!(self, s => { body })` runs `body` with `s` bound to the SQLite or the PostgreSQL
//!   store, with that backend's `dual!` module glob-imported.
//!
//! Items inside `dual!` must be at least `pub(crate)`, or the area's `on_db!` bodies cannot
//! see them.
//!
//! Both backends give `s.read_pool()` (a pool for reads) and `s.writer().await?` (a connection
//! for one short transaction: SQLite's single writer, or a pooled PostgreSQL connection).

/// Compiles `items` once per backend into modules `sq` and `pg` (see the module docs).
/// `@import path;` first re-exports another area's `dual!` helpers into both modules.
macro_rules! dual {
    (@import $($seg:ident)::+; $($item:item)*) => {
        dual!(@with [$($seg)::+] $($item)*);
    };
    (@with [$($($imp:ident)::+)?] $($item:item)*) => {
        #[allow(dead_code, unused_imports)]
        pub(crate) mod sq {
            use super::*;
            $(pub(crate) use $($imp)::+::sq::*;)?
            pub(crate) type Backend = crate::store::SqliteStore;
            pub(crate) type DB = sqlx::Sqlite;
            pub(crate) type Conn = sqlx::SqliteConnection;
            pub(crate) type DbRow = sqlx::sqlite::SqliteRow;
            /// IMMEDIATE takes SQLite's write lock up front: no deadlocking upgrade later.
            pub(crate) const BEGIN_SQL: &str = "BEGIN IMMEDIATE";
            pub(crate) const PG: bool = false;
            $($item)*
        }
        #[allow(dead_code, unused_imports)]
        pub(crate) mod pg {
            use super::*;
            $(pub(crate) use $($imp)::+::pg::*;)?
            pub(crate) type Backend = crate::store::PgStore;
            pub(crate) type DB = sqlx::Postgres;
            pub(crate) type Conn = sqlx::PgConnection;
            pub(crate) type DbRow = sqlx::postgres::PgRow;
            pub(crate) const BEGIN_SQL: &str = "BEGIN";
            pub(crate) const PG: bool = true;
            $($item)*
        }
    };
    ($($item:item)*) => {
        dual!(@with [] $($item)*);
    };
}

/// Runs `body` against whichever database `store` is, with that backend's `dual!` module of
/// the calling area in scope (see the module docs).
macro_rules! on_db {
    ($store:expr, $s:ident => $body:block) => {
        match $store {
            $crate::store::Store::Sqlite($s) => {
                #[allow(unused_imports)]
                use sq::*;
                $body
            }
            $crate::store::Store::Postgres($s) => {
                #[allow(unused_imports)]
                use pg::*;
                $body
            }
        }
    };
}

/// Runs `body` (an async block evaluating to `Result<T, E>`) inside a transaction on
/// `conn`: committed when it returns `Ok`, rolled back otherwise.
#[allow(unused_macros)]
macro_rules! in_tx {
    ($conn:ident, $body:expr) => {{
        sqlx::query(BEGIN_SQL).execute(&mut *$conn).await?;
        let r = $body.await;
        match r {
            Ok(v) => {
                sqlx::query("COMMIT").execute(&mut *$conn).await?;
                Ok(v)
            }
            Err(e) => {
                let _ = sqlx::query("ROLLBACK").execute(&mut *$conn).await;
                Err(e)
            }
        }
    }};
}
