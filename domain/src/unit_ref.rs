//! A unit as the access policy sees it: its id and materialised path (`/1/5/23/`). The
//! unit tree is a prefix order on paths: a unit is within another when its path starts
//! with the other's, and a path lists the unit's ancestors.

/// A unit's id and path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitRef {
    pub id: i64,
    pub path: String,
}

impl UnitRef {
    /// True when `self` is `other` or one of its descendants.
    pub fn is_within(&self, other: &UnitRef) -> bool {
        self.path.starts_with(&other.path)
    }

    /// The ids of the unit's ancestors and itself, root first.
    pub fn lineage(&self) -> Vec<i64> {
        lineage(&self.path)
    }

    /// The unit directly above, from the path (`None` for a root).
    pub fn parent(&self) -> Option<UnitRef> {
        let trimmed = self.path.strip_suffix('/')?;
        let (above, _) = trimmed.rsplit_once('/')?;
        let id = lineage(above).last().copied()?;
        Some(UnitRef {
            id,
            path: format!("{above}/"),
        })
    }
}

/// The ids of a unit and its ancestors, from its path (`/1/5/23/` → 1, 5, 23).
pub fn lineage(path: &str) -> Vec<i64> {
    path.split('/').filter_map(|s| s.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lineage_reads_the_path() {
        assert_eq!(lineage("/1/5/23/"), vec![1, 5, 23]);
        assert!(lineage("").is_empty());
        let commune = UnitRef {
            id: 23,
            path: "/1/5/23/".into(),
        };
        let district = UnitRef {
            id: 5,
            path: "/1/5/".into(),
        };
        let other = UnitRef {
            id: 52,
            path: "/1/52/".into(),
        };
        assert!(commune.is_within(&district) && commune.is_within(&commune));
        assert!(!district.is_within(&commune) && !commune.is_within(&other));
        assert_eq!(commune.parent(), Some(district.clone()));
        assert_eq!(
            district.parent().map(|p| (p.id, p.path)),
            Some((1, "/1/".to_string()))
        );
        assert_eq!(district.parent().and_then(|p| p.parent()), None);
    }
}
