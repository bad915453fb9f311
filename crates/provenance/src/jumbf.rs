//! A strict, bounded JUMBF box walk for C2PA manifest stores (ISO/IEC 19566-5).
//!
//! It accepts only boxes whose sizes tile their parent exactly, superboxes that start with a
//! well-formed description box (`jumd`: UUID, toggles with "requestable" and "label" set, a
//! non-empty UTF-8 label, optional id, signature and `c2sh` salt box, nothing left over), and
//! the content box types the c2pa crate knows. Anything else, including the extended sizes
//! `LBox` 0 and 1, is [`Unsupported`]: the caller hands such a store to the c2pa crate instead
//! of guessing. Nothing is copied: boxes borrow the store's bytes.

use crate::source::bytes;

/// The common suffix of every JUMBF type UUID: `-0011-0010-8000-00AA00389B71`.
const UUID_SUFFIX: [u8; 12] = [
    0x00, 0x11, 0x00, 0x10, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

/// Deepest superbox nesting accepted (a store is at most store/manifest/assertions/assertion).
const MAX_DEPTH: usize = 8;

/// Most boxes accepted in one store.
const MAX_BOXES: usize = 20_000;

/// The walk met something it does not handle; the store goes to the c2pa crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsupported;

/// The type UUID whose first four bytes are `code` and whose tail is the common suffix.
pub fn uuid(code: &[u8; 4]) -> [u8; 16] {
    let mut u = [0u8; 16];
    for (d, s) in u.iter_mut().zip(code.iter().chain(UUID_SUFFIX.iter())) {
        *d = *s;
    }
    u
}

/// A superbox: its description and its content boxes in order.
#[derive(Debug)]
pub struct SuperBox<'a> {
    /// The description box's type UUID.
    pub uuid: [u8; 16],
    /// The description box's label.
    pub label: &'a str,
    /// The boxes after the description box.
    pub children: Vec<Child<'a>>,
}

/// A box inside a superbox.
#[derive(Debug)]
pub enum Child<'a> {
    /// A nested superbox.
    Super(SuperBox<'a>),
    /// A content box: its type and payload.
    Content([u8; 4], &'a [u8]),
}

impl<'a> SuperBox<'a> {
    /// The nested superboxes, in order.
    pub fn superboxes(&self) -> impl Iterator<Item = &SuperBox<'a>> {
        self.children.iter().filter_map(|c| match c {
            Child::Super(s) => Some(s),
            Child::Content(..) => None,
        })
    }

    /// The first box after the description box.
    pub fn first(&self) -> Option<&Child<'a>> {
        self.children.first()
    }
}

/// Parses the superbox at the start of `store`. Bytes after it are ignored, as the c2pa crate
/// ignores them.
pub fn parse(store: &[u8]) -> Result<SuperBox<'_>, Unsupported> {
    let (kind, payload, _) = next_box(store)?;
    if &kind != b"jumb" {
        return Err(Unsupported);
    }
    let mut count = 0usize;
    superbox(payload, 0, &mut count)
}

/// A box: its type, its payload, and the bytes after it.
type Split<'a> = ([u8; 4], &'a [u8], &'a [u8]);

/// The first box of `b`.
fn next_box(b: &[u8]) -> Result<Split<'_>, Unsupported> {
    let size = bytes::be32(b, 0).ok_or(Unsupported)?;
    let kind: [u8; 4] = b
        .get(4..8)
        .and_then(|k| k.try_into().ok())
        .ok_or(Unsupported)?;
    let size = usize::try_from(size).map_err(|_| Unsupported)?;
    if size < 8 {
        return Err(Unsupported);
    }
    let payload = b.get(8..size).ok_or(Unsupported)?;
    let rest = b.get(size..).ok_or(Unsupported)?;
    Ok((kind, payload, rest))
}

fn superbox<'a>(
    payload: &'a [u8],
    depth: usize,
    count: &mut usize,
) -> Result<SuperBox<'a>, Unsupported> {
    if depth >= MAX_DEPTH {
        return Err(Unsupported);
    }
    let (kind, desc, mut rest) = next_box(payload)?;
    if &kind != b"jumd" {
        return Err(Unsupported);
    }
    let (uuid, label) = description(desc)?;
    if rest.is_empty() {
        // the c2pa crate reads the next sibling as a child of an empty superbox and fails
        return Err(Unsupported);
    }
    let mut children = Vec::new();
    while !rest.is_empty() {
        *count = count.saturating_add(1);
        if *count > MAX_BOXES {
            return Err(Unsupported);
        }
        let (kind, body, after) = next_box(rest)?;
        let child = match &kind {
            b"jumb" => Child::Super(superbox(body, depth.saturating_add(1), count)?),
            b"json" | b"cbor" | b"free" | b"jp2c" | b"brob" | b"bidb" => Child::Content(kind, body),
            b"uuid" if body.len() >= 16 => Child::Content(kind, body),
            b"bfdb" if !body.is_empty() => Child::Content(kind, body),
            _ => return Err(Unsupported),
        };
        children.push(child);
        rest = after;
    }
    Ok(SuperBox {
        uuid,
        label,
        children,
    })
}

