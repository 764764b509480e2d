//! OpenAPI schemas of the decimal wire formats, referenced with
//! `#[schema(value_type = …)]` on `rust_decimal::Decimal` fields.
//!
//! Requests may send a decimal as a JSON number (`0.5`) or a string (`"0.5"`); responses
//! always send strings with two decimals (`"87.25"`), so no client parses a score as a
//! binary float by accident.

use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// A decimal in a request: a JSON number or a numeric string.
pub struct DecimalInput;

impl PartialSchema for DecimalInput {
    fn schema() -> RefOr<Schema> {
        RefOr::T(Schema::OneOf(
            OneOfBuilder::new()
                .item(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some(r"^-?[0-9]+(\.[0-9]+)?$"))
                        .build(),
                )
                .item(ObjectBuilder::new().schema_type(Type::Number).build())
                .description(Some(
                    "A decimal, as a JSON number (0.5) or a string (\"0.5\"); scores take at most 2 decimal places",
                ))
                .examples(["0.5"])
                .build(),
        ))
    }
}

impl ToSchema for DecimalInput {}

/// A raw figure in a request (a numerator, denominator or value): 0 to 1,000,000,000, as a
/// JSON number or a numeric string.
pub struct FigureInput;

impl PartialSchema for FigureInput {
    fn schema() -> RefOr<Schema> {
        RefOr::T(Schema::OneOf(
            OneOfBuilder::new()
                .item(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some(r"^[0-9]{1,10}(\.[0-9]{1,4})?$"))
                        .build(),
                )
                .item(
                    ObjectBuilder::new()
                        .schema_type(Type::Number)
                        .minimum(Some(0))
                        .maximum(Some(1_000_000_000))
                        .build(),
                )
                .description(Some(
                    "A figure from 0 to 1,000,000,000 with at most 4 decimal places, as a JSON number (118) or a string (\"118\")",
                ))
                .examples(["118"])
                .build(),
        ))
    }
}

impl ToSchema for FigureInput {}

/// A score in a response: a string with exactly two decimals.
pub struct Score;

impl PartialSchema for Score {
    fn schema() -> RefOr<Schema> {
        RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^-?[0-9]+\.[0-9]{2}$"))
                .description(Some("An exact decimal with two places, as a string"))
                .examples(["87.25"])
                .build(),
        ))
    }
}

impl ToSchema for Score {}

/// A decimal parameter echoed in a response (e.g. a target of `"0.30"`), as a string.
pub struct DecimalString;

impl PartialSchema for DecimalString {
    fn schema() -> RefOr<Schema> {
        RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^-?[0-9]+(\.[0-9]+)?$"))
                .description(Some("An exact decimal, as a string"))
                .examples(["0.30"])
                .build(),
        ))
    }
}

impl ToSchema for DecimalString {}

/// A file in a request or response body (CSV or XLSX).
pub struct BinaryFile;

impl PartialSchema for BinaryFile {
    fn schema() -> RefOr<Schema> {
        RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .content_media_type("application/octet-stream")
                .description(Some("The file's bytes"))
                .build(),
        ))
    }
}

impl ToSchema for BinaryFile {}
