//! The digital signatures of a PDF (ký số): for each, whether its signed bytes reach the end
//! of the file, whether the document's digest and the CMS signature verify, who signed it
//! (the certificate's subject, organisation, serial, validity), whether that certificate
//! chains to a trust anchor of the deployment (`PARINDEX_TRUST_ANCHORS`), and when it was
//! signed. Pure: bytes in, a verdict out, with well-kept RustCrypto crates (`cms`,
//! `x509-cert`, `rsa`, `p256`), no shelling out; bounded by `pdf::Budget`.
//!
//! Verified: CMS SignedData (PAdES `ETSI.CAdES.detached`, `adbe.pkcs7.detached`), RSA
//! PKCS #1 v1.5 and ECDSA P-256 signatures, SHA-256/384/512 digests; SHA-1, RSA-PSS and
//! other curves are reported as unsupported, never as valid. Revocation: CRLs embedded in
//! the signature (the SignedData's own, or Adobe's archival attribute) decide when their
//! issuer's signature verifies; embedded OCSP responses are reported as present and not
//! evaluated; without any, "not checked". Nothing is fetched.

pub mod pdf;

use chrono::{DateTime, Utc};
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::der::asn1::{ObjectIdentifier as Oid, OctetString};
use x509_cert::der::{self, Decode, Encode, Tagged};
use x509_cert::name::Name;
use x509_cert::spki::SubjectPublicKeyInfoOwned;

pub use pdf::{Budget, ScanError};

/// The certificates a deployment trusts as roots of signers' chains.
#[derive(Clone, Default)]
pub struct TrustAnchors {
    roots: Vec<Certificate>,
}

impl std::fmt::Debug for TrustAnchors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustAnchors")
            .field("roots", &self.roots.len())
            .finish()
    }
}

impl TrustAnchors {
    /// A PEM bundle (one or more `CERTIFICATE` blocks).
    pub fn from_pem(pem: &[u8]) -> Result<TrustAnchors, String> {
        let roots = Certificate::load_pem_chain(pem).map_err(|e| e.to_string())?;
        if roots.is_empty() {
            return Err("the bundle holds no certificate".into());
        }
        Ok(TrustAnchors { roots })
    }

    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }
}

/// Whether the signer's certificate chains to a trust anchor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    Trusted,
    /// Anchors are configured; this chain reaches none of them.
    Untrusted,
    /// No anchors are configured: the signature may be valid, its signer is not vouched for.
    NoAnchors,
}

/// What is known of the signer's certificate being revoked, from what the signature
/// embeds (nothing is fetched: the service may run on a closed network).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Revocation {
    /// The signature embeds no revocation data.
    NotChecked,
    /// An embedded CRL, signed by the certificate's issuer, does not list it (or lists it
    /// revoked only after the signing time).
    Good,
    /// An embedded CRL, signed by the certificate's issuer, lists it revoked at or before
    /// the signing time.
    Revoked,
    /// It embeds some that cannot decide: OCSP responses (not evaluated yet), or CRLs not
    /// verifiably from the certificate's issuer.
    EmbeddedNotEvaluated,
}

/// The one-word verdict, the worst that applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Intact, verified, by a certificate valid then and chaining to an anchor.
    Valid,
    /// Intact and verified, by a certificate an embedded CRL says was revoked then.
    Revoked,
    /// Intact and verified, but bytes were appended after it (incremental updates).
    ModifiedAfterSigning,
    /// Intact and verified, by a certificate outside its validity when it signed.
    CertificateExpired,
    /// Intact and verified, by a certificate that chains to no anchor (or none is set).
    NotTrusted,
    /// The document's digest or the signature does not verify, or it cannot be read.
    Invalid,
}

/// Who signed, from the certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Signer {
    /// The subject, RFC 4514 (`CN=Nguyễn Văn A,O=UBND xã Vĩnh Long,C=VN`).
    pub subject: String,
    pub common_name: Option<String>,
    pub organisation: Option<String>,
    /// The certificate's serial number, hexadecimal.
    pub serial: String,
    pub issuer: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// SHA-256 of the certificate (DER), hexadecimal: what an account may store to be
    /// recognised as this signer.
    pub fingerprint_sha256: String,
}

