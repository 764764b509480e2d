#!/usr/bin/env python3
"""Generate PDF digital-signature test fixtures for parindex's signature verifier.

What this makes
===============
Given an output directory (``make_fixtures.py OUT_DIR``), this script writes a
small PKI and a set of signed / broken PDFs, produced with real libraries
(Python ``cryptography`` for keys and certificates, ``pyHanko`` for PDF
signing), plus ``manifest.json`` that states what a correct verifier must say
about each file and what pyHanko's own validator said about it.

PKI (all PEM; keys are unencrypted PKCS#8)
------------------------------------------
* ``ca.pem`` / ``ca-key.pem`` -- self-signed root, RSA 2048,
  CN "Test Root CA Ban Cơ yếu", O "Ban Cơ yếu Chính phủ (test)", C VN.
* ``leader.pem`` / ``leader-key.pem`` -- RSA 2048 end-entity cert issued by the
  CA: CN "Nguyễn Văn A", O "UBND xã Vĩnh Long", subject serialNumber
  (2.5.4.5) "CCCD:079085001234", certificate serial 0x1A2B3C4D5E6F0001.
* ``leader-ec.pem`` / ``leader-ec-key.pem`` -- the same subject with an ECDSA
  P-256 key (serial 0x1A2B3C4D5E6F0002).
* ``stranger.pem`` / ``stranger-key.pem`` -- RSA, CN "Trần Thị B",
  O "UBND xã Khác", issued by the CA.
* ``expired.pem`` / ``expired-key.pem`` -- leader's subject, RSA, issued by the
  CA, validity ended one day before the run (started ~1 year before).
* ``untrusted.pem`` / ``untrusted-key.pem`` -- self-signed RSA cert with the
  leader's subject, *not* issued by the CA.
* ``revoked.pem`` / ``revoked-key.pem`` -- leader's subject, RSA 2048, issued
  by the CA, valid now like leader's (serial 0x1A2B3C4D5E6F0006), but listed
  in ca.crl.
* ``ca.crl`` -- DER CRL v2 issued and signed (SHA-256) by the CA: thisUpdate =
  signing time - 1 h, nextUpdate = signing time + 30 days, CRL number 1, AKI;
  one entry, serial 0x1A2B3C4D5E6F0006 revoked at signing time - 1 h (no
  reason code).

Non-ASCII names are encoded by ``cryptography`` as ASN.1 UTF8String.  All
end-entity certs carry KeyUsage digitalSignature + contentCommitment
(nonRepudiation, which pyHanko's validator requires by default),
BasicConstraints CA:FALSE, SKI and AKI.  No CRL distribution points or OCSP
pointers: revocation data exists only where a signature embeds ca.crl.

PDFs
----
* ``base.pdf`` -- hand-written, uncompressed, one A4 page.  The text is drawn
  with the standard Type1 font Helvetica, ``/Encoding /WinAnsiEncoding``, as
  plain literal strings shown with ``Tj`` in an *unfiltered* content stream, so
  ``(MA-XAC-THUC: PX-2024-7F3A9C) Tj`` appears verbatim in the file bytes.
  Only printable ASCII is used in page text (the code must be printable ASCII;
  it is checked).  ``base-wrong-code.pdf`` is the same with ``--wrong-code``.
* ``signed-rsa.pdf`` -- base.pdf signed by leader (RSA, SHA-256).
* ``signed-ec.pdf`` -- signed by leader-ec (ECDSA P-256, SHA-256).
* ``signed-stranger.pdf`` -- signed by the stranger (valid chain, wrong person).
* ``signed-expired.pdf`` -- signed by the expired cert.  pyHanko does *not*
  check the signer's certificate validity when signing unless it is asked to
  (a ``validation_context`` in ``PdfSignatureMetadata`` or
  ``embed_validation_info=True``); we pass neither, so it signs happily.
* ``signed-untrusted.pdf`` -- signed by the self-signed cert.
* ``signed-then-modified.pdf`` -- signed-rsa.pdf plus an incremental update
  (``IncrementalPdfFileWriter``) that appends a second content stream to the
  page drawing "DA SUA DOI SAU KHI KY"; the /ByteRange no longer reaches EOF.
* ``signed-tampered.pdf`` -- signed-rsa.pdf with one byte of the verification
  code in the (signed) content stream changed (ASCII char XOR 0x01, e.g.
  'C'->'B'); the offset is recorded in the manifest.  Same length, same
  ByteRange, so the file still parses but the message digest no longer matches.
  Note: the CMS signature over the *signed attributes* is still valid.
* ``signed-wrong-code.pdf`` -- a perfectly valid signature by leader over
  base-wrong-code.pdf (a document whose text carries another code).
* ``signed-twice.pdf`` -- signed-rsa.pdf, then incrementally signed a second
  time by the stranger in a new field "Signature2".  Signature1 then covers
  only revision 1 (not the whole file), which is the normal, legitimate shape
  of a multi-signature PDF.
* ``signed-pades.pdf`` -- like signed-rsa.pdf but with
  ``/SubFilter /ETSI.CAdES.detached`` (PAdES baseline B-B).  PAdES forbids the
  CMS signing-time attribute, so here the signing time only lives in the
  signature dictionary's ``/M`` entry; pyHanko adds the ESS
  signing-certificate-v2 attribute instead.
* ``signed-revoked.pdf`` -- signed by revoked.pem, adbe.pkcs7.detached, with
  ca.crl (which lists the signer) embedded in the signed attributes (below).
* ``signed-crl-good.pdf`` -- signed by leader, adbe.pkcs7.detached, with the
  same ca.crl (which does not list leader) embedded the same way.

Embedded revocation data (the last two files only): the CRL sits in the
SignerInfo's *signed* attributes as Adobe's adbe-revocationInfoArchival,
OID 1.2.840.113583.1.1.8, one value ``RevocationInfoArchival ::= SEQUENCE {
crl [0] EXPLICIT SEQUENCE OF CertificateList OPTIONAL, ocsp [1] ..., otherRevInfo
[2] ... }`` with only the ``[0]`` choice, holding ca.crl's exact DER.  The CMS
SignedData ``crls`` field is *not* set.  signed-crl-good.pdf goes through
pyHanko's own path (``embed_validation_info=True`` with a no-fetch
``ValidationContext(crls=[ca.crl])``).  That path validates the signer first
and refuses a revoked one, so signed-revoked.pdf gets the same attribute from
the same pyHanko pieces (``Signer.format_revinfo`` +
``GenericPdfSignedAttributeProviderSpec`` set as the signer's
``signed_attr_prov_spec``) without that check; both files end up with the same
signed attributes in the same order.

All other signatures use ``/SubFilter /adbe.pkcs7.detached``, SHA-256, an
invisible signature field, and embed the whole chain (signer cert + CA root)
in the CMS ``certificates`` set (except the self-signed one, which embeds
itself only).  The signing time is fixed for every signature in a run (the
run's start time in UTC, truncated to whole seconds, or ``--signing-time``);
it is injected by overriding ``PdfSigner.init_signing_session`` and is written
both to the CMS signing-time attribute (adbe.pkcs7.detached only) and to the
signature dictionary's ``/M``.  The second signature of signed-twice.pdf is
made one minute later.  (pyHanko also rewrites /Info /ModDate and /Producer
in each signing revision using the real clock; those are not signature data.)

Determinism
-----------
Keys (and ECDSA signatures) are random on every run, so bytes differ between
runs; names, serials, validity windows (relative to the run time), texts,
structure and expected verdicts do not.  Certificates are valid relative to the
run time, so regenerate fixtures rather than storing them for years.

manifest.json
-------------
``files`` maps each file name to ``description``, ``signatures`` (one entry per
signature field, in file order) and, for signed files, the structural facts
read back from the file.  Each signature entry has ``field``, ``signer`` (a key
of ``certs``), ``signing_time`` (ISO 8601 UTC), ``expected`` and
``pyhanko_says``.  ``expected`` uses these booleans (see ``definitions`` in the
manifest): covers_whole_file, digest_ok, signature_ok, chains_to_ca,
cert_expired_at_signing, ``revoked`` (true/false when the signature embeds
revocation data, null when it embeds none), plus ``overall``
("valid"/"invalid") and ``reason``.
``pyhanko_says`` is the result of
``pyhanko.sign.validation.validate_pdf_signature`` with a
``ValidationContext`` whose only trust root is ca.pem (no fetching,
validation time = run time), as an independent reference.  For the two files
that embed ca.crl, the context also holds ca.crl with
``revocation_mode="require"`` (recorded as ``validation_context``): the certs
name no CRL distribution point, so the default soft-fail mode would not look
at the CRL at all.  pyHanko's PDF validator does not itself read the embedded
attribute.  A revoked signer reads ``REVOKED`` with ``trusted`` false,
``revoked`` true and ``revocation_details``; every entry has ``revoked``.  The
top-level ``crl`` describes ca.crl.  Each ``structure`` entry also states
``cms_crls_field_present`` and ``adobe_revinfo_archival`` (null, or the
attribute's tags and the CRLs in it, read from the raw DER).

Usage
=====
::

    python3 -m venv target/sig-venv
    target/sig-venv/bin/pip install pyhanko==0.38.0 cryptography==51.0.1
    target/sig-venv/bin/python scripts/signatures/make_fixtures.py /tmp/sigfixtures \\
        [--code MA-XAC-THUC:PX-...] [--wrong-code ...] [--signing-time 2025-01-02T03:04:05Z]

Tested with Python 3.11, pyHanko 0.38.0 (pyhanko-certvalidator 0.33.0,
asn1crypto 1.5.1) and cryptography 51.0.1.  Takes about 4.5 s wall time
(3.5 s inside the script, mostly RSA key generation and pyHanko validation).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import sys
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

# pyHanko 0.38 imports cryptography's DSA module, which cryptography >= 47
# flags with a CryptographyDeprecationWarning on import; it is noise here.
warnings.filterwarnings("ignore", message="DSA is deprecated")

try:
    from asn1crypto import cms
    from asn1crypto import crl as asn1_crl
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields, signers
    from pyhanko.sign.signers.pdf_cms import (
        GenericPdfSignedAttributeProviderSpec,
        PdfCMSSignedAttributes,
    )
    from pyhanko.sign.signers.pdf_signer import PdfSigningSession
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
except ImportError as exc:  # pragma: no cover - environment problem
    sys.exit(
        f"missing dependency ({exc}); create the venv first:\n"
        "  python3 -m venv target/sig-venv && target/sig-venv/bin/pip install "
        "pyhanko==0.38.0 cryptography==51.0.1"
    )

DEFAULT_CODE = "MA-XAC-THUC: PX-2024-7F3A9C"
DEFAULT_WRONG_CODE = "MA-XAC-THUC: PX-2024-0B1D2E"
REVOKED_SERIAL = 0x1A2B3C4D5E6F0006
ADOBE_REVINFO_OID = "1.2.840.113583.1.1.8"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

# --------------------------------------------------------------------------
# PKI
# --------------------------------------------------------------------------


@dataclass
class Identity:
    """A key pair plus its certificate, as written to disk."""

    name: str
    key: PrivateKey
    cert: x509.Certificate
    cert_path: Path
    key_path: Path
    issued_by_ca: bool


def _name(cn: str, org: str, serial_attr: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    if serial_attr is not None:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_attr))
    return x509.Name(attrs)


def _new_key(kind: str) -> PrivateKey:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(kind)


def _build_cert(
    *,
    subject: x509.Name,
    key: PrivateKey,
    issuer_name: x509.Name,
    issuer_key: PrivateKey,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    is_ca: bool,
) -> x509.Certificate:
    pub = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(pub)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if is_ca:
        ku = x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True,
            crl_sign=True, encipher_only=False, decipher_only=False,
        )
    else:
        ku = x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False,
            crl_sign=False, encipher_only=False, decipher_only=False,
        )
    builder = builder.add_extension(ku, critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def _save(out: Path, name: str, key: PrivateKey, cert: x509.Certificate, issued: bool) -> Identity:
    cert_path = out / f"{name}.pem"
    key_path = out / f"{name}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Identity(name, key, cert, cert_path, key_path, issued)


def make_pki(out: Path, now: datetime) -> dict[str, Identity]:
    """Create the CA and all end-entity identities; write them as PEM."""
    ca_key = _new_key("rsa")
    ca_name = _name("Test Root CA Ban Cơ yếu", "Ban Cơ yếu Chính phủ (test)")
    ca_cert = _build_cert(
        subject=ca_name, key=ca_key, issuer_name=ca_name, issuer_key=ca_key,
        serial=0x0CA0000000000001, not_before=now - timedelta(days=30),
        not_after=now + timedelta(days=3650), is_ca=True,
    )
    ids = {"ca": _save(out, "ca", ca_key, ca_cert, True)}

    leader_subject = _name("Nguyễn Văn A", "UBND xã Vĩnh Long", "CCCD:079085001234")
    specs: list[tuple[str, str, x509.Name, int, datetime, datetime, bool]] = [
        ("leader", "rsa", leader_subject, 0x1A2B3C4D5E6F0001,
         now - timedelta(days=1), now + timedelta(days=365), True),
        ("leader-ec", "ec", leader_subject, 0x1A2B3C4D5E6F0002,
         now - timedelta(days=1), now + timedelta(days=365), True),
        ("stranger", "rsa", _name("Trần Thị B", "UBND xã Khác", "CCCD:001190009999"),
         0x1A2B3C4D5E6F0003, now - timedelta(days=1), now + timedelta(days=365), True),
        ("expired", "rsa", leader_subject, 0x1A2B3C4D5E6F0004,
         now - timedelta(days=366), now - timedelta(days=1), True),
        ("untrusted", "rsa", leader_subject, 0x1A2B3C4D5E6F0005,
         now - timedelta(days=1), now + timedelta(days=365), False),
        ("revoked", "rsa", leader_subject, REVOKED_SERIAL,
         now - timedelta(days=1), now + timedelta(days=365), True),
    ]
    for name, kind, subject, serial, nb, na, issued in specs:
        key = _new_key(kind)
        if issued:
            cert = _build_cert(
                subject=subject, key=key, issuer_name=ca_name, issuer_key=ca_key,
                serial=serial, not_before=nb, not_after=na, is_ca=False,
            )
        else:
            cert = _build_cert(
                subject=subject, key=key, issuer_name=subject, issuer_key=key,
                serial=serial, not_before=nb, not_after=na, is_ca=False,
            )
        ids[name] = _save(out, name, key, cert, issued)
    return ids


def make_crl(out: Path, ca: Identity, when: datetime) -> bytes:
    """CA-signed CRL (SHA-256) revoking REVOKED_SERIAL; written to ca.crl (DER)."""
    revoked_at = when - timedelta(hours=1)
    entry = (
        x509.RevokedCertificateBuilder()
        .serial_number(REVOKED_SERIAL)
        .revocation_date(revoked_at)
        .build()
    )
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.cert.subject)
        .last_update(revoked_at)
        .next_update(when + timedelta(days=30))
        .add_revoked_certificate(entry)
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )
    if not crl.is_signature_valid(ca.key.public_key()):
        raise RuntimeError("CRL signature does not verify")
    der = crl.public_bytes(serialization.Encoding.DER)
    (out / "ca.crl").write_bytes(der)
    return der


def crl_info(der: bytes) -> dict[str, Any]:
    c = x509.load_der_x509_crl(der)
    return {
        "file": "ca.crl",
        "format": "DER",
        "issuer": c.issuer.rfc4514_string(),
        "this_update": c.last_update_utc.isoformat(),
        "next_update": c.next_update_utc.isoformat() if c.next_update_utc else None,
        "signature_hash": c.signature_hash_algorithm.name if c.signature_hash_algorithm else None,
        "revoked": [
            {"serial_hex": format(r.serial_number, "x"),
             "revocation_date": r.revocation_date_utc.isoformat()}
            for r in c
        ],
        "sha256": hashlib.sha256(der).hexdigest(),
    }


def cert_info(ident: Identity) -> dict[str, Any]:
    c = ident.cert
    return {
        "file": ident.cert_path.name,
        "key_file": ident.key_path.name,
        "subject": c.subject.rfc4514_string(),
        "issuer": c.issuer.rfc4514_string(),
        "serial_hex": format(c.serial_number, "x"),
        "not_before": c.not_valid_before_utc.isoformat(),
        "not_after": c.not_valid_after_utc.isoformat(),
        "key": "rsa2048" if isinstance(ident.key, rsa.RSAPrivateKey) else "ecdsa-p256",
        "sha256_fingerprint": c.fingerprint(hashes.SHA256()).hex(),
        "issued_by_ca": ident.issued_by_ca,
    }


# --------------------------------------------------------------------------
# Base PDF (hand-written, uncompressed)
# --------------------------------------------------------------------------


def _pdf_literal(text: str) -> bytes:
    if not all(0x20 <= ord(ch) < 0x7F for ch in text):
        raise ValueError(f"page text must be printable ASCII: {text!r}")
    return b"(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("ascii") + b")"


def make_base_pdf(code: str) -> bytes:
    """One A4 page, Helvetica/WinAnsiEncoding, unfiltered content stream."""
    lines = [
        (18, 770, "GIAY XAC NHAN - TEST FIXTURE"),
        (12, 740, "Don vi: UBND xa Vinh Long"),
        (14, 710, code),
    ]
    content = b"".join(
        b"BT /F1 %d Tf 72 %d Td %s Tj ET\n" % (size, y, _pdf_literal(t)) for size, y, t in lines
    )
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Producer (parindex make_fixtures.py) >>",
    ]
    buf = io.BytesIO()
    buf.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(buf.tell())
        buf.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref_at = buf.tell()
    buf.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        buf.write(b"%010d 00000 n \n" % off)
    doc_id = hashlib.md5(code.encode()).hexdigest().encode()
    buf.write(
        b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objs) + 1, doc_id, doc_id, xref_at)
    )
    return buf.getvalue()


# --------------------------------------------------------------------------
# Signing
# --------------------------------------------------------------------------


class FixedTimePdfSigner(signers.PdfSigner):
    """PdfSigner whose signing session uses a fixed, caller-chosen time.

    pyHanko takes ``datetime.now()`` for the CMS signing-time attribute and the
    signature dictionary's /M; overriding the public ``init_signing_session``
    hook lets the manifest state the exact embedded time.
    """

    def __init__(self, *args: Any, signing_time: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fixed_time = signing_time

    def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False) -> PdfSigningSession:
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        session.system_time = self._fixed_time
        return session


def sign(
    pdf: bytes,
    ident: Identity,
    ca: Identity,
    when: datetime,
    field_name: str = "Signature1",
    subfilter: fields.SigSeedSubFilter = fields.SigSeedSubFilter.ADOBE_PKCS7_DETACHED,
    embed_crls: list[bytes] | None = None,
    validate_signer: bool = True,
) -> bytes:
    """Sign ``pdf`` incrementally with ``ident``; embed the CA cert in the CMS.

    With ``embed_crls`` (adbe.pkcs7.detached only), the CRLs go into the
    adbe-revocationInfoArchival signed attribute.  If ``validate_signer``,
    pyHanko's own path does it (``embed_validation_info=True`` plus a
    no-fetch ``ValidationContext`` holding the CRLs; it validates the signer
    first and refuses a revoked one).  Otherwise the attribute is built from
    the same pyHanko pieces (``Signer.format_revinfo`` and
    ``GenericPdfSignedAttributeProviderSpec``, installed as the signer's
    ``signed_attr_prov_spec``) without validating the signer.
    """
    chain = [ca.cert_path] if ident.issued_by_ca else []
    signer = signers.SimpleSigner.load(
        key_file=str(ident.key_path), cert_file=str(ident.cert_path),
        ca_chain_files=[str(p) for p in chain],
    )
    if signer is None:
        raise RuntimeError(f"could not load key material for {ident.name}")
    revinfo_kwargs: dict[str, Any] = {}
    if embed_crls is not None:
        if subfilter != fields.SigSeedSubFilter.ADOBE_PKCS7_DETACHED:
            raise ValueError("adbe-revocationInfoArchival needs adbe.pkcs7.detached")
        if validate_signer:
            revinfo_kwargs = {
                "embed_validation_info": True,
                "validation_context": ValidationContext(
                    trust_roots=[load_cert_from_pemder(str(ca.cert_path))],
                    crls=embed_crls,
                    allow_fetching=False,
                ),
            }
        else:
            revinfo = signers.Signer.format_revinfo(
                crls=[asn1_crl.CertificateList.load(d) for d in embed_crls]
            )
            signer.signed_attr_prov_spec = GenericPdfSignedAttributeProviderSpec(
                attr_settings=PdfCMSSignedAttributes(signing_time=when, adobe_revinfo_attr=revinfo),
                signing_cert=signer.signing_cert,
                signature_mechanism=signer.get_signature_mechanism_for_digest,
                timestamper=None,
            )
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=subfilter,
        reason="Xác thực văn bản (test)",
        location="Vĩnh Long",
        **revinfo_kwargs,
    )
    pdf_signer = FixedTimePdfSigner(meta, signer, signing_time=when)
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    out = pdf_signer.sign_pdf(w, output=io.BytesIO())
    return out.getvalue()


def modify_after_signing(pdf: bytes) -> bytes:
    """Append a visible content stream to page 1 in an incremental update."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    data = b"BT /F1 20 Tf 72 650 Td (DA SUA DOI SAU KHI KY) Tj ET\n"
    stream = generic.StreamObject(stream_data=data)
    ref = w.add_object(stream)
    w.add_stream_to_page(0, ref)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def tamper(pdf: bytes, code: str) -> tuple[bytes, int, str, str]:
    """Flip one byte (XOR 0x01) of the code's last character inside the signed range."""
    needle = _pdf_literal(code)
    pos = pdf.find(needle)
    if pos < 0 or pdf.find(needle, pos + 1) >= 0:
        raise RuntimeError("verification code literal not found exactly once")
    off = pos + len(needle) - 2  # last character before ')'
    old = pdf[off]
    new = old ^ 0x01
    if chr(new) in "()\\" or not 0x20 <= new < 0x7F:
        new = old ^ 0x02
    data = bytearray(pdf)
    data[off] = new
    return bytes(data), off, chr(old), chr(new)


