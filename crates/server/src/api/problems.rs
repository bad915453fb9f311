//! The problem answers many routes share, for their OpenAPI `responses(...)`: each type here
//! stands for one or more RFC 9457 problem responses with the same meaning on every route
//! that lists it, so the document says them in one way and a route's annotation lists only
//! what is its own (its success, its 403, its 404s).

use std::collections::BTreeMap;

use utoipa::IntoResponses;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

/// The media type of every problem document.
const PROBLEM_JSON: &str = "application/problem+json";

/// Problem responses by status, each with its description.
fn problems(list: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
    list.iter()
        .map(|(status, description)| {
            let response = ResponseBuilder::new()
                .description(*description)
                .content(
                    PROBLEM_JSON,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build();
            ((*status).to_owned(), RefOr::T(response))
        })
        .collect()
}

/// 401: the route needs a session or a token, and the request has neither (or a bad one).
pub struct NotSignedIn;

impl IntoResponses for NotSignedIn {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[("401", "not signed in")])
    }
}

/// 413 and 415: the route reads a JSON body, bounded by the server's limit.
pub struct JsonBody;

impl IntoResponses for JsonBody {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[
            ("413", "the body is too large"),
            ("415", "the body is not JSON"),
        ])
    }
}

/// 400 and 422 of a paged list: the query string and its `limit`.
pub struct Paged;

impl IntoResponses for Paged {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[
            ("400", "the query string is wrong"),
            ("422", "`limit` is out of range"),
        ])
    }
}
