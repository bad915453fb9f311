//! The declaration as a small tree of values, built by serialising it once
//! per assessment. Field names are the `&'static str`s serde hands out, so
//! building the tree allocates little and looking a field up compares short
//! strings.

use serde::Serialize;
use serde::ser::{self, Impossible};

/// A value of the declaration.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    /// An enum variant's name: answers, purposes, levels.
    Name(&'static str),
    /// Free text.
    Text(String),
    List(Vec<Val>),
    Object(Vec<(&'static str, Val)>),
}

impl Val {
    /// A field of an object.
    pub(crate) fn field(&self, name: &str) -> Option<&Val> {
        match self {
            Val::Object(fields) => fields.iter().find(|(k, _)| *k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn to_json(&self) -> serde_json::Value {
        match self {
            Val::Null => serde_json::Value::Null,
            Val::Bool(b) => serde_json::Value::Bool(*b),
            Val::Int(i) => serde_json::Value::from(*i),
            Val::Uint(u) => serde_json::Value::from(*u),
            Val::Float(f) => serde_json::Value::from(*f),
            Val::Name(s) => serde_json::Value::String((*s).to_owned()),
            Val::Text(s) => serde_json::Value::String(s.clone()),
            Val::List(items) => serde_json::Value::Array(items.iter().map(Val::to_json).collect()),
            Val::Object(fields) => serde_json::Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Why a value could not be turned into a [`Val`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct ToValError(String);

impl ser::Error for ToValError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        ToValError(msg.to_string())
    }
}

/// Serialises `value` into a [`Val`].
pub(crate) fn to_val<T: Serialize + ?Sized>(value: &T) -> Result<Val, ToValError> {
    value.serialize(ValSerializer)
}

struct ValSerializer;

pub(crate) struct SeqBuilder(Vec<Val>);
pub(crate) struct StructBuilder(Vec<(&'static str, Val)>);

impl ser::Serializer for ValSerializer {
    type Ok = Val;
    type Error = ToValError;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = Impossible<Val, ToValError>;
    type SerializeMap = Impossible<Val, ToValError>;
    type SerializeStruct = StructBuilder;
    type SerializeStructVariant = Impossible<Val, ToValError>;

    fn serialize_bool(self, v: bool) -> Result<Val, ToValError> {
        Ok(Val::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Val, ToValError> {
        Ok(Val::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Val, ToValError> {
        Ok(Val::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Val, ToValError> {
        Ok(Val::Int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Val, ToValError> {
        Ok(Val::Int(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Val, ToValError> {
        Ok(Val::Uint(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Val, ToValError> {
        Ok(Val::Uint(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Val, ToValError> {
        Ok(Val::Uint(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Val, ToValError> {
        Ok(Val::Uint(v))
    }
    fn serialize_f32(self, v: f32) -> Result<Val, ToValError> {
        Ok(Val::Float(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Val, ToValError> {
        Ok(Val::Float(v))
    }
    fn serialize_char(self, v: char) -> Result<Val, ToValError> {
        Ok(Val::Text(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Val, ToValError> {
        Ok(Val::Text(v.to_owned()))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<Val, ToValError> {
        Err(ToValError("bytes are not supported".into()))
    }
    fn serialize_none(self) -> Result<Val, ToValError> {
        Ok(Val::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Val, ToValError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Val, ToValError> {
        Ok(Val::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Val, ToValError> {
        Ok(Val::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Val, ToValError> {
        Ok(Val::Name(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Val, ToValError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Val, ToValError> {
        Err(ToValError(
            "enum variants with data are not supported".into(),
        ))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder, ToValError> {
        Ok(SeqBuilder(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder, ToValError> {
        Ok(SeqBuilder(Vec::with_capacity(len)))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqBuilder, ToValError> {
        Ok(SeqBuilder(Vec::with_capacity(len)))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, ToValError> {
        Err(ToValError(
            "enum variants with data are not supported".into(),
        ))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, ToValError> {
        Err(ToValError("maps are not supported".into()))
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<StructBuilder, ToValError> {
        Ok(StructBuilder(Vec::with_capacity(len)))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, ToValError> {
        Err(ToValError(
            "enum variants with data are not supported".into(),
        ))
    }
}

impl ser::SerializeSeq for SeqBuilder {
    type Ok = Val;
    type Error = ToValError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ToValError> {
        self.0.push(value.serialize(ValSerializer)?);
        Ok(())
    }
    fn end(self) -> Result<Val, ToValError> {
        Ok(Val::List(self.0))
    }
}

impl ser::SerializeTuple for SeqBuilder {
    type Ok = Val;
    type Error = ToValError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ToValError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Val, ToValError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqBuilder {
    type Ok = Val;
    type Error = ToValError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ToValError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Val, ToValError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeStruct for StructBuilder {
    type Ok = Val;
    type Error = ToValError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ToValError> {
        self.0.push((key, value.serialize(ValSerializer)?));
        Ok(())
    }
    fn end(self) -> Result<Val, ToValError> {
        Ok(Val::Object(self.0))
    }
}