# --------------------------------------------------------------------------
# Reading back: structure facts and pyHanko's verdict
# --------------------------------------------------------------------------


def structure_facts(pdf: bytes) -> list[dict[str, Any]]:
    """Facts a from-scratch verifier cares about, per embedded signature."""
    r = PdfFileReader(io.BytesIO(pdf))
    facts = []
    for s in r.embedded_signatures:
        so = s.sig_object
        br = [int(x) for x in so.raw_get("/ByteRange")]
        sd: cms.SignedData = s.signed_data
        si = s.signer_info
        sattrs = si["signed_attrs"]
        # Locate /ByteRange and /Contents in the raw bytes of the sig dict.
        gap_start, gap_end = br[0] + br[1], br[2]
        contents_raw = pdf[gap_start:gap_end]
        hex_body = contents_raw[1:-1]
        der = s.pkcs7_content  # decoded /Contents, *including* zero padding
        if der[1] & 0x80:
            n = der[1] & 0x7F
            der_len = 2 + n + int.from_bytes(der[2:2 + n], "big")
        else:
            der_len = 2 + der[1]
        padded = hex_body[2 * der_len:]
        facts.append({
            "field": s.field_name,
            "subfilter": str(so.get("/SubFilter")),
            "filter": str(so.get("/Filter")),
            "M": str(so.get("/M")),
            "byte_range": br,
            "byte_range_end": br[2] + br[3],
            "file_length": len(pdf),
            "contents_is_hex_string": contents_raw[:1] == b"<" and contents_raw[-1:] == b">",
            "gap_is_exactly_contents_string": contents_raw[:10] == b"<" + hex_body[:9]
            and pdf[gap_start - 10:gap_start].endswith(b"/Contents "),
            "contents_hex_chars": len(hex_body),
            "contents_hex_uppercase": hex_body == hex_body.upper(),
            "cms_der_bytes": der_len,
            "contents_zero_padding_hex_chars": len(padded),
            "contents_zero_padded": bool(padded) and set(padded) == {ord("0")},
            "byte_range_raw": pdf[pdf.find(b"/ByteRange", gap_end):pdf.find(b"]", gap_end) + 1]
            .decode("ascii"),
            "M_raw": pdf[pdf.find(b"/M (", gap_end):pdf.find(b")", pdf.find(b"/M (", gap_end)) + 1]
            .decode("ascii"),
            "sig_dict_keys_in_order": [str(k) for k in so.keys()],
            "cms_content_type": sd["encap_content_info"]["content_type"].dotted,
            "cms_encap_content_present": sd["encap_content_info"]["content"].native is not None,
            "digest_algorithms": [a["algorithm"].dotted for a in sd["digest_algorithms"]],
            "signer_digest_algorithm": si["digest_algorithm"]["algorithm"].dotted,
            "signature_algorithm": si["signature_algorithm"]["algorithm"].dotted,
            "signed_attrs": [a["type"].dotted + " (" + str(a["type"].native) + ")" for a in sattrs],
            "unsigned_attrs": (
                [a["type"].dotted for a in si["unsigned_attrs"]]
                if si["unsigned_attrs"].native is not None else []
            ),
            "sid": si["sid"].name,
            "embedded_certs": [c.chosen.subject.human_friendly for c in sd["certificates"]],
            "cms_crls_field_present": sd["crls"].native is not None,
            "adobe_revinfo_archival": adobe_revinfo_facts(sattrs),
        })
    return facts


