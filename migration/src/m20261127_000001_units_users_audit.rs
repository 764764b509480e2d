//! The unit tree, accounts, officers, failed logins and the audit trail.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("units")
                    .col(big_pk_auto("id"))
                    .col(string_uniq("code"))
                    .col(string("name"))
                    // Lower case without diacritics ("vinh long"), for accent-insensitive
                    // search that behaves the same on SQLite and PostgreSQL.
                    .col(string("name_search"))
                    .col(string("kind"))
                    .col(big_integer_null("parent_id"))
                    // Materialised path of ids, e.g. "/1/5/23/": a subtree is a prefix match.
                    .col(string("path"))
                    .col(integer("depth"))
                    .col(boolean("active").default(true))
                    .col(integer("version").default(1))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_units_parent")
                            .from("units", "parent_id")
                            .to("units", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_units_parent")
                    .table("units")
                    .col("parent_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_units_path")
                    .table("units")
                    .col("path")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("users")
                    .col(big_pk_auto("id"))
                    .col(string_uniq("username"))
                    .col(string("password_hash"))
                    .col(string("full_name"))
                    .col(string("role"))
                    .col(big_integer_null("unit_id"))
                    .col(boolean("active").default(true))
                    // Bumped on password change and deactivation: older tokens stop working.
                    .col(integer("token_version").default(0))
                    .col(integer("version").default(1))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_users_unit")
                            .from("users", "unit_id")
                            .to("units", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("staff")
                    .col(big_pk_auto("id"))
                    .col(big_integer("unit_id"))
                    .col(string("full_name"))
                    .col(string("title"))
                    .col(big_integer_null("user_id"))
                    .col(boolean("active").default(true))
                    .col(integer("version").default(1))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_staff_unit")
                            .from("staff", "unit_id")
                            .to("units", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_staff_user")
                            .from("staff", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_staff_unit")
                    .table("staff")
                    .col("unit_id")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("login_failures")
                    .col(big_pk_auto("id"))
                    .col(string("username"))
                    .col(string("ip"))
                    .col(timestamp_with_time_zone("at"))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_login_failures_username", "username"),
            ("ix_login_failures_ip", "ip"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table("login_failures")
                        .col(col)
                        .col("at")
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("audit_events")
                    .col(big_pk_auto("id"))
                    .col(timestamp_with_time_zone("at"))
                    .col(big_integer_null("actor_user_id"))
                    .col(string("actor_username"))
                    .col(string("entity"))
                    .col(big_integer("entity_id"))
                    .col(string("action"))
                    // The unit the changed record belongs to, for scoped reading.
                    .col(big_integer_null("unit_id"))
                    .col(text_null("old_value"))
                    .col(text_null("new_value"))
                    .col(string_null("request_id"))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("ix_audit_entity", &["entity", "entity_id"][..]),
            ("ix_audit_unit", &["unit_id"][..]),
            ("ix_audit_at", &["at"][..]),
        ] {
            let mut index = Index::create().name(name).table("audit_events").to_owned();
            for c in cols {
                index.col(*c);
            }
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["audit_events", "login_failures", "staff", "users", "units"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
