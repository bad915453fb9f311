//! The shape of a declaration as conditions see it, derived from the
//! declaration's JSON Schema so that it cannot drift from the types.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::Value;

/// One field of the declaration, as CEL sees it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Field {
    /// A table with named fields.
    Object(BTreeMap<String, Field>),
    /// A list of items.
    List(Box<Field>),
    /// A string with a fixed set of values (answers, purposes, levels…).
    Enum(Vec<String>),
    /// Free text.
    Text,
    /// Anything else (numbers, booleans): read, not checked.
    Other,
}

impl Field {
    /// Field names of an object, for "did you mean" hints.
    pub(crate) fn names(&self) -> Vec<&str> {
        match self {
            Field::Object(fields) => fields.keys().map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }
}

/// The declaration's root object.
pub(crate) static DECLARATION: LazyLock<Field> = LazyLock::new(|| {
    let schema = greenlight_core::declaration_schema();
    let defs = schema.get("$defs").cloned().unwrap_or(Value::Null);
    convert(&schema, &defs, 0)
});

fn convert(node: &Value, defs: &Value, depth: usize) -> Field {
    if depth > 16 {
        return Field::Other;
    }
    if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or_default();
        return match defs.get(name) {
            Some(def) => convert(def, defs, depth + 1),
            None => Field::Other,
        };
    }
    if let Some(values) = node.get("enum").and_then(Value::as_array) {
        return Field::Enum(
            values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        );
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(options) = node.get(key).and_then(Value::as_array) {
            let consts: Vec<String> = options
                .iter()
                .filter_map(|o| o.get("const").and_then(Value::as_str).map(str::to_owned))
                .collect();
            if !consts.is_empty() && consts.len() == options.len() {
                return Field::Enum(consts);
            }
            let mut variants: Vec<String> = Vec::new();
            let mut all_enums = true;
            for option in options {
                match convert(option, defs, depth + 1) {
                    Field::Enum(values) => variants.extend(values),
                    _ => all_enums = false,
                }
            }
            if all_enums && !variants.is_empty() {
                return Field::Enum(variants);
            }
            if let Some(first) = options.first() {
                return convert(first, defs, depth + 1);
            }
        }
    }
    if let Some(value) = node.get("const").and_then(Value::as_str) {
        return Field::Enum(vec![value.to_owned()]);
    }
    let kind = match node.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|k| *k != "null")
            .unwrap_or("null"),
        _ => "",
    };
    match kind {
        "object" => {
            let mut fields = BTreeMap::new();
            if let Some(properties) = node.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    fields.insert(name.clone(), convert(property, defs, depth + 1));
                }
            }
            Field::Object(fields)
        }
        "array" => match node.get("items") {
            Some(items) => Field::List(Box::new(convert(items, defs, depth + 1))),
            None => Field::List(Box::new(Field::Other)),
        },
        "string" => Field::Text,
        _ => Field::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_enums_and_lists_know_their_items() {
        let Field::Object(root) = &*DECLARATION else {
            panic!("root is not an object")
        };
        let Some(Field::Object(inputs)) = root.get("inputs") else {
            panic!("no inputs")
        };
        assert_eq!(
            inputs.get("talent_likeness"),
            Some(&Field::Enum(vec![
                "yes".into(),
                "no".into(),
                "unsure".into()
            ]))
        );
        let Some(Field::List(tool)) = root.get("tools") else {
            panic!("no tools")
        };
        assert!(tool.names().contains(&"trains_on_inputs"));
        let Some(Field::Enum(purposes)) = root.get("purpose") else {
            panic!("no purpose")
        };
        assert!(purposes.contains(&"de_aging".to_owned()));
        let Some(Field::List(media)) = root.get("media") else {
            panic!("no media")
        };
        assert!(matches!(&**media, Field::Enum(v) if v.contains(&"3d".to_owned())));
        assert_eq!(root.get("title"), Some(&Field::Text));
    }
}
