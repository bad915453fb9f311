//! The JSON API: one module per resource, each with its own `router()`.

pub mod accounts;
pub mod assess;
pub mod health;
pub mod openapi;
pub mod policy;
pub mod scans;
