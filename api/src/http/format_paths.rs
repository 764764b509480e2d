//! One media type per operation. Operations that read or write several media types (a
//! download in `format=csv|xlsx|…`, an upload as JSON or a spreadsheet) are also served
//! at one path per media type, `{path}.{ext}`, which the OpenAPI document describes with
//! that type alone: a typed client cannot tie a response's type to a query value, nor
//! send a body of a type it did not generate. The path without a suffix keeps working as
//! it did (with `format`), and the document describes it with its default type.
//!
//! The table below is the one place: the router rewrites `{path}.{ext}` to `{path}` (with
//! `format={ext}` for downloads) before routing, and the document's step
//! (`crate::openapi`) makes the operations from it.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Uri;
use actix_web::middleware::Next;

pub const JSON: &str = "application/json";
pub const CSV: &str = "text/csv";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub const PDF: &str = "application/pdf";

/// How the operation tells its formats apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Told {
    /// A download: by the `format` query parameter.
    ByFormatQuery,
    /// An upload: by the body's `Content-Type`.
    ByContentType,
}

/// An operation with several media types.
#[derive(Debug)]
pub struct FormatPath {
    /// The path template as in the document, e.g. `/api/v1/units/{id}/appendix`.
    pub path: &'static str,
    /// Lower-case, as in the document.
    pub method: &'static str,
    pub told: Told,
    /// Each format: the path suffix (and `format` value) and its media type. The first is
    /// the one the path without a suffix is documented with (the default download).
    pub formats: &'static [(&'static str, &'static str)],
}

pub const FORMAT_PATHS: &[FormatPath] = &[
    FormatPath {
        path: "/api/v1/frameworks/import",
        method: "post",
        told: Told::ByContentType,
        formats: &[("xlsx", XLSX), ("csv", CSV)],
    },
    FormatPath {
        path: "/api/v1/frameworks/{id}/criteria",
        method: "put",
        told: Told::ByContentType,
        formats: &[("json", JSON), ("xlsx", XLSX), ("csv", CSV)],
    },
    FormatPath {
        path: "/api/v1/frameworks/{id}/survey-results",
        method: "post",
        told: Told::ByContentType,
        formats: &[("json", JSON), ("xlsx", XLSX), ("csv", CSV)],
    },
    FormatPath {
        path: "/api/v1/self-assessments/{id}/entries",
        method: "put",
        told: Told::ByContentType,
        formats: &[("json", JSON), ("xlsx", XLSX)],
    },
    FormatPath {
        path: "/api/v1/appraisals/{id}/entries",
        method: "put",
        told: Told::ByContentType,
        formats: &[("json", JSON), ("xlsx", XLSX)],
    },
    FormatPath {
        path: "/api/v1/frameworks/{id}/export",
        method: "get",
        told: Told::ByFormatQuery,
        formats: &[("json", JSON), ("csv", CSV), ("xlsx", XLSX)],
    },
    FormatPath {
        path: "/api/v1/rankings/export",
        method: "get",
        told: Told::ByFormatQuery,
        formats: &[("xlsx", XLSX), ("csv", CSV)],
    },
    FormatPath {
        path: "/api/v1/units/{id}/appendix",
        method: "get",
        told: Told::ByFormatQuery,
        formats: &[("xlsx", XLSX), ("csv", CSV), ("docx", DOCX), ("pdf", PDF)],
    },
    FormatPath {
        path: "/api/v1/remediation-plans/{id}/report",
        method: "get",
        told: Told::ByFormatQuery,
        formats: &[("json", JSON), ("xlsx", XLSX), ("csv", CSV)],
    },
    FormatPath {
        path: "/api/v1/remediation-plans/{id}/letter",
        method: "get",
        told: Told::ByFormatQuery,
        formats: &[("docx", DOCX), ("pdf", PDF)],
    },
    FormatPath {
        path: "/api/v1/self-assessments/{id}/report",
        method: "get",
        told: Told::ByFormatQuery,
        formats: &[("docx", DOCX), ("pdf", PDF)],
    },
    FormatPath {
        path: "/api/v1/publications/{id}/decision",
        method: "get",
        told: Told::ByFormatQuery,
        formats: &[("docx", DOCX), ("pdf", PDF)],
    },
];

/// Whether `path` (a request's) has the shape of `template` (`{…}` matches one segment).
fn fits(template: &str, path: &str) -> bool {
    let (mut t, mut p) = (template.split('/'), path.split('/'));
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(t), Some(p)) if t.starts_with('{') && !p.is_empty() => {}
            (Some(t), Some(p)) if t == p => {}
            _ => return false,
        }
    }
}

/// The operation and format a request path names with a suffix, if any.
pub fn suffixed(path: &str) -> Option<(&'static FormatPath, &'static str)> {
    let (base, ext) = path.rsplit_once('.')?;
    // A suffix only ever follows a literal last segment (`…/appendix.csv`).
    if base.ends_with('/') || ext.contains('/') {
        return None;
    }
    FORMAT_PATHS.iter().find_map(|fp| {
        let format = fp.formats.iter().find(|(e, _)| *e == ext)?;
        fits(fp.path, base).then_some((fp, format.0))
    })
}

/// Serves `{path}.{ext}` as `{path}` (with `format={ext}` for a download), before routing.
/// A `format` the caller also sent is refused by the query's parser as a duplicate.
pub async fn rewrite(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some((fp, ext)) = suffixed(req.path()) {
        let path = req.path();
        let base = &path[..path.len() - ext.len() - 1];
        let query = match (fp.told, req.query_string()) {
            (Told::ByContentType, "") => String::new(),
            (Told::ByContentType, q) => format!("?{q}"),
            (Told::ByFormatQuery, "") => format!("?format={ext}"),
            (Told::ByFormatQuery, q) => format!("?{q}&format={ext}"),
        };
        if let Ok(uri) = format!("{base}{query}").parse::<Uri>() {
            req.head_mut().uri = uri;
            let uri = req.head().uri.clone();
            req.match_info_mut().get_mut().update(&uri);
        }
    }
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suffix_names_its_operation_and_format() {
        let (fp, ext) = suffixed("/api/v1/units/12/appendix.csv").unwrap();
        assert_eq!((fp.path, ext), ("/api/v1/units/{id}/appendix", "csv"));
        let (fp, ext) = suffixed("/api/v1/self-assessments/3/entries.xlsx").unwrap();
        assert_eq!((fp.told, ext), (Told::ByContentType, "xlsx"));
        assert!(suffixed("/api/v1/units/12/appendix.exe").is_none());
        assert!(suffixed("/api/v1/units/12/appendix").is_none());
        assert!(suffixed("/api/v1/units/12.csv").is_none());
        assert!(suffixed("/api/v1/units//appendix.csv").is_none());
        assert!(suffixed("/api/v1/self-assessments/3/evidence.zip").is_none());
    }

    #[test]
    fn every_format_has_one_media_type_and_the_first_is_the_default() {
        for fp in FORMAT_PATHS {
            assert!(fp.formats.len() > 1, "{}", fp.path);
            let mut exts: Vec<_> = fp.formats.iter().map(|(e, _)| e).collect();
            exts.sort();
            exts.dedup();
            assert_eq!(exts.len(), fp.formats.len(), "{}", fp.path);
        }
    }
}
