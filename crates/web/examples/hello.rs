//! The baseline of bench/checkin_burst.sh: a bare axum server that answers every request
//! with a small JSON body, on the same runtime and allocator defaults as `jiaxiao serve`
//! but with no middleware, no database and no rules. The check-in figure is a ratio to
//! this server's throughput, measured by the same load tool in the same run.
//!
//!     cargo build --release -p jiaxiao-web --example hello
//!     target/release/examples/hello 127.0.0.1:18080

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

async fn hello(body: Bytes) -> impl IntoResponse {
    // Touch the body as a real handler would read it.
    let n = body.len();
    (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        format!("{{\"hello\":\"world\",\"bytes\":{n}}}"),
    )
}

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18080".into());
    let app = Router::new().fallback(hello);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .expect("bind the hello server's address");
    println!("hello listening on http://{addr}");
    axum::serve(listener, app).await.expect("serve");
}
