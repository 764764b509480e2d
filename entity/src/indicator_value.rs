use sea_orm::entity::prelude::*;

/// A value of a source system's indicator for one unit's criterion on a framework, with
/// its provenance; the council's input of the unit's file once it has one.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "indicator_values")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub framework_id: i64,
    pub unit_id: i64,
    pub year: i32,
    pub criterion_code: String,
    pub indicator_code: String,
    /// The method's inputs (JSON), as entries carry them.
    pub inputs: String,
    pub source_system: String,
    pub period_from: Option<Date>,
    pub period_to: Option<Date>,
    pub retrieved_at: DateTimeUtc,
    pub document_ref: Option<String>,
    pub imported_by: Option<i64>,
    pub imported_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
