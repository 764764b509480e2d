//! `Query<T>`: the query-string extractor of every handler. Like `web::Query`, but a
//! parameter that does not parse is a 400 naming it in plain words (`year: "abc" is not a
//! whole number`), never a Rust type name.

use super::json::field_error;
use crate::error::{ApiError, HttpError, Lang};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use std::future::{Ready, ready};

pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Deserialises a query string, naming the parameter that does not fit.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let error = field_error(&path, &err.into_inner().to_string(), "query");
        ApiError::bad_request(
            "invalid_query",
            error.text().map(|words, lang| match lang {
                Lang::En => format!("invalid query string: {}: {words}", error.field),
                Lang::Vi => format!("tham số truy vấn không hợp lệ: {}: {words}", error.field),
            }),
        )
        .with_errors(vec![error])
    })
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = HttpError;
    type Future = Ready<Result<Self, HttpError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            parse_query(req.query_string())
                .map(Query)
                .map_err(HttpError::from),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Q {
        year: crate::validation::Year,
        unit_id: Option<i64>,
        as_of: Option<chrono::NaiveDate>,
    }

    #[test]
    fn a_bad_parameter_is_named_in_plain_words() {
        let e = parse_query::<Q>("year=2023&unit_id=abc").unwrap_err();
        assert_eq!(e.status().as_u16(), 400);
        assert_eq!(e.field_errors()[0].field, "unit_id");
        assert_eq!(
            e.detail(),
            "invalid query string: unit_id: is not a whole number"
        );
        let e = parse_query::<Q>("unit_id=1").unwrap_err();
        assert_eq!(e.field_errors()[0].field, "year");
        assert_eq!(e.field_errors()[0].code, "required");
        let e = parse_query::<Q>("year=2023&as_of=2024-02-30").unwrap_err();
        assert!(
            e.detail().contains("as_of: is not a valid date"),
            "{}",
            e.detail()
        );
        let e = parse_query::<Q>("year=1999").unwrap_err();
        assert!(e.detail().contains("out of range"), "{}", e.detail());
        assert!(parse_query::<Q>("year=2023&unit_id=5").is_ok());
    }
}