/// One signature of a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignatureCheck {
    pub verdict: Verdict,
    /// Why, in a sentence (English; the fields say it all in data).
    pub reason: String,
    /// `adbe.pkcs7.detached`, `ETSI.CAdES.detached`, …
    pub sub_filter: Option<String>,
    /// The signed bytes reach the end of the file: nothing was appended since.
    pub covers_whole_file: bool,
    /// The document's digest equals the one signed.
    pub digest_ok: bool,
    /// The signature verifies with the signer's key.
    pub signature_ok: bool,
    pub signer: Option<Signer>,
    /// The signing time the signature states (its signed attribute, else the dictionary's
    /// `/M`): claimed by the signer's software, not time-stamped.
    pub signing_time: Option<DateTime<Utc>>,
    /// The certificate was within its validity at the signing time (or now, without one).
    pub certificate_valid: bool,
    pub trust: Trust,
    pub revocation: Revocation,
}

impl Verdict {
    /// As a list says it.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Revoked => "revoked",
            Verdict::ModifiedAfterSigning => "modified after signing",
            Verdict::CertificateExpired => "certificate expired",
            Verdict::NotTrusted => "not trusted",
            Verdict::Invalid => "invalid",
        }
    }
}

/// `signed by Nguyễn Văn A (UBND xã Vĩnh Long): valid; Trần Thị B (…): not trusted`.
pub fn summary(checks: &[SignatureCheck]) -> Option<String> {
    if checks.is_empty() {
        return None;
    }
    let each: Vec<String> = checks
        .iter()
        .map(|c| {
            let who = c.signer.as_ref().map_or_else(
                || "an unreadable signer".to_string(),
                |s| {
                    let name = s.common_name.clone().unwrap_or_else(|| s.subject.clone());
                    match &s.organisation {
                        Some(org) => format!("{name} ({org})"),
                        None => name,
                    }
                },
            );
            format!("{who}: {}", c.verdict.label())
        })
        .collect();
    Some(format!("signed by {}", each.join("; ")))
}

/// Every signature of `file`, in file order (none: an unsigned file).
pub fn verify_pdf(
    file: &[u8],
    anchors: &TrustAnchors,
    budget: &Budget,
) -> Result<Vec<SignatureCheck>, ScanError> {
    let found = pdf::scan(file, budget)?;
    let whole: Vec<bool> = found
        .iter()
        .map(|f| f.covers_whole_file(file.len()))
        .collect();
    Ok(found
        .iter()
        .zip(&whole)
        .enumerate()
        .map(|(i, (one, covers))| {
            let later_whole = whole[i + 1..].iter().any(|w| *w);
            check_one(file, one, *covers, later_whole, anchors)
        })
        .collect())
}

fn check_one(
    file: &[u8],
    found: &pdf::Found,
    covers_whole_file: bool,
    later_signature_covers: bool,
    anchors: &TrustAnchors,
) -> SignatureCheck {
    let claimed = found.claimed_time.as_deref().and_then(pdf::parse_pdf_date);
    let mut check = SignatureCheck {
        verdict: Verdict::Invalid,
        reason: String::new(),
        sub_filter: found.sub_filter.clone(),
        covers_whole_file,
        digest_ok: false,
        signature_ok: false,
        signer: None,
        signing_time: claimed,
        certificate_valid: false,
        trust: if anchors.is_empty() {
            Trust::NoAnchors
        } else {
            Trust::Untrusted
        },
        revocation: Revocation::NotChecked,
    };
    if let Some(why) = &found.malformed {
        check.reason = why.clone();
        return check;
    }
    match verify_cms(file, found, anchors, &mut check) {
        Err(why) => {
            check.verdict = Verdict::Invalid;
            check.reason = why;
        }
        Ok(()) => {
            let (verdict, reason) = if check.revocation == Revocation::Revoked {
                (
                    Verdict::Revoked,
                    "the signature verifies, but the embedded CRL says its certificate was revoked when it signed"
                        .to_string(),
                )
            } else if !covers_whole_file {
                let after = file
                    .len()
                    .saturating_sub(found.byte_range[2] + found.byte_range[3]);
                (
                    Verdict::ModifiedAfterSigning,
                    format!(
                        "the signature verifies, but {after} bytes were appended after it{}",
                        if later_signature_covers {
                            " (a later signature covers them)"
                        } else {
                            ""
                        }
                    ),
                )
            } else if !check.certificate_valid {
                (
                    Verdict::CertificateExpired,
                    "the signature verifies, but the certificate was not valid when it signed"
                        .to_string(),
                )
            } else {
                match check.trust {
                    Trust::Trusted => (
                        Verdict::Valid,
                        "the signature verifies and the certificate chains to a trust anchor"
                            .to_string(),
                    ),
                    Trust::Untrusted => (
                        Verdict::NotTrusted,
                        "the signature verifies, but its certificate chains to none of the trust anchors"
                            .to_string(),
                    ),
                    Trust::NoAnchors => (
                        Verdict::NotTrusted,
                        "the signature verifies; no trust anchors are configured, so its signer is not vouched for"
                            .to_string(),
                    ),
                }
            };
            check.verdict = verdict;
            check.reason = reason;
        }
    }
    check
}

