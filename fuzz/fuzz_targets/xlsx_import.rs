//! Any bytes as an uploaded framework XLSX: the bounded reader and the row parser must
//! answer (rows or an error) within the budget, never panic, never allocate past it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parindex_domain::framework_sheet::parse_rows;
use parindex_domain::spreadsheet::{Budget, read_xlsx};
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let budget = Budget {
        max_time: Duration::from_secs(2),
        ..Budget::DEFAULT
    };
    if let Ok(rows) = read_xlsx(data, &budget, &[0]) {
        let _ = parse_rows(rows);
    }
});
