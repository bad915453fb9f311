//! Dumps the c2pa crate's JSON for one file with verification on (a debugging aid).
fn main() {
    let Some(path) = std::env::args().nth(1) else {
        return;
    };
    let settings = std::env::args().nth(3).unwrap_or_else(|| {
        r#"{"verify":{"verify_after_reading":true,"remote_manifest_fetch":false}}"#.to_string()
    });
    let ctx = c2pa::Context::new().with_settings(settings.as_str());
    let Ok(ctx) = ctx else { return };
    let Ok(f) = std::fs::File::open(&path) else {
        return;
    };
    let fmt = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "video/mp4".to_string());
    match c2pa::Reader::from_context(ctx).with_stream(&fmt, f) {
        Ok(r) => println!("{}", r.json()),
        Err(e) => println!("error: {e}"),
    }
}
