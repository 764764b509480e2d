//! OpenAPI schemas of the decimal wire formats, referenced with
//! `#[schema(value_type = …)]` on `rust_decimal::Decimal` fields.
//!
//! Requests may send a decimal as a JSON number (`0.5`) or a string (`"0.5"`); responses
//! always send strings with two decimals (`"87.25"`), so no client parses a score as a
//! binary float by accident.

use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
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

/// File bodies: `type: string, format: binary` with the file's `contentMediaType`, so that
/// generated clients hand over bytes (a `Blob`, `File` or `bytes`), never text they decode
/// or JSON they parse.
macro_rules! binary_file {
    ($($(#[doc = $doc:literal])* $name:ident: $media_type:literal, $description:literal;)*) => {$(
        $(#[doc = $doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                RefOr::T(Schema::Object(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::Custom("binary".to_string())))
                        .content_media_type($media_type)
                        .description(Some($description))
                        .build(),
                ))
            }
        }

        impl ToSchema for $name {}
    )*};
}

binary_file! {
    /// An XLSX workbook.
    XlsxFile: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "An XLSX workbook (Office Open XML), as bytes.";
    /// A CSV file.
    CsvFile: "text/csv",
        "CSV as bytes: UTF-8, comma-separated, one header row. Downloads start with a UTF-8 \
         byte-order mark (EF BB BF) so that Excel shows Vietnamese text correctly; strip it \
         before parsing if your CSV reader does not. Uploads may have one or not.";
    /// An SVG image.
    SvgImage: "image/svg+xml",
        "An SVG image (UTF-8 XML without scripts), as bytes.";
    /// An evidence file's bytes, as uploaded.
    EvidenceBytes: "application/octet-stream",
        "The file's bytes exactly as uploaded; its real type is the response's Content-Type \
         (e.g. application/pdf).";
    /// A DOCX document.
    DocxFile: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "A DOCX document (Office Open XML), as bytes: A4, Times New Roman, laid out as \
         Nghị định 30/2020/NĐ-CP prescribes for administrative documents.";
    /// A PDF document.
    PdfFile: "application/pdf",
        "A PDF document, as bytes: the DOCX printed by LibreOffice.";
    /// A zip archive.
    ZipFile: "application/zip",
        "A zip archive (entries stored uncompressed), as bytes.";
}

/// A JSON object of any shape (e.g. a record's fields as the audit trail stored them):
/// generated clients get a map of unknown values, not an empty object type.
pub struct JsonObject;

impl PartialSchema for JsonObject {
    fn schema() -> RefOr<Schema> {
        RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .additional_properties(Some(
                    utoipa::openapi::schema::AdditionalProperties::FreeForm(true),
                ))
                .description(Some("A JSON object; its keys depend on the record"))
                .build(),
        ))
    }
}

impl ToSchema for JsonObject {}
