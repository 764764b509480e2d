//! Authentication and authorization: the policy, tokens and passwords are the service's
//! (`parindex_service::auth`); the extractor that turns a bearer token into a `Principal`
//! is HTTP's, here.

pub mod extractor;

pub use parindex_service::auth::*;

/// The authenticated caller of a request, as a handler argument: the service's
/// `Principal` (it derefs to it, so `&principal` is what every service takes).
#[derive(Clone, Debug)]
pub struct Principal(pub parindex_service::auth::Principal);

impl std::ops::Deref for Principal {
    type Target = parindex_service::auth::Principal;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