const OID_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
const OID_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
const OID_SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
const OID_REVOCATION_ARCHIVAL: Oid = Oid::new_unwrap("1.2.840.113583.1.1.8");
const OID_COMMON_NAME: Oid = Oid::new_unwrap("2.5.4.3");
const OID_ORGANISATION: Oid = Oid::new_unwrap("2.5.4.10");

/// The digests accepted: SHA-256 and up.
#[derive(Clone, Copy, Debug)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn of_digest_oid(oid: &Oid) -> Result<Hash, String> {
        match oid.to_string().as_str() {
            "2.16.840.1.101.3.4.2.1" => Ok(Hash::Sha256),
            "2.16.840.1.101.3.4.2.2" => Ok(Hash::Sha384),
            "2.16.840.1.101.3.4.2.3" => Ok(Hash::Sha512),
            "1.3.14.3.2.26" => Err("the signature uses SHA-1, which is not accepted".into()),
            other => Err(format!("the digest algorithm {other} is not supported")),
        }
    }

    fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: sha2::Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut d = D::new();
            for p in parts {
                d.update(p);
            }
            d.finalize().to_vec()
        }
        match self {
            Hash::Sha256 => run::<sha2::Sha256>(parts),
            Hash::Sha384 => run::<sha2::Sha384>(parts),
            Hash::Sha512 => run::<sha2::Sha512>(parts),
        }
    }
}

/// The key kind and hash a signature algorithm names (`rsaEncryption` and
/// `id-ecPublicKey` leave the hash to the digest algorithm).
fn signature_scheme(oid: &Oid, digest: Option<Hash>) -> Result<(bool, Hash), String> {
    let need = || digest.ok_or_else(|| format!("the signature algorithm {oid} names no digest"));
    match oid.to_string().as_str() {
        "1.2.840.113549.1.1.1" => Ok((true, need()?)),
        "1.2.840.113549.1.1.11" => Ok((true, Hash::Sha256)),
        "1.2.840.113549.1.1.12" => Ok((true, Hash::Sha384)),
        "1.2.840.113549.1.1.13" => Ok((true, Hash::Sha512)),
        "1.2.840.10045.2.1" => Ok((false, need()?)),
        "1.2.840.10045.4.3.2" => Ok((false, Hash::Sha256)),
        "1.2.840.10045.4.3.3" => Ok((false, Hash::Sha384)),
        "1.2.840.10045.4.3.4" => Ok((false, Hash::Sha512)),
        "1.2.840.113549.1.1.5" | "1.2.840.10045.4.1" => {
            Err("the signature uses SHA-1, which is not accepted".into())
        }
        "1.2.840.113549.1.1.10" => Err("RSA-PSS signatures are not supported yet".into()),
        other => Err(format!("the signature algorithm {other} is not supported")),
    }
}

