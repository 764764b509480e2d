use sea_orm::entity::prelude::*;

/// An uploaded evidence document of a unit: its metadata. The bytes live in the blob store
/// under `sha256` (the same content is stored once, whoever uploads it).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "evidence_files")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub unit_id: i64,
    /// The assessment year the file was uploaded for.
    pub year: i32,
    /// The original name, as the uploader's system gave it (normalised to NFC).
    pub filename: String,
    /// Decided from the content's first bytes, never from the name or the client.
    pub content_type: String,
    pub size: i64,
    /// Lower-case hex.
    pub sha256: String,
    pub created_at: DateTimeUtc,
    pub created_by: Option<i64>,
    /// The PDF's digital signatures as verified (`signatures::SignatureCheck`, a JSON
    /// array); null when not checked (not a PDF, or uploaded before they were).
    pub signatures: Option<String>,
    pub signatures_checked_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
