//! The JSON API: one module per resource, each with its own `router()`.

pub mod accounts;
pub mod assess;
pub mod audit;
pub mod consents;
pub mod declarations;
pub mod health;
pub mod notifications;
pub mod oidc;
pub mod openapi;
pub mod outbox;
pub mod performers;
pub mod policy;
pub mod problems;
pub mod productions;
pub mod reassess;
pub mod reports;
pub mod reviews;
pub mod scans;
pub mod tools;
pub mod views;
