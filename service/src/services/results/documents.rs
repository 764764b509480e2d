//! Stored results documents: the response body of a ranking, a district's criteria
//! losses or a unit's index, kept in the database with the facts its access depends on
//! (`visibility::Access`) and the results generation it was built at.
//!
//! Results change far less often than they are read (a published year not at all). A
//! read first asks for the document of its key whose generation is the current one: one
//! statement that returns a body to send as it is, after the caller is checked by the
//! same rules as the live read. Only when there is none (the first read after a change)
//! is the body built from the live queries, read after the generation, and stored for
//! the next reader of any replica. Every committed write moves the generation on
//! (`changes::bump_generation`), so a document is never served after a write it did not
//! see, and its figures are the live read's byte for byte.
//!
//! In front of the database, the process keeps the documents it read in its results cache
//! (`PARINDEX_RESULTS_CACHE_MS`, invalidated like the rest). `PARINDEX_RESULT_DOCUMENTS=false`
//! stores none.

use super::ResultsReader;
use super::index::{IndexLookup, UnitIndex, lookup_index};
use super::ranking::{CriterionLoss, Ranking, losses_unchecked, ranking_unchecked};
use super::rows::Depth;
use crate::auth::{Principal, UnitRef};
use crate::cache::ReadCache;
use crate::error::{ApiError, ApiResult};
use crate::services::sql;
use crate::services::visibility::{self, Access, Visible};
use bytes::Bytes;
use entity::unit;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult};
use serde::{Deserialize, Serialize};

/// What a document is the body of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    Ranking,
    CriteriaLosses,
    UnitIndex,
}

impl DocumentKind {
    fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Ranking => "ranking",
            DocumentKind::CriteriaLosses => "criteria_losses",
            DocumentKind::UnitIndex => "unit_index",
        }
    }
}

/// A document's key: its kind, the unit it is of (0 for the whole country), the year, and
/// the depth of a ranking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DocumentKey {
    pub kind: DocumentKind,
    pub scope_id: i64,
    pub year: i32,
    pub depth: Depth,
}

/// The results documents of one server: whether they are stored in the database, and
/// the ones this process read recently (`PARINDEX_RESULTS_CACHE_MS`, stale after any
/// write like every read cache).
pub struct Documents {
    stored: bool,
    cache: ReadCache<DocumentKey, Document>,
}

impl Documents {
    /// `stored`: `PARINDEX_RESULT_DOCUMENTS`; `ttl`: `PARINDEX_RESULTS_CACHE_MS`.
    pub fn new(stored: bool, ttl: std::time::Duration) -> Self {
        Documents {
            stored,
            cache: ReadCache::new("result_documents", ttl),
        }
    }
}

/// A response body with what access to it depends on.
#[derive(Clone, Debug)]
pub struct Document {
    access: Access,
    body: Bytes,
}

/// A body the caller may see, as its live read would have rendered it.
pub type Body = Bytes;

/// A ranking's body (`render` makes it from the ranking read live, when needed).
pub async fn ranking_body(
    reader: &ResultsReader,
    actor: &Principal,
    parent_id: Option<i64>,
    year: i32,
    depth: Depth,
    render: impl FnOnce(&Ranking) -> ApiResult<Vec<u8>>,
) -> ApiResult<Visible<Body>> {
    let key = DocumentKey {
        kind: DocumentKind::Ranking,
        scope_id: parent_id.unwrap_or(0),
        year,
        depth,
    };
    through_documents(reader, actor, key, async {
        let (access, ranking) = ranking_unchecked(reader, actor, parent_id, year, depth).await?;
        Ok(Document {
            access,
            body: render(&ranking)?.into(),
        })
    })
    .await
}