def _der_tlv(der: bytes, pos: int) -> tuple[int, bytes, int]:
    """One DER TLV at ``pos`` (single-byte tags): (tag, contents, next position)."""
    tag, first = der[pos], der[pos + 1]
    pos += 2
    if first & 0x80:
        n = first & 0x7F
        length = int.from_bytes(der[pos:pos + n], "big")
        pos += n
    else:
        length = first
    if pos + length > len(der):
        raise RuntimeError("truncated DER")
    return tag, der[pos:pos + length], pos + length


def adobe_revinfo_facts(sattrs: cms.CMSAttributes) -> dict[str, Any] | None:
    """What the adbe-revocationInfoArchival signed attribute holds, if any.

    Read from the raw DER, not via asn1crypto's parsed view, so the manifest
    states the exact encoding: attribute value = RevocationInfoArchival
    SEQUENCE whose ``crl`` choice is ``[0] EXPLICIT SEQUENCE OF CertificateList``.
    """
    found = [a for a in sattrs if a["type"].dotted == ADOBE_REVINFO_OID]
    if not found:
        return None
    if len(found) != 1 or len(found[0]["values"]) != 1:
        raise RuntimeError("adbe-revocationInfoArchival must be one attribute with one value")
    ria = found[0]["values"][0]
    # Walk the value's DER by hand: SEQUENCE { [n] EXPLICIT SEQUENCE OF ... }.
    tag, outer, _ = _der_tlv(ria.dump(), 0)
    if tag != 0x30:
        raise RuntimeError("RevocationInfoArchival is not a SEQUENCE")
    value_tags = []
    crls: list[dict[str, Any]] = []
    pos = 0
    while pos < len(outer):
        tag, body, pos = _der_tlv(outer, pos)
        if tag & 0xE0 != 0xA0:  # context-specific, constructed (EXPLICIT)
            raise RuntimeError(f"unexpected tag {tag:#x} in RevocationInfoArchival")
        value_tags.append("[%d] EXPLICIT" % (tag & 0x1F))
        inner_tag, seq_of, _ = _der_tlv(body, 0)
        if inner_tag != 0x30:
            raise RuntimeError(f"[{tag & 0x1F}] EXPLICIT does not wrap a SEQUENCE OF")
        if tag == 0xA0:
            ipos = 0
            while ipos < len(seq_of):
                start = ipos
                _, _, ipos = _der_tlv(seq_of, ipos)
                cl = asn1_crl.CertificateList.load(seq_of[start:ipos])
                tbs = cl["tbs_cert_list"]
                crls.append({
                    "issuer": tbs["issuer"].human_friendly,
                    "revoked_serials_hex": [
                        format(rc["user_certificate"].native, "x")
                        for rc in (tbs["revoked_certificates"] or [])
                    ],
                    "sha256": hashlib.sha256(seq_of[start:ipos]).hexdigest(),
                })
    return {
        "oid": ADOBE_REVINFO_OID,
        "in": "signerInfo.signedAttrs",
        "path": "signerInfo.signedAttrs / attribute %s / SEQUENCE / [0] EXPLICIT / "
                "SEQUENCE OF CertificateList" % ADOBE_REVINFO_OID,
        "value_tags": value_tags,
        "crls": crls,
        "ocsp_count": len(ria["ocsp"]) if ria["ocsp"].native is not None else 0,
        "other_rev_info_count": (
            len(ria["other_rev_info"]) if ria["other_rev_info"].native is not None else 0
        ),
    }


