//! A fresh database per test: a temporary directory for SQLite, a new database for PostgreSQL.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{AssertSqlSafe, Connection, Executor};

/// Which store a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite in the data directory.
    Sqlite,
    /// PostgreSQL at `HOLDFAST_TEST_POSTGRES_URL` (default: the local server).
    Postgres,
}

/// Where the tests find PostgreSQL; the test command makes sure one runs there.
pub fn postgres_admin_url() -> String {
    std::env::var("HOLDFAST_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

impl Backend {
    /// The `--database` URL for a new, empty database (`None` for embedded SQLite).
    pub async fn fresh_database(self) -> Option<String> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let mut connection = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|error| {
                    panic!(
                        "PostgreSQL is needed for this test and cannot be reached at {admin}: {error}. \
                         Run the README's test command (scripts/test.sh), which starts one, or set HOLDFAST_TEST_POSTGRES_URL."
                    )
                });
                let name = format!("holdfast_test_{}", unique_suffix());
                // The name is ours: letters, digits and underscores only.
                connection
                    .execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .expect("CREATE DATABASE");
                let (base, _) = admin
                    .rsplit_once('/')
                    .expect("a database URL ends in /NAME");
                Some(format!("{base}/{name}"))
            }
        }
    }
}

fn unique_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{:x}_{:x}_{}",
        nanos,
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
