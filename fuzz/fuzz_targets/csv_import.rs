//! Any bytes as an uploaded framework CSV: the bounded reader and the row parser must
//! answer (rows or an error), never panic; whatever parses builds a valid tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parindex_domain::framework_sheet::parse_rows;
use parindex_domain::scoring::CriteriaTree;
use parindex_domain::spreadsheet::{Budget, read_csv};

fuzz_target!(|data: &[u8]| {
    if let Ok(rows) = read_csv(data, &Budget::DEFAULT)
        && let Ok((criteria, _)) = parse_rows(rows)
    {
        assert!(CriteriaTree::build(criteria).is_ok());
    }
});
