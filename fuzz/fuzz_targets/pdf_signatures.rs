//! Any bytes as an uploaded evidence PDF: finding and verifying its digital signatures
//! must answer (verdicts or a refusal within the budget), never panic; every verdict that
//! says `valid` really covers the whole file with a verified digest and signature.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parindex_domain::signatures::{Budget, TrustAnchors, Verdict, verify_pdf};
use std::sync::LazyLock;

/// The fixtures' test CA (`scripts/signatures/make_fixtures.py`), so that a mutated
/// signed file can reach the chain's checks.
static ANCHORS: LazyLock<TrustAnchors> = LazyLock::new(|| {
    TrustAnchors::from_pem(include_bytes!("../../domain/testdata/signatures/ca.pem"))
        .expect("the fixtures' CA")
});

fuzz_target!(|data: &[u8]| {
    let budget = Budget {
        max_file_bytes: 1 << 20,
        max_candidates: 8,
        max_signature_bytes: 64 << 10,
    };
    if let Ok(checks) = verify_pdf(data, &ANCHORS, &budget) {
        for check in checks {
            if check.verdict == Verdict::Valid {
                assert!(check.covers_whole_file && check.digest_ok && check.signature_ok);
            }
        }
    }
});
