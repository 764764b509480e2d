//! Schema migrations, applied in order at every start of the server (and by the
//! `migration` CLI). One migration per change; a landed migration is never edited.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_units_users_audit;
mod m20261127_000002_frameworks;
mod m20261127_000003_assessments;
mod m20261127_000004_remediation;
mod m20261127_000005_units_path_range;
mod m20261128_000006_audit_results_year;
mod m20261128_000007_remediation_as_written;
mod m20261128_000008_evidence_files;
mod m20261129_000009_two_tier;
mod m20261129_000010_webhooks;
mod m20261129_000011_leader_approval;
mod m20261129_000012_appeals;
mod m20261206_000013_one_open_appeal;
mod m20261207_000014_health_probe;
mod m20261207_000015_result_documents;
mod m20261207_000016_appraiser_role;
mod m20261208_000017_agency_appraisal;
mod m20261208_000018_penalties;
mod m20261208_000019_indicator_values;
mod m20261209_000020_components;
mod m20261210_000021_calendar;
mod m20261210_000022_criterion_mappings;
mod m20261211_000023_notifications;
mod m20261212_000024_api_keys;
mod m20261213_000025_evidence_signatures;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_units_users_audit::Migration),
            Box::new(m20261127_000002_frameworks::Migration),
            Box::new(m20261127_000003_assessments::Migration),
            Box::new(m20261127_000004_remediation::Migration),
            Box::new(m20261127_000005_units_path_range::Migration),
            Box::new(m20261128_000006_audit_results_year::Migration),
            Box::new(m20261128_000007_remediation_as_written::Migration),
            Box::new(m20261128_000008_evidence_files::Migration),
            Box::new(m20261129_000009_two_tier::Migration),
            Box::new(m20261129_000010_webhooks::Migration),
            Box::new(m20261129_000011_leader_approval::Migration),
            Box::new(m20261129_000012_appeals::Migration),
            Box::new(m20261206_000013_one_open_appeal::Migration),
            Box::new(m20261207_000014_health_probe::Migration),
            Box::new(m20261207_000015_result_documents::Migration),
            Box::new(m20261207_000016_appraiser_role::Migration),
            Box::new(m20261208_000017_agency_appraisal::Migration),
            Box::new(m20261208_000018_penalties::Migration),
            Box::new(m20261208_000019_indicator_values::Migration),
            Box::new(m20261209_000020_components::Migration),
            Box::new(m20261210_000021_calendar::Migration),
            Box::new(m20261210_000022_criterion_mappings::Migration),
            Box::new(m20261211_000023_notifications::Migration),
            Box::new(m20261212_000024_api_keys::Migration),
            Box::new(m20261213_000025_evidence_signatures::Migration),
        ]
    }
}