/// Whether `signature` over `message` verifies with `key`.
fn verify_with(
    key: &SubjectPublicKeyInfoOwned,
    algorithm: &Oid,
    digest: Option<Hash>,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, String> {
    let (rsa_scheme, hash) = signature_scheme(algorithm, digest)?;
    let hashed = hash.digest(&[message]);
    let key_der = key.to_der().map_err(|e| e.to_string())?;
    if rsa_scheme {
        use rsa::pkcs8::DecodePublicKey;
        let public = rsa::RsaPublicKey::from_public_key_der(&key_der)
            .map_err(|_| "the signer's key is not an RSA key".to_string())?;
        let scheme = match hash {
            Hash::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
            Hash::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
            Hash::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
        };
        Ok(public.verify(scheme, &hashed, signature).is_ok())
    } else {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        use p256::pkcs8::DecodePublicKey;
        let public = p256::ecdsa::VerifyingKey::from_public_key_der(&key_der).map_err(|_| {
            "the signer's key is not an ECDSA P-256 key (the only curve supported)".to_string()
        })?;
        let Ok(signature) = p256::ecdsa::Signature::from_der(signature) else {
            return Ok(false);
        };
        Ok(public.verify_prehash(&hashed, &signature).is_ok())
    }
}

fn verify_cms(
    file: &[u8],
    found: &pdf::Found,
    anchors: &TrustAnchors,
    check: &mut SignatureCheck,
) -> Result<(), String> {
    let info = ContentInfo::from_der(&found.contents)
        .map_err(|_| "the signature is not a CMS structure".to_string())?;
    if info.content_type != OID_SIGNED_DATA {
        return Err("the signature is not CMS SignedData".into());
    }
    let signed: SignedData = info
        .content
        .decode_as()
        .map_err(|_| "the signature's SignedData cannot be read".to_string())?;
    let signer_info = match signed.signer_infos.0.as_slice() {
        [one] => one,
        [] => return Err("the signature names no signer".into()),
        _ => return Err("the signature names more than one signer".into()),
    };
    let certificates: Vec<&Certificate> = signed
        .certificates
        .as_ref()
        .map(|set| {
            set.0
                .iter()
                .filter_map(|c| match c {
                    CertificateChoices::Certificate(cert) => Some(cert),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    // Revocation data: the SignedData's own CRLs, and Adobe's archival attribute (below).
    let mut crls: Vec<CertificateList> = Vec::new();
    let mut undecidable = false;
    if let Some(choices) = &signed.crls {
        for choice in choices.0.iter() {
            match choice {
                cms::revocation::RevocationInfoChoice::Crl(crl) => crls.push(crl.clone()),
                cms::revocation::RevocationInfoChoice::Other(_) => undecidable = true,
            }
        }
    }
    let cert = signer_certificate(signer_info, &certificates)
        .ok_or("the signer's certificate is not in the signature")?;
    check.signer = Some(signer_of(cert)?);

    // The document: its digest against the one signed.
    let hash = Hash::of_digest_oid(&signer_info.digest_alg.oid)?;
    let document_digest = hash.digest(&found.signed_parts(file));
    let message = match &signer_info.signed_attrs {
        Some(attrs) => {
            let mut signed_digest = None;
            for attr in attrs.iter() {
                let value = attr.values.iter().next();
                if attr.oid == OID_MESSAGE_DIGEST {
                    signed_digest = value
                        .and_then(|v| v.decode_as::<OctetString>().ok())
                        .map(|o| o.as_bytes().to_vec());
                } else if attr.oid == OID_SIGNING_TIME {
                    if let Some(time) = value
                        .and_then(|v| v.to_der().ok())
                        .and_then(|der| x509_cert::time::Time::from_der(&der).ok())
                    {
                        check.signing_time = Some(to_utc(&time));
                    }
                } else if attr.oid == OID_REVOCATION_ARCHIVAL {
                    match value
                        .and_then(|v| v.to_der().ok())
                        .and_then(|der| RevocationInfoArchival::from_der(&der).ok())
                    {
                        Some(archived) => {
                            crls.extend(archived.crl.unwrap_or_default());
                            undecidable |= archived.ocsp.is_some() || archived.other.is_some();
                        }
                        None => undecidable = true,
                    }
                }
            }
            check.digest_ok = signed_digest.as_deref() == Some(document_digest.as_slice());
            // What was signed is the attributes, as a DER SET (not the [0] they travel in).
            attrs.to_der().map_err(|e| e.to_string())?
        }
        None => {
            // No attributes: the signature is over the document itself.
            check.digest_ok = true;
            found.signed_parts(file).concat()
        }
    };
    check.signature_ok = verify_with(
        &cert.tbs_certificate.subject_public_key_info,
        &signer_info.signature_algorithm.oid,
        Some(hash),
        &message,
        signer_info.signature.as_bytes(),
    )?;
    let at = check.signing_time.unwrap_or_else(Utc::now);
    check.certificate_valid = within_validity(cert, at);
    check.revocation = revocation_of(cert, &crls, undecidable, &certificates, anchors, at);
    if !anchors.is_empty() {
        check.trust = if chains_to_anchor(cert, &certificates, anchors) {
            Trust::Trusted
        } else {
            Trust::Untrusted
        };
    }
    if !check.digest_ok {
        return Err(
            "the document was changed after it was signed: its digest differs from the one signed"
                .into(),
        );
    }
    if !check.signature_ok {
        return Err("the signature does not verify with the signer's certificate".into());
    }
    Ok(())
}

/// Adobe's `adbe-revocationInfoArchival` signed attribute (1.2.840.113583.1.1.8), which
/// `adbe.pkcs7.detached` signers use to embed what they knew of revocation.
#[derive(der::Sequence)]
struct RevocationInfoArchival {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    crl: Option<Vec<CertificateList>>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    ocsp: Option<Vec<der::Any>>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    other: Option<Vec<der::Any>>,
}

/// The certificate's status from the embedded CRLs: only a CRL whose signature verifies
/// with the key of the certificate's issuer (an anchor or an embedded certificate that
/// itself issued `cert`) decides.
fn revocation_of(
    cert: &Certificate,
    crls: &[CertificateList],
    undecidable: bool,
    embedded: &[&Certificate],
    anchors: &TrustAnchors,
    at: DateTime<Utc>,
) -> Revocation {
    if crls.is_empty() {
        return if undecidable {
            Revocation::EmbeddedNotEvaluated
        } else {
            Revocation::NotChecked
        };
    }
    let issuer = embedded
        .iter()
        .copied()
        .chain(anchors.roots.iter())
        .find(|candidate| issued_by(cert, candidate));
    let Some(issuer) = issuer else {
        return Revocation::EmbeddedNotEvaluated;
    };
    let mut decided = None;
    for crl in crls {
        let tbs = &crl.tbs_cert_list;
        if tbs.issuer != cert.tbs_certificate.issuer {
            continue;
        }
        let (Ok(message), Some(signature)) = (tbs.to_der(), crl.signature.as_bytes()) else {
            continue;
        };
        let verified = verify_with(
            &issuer.tbs_certificate.subject_public_key_info,
            &crl.signature_algorithm.oid,
            None,
            &message,
            signature,
        )
        .unwrap_or(false);
        if !verified {
            continue;
        }
        let listed = tbs
            .revoked_certificates
            .iter()
            .flatten()
            .find(|revoked| revoked.serial_number == cert.tbs_certificate.serial_number);
        match listed {
            Some(revoked) if to_utc(&revoked.revocation_date) <= at => {
                return Revocation::Revoked;
            }
            _ => decided = Some(Revocation::Good),
        }
    }
    decided.unwrap_or(Revocation::EmbeddedNotEvaluated)
}

fn signer_certificate<'a>(
    signer: &SignerInfo,
    certificates: &[&'a Certificate],
) -> Option<&'a Certificate> {
    certificates.iter().copied().find(|cert| match &signer.sid {
        SignerIdentifier::IssuerAndSerialNumber(id) => {
            cert.tbs_certificate.issuer == id.issuer
                && cert.tbs_certificate.serial_number == id.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            subject_key_identifier(cert).is_some_and(|own| own == ski.0.as_bytes())
        }
    })
}

fn subject_key_identifier(cert: &Certificate) -> Option<Vec<u8>> {
    use x509_cert::ext::pkix::SubjectKeyIdentifier;
    cert.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == Oid::new_unwrap("2.5.29.14"))
        .and_then(|e| SubjectKeyIdentifier::from_der(e.extn_value.as_bytes()).ok())
        .map(|ski| ski.0.as_bytes().to_vec())
}

fn to_utc(time: &x509_cert::time::Time) -> DateTime<Utc> {
    DateTime::<Utc>::from(time.to_system_time())
}

fn within_validity(cert: &Certificate, at: DateTime<Utc>) -> bool {
    let validity = &cert.tbs_certificate.validity;
    to_utc(&validity.not_before) <= at && at <= to_utc(&validity.not_after)
}

/// A name attribute's text (UTF8String, PrintableString, IA5String; BMPString as UTF-16).
fn attribute_text(name: &Name, oid: &Oid) -> Option<String> {
    name.0.iter().flat_map(|rdn| rdn.0.iter()).find_map(|atv| {
        if &atv.oid != oid {
            return None;
        }
        let bytes = atv.value.value();
        match atv.value.tag() {
            der::Tag::BmpString => {
                let units: Vec<u16> = bytes
                    .chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect();
                String::from_utf16(&units).ok()
            }
            _ => String::from_utf8(bytes.to_vec()).ok(),
        }
    })
}

fn signer_of(cert: &Certificate) -> Result<Signer, String> {
    let tbs = &cert.tbs_certificate;
    let der = cert.to_der().map_err(|e| e.to_string())?;
    Ok(Signer {
        subject: tbs.subject.to_string(),
        common_name: attribute_text(&tbs.subject, &OID_COMMON_NAME),
        organisation: attribute_text(&tbs.subject, &OID_ORGANISATION),
        serial: tbs
            .serial_number
            .as_bytes()
            .iter()
            .skip_while(|b| **b == 0)
            .map(|b| format!("{b:02x}"))
            .collect(),
        issuer: tbs.issuer.to_string(),
        not_before: to_utc(&tbs.validity.not_before),
        not_after: to_utc(&tbs.validity.not_after),
        fingerprint_sha256: sha2::Sha256::digest(&der)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    })
}

/// Whether `cert` was signed by `issuer`'s key (names matching).
fn issued_by(cert: &Certificate, issuer: &Certificate) -> bool {
    if cert.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return false;
    }
    let Ok(tbs) = cert.tbs_certificate.to_der() else {
        return false;
    };
    let Some(signature) = cert.signature.as_bytes() else {
        return false;
    };
    verify_with(
        &issuer.tbs_certificate.subject_public_key_info,
        &cert.signature_algorithm.oid,
        None,
        &tbs,
        signature,
    )
    .unwrap_or(false)
}

/// Whether a path from `cert` through the embedded certificates reaches an anchor: each
/// link's signature verified, at most 8 links.
fn chains_to_anchor(cert: &Certificate, embedded: &[&Certificate], anchors: &TrustAnchors) -> bool {
    let mut current = cert;
    for _ in 0..8 {
        if anchors
            .roots
            .iter()
            .any(|root| root == current || issued_by(current, root))
        {
            return true;
        }
        let next = embedded
            .iter()
            .copied()
            .find(|candidate| *candidate != current && issued_by(current, candidate));
        match next {
            Some(next) if next.tbs_certificate.subject != next.tbs_certificate.issuer => {
                current = next;
            }
            // A self-signed certificate that is not an anchor ends the path.
            _ => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    /// Made by `scripts/signatures/make_fixtures.py` (pyHanko, `cryptography`): a test CA,
    /// leader, stranger, expired and self-signed certificates, and PDFs signed by them.
    fn committed() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/signatures")
    }

    fn anchors(dir: &Path) -> TrustAnchors {
        TrustAnchors::from_pem(&std::fs::read(dir.join("ca.pem")).unwrap()).unwrap()
    }

    fn verify(dir: &Path, name: &str, anchors: &TrustAnchors) -> Vec<SignatureCheck> {
        let file = std::fs::read(dir.join(name)).unwrap();
        verify_pdf(&file, anchors, &Budget::default()).unwrap()
    }

    /// Every signature of every file against what the fixtures' manifest expects (and
    /// pyHanko's own validator said when they were made).
    fn agrees_with_manifest(dir: &Path) {
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        let anchors = anchors(dir);
        let mut seen = 0;
        for (name, file) in manifest["files"].as_object().unwrap() {
            let Some(expected) = file["signatures"].as_array() else {
                continue;
            };
            if !dir.join(name).exists() {
                continue;
            }
            let checks = verify(dir, name, &anchors);
            assert_eq!(checks.len(), expected.len(), "{name}: {checks:#?}");
            for (check, entry) in checks.iter().zip(expected) {
                // pyHanko's own validator, run when the files were made.
                let pyhanko = &entry["pyhanko_says"];
                let at = format!("{name} (pyHanko: {pyhanko}): {check:#?}");
                assert_eq!(check.digest_ok, pyhanko["intact"], "{at}");
                assert_eq!(check.signature_ok, pyhanko["valid"], "{at}");
                assert_eq!(
                    check.covers_whole_file,
                    pyhanko["coverage"] == "ENTIRE_FILE",
                    "{at}"
                );
                if check.digest_ok {
                    assert_eq!(
                        check.trust == Trust::Trusted
                            && check.certificate_valid
                            && check.revocation != Revocation::Revoked,
                        pyhanko["trusted"].as_bool().unwrap(),
                        "{at}"
                    );
                }
                let want = &entry["expected"];
                let revocation = match want["revoked"].as_bool() {
                    None => Revocation::NotChecked,
                    Some(true) => Revocation::Revoked,
                    Some(false) => Revocation::Good,
                };
                assert_eq!(check.revocation, revocation, "{at}");
                let at = format!("{name}: {check:#?}");
                assert_eq!(check.covers_whole_file, want["covers_whole_file"], "{at}");
                assert_eq!(check.digest_ok, want["digest_ok"], "{at}");
                assert_eq!(check.signature_ok, want["signature_ok"], "{at}");
                assert_eq!(
                    check.trust == Trust::Trusted,
                    want["chains_to_ca"].as_bool().unwrap(),
                    "{at}"
                );
                assert_eq!(
                    !check.certificate_valid,
                    want["cert_expired_at_signing"].as_bool().unwrap(),
                    "{at}"
                );
                seen += 1;
            }
        }
        assert!(seen >= 13, "only {seen} signatures in {}", dir.display());
    }

    #[test]
    fn the_committed_fixtures_get_the_verdicts_pyhanko_gave() {
        agrees_with_manifest(&committed());
    }

    /// CI makes a fresh set with pyHanko each run (`scripts/signatures/check.sh`): other
    /// keys, other times, the same verdicts.
    #[test]
    fn a_fresh_set_gets_the_same_verdicts() {
        match std::env::var("PARINDEX_SIGNATURE_FIXTURES") {
            Ok(dir) => agrees_with_manifest(Path::new(&dir)),
            // The committed set is checked by the test above; this one needs pyHanko.
            Err(_) => agrees_with_manifest(&committed()),
        }
    }

    #[test]
    fn each_kind_of_file_gets_its_verdict_and_reason() {
        let dir = committed();
        let trusted = anchors(&dir);
        let one = |name: &str| {
            let mut checks = verify(&dir, name, &trusted);
            assert_eq!(checks.len(), 1, "{name}");
            checks.remove(0)
        };
        for name in ["signed-rsa.pdf", "signed-ec.pdf", "signed-pades.pdf"] {
            let check = one(name);
            assert_eq!(check.verdict, Verdict::Valid, "{name}: {check:#?}");
            let signer = check.signer.unwrap();
            assert_eq!(signer.common_name.as_deref(), Some("Nguyễn Văn A"));
            assert_eq!(signer.organisation.as_deref(), Some("UBND xã Vĩnh Long"));
            assert!(
                signer.subject.contains("CN=Nguyễn Văn A"),
                "{}",
                signer.subject
            );
            assert_eq!(signer.fingerprint_sha256.len(), 64);
            assert!(check.signing_time.is_some(), "{name}");
            assert_eq!(check.revocation, Revocation::NotChecked);
        }
        assert_eq!(
            one("signed-rsa.pdf").signer.unwrap().serial,
            "1a2b3c4d5e6f0001"
        );
        assert_eq!(
            one("signed-pades.pdf").sub_filter.as_deref(),
            Some("ETSI.CAdES.detached")
        );
        let stranger = one("signed-stranger.pdf");
        assert_eq!(stranger.verdict, Verdict::Valid);
        assert_eq!(
            stranger.signer.unwrap().common_name.as_deref(),
            Some("Trần Thị B")
        );
        assert_eq!(
            one("signed-expired.pdf").verdict,
            Verdict::CertificateExpired
        );
        // An embedded CRL (Adobe's archival attribute) decides revocation.
        let revoked = one("signed-revoked.pdf");
        assert_eq!(
            (revoked.verdict, revoked.revocation),
            (Verdict::Revoked, Revocation::Revoked),
            "{revoked:#?}"
        );
        let good = one("signed-crl-good.pdf");
        assert_eq!(
            (good.verdict, good.revocation),
            (Verdict::Valid, Revocation::Good)
        );
        let untrusted = one("signed-untrusted.pdf");
        assert_eq!(
            (untrusted.verdict, untrusted.trust),
            (Verdict::NotTrusted, Trust::Untrusted)
        );
        let modified = one("signed-then-modified.pdf");
        assert_eq!(modified.verdict, Verdict::ModifiedAfterSigning);
        assert!(modified.reason.contains("appended"), "{}", modified.reason);
        let tampered = one("signed-tampered.pdf");
        assert_eq!(tampered.verdict, Verdict::Invalid);
        assert!(!tampered.digest_ok && tampered.signature_ok);
        assert!(
            tampered.reason.contains("changed after it was signed"),
            "{}",
            tampered.reason
        );

        let twice = verify(&dir, "signed-twice.pdf", &trusted);
        assert_eq!(twice.len(), 2);
        assert_eq!(twice[0].verdict, Verdict::ModifiedAfterSigning);
        assert!(
            twice[0].reason.contains("a later signature covers them"),
            "{}",
            twice[0].reason
        );
        assert_eq!(twice[1].verdict, Verdict::Valid);

        // No anchors configured: valid signatures, signers not vouched for.
        let none = verify(&dir, "signed-rsa.pdf", &TrustAnchors::default());
        assert_eq!(
            (none[0].verdict, none[0].trust),
            (Verdict::NotTrusted, Trust::NoAnchors)
        );
        // An unsigned file has no signatures.
        assert!(verify(&dir, "base.pdf", &trusted).is_empty());
    }

    #[test]
    fn a_hostile_pdf_costs_one_linear_pass() {
        // A million nested arrays and dictionaries and 16 MiB of "object stream", with a
        // real signature's bytes pasted in the middle (its range no longer fits).
        let mut hostile = b"%PDF-1.7\n1 0 obj\n".to_vec();
        hostile.extend(std::iter::repeat_n(b"[<<".as_slice(), 1_000_000).flatten());
        hostile.extend_from_slice(b"\nstream\n");
        hostile.extend((0..16u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
        hostile.extend_from_slice(&std::fs::read(committed().join("signed-rsa.pdf")).unwrap());
        let started = std::time::Instant::now();
        let checks = verify_pdf(&hostile, &anchors(&committed()), &Budget::default()).unwrap();
        // The pasted signature is found and refused (its range is not this file's).
        assert!(
            checks.iter().all(|c| c.verdict == Verdict::Invalid),
            "{checks:#?}"
        );
        eprintln!(
            "{} MiB hostile PDF: {:?}",
            hostile.len() >> 20,
            started.elapsed()
        );
        // Past the size budget, nothing is read.
        let small = Budget {
            max_file_bytes: 1 << 20,
            ..Budget::default()
        };
        assert!(matches!(
            verify_pdf(&hostile, &TrustAnchors::default(), &small),
            Err(ScanError::TooLarge(..))
        ));
    }

    #[test]
    fn a_signature_that_is_not_cms_is_invalid_with_a_reason() {
        let file = std::fs::read(committed().join("signed-rsa.pdf")).unwrap();
        // Its signature's first bytes overwritten: the same length, no longer CMS.
        let at = file.windows(10).position(|w| w == b"/Contents ").unwrap() + 11;
        let mut broken = file.clone();
        broken[at..at + 8].copy_from_slice(b"DEADBEEF");
        let checks = verify_pdf(&broken, &TrustAnchors::default(), &Budget::default()).unwrap();
        assert_eq!(checks[0].verdict, Verdict::Invalid);
        assert!(!checks[0].reason.is_empty());
    }
}