def pyhanko_says(pdf: bytes, ca: Identity, crls: list[bytes] | None = None) -> list[dict[str, Any]]:
    r = PdfFileReader(io.BytesIO(pdf))
    results = []
    for s in r.embedded_signatures:
        vc = ValidationContext(
            trust_roots=[load_cert_from_pemder(str(ca.cert_path))],
            allow_fetching=False,
            # The certs carry no CRL distribution point, so in the default
            # soft-fail mode pyHanko would not even look at the CRL; "require"
            # makes it check the signer against it (the CA is a trust anchor).
            **({"crls": crls, "revocation_mode": "require"} if crls is not None else {}),
        )
        entry: dict[str, Any] = {"field": s.field_name}
        if crls is not None:
            entry["validation_context"] = {"crls": ["ca.crl"], "revocation_mode": "require"}
        try:
            st = validate_pdf_signature(s, signer_validation_context=vc)
        except Exception as exc:  # noqa: BLE001 - recorded as data
            entry["exception"] = f"{type(exc).__name__}: {exc}"
            results.append(entry)
            continue
        entry.update({
            "summary": st.summary(),
            "bottom_line": st.bottom_line,
            "intact": st.intact,
            "valid": st.valid,
            "trusted": st.trusted,
            "coverage": st.coverage.name if st.coverage else None,
            "modification_level": st.modification_level.name if st.modification_level else None,
            "docmdp_ok": st.docmdp_ok,
            "md_algorithm": st.md_algorithm,
            "signature_mechanism": st.pkcs7_signature_mechanism,
            "signer_reported_dt": st.signer_reported_dt.isoformat() if st.signer_reported_dt else None,
            "trust_problem": str(st.trust_problem_indic) if st.trust_problem_indic else None,
            "signer_subject": st.signing_cert.subject.human_friendly,
            "revoked": st.revoked,
        })
        if st.revocation_details is not None:
            rd = st.revocation_details
            entry["revocation_details"] = {
                "ca_revoked": rd.ca_revoked,
                "revocation_date": rd.revocation_date.isoformat(),
                "revocation_reason": rd.revocation_reason.native,
            }
        if st.diff_result is not None and not hasattr(st.diff_result, "modification_level"):
            entry["diff_problem"] = str(st.diff_result).splitlines()[0]
        results.append(entry)
    return results


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


