//! A framework's criteria as a spreadsheet (the export), and criteria from an uploaded one
//! (the import); the row format itself is `parindex_domain::framework_sheet`.

pub use parindex_domain::framework_sheet::{COLUMNS, method_cells, parse_method, parse_rows};

use crate::scoring::framework::CriteriaTree;
use crate::sheets::{Cell, Table};

/// The criteria as a sheet, header on the first row (ready to be imported again).
pub fn criteria_table(tree: &CriteriaTree) -> Table {
    Table {
        sheet_name: "criteria".into(),
        title: Vec::new(),
        headers: COLUMNS.iter().map(|c| c.to_string()).collect(),
        widths: vec![10.0, 70.0, 10.0, 18.0, 28.0, 10.0, 12.0, 28.0, 12.0],
        rows: tree
            .criteria()
            .iter()
            .map(|c| {
                let (method, params) = c.method.as_ref().map(method_cells).unwrap_or_default();
                vec![
                    Cell::Text(c.code.clone()),
                    Cell::Text(c.title.clone()),
                    Cell::Decimal(c.max_score),
                    Cell::Text(method),
                    Cell::Text(params),
                    Cell::Text(if tree.is_leaf(&c.code) {
                        c.scorer.as_str().to_string()
                    } else {
                        String::new()
                    }),
                    Cell::Text(
                        c.appraised_by_unit_id
                            .map(|id| id.to_string())
                            .unwrap_or_default(),
                    ),
                    Cell::Text(c.indicator_code.clone().unwrap_or_default()),
                    Cell::Text(if c.indicator_feeds_self {
                        "true".to_string()
                    } else {
                        String::new()
                    }),
                ]
            })
            .collect(),
        total: None,
    }
}