/// A description box payload: type UUID and label.
fn description(d: &[u8]) -> Result<([u8; 16], &str), Unsupported> {
    let uuid: [u8; 16] = d
        .get(..16)
        .and_then(|u| u.try_into().ok())
        .ok_or(Unsupported)?;
    let toggles = *d.get(16).ok_or(Unsupported)?;
    if toggles & 0x03 != 0x03 || toggles & !0x1F != 0 {
        return Err(Unsupported);
    }
    let after = d.get(17..).ok_or(Unsupported)?;
    let end = memchr::memchr(0, after).ok_or(Unsupported)?;
    let label = after.get(..end).ok_or(Unsupported)?;
    let label = std::str::from_utf8(label).map_err(|_| Unsupported)?;
    if label.is_empty() {
        return Err(Unsupported);
    }
    let mut rest = after.get(end.saturating_add(1)..).ok_or(Unsupported)?;
    if toggles & 0x04 != 0 {
        rest = rest.get(4..).ok_or(Unsupported)?;
    }
    if toggles & 0x08 != 0 {
        rest = rest.get(32..).ok_or(Unsupported)?;
    }
    if toggles & 0x10 != 0 {
        // a private box: the c2pa crate accepts only a salt box filling the rest exactly
        // (of at least 16 bytes: the c2pa crate refuses to hash an assertion with a shorter one)
        let (kind, salt, after) = next_box(rest)?;
        if &kind != b"c2sh" || salt.len() < 16 {
            return Err(Unsupported);
        }
        rest = after;
    }
    if !rest.is_empty() {
        return Err(Unsupported);
    }
    Ok((uuid, label))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]
mod tests {
    use super::*;

    fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut v = u32::try_from(payload.len() + 8)
            .unwrap()
            .to_be_bytes()
            .to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(payload);
        v
    }

    fn jumd(code: &[u8; 4], label: &str) -> Vec<u8> {
        let mut d = uuid(code).to_vec();
        d.push(0x03);
        d.extend_from_slice(label.as_bytes());
        d.push(0);
        bx(b"jumd", &d)
    }

    #[test]
    fn a_nested_store_parses_and_bad_sizes_do_not() {
        let inner = [jumd(b"cbor", "c2pa.actions"), bx(b"cbor", &[0xA0])].concat();
        let store = bx(
            b"jumb",
            &[jumd(b"c2pa", "c2pa"), bx(b"jumb", &inner)].concat(),
        );
        let s = parse(&store).unwrap();
        assert_eq!(s.label, "c2pa");
        assert_eq!(s.uuid, uuid(b"c2pa"));
        let child = s.superboxes().next().unwrap();
        assert_eq!(child.label, "c2pa.actions");
        assert!(matches!(child.first(), Some(Child::Content(k, [0xA0])) if k == b"cbor"));
        // every truncation and every size one too large or too small is refused, never a panic
        for n in 0..store.len() {
            assert!(parse(&store[..n]).is_err(), "cut at {n}");
        }
        // the store, the manifest-level superbox and the CBOR box
        for at in [0usize, 8 + 30, 8 + 30 + 8 + 38] {
            let mut bad = store.clone();
            bad[at + 3] = bad[at + 3].wrapping_add(1);
            assert!(parse(&bad).is_err(), "size at {at}");
        }
    }

    #[test]
    fn descriptions_need_toggles_and_a_label() {
        let mut d = uuid(b"c2pa").to_vec();
        d.extend_from_slice(&[0x01, b'c', 0]);
        assert!(parse(&bx(b"jumb", &bx(b"jumd", &d))).is_err());
        let mut d = uuid(b"c2pa").to_vec();
        d.extend_from_slice(&[0x03, 0]);
        assert!(parse(&bx(b"jumb", &bx(b"jumd", &d))).is_err());
        let salted = |salt: usize| {
            let mut d = uuid(b"c2pa").to_vec();
            d.extend_from_slice(&[0x13, b'c', 0]);
            d.extend_from_slice(&bx(b"c2sh", &vec![1; salt]));
            bx(b"jumb", &[bx(b"jumd", &d), bx(b"cbor", &[0xA0])].concat())
        };
        assert_eq!(parse(&salted(16)).unwrap().label, "c");
        assert!(parse(&salted(15)).is_err());
        // a superbox with nothing after its description box
        assert!(parse(&bx(b"jumb", &jumd(b"c2pa", "c2pa"))).is_err());
    }
}
