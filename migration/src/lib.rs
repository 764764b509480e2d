//! Schema migrations, applied in order at every start of the server (and by the
//! `migration` CLI). One migration per change; a landed migration is never edited.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_units_users_audit;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261127_000001_units_users_audit::Migration)]
    }
}
