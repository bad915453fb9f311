//! The benchmark's baseline: a bare axum handler answering a fixed small JSON
//! object, with no layer, served by `axum::serve`. `scripts/bench-serve.sh`
//! and `scripts/bench-serve-ledger.sh` load it the same way as `greenlight
//! serve` to show what the framework alone costs on this machine: it answers
//! every method and path alike, so each load of the benchmarks (a POST of a
//! declaration, a GET of a list page) has its baseline.
//!
//! `cargo run --release -p greenlight-server --example baseline -- 127.0.0.1:18081`

use axum::routing::post;
use axum::{Json, Router};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18081".to_owned());
    let answer = || async { Json(serde_json::json!({"level": "notify", "findings": []})) };
    let app = Router::new()
        .route("/api/v1/assess", post(answer))
        .fallback(answer);
    let listener = tokio::net::TcpListener::bind(&address).await?;
    eprintln!("baseline: listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
