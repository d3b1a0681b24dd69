//! [`super::MaintenanceStore`] on PostgreSQL: the scheduling transaction takes a
//! transaction-level advisory lock, so schedulers on every node queue for it and each checks
//! against what the previous one committed.

use crate::PostgresStore;

/// The advisory lock key of maintenance scheduling ("holdfast maintenance" in spirit).
const MAINTENANCE_LOCK: i64 = 0x686f_6c64_6d61_696e;

impl PostgresStore {
    /// A transaction holding the maintenance advisory lock until it ends.
    async fn maintenance_lock(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MAINTENANCE_LOCK)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }
}

super::impl_maintenance_store!(
    PostgresStore,
    sqlx::Postgres,
    super::numbered,
    pool,
    pool,
    maintenance_lock
);