@dataclass
class SigExpect:
    field: str
    signer: str
    signing_time: datetime
    covers_whole_file: bool = True
    digest_ok: bool = True
    signature_ok: bool = True
    chains_to_ca: bool = True
    cert_expired_at_signing: bool = False
    revoked: bool | None = None
    overall: str = "valid"
    reason: str = "intact signature by a CA-issued, unexpired certificate over the whole file"

    def as_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "signer": self.signer,
            "signing_time": self.signing_time.isoformat().replace("+00:00", "Z"),
            "expected": {
                "covers_whole_file": self.covers_whole_file,
                "digest_ok": self.digest_ok,
                "signature_ok": self.signature_ok,
                "chains_to_ca": self.chains_to_ca,
                "cert_expired_at_signing": self.cert_expired_at_signing,
                "revoked": self.revoked,
                "overall": self.overall,
                "reason": self.reason,
            },
        }


@dataclass
class Fixture:
    name: str
    description: str
    data: bytes
    sigs: list[SigExpect] = field(default_factory=list)
    text_code: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    crls: list[bytes] | None = None  # handed to pyHanko's validator for pyhanko_says


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--code", default=DEFAULT_CODE, help="verification code drawn on the page")
    ap.add_argument("--wrong-code", default=DEFAULT_WRONG_CODE, help="code for signed-wrong-code.pdf")
    ap.add_argument("--signing-time", help="ISO 8601 signing time (default: now, UTC)")
    args = ap.parse_args(argv)
    if args.code == args.wrong_code:
        ap.error("--code and --wrong-code must differ")

    # pyHanko logs expected failures (untrusted chain, illegal diff) with full
    # tracebacks; they are captured in pyhanko_says instead.
    for logger_name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(logger_name).setLevel(logging.CRITICAL)
    t0 = time.monotonic()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    when = (
        datetime.fromisoformat(args.signing_time.replace("Z", "+00:00")).astimezone(timezone.utc)
        if args.signing_time else now
    )
    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True)

    ids = make_pki(out, now)
    ca = ids["ca"]
    crl_der = make_crl(out, ca, when)
    base = make_base_pdf(args.code)
    base_wrong = make_base_pdf(args.wrong_code)

    rsa_pdf = sign(base, ids["leader"], ca, when)
    tampered, t_off, t_old, t_new = tamper(rsa_pdf, args.code)
    when2 = when + timedelta(minutes=1)

    fx: list[Fixture] = [
        Fixture("base.pdf", "unsigned base document", base, [], args.code),
        Fixture("base-wrong-code.pdf", "unsigned base document with the wrong code", base_wrong, [], args.wrong_code),
        Fixture("signed-rsa.pdf", "leader RSA, adbe.pkcs7.detached", rsa_pdf,
                [SigExpect("Signature1", "leader", when)], args.code),
        Fixture("signed-ec.pdf", "leader ECDSA P-256, adbe.pkcs7.detached",
                sign(base, ids["leader-ec"], ca, when),
                [SigExpect("Signature1", "leader-ec", when)], args.code),
        Fixture("signed-pades.pdf", "leader RSA, ETSI.CAdES.detached (PAdES B-B)",
                sign(base, ids["leader"], ca, when, subfilter=fields.SigSeedSubFilter.PADES),
                [SigExpect("Signature1", "leader", when)], args.code),
        Fixture("signed-stranger.pdf", "stranger (CA-issued, but not the leader)",
                sign(base, ids["stranger"], ca, when),
                [SigExpect("Signature1", "stranger", when,
                           reason="valid signature, but by someone other than the leader "
                                  "(an API that expects the leader must reject on identity)")],
                args.code),
        Fixture("signed-expired.pdf", "leader's subject, certificate expired the day before signing",
                sign(base, ids["expired"], ca, when),
                [SigExpect("Signature1", "expired", when, cert_expired_at_signing=True,
                           overall="invalid", reason="signer certificate expired at signing time")],
                args.code),
        Fixture("signed-untrusted.pdf", "self-signed certificate not issued by the CA",
                sign(base, ids["untrusted"], ca, when),
                [SigExpect("Signature1", "untrusted", when, chains_to_ca=False,
                           overall="invalid", reason="certificate does not chain to ca.pem")],
                args.code),
        Fixture("signed-then-modified.pdf", "signed-rsa.pdf + incremental update adding visible text",
                modify_after_signing(rsa_pdf),
                [SigExpect("Signature1", "leader", when, covers_whole_file=False, overall="invalid",
                           reason="content changed after signing (incremental update outside ByteRange)")],
                args.code, {"appended_text": "DA SUA DOI SAU KHI KY"}),
        Fixture("signed-tampered.pdf", "signed-rsa.pdf with one byte of the code flipped", tampered,
                [SigExpect("Signature1", "leader", when, digest_ok=False, overall="invalid",
                           reason="signed bytes altered: messageDigest mismatch (signature over "
                                  "signed attributes itself still verifies)")],
                args.code[:-1] + t_new,
                {"tampered_offset": t_off, "old_byte": t_old, "new_byte": t_new}),
        Fixture("signed-wrong-code.pdf", "valid leader signature over a document with another code",
                sign(base_wrong, ids["leader"], ca, when),
                [SigExpect("Signature1", "leader", when,
                           reason="cryptographically valid; the code in the text differs from --code")],
                args.wrong_code),
        Fixture("signed-twice.pdf", "leader RSA, then stranger in a second field (incremental)",
                sign(rsa_pdf, ids["stranger"], ca, when2, field_name="Signature2"),
                [SigExpect("Signature1", "leader", when, covers_whole_file=False,
                           reason="covers revision 1 only; later revision just adds Signature2 "
                                  "(permitted form-filling/signing change)"),
                 SigExpect("Signature2", "stranger", when2)],
                args.code),
        Fixture("signed-revoked.pdf",
                "leader's subject, certificate revoked 1 h before signing; ca.crl embedded "
                "(adbe-revocationInfoArchival signed attribute)",
                sign(base, ids["revoked"], ca, when, embed_crls=[crl_der], validate_signer=False),
                [SigExpect("Signature1", "revoked", when, revoked=True, overall="invalid",
                           reason="signer certificate revoked before signing time, per the CRL "
                                  "embedded in the signature")],
                args.code, {"revinfo_embedded_by": "signed_attr_prov_spec (no signer validation)"},
                crls=[crl_der]),
        Fixture("signed-crl-good.pdf",
                "leader RSA, adbe.pkcs7.detached, ca.crl embedded "
                "(adbe-revocationInfoArchival signed attribute; does not list the leader)",
                sign(base, ids["leader"], ca, when, embed_crls=[crl_der]),
                [SigExpect("Signature1", "leader", when, revoked=False,
                           reason="intact signature by a CA-issued, unexpired certificate over the "
                                  "whole file; the embedded CRL does not list it")],
                args.code, {"revinfo_embedded_by": "pyHanko embed_validation_info=True"},
                crls=[crl_der]),
    ]

    manifest: dict[str, Any] = {
        "generated_at": now.isoformat().replace("+00:00", "Z"),
        "verification_code": args.code,
        "wrong_code": args.wrong_code,
        "versions": _versions(),
        "text_encoding": "Type1 Helvetica, /WinAnsiEncoding, literal string + Tj, "
                         "unfiltered content stream, printable ASCII only",
        "definitions": {
            "covers_whole_file": "ByteRange = [0, a, b, len-b] with the gap exactly the /Contents string",
            "digest_ok": "SHA-256 of the ByteRange bytes equals the CMS messageDigest signed attribute",
            "signature_ok": "SignerInfo signature verifies over DER(SET OF signed attrs) with the signer cert key",
            "chains_to_ca": "signer cert chains to ca.pem (ignoring validity dates)",
            "cert_expired_at_signing": "signing_time is after the signer cert's notAfter",
            "revoked": "null: no revocation data embedded in the signature; otherwise whether "
                       "the CRL embedded in the adbe-revocationInfoArchival signed attribute "
                       "(1.2.840.113583.1.1.8) lists the signer cert as revoked at signing_time",
        },
        "certs": {k: cert_info(v) for k, v in ids.items()},
        "crl": crl_info(crl_der),
        "files": {},
    }
    for f in fx:
        (out / f.name).write_bytes(f.data)
        entry: dict[str, Any] = {
            "description": f.description,
            "size": len(f.data),
            "sha256": hashlib.sha256(f.data).hexdigest(),
            "code_in_text": f.text_code,
            **f.extra,
            "signatures": [s.as_json() for s in f.sigs],
        }
        if f.sigs:
            says = pyhanko_says(f.data, ca, f.crls)
            for sj, ph in zip(entry["signatures"], says):
                sj["pyhanko_says"] = ph
            entry["structure"] = structure_facts(f.data)
        manifest["files"][f.name] = entry

    elapsed = time.monotonic() - t0
    manifest["elapsed_seconds"] = round(elapsed, 2)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")
    for name, e in manifest["files"].items():
        for s in e["signatures"]:
            print(f"{name:26} {s['field']:11} expected={s['expected']['overall']:8} "
                  f"pyhanko={s['pyhanko_says'].get('summary', s['pyhanko_says'].get('exception'))}")
    print(f"wrote {len(fx)} PDFs + PKI + manifest.json to {out} in {elapsed:.2f}s")
    return 0


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {p: version(p) for p in ("pyHanko", "pyhanko-certvalidator", "cryptography", "asn1crypto")}


if __name__ == "__main__":
    raise SystemExit(main())
