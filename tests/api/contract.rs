//! Every response the suite reads is checked against the committed OpenAPI document: its
//! status is declared for the path, its media type is one the document names for that
//! status, and a JSON body validates against the declared schema. A drift between the
//! server and the document fails the test that met it, naming the path and the error.
//!
//! A response does not say which method asked for it, so a path's operations are tried
//! together: the response passes when one of them declares it and its body validates.

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

const DOCUMENT: &str = include_str!("../../openapi/openapi.json");

/// Statuses the framework answers for any path, which no operation lists: 405 (another
/// method of a declared path).
const UNDECLARED_EVERYWHERE: &[u16] = &[405];

struct Contract {
    doc: Value,
    /// Path templates split in segments, most literal first.
    templates: Vec<(String, Vec<String>)>,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let doc: Value = serde_json::from_str(DOCUMENT).expect("the committed document is JSON");
        let mut templates: Vec<(String, Vec<String>)> = doc["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .map(|t| (t.clone(), t.split('/').map(str::to_owned).collect()))
            .collect();
        let literal = |segments: &[String]| segments.iter().filter(|s| !s.starts_with('{')).count();
        templates.sort_by_key(|(_, segments)| std::cmp::Reverse(literal(segments)));
        Contract {
            doc,
            templates,
            validators: Mutex::new(HashMap::new()),
        }
    })
}

fn matches(template: &[String], path: &[&str]) -> bool {
    template.len() == path.len()
        && template
            .iter()
            .zip(path)
            .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
}

/// What a declared response says for one status: its media types and their schemas.
fn declared<'a>(doc: &'a Value, operation: &'a Value, status: u16) -> Option<&'a Value> {
    let responses = &operation["responses"];
    let range = format!("{}XX", status / 100);
    let response = [status.to_string(), range, "default".to_string()]
        .into_iter()
        .find_map(|key| responses.get(&key))?;
    match response["$ref"].as_str() {
        Some(r) => doc.pointer(r.trim_start_matches('#')),
        None => Some(response),
    }
}

impl Contract {
    fn validator(&self, key: String, schema: &Value) -> Arc<jsonschema::Validator> {
        let mut cache = self.validators.lock().unwrap();
        cache
            .entry(key)
            .or_insert_with(|| {
                let root = json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "components": {"schemas": self.doc["components"]["schemas"].clone()},
                    "allOf": [schema],
                });
                Arc::new(
                    jsonschema::options()
                        .should_validate_formats(true)
                        .build(&root)
                        .unwrap_or_else(|e| panic!("the document's schema does not compile: {e}")),
                )
            })
            .clone()
    }
}

/// Checks one response; `Err` says what the document does not allow.
pub fn check(
    url: &reqwest::Url,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(), String> {
    let contract = contract();
    // The path without a suffix still reads `format` (older clients): such a response is
    // held to the document's path for that format, `{path}.{format}`.
    let format = url
        .query_pairs()
        .find(|(k, _)| k == "format")
        .map(|(_, v)| v.into_owned());
    let suffixed = format.map(|f| format!("{}.{f}", url.path()));
    let candidates = suffixed.iter().map(String::as_str).chain([url.path()]);
    let Some(template) = candidates
        .map(|p| p.split('/').collect::<Vec<_>>())
        .find_map(|path| contract.templates.iter().find(|(_, t)| matches(t, &path)))
        .map(|(template, _)| template)
    else {
        return Ok(()); // Not part of the API (Swagger UI, an unknown route's 404).
    };
    if UNDECLARED_EVERYWHERE.contains(&status) {
        return Ok(());
    }
    let item = &contract.doc["paths"][template];
    let operations: Vec<(&String, &Value)> = item.as_object().unwrap().iter().collect();
    let responses: Vec<(&String, &Value)> = operations
        .iter()
        .filter_map(|(method, op)| Some((*method, declared(&contract.doc, op, status)?)))
        .collect();
    if responses.is_empty() {
        return Err(format!("{status} is not declared for {template}"));
    }
    if body.is_empty() {
        return Ok(());
    }
    let essence = content_type
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let mut problems = Vec::new();
    for (method, response) in &responses {
        let Some(media) = response["content"].get(&essence) else {
            let declared: Vec<&String> = response["content"]
                .as_object()
                .map(|c| c.keys().collect())
                .unwrap_or_default();
            problems.push(format!("{method}: {essence:?} is not among {declared:?}"));
            continue;
        };
        if !essence.ends_with("json") {
            return Ok(());
        }
        let Ok(instance) = serde_json::from_slice::<Value>(body) else {
            problems.push(format!("{method}: the body is not JSON"));
            continue;
        };
        let key = format!("{template} {method} {status} {essence}");
        let validator = contract.validator(key, &media["schema"]);
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .take(5)
            .map(|e| format!("at {}: {e}", e.instance_path()))
            .collect();
        if errors.is_empty() {
            return Ok(());
        }
        problems.push(format!("{method}: {}", errors.join("; ")));
    }
    Err(format!(
        "{status} {essence} from {template} breaks the document: {}",
        problems.join(" | ")
    ))
}
