//! Names of serialised enums, as the JSON shape spells them.

use serde::Serialize;

/// The name a value serialises to (`"vfx"` for `Purpose::Vfx`); its JSON text otherwise.
pub fn name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}