/// The body of the criteria losing most points under a unit.
pub async fn criteria_losses_body(
    reader: &ResultsReader,
    actor: &Principal,
    parent_id: i64,
    year: i32,
    depth: Depth,
    render: impl FnOnce(&unit::Model, &[CriterionLoss]) -> ApiResult<Vec<u8>>,
) -> ApiResult<Visible<Body>> {
    let key = DocumentKey {
        kind: DocumentKind::CriteriaLosses,
        scope_id: parent_id,
        year,
        depth,
    };
    through_documents(reader, actor, key, async {
        let (access, (parent, losses)) =
            losses_unchecked(reader, actor, parent_id, year, depth).await?;
        Ok(Document {
            access,
            body: render(&parent, &losses)?.into(),
        })
    })
    .await
}

/// The body of a unit's index; 404 (after the access check) when it has none.
pub async fn unit_index_body(
    reader: &ResultsReader,
    actor: &Principal,
    unit_id: i64,
    year: i32,
    render: impl FnOnce(&UnitIndex) -> ApiResult<Vec<u8>>,
) -> ApiResult<Visible<Body>> {
    let key = DocumentKey {
        kind: DocumentKind::UnitIndex,
        scope_id: unit_id,
        year,
        depth: Depth::Children,
    };
    through_documents(reader, actor, key, async {
        match lookup_index(reader, unit_id, year).await? {
            IndexLookup::Found(index) => Ok(Document {
                access: Access::Unit {
                    unit: UnitRef {
                        id: index.unit_id,
                        path: index.unit_path.clone(),
                    },
                    published: index.published,
                },
                body: render(&index)?.into(),
            }),
            // Nothing to store: the refusal the live read gives.
            IndexLookup::NotRanked {
                unit,
                published,
                reason,
            } => {
                visibility::published_results(actor, &unit, published, ())?;
                Err(ApiError::not_found(reason))
            }
        }
    })
    .await
}

/// The document of `key`: from the process's cache, else the database's current one,
/// else `build` (stored for the next reader); then the caller's access check.
async fn through_documents(
    reader: &ResultsReader,
    actor: &Principal,
    key: DocumentKey,
    build: impl Future<Output = ApiResult<Document>>,
) -> ApiResult<Visible<Body>> {
    // The whole country is refused before anything is read.
    if key.kind == DocumentKind::Ranking && key.scope_id == 0 {
        visibility::check(actor, &Access::Country, ())?;
    }
    let document = reader
        .documents
        .cache
        .get_or_load(key, async {
            if !reader.documents.stored || crate::db::generation_doubtful() {
                return build.await;
            }
            match fetch(&reader.db, &key).await? {
                Fetched::Current(document) => Ok(document),
                Fetched::Missing { generation } => {
                    let document = build.await?;
                    store(&reader.db, key, generation, &document);
                    Ok(document)
                }
            }
        })
        .await?;
    visibility::check(actor, &document.access, document.body.clone())
}

enum Fetched {
    Current(Document),
    /// No document of the current generation: build one, stamped with it.
    Missing {
        generation: i64,
    },
}

#[derive(FromQueryResult)]
struct DocumentRow {
    generation: i64,
    access: Option<String>,
    body: Option<String>,
}

/// SQL of the current generation, as `generation`.
fn generation_sql(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "(SELECT last_value AS generation FROM parindex_results_generation)",
        _ => "(SELECT value AS generation FROM results_generation WHERE id = 1)",
    }
}

/// The current generation and the document of `key` stamped with it, if any: one
/// statement.
async fn fetch(db: &DatabaseConnection, key: &DocumentKey) -> ApiResult<Fetched> {
    let text = format!(
        "SELECT g.generation, d.access, d.body FROM {} g \
         LEFT JOIN result_documents d ON d.kind = $1 AND d.scope_id = $2 AND d.year = $3 \
           AND d.depth = $4 AND d.generation = g.generation",
        generation_sql(db.get_database_backend())
    );
    let row = DocumentRow::find_by_statement(sql(
        db,
        &text,
        vec![
            key.kind.as_str().into(),
            key.scope_id.into(),
            key.year.into(),
            depth_str(key.depth).into(),
        ],
    ))
    .one(db)
    .await?
    .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the results generation is missing")))?;
    match (row.access, row.body) {
        (Some(access), Some(body)) => Ok(Fetched::Current(Document {
            access: decode_access(&access)?,
            body: Bytes::from(body),
        })),
        _ => Ok(Fetched::Missing {
            generation: row.generation,
        }),
    }
}

