//! What the printed papers share over HTTP: the query that issues one (format, number,
//! date, recipients, signer) and the response that carries it as DOCX or PDF. The papers'
//! endpoints live with their resources (remediation plans, publications,
//! self-assessments, units' appendix).

use crate::config::Config;
use crate::documents::{DOCX_CONTENT_TYPE, PDF_CONTENT_TYPE, pdf};
use crate::error::{ApiResult, Violations};
use crate::services::papers::Issue;
use crate::sheets;
use actix_web::HttpResponse;
use actix_web::http::header;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// How a paper is delivered.
#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PaperFormat {
    /// Office Open XML, editable (needs nothing on the server).
    #[default]
    Docx,
    /// Printed from the DOCX by LibreOffice (needs `PARINDEX_SOFFICE` on the server).
    Pdf,
}

/// Who signs on the committee's behalf.
#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SignerPosition {
    /// "TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH".
    #[default]
    Chairman,
    /// "TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH".
    ViceChairman,
}

/// At most this many recipients, each at most `MAX_RECIPIENT_CHARS`.
pub const MAX_RECIPIENTS: usize = 20;
pub const MAX_RECIPIENT_CHARS: usize = 120;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaperQuery {
    /// `docx` (default) or `pdf`: PDF is printed by LibreOffice and answers 406 when the
    /// server has no `PARINDEX_SOFFICE`.
    pub format: Option<PaperFormat>,
    /// The number and symbol given on issue, e.g. `45/UBND-CCHC`. Omitted, the number is left
    /// blank before the symbol ("Số:      /UBND-CCHC"), as on a paper not yet issued.
    #[param(max_length = 100)]
    pub number: Option<String>,
    /// The date of issue. Omitted, the day and month are left blank for the clerk. (Also
    /// read as `date`, its former name: generators reserve that word.)
    #[serde(alias = "date")]
    pub issued_on: Option<NaiveDate>,
    /// Whom the paper addresses ("Kính gửi"; for a results notice, "Nơi nhận"), separated by
    /// `;`, at most 20 of at most 120 characters (a query line is read up to 32 KiB). Omitted, they come from the data.
    #[param(max_length = 2420)]
    pub recipients: Option<String>,
    /// The signer's name. Omitted: the approving leader (report) or the issuing unit's first
    /// active `unit_leader` account; blank if there is none.
    #[param(max_length = 100)]
    pub signer: Option<String>,
    /// `chairman` (default) or `vice_chairman` (signs "KT. CHỦ TỊCH").
    pub signer_position: Option<SignerPosition>,
}

impl PaperQuery {
    /// The issue's details, checked (422 naming each bad parameter).
    pub fn issue(&self) -> ApiResult<Issue> {
        let mut v = Violations::new();
        let number =
            crate::validation::optional_text(&mut v, "number", self.number.as_deref(), 100);
        let signer =
            crate::validation::optional_text(&mut v, "signer", self.signer.as_deref(), 100);
        let recipients = self.recipients.as_deref().map(|all| {
            let list: Vec<String> = all
                .split(';')
                .enumerate()
                .filter_map(|(i, r)| {
                    crate::validation::optional_text(
                        &mut v,
                        &format!("recipients[{i}]"),
                        Some(r),
                        MAX_RECIPIENT_CHARS,
                    )
                })
                .collect();
            if list.len() > MAX_RECIPIENTS {
                v.add(
                    "recipients",
                    "too_many",
                    crate::error::text!(
                        "at most {MAX_RECIPIENTS} recipients",
                        "tối đa {MAX_RECIPIENTS} nơi nhận"
                    ),
                );
            }
            list
        });
        v.into_result()?;
        Ok(Issue {
            number,
            date: self.issued_on,
            recipients: recipients.filter(|r| !r.is_empty()),
            signer,
            deputy: self.signer_position == Some(SignerPosition::ViceChairman),
        })
    }
}

/// Renders a paper and sends it in the format the query asks for.
pub async fn print(
    config: &Config,
    paper: &crate::documents::Paper,
    query: &PaperQuery,
    stem: &str,
) -> ApiResult<HttpResponse> {
    let docx = crate::documents::render(paper).map_err(crate::error::ApiError::internal)?;
    paper_response(config, docx, query.format.unwrap_or_default(), stem).await
}

/// The paper as an attachment named `<stem>.docx` or `<stem>.pdf`.
pub async fn paper_response(
    config: &Config,
    docx: Vec<u8>,
    format: PaperFormat,
    stem: &str,
) -> ApiResult<HttpResponse> {
    let (bytes, content_type, extension) = match format {
        PaperFormat::Docx => (docx, DOCX_CONTENT_TYPE, "docx"),
        PaperFormat::Pdf => (
            pdf::convert(config.soffice.as_deref(), docx).await?,
            PDF_CONTENT_TYPE,
            "pdf",
        ),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            sheets::content_disposition(&format!("{stem}.{extension}")),
        ))
        .body(bytes))
}
