//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of every route,
//! generated from the handlers' `#[utoipa::path]` attributes by the same
//! `OpenApiRouter` that registers the routes, so the two cannot drift.

use std::sync::Arc;

use axum::Extension;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openapi))
}

/// The rendered document, built once in [`crate::app`].
#[derive(Clone, Debug)]
pub struct OpenApiJson(pub Arc<[u8]>);

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses((status = 200, description = "the OpenAPI 3.1 document of this API", content_type = "application/json", body = Object))
)]
pub async fn openapi(Extension(document): Extension<OpenApiJson>) -> Response {
    let mut response = document.0.to_vec().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The finished document: utoipa's, with the JSON Schemas of the declaration
/// and the decision (`greenlight-core`'s, the same `greenlight schema` prints)
/// added as components, their `$defs` hoisted beside them.
pub fn render(document: utoipa::openapi::OpenApi) -> Value {
    let mut document = serde_json::to_value(document).unwrap_or_default();
    let mut schemas = Map::new();
    for (name, schema) in [
        ("Declaration", greenlight_core::declaration_schema()),
        ("Decision", greenlight_core::decision_schema()),
    ] {
        let mut schema = schema;
        if let Some(object) = schema.as_object_mut() {
            object.remove("$schema");
            if let Some(Value::Object(defs)) = object.remove("$defs") {
                for (def, value) in defs {
                    schemas.insert(def, value);
                }
            }
        }
        schemas.insert(name.to_owned(), schema);
    }
    let mut schemas = Value::Object(schemas);
    rewrite_refs(&mut schemas);
    if let Some(root) = document.as_object_mut() {
        let components = root
            .entry("components")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(components) = components.as_object_mut() {
            let existing = components
                .entry("schemas")
                .or_insert_with(|| Value::Object(Map::new()));
            if let (Some(existing), Value::Object(added)) = (existing.as_object_mut(), schemas) {
                existing.extend(added);
            }
        }
    }
    document
}

/// schemars refers to `#/$defs/X`; inside the OpenAPI document they are
/// `#/components/schemas/X`.
fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(object) => {
            for (key, value) in object.iter_mut() {
                if key == "$ref"
                    && let Value::String(target) = value
                    && let Some(name) = target.strip_prefix("#/$defs/")
                {
                    *target = format!("#/components/schemas/{name}");
                } else {
                    rewrite_refs(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
    }
}
