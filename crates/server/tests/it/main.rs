//! The server over real HTTP: each test starts it on `127.0.0.1:0` with a
//! real SQLite ledger in a temporary directory and talks to it with hyper's
//! client. All integration tests are modules of this one binary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test: a failure panics with its message"
)]

mod accounts;
mod assess;
mod bad_input;
mod browser;
mod changes;
mod ledger_bad_input;
mod matrix;
mod notify;
mod oidc;
mod openapi;
mod provider;
mod proxies;
mod reports;
mod scans;
mod service;
mod story;
mod support;
mod tls;
mod web;
mod web_lifecycle;
mod world;