fn depth_str(depth: Depth) -> &'static str {
    match depth {
        Depth::Children => "children",
        Depth::All => "all",
        Depth::Agencies => "agencies",
    }
}

/// Stores a document built at `generation`, after the response (a document is derived
/// data: losing one costs the next reader a live read). It replaces an older one, never a
/// newer one.
fn store(db: &DatabaseConnection, key: DocumentKey, generation: i64, document: &Document) {
    let Ok(body) = std::str::from_utf8(&document.body).map(str::to_string) else {
        return;
    };
    let access = encode_access(&document.access);
    let db = db.clone();
    tokio::spawn(async move {
        let stored = db
            .execute_raw(sql(
                &db,
                "INSERT INTO result_documents (kind, scope_id, year, depth, generation, access, body) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (kind, scope_id, year, depth) DO UPDATE SET \
                   generation = excluded.generation, access = excluded.access, body = excluded.body \
                 WHERE result_documents.generation < excluded.generation",
                vec![
                    key.kind.as_str().into(),
                    key.scope_id.into(),
                    key.year.into(),
                    depth_str(key.depth).into(),
                    generation.into(),
                    access.into(),
                    body.into(),
                ],
            ))
            .await;
        if let Err(e) = stored {
            tracing::debug!(error = %e, "a results document was not stored");
        }
    });
}

#[derive(Serialize, Deserialize)]
struct UnitJson {
    id: i64,
    path: String,
}

impl From<&UnitRef> for UnitJson {
    fn from(u: &UnitRef) -> Self {
        UnitJson {
            id: u.id,
            path: u.path.clone(),
        }
    }
}

impl From<UnitJson> for UnitRef {
    fn from(u: UnitJson) -> Self {
        UnitRef {
            id: u.id,
            path: u.path,
        }
    }
}

/// `visibility::Access` as stored beside a body.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum AccessJson {
    Country,
    Ranking {
        parent: UnitJson,
        members: Vec<UnitJson>,
        published: bool,
    },
    Unit {
        unit: UnitJson,
        published: bool,
    },
}

fn encode_access(access: &Access) -> String {
    let json = match access {
        Access::Country => AccessJson::Country,
        Access::Ranking {
            parent,
            members,
            published,
        } => AccessJson::Ranking {
            parent: parent.into(),
            members: members.iter().map(UnitJson::from).collect(),
            published: *published,
        },
        Access::Unit { unit, published } => AccessJson::Unit {
            unit: unit.into(),
            published: *published,
        },
    };
    serde_json::to_string(&json).unwrap_or_default()
}

fn decode_access(text: &str) -> ApiResult<Access> {
    let json: AccessJson = serde_json::from_str(text).map_err(ApiError::internal)?;
    Ok(match json {
        AccessJson::Country => Access::Country,
        AccessJson::Ranking {
            parent,
            members,
            published,
        } => Access::Ranking {
            parent: parent.into(),
            members: members.into_iter().map(UnitRef::from).collect(),
            published,
        },
        AccessJson::Unit { unit, published } => Access::Unit {
            unit: unit.into(),
            published,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_survives_storage() {
        let unit = |id: i64, path: &str| UnitRef {
            id,
            path: path.to_string(),
        };
        for access in [
            Access::Country,
            Access::Ranking {
                parent: unit(2, "/1/2/"),
                members: vec![unit(3, "/1/2/3/"), unit(4, "/1/2/4/")],
                published: true,
            },
            Access::Unit {
                unit: unit(3, "/1/2/3/"),
                published: false,
            },
        ] {
            assert_eq!(decode_access(&encode_access(&access)).unwrap(), access);
        }
        // Not what `store` writes: an error, never a panic.
        assert!(decode_access("{").is_err());
        assert!(decode_access(r#"{"kind":"ranking"}"#).is_err());
    }
}
