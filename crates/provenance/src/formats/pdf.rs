//! PDF. A file larger than four read windows (256 KiB) is read through its cross-reference table
//! ([`xref`]): the catalog, its `/Metadata` stream (plain or Flate-compressed) and the first
//! file spec among its associated files (`/AF`) whose `/AFRelationship` is `/C2PA_Manifest`,
//! as the c2pa crate's PDF handler finds it, with that spec's `/EF` `/F` stream (unfiltered or
//! `/FlateDecode`), which must start with a C2PA store box to be cut out here.
//!
//! A smaller file, or one whose cross-reference cannot be followed (an xref stream,
//! a damaged table, a `/Prev` chain beyond the bound), is read whole (within the byte cap) and
//! searched: for the `/C2PA_Manifest` relationship of an embedded manifest store and for XMP
//! metadata streams. There the store is cut out when the file spec is plain: the newest
//! `/AFRelationship /C2PA_Manifest` file spec (the last in the file: incremental updates
//! append), its `/EF` `/F` reference, the newest definition of that object, and its stream.
//! Anything else (object streams, other filters, a store that does not parse) is left to the
//! c2pa crate's PDF handler.

mod xref;

use super::{Format, FormatReader, Metadata, StoreLocation};
use crate::source::{FILE_BUFFER_LEN, ReadError, Source, bytes};
use xref::{Obj, Stop, Xref};

const MAX_XMP_PACKETS: usize = 64;

/// Smallest file read through its cross-reference: below four read windows, following it (the
/// tail window, then the catalog's and the objects' windows) reads about as much as the whole.
const FOLLOW_FROM: u64 = 4 * FILE_BUFFER_LEN as u64;

/// Reader for PDF files.
pub struct PdfReader;

impl FormatReader for PdfReader {
    fn name(&self) -> &'static str {
        "pdf"
    }
    fn formats(&self) -> &'static [Format] {
        &[Format::Pdf]
    }
    fn sniff(&self, head: &[u8]) -> Option<Format> {
        bytes::find(
            head.get(..head.len().min(1024)).unwrap_or(head),
            b"%PDF-",
            0,
        )
        .map(|_| Format::Pdf)
    }
    fn read(&self, _f: Format, src: &mut Source<'_>, out: &mut Metadata) -> Result<(), ReadError> {
        if src.len() > FOLLOW_FROM {
            let mut found = Metadata::default();
            match followed(src, &mut found) {
                Ok(()) => {
                    out.c2pa.append(&mut found.c2pa);
                    out.xmp.append(&mut found.xmp);
                    out.malformed.append(&mut found.malformed);
                    return Ok(());
                }
                Err(Stop::Read(e)) => return Err(e),
                Err(Stop::Unfollowed) => src.seek_to(0)?,
            }
        }
        whole(src, out)
    }
}

/// Reads what the verdict needs through the cross-reference table.
fn followed(src: &mut Source<'_>, out: &mut Metadata) -> Result<(), Stop> {
    let x = Xref::open(src)?;
    let Some(Obj::Ref(n, g)) = x.trailer.get(b"Root").cloned() else {
        return Err(Stop::Unfollowed);
    };
    let catalog = x.object(src, n, g)?.ok_or(Stop::Unfollowed)?.value;
    if let Some(Obj::Ref(n, g)) = catalog.get(b"Metadata")
        && let Some((dict, raw)) = x.stream(src, *n, *g)?
    {
        match stream_filter(&dict) {
            Some(false) => {
                if let Some(i) = bytes::find(&raw, b"<x:xmpmeta", 0) {
                    let end = bytes::find(&raw, b"</x:xmpmeta>", i)
                        .map_or(raw.len(), |e| e.saturating_add(12));
                    out.add_xmp_in("XMP (PDF metadata)", raw.get(i..end).unwrap_or_default());
                }
            }
            Some(true) => {
                let x = match super::png::inflate_partial(&raw) {
                    Ok(x) => x,
                    Err((why, x)) => {
                        out.malformed("PDF metadata stream", "metadata stream", why);
                        x
                    }
                };
                if bytes::find(&x, b"xmpmeta", 0).is_some() {
                    out.add_xmp_in("XMP (PDF metadata stream)", &x);
                }
            }
            None => {}
        }
    }
    let files = match catalog.get(b"AF") {
        Some(v) => x.resolve(src, v)?,
        None => None,
    };
    let Some(Obj::Array(files)) = files else {
        return Ok(());
    };
    for f in &files {
        let Obj::Ref(n, g) = f else { continue };
        let Some(spec) = x.object(src, *n, *g)? else {
            continue;
        };
        let relationship = match spec.value.get(b"AFRelationship") {
            Some(v) => x.resolve(src, v)?,
            None => None,
        };
        if relationship != Some(Obj::Name(b"C2PA_Manifest".to_vec())) {
            continue;
        }
        let ef = match spec.value.get(b"EF") {
            Some(v) => x.resolve(src, v)?,
            None => None,
        };
        let store = match ef.as_ref().and_then(|ef| ef.get(b"F")) {
            Some(Obj::Ref(n, g)) => x.stream(src, *n, *g)?,
            _ => None,
        };
        let cut = store.and_then(|(dict, raw)| match stream_filter(&dict)? {
            false => Some(raw),
            true => super::png::inflate_partial(&raw).ok(),
        });
        out.c2pa
            .push(match cut.filter(|s| crate::manifest::is_c2pa_store(s)) {
                Some(s) => StoreLocation::Bytes(s),
                None => StoreLocation::InAsset,
            });
        break;
    }
    Ok(())
}

/// `Some(false)` for a stream with no filter, `Some(true)` for `/FlateDecode` alone, `None`
/// for any other filter.
fn stream_filter(dict: &Obj) -> Option<bool> {
    match dict.get(b"Filter") {
        None => Some(false),
        Some(Obj::Name(n)) => (n == b"FlateDecode").then_some(true),
        Some(Obj::Array(a)) => match a.as_slice() {
            [] => Some(false),
            [Obj::Name(n)] => (n == b"FlateDecode").then_some(true),
            _ => None,
        },
        Some(_) => None,
    }
}

/// Reads the whole file (within the byte cap) and searches it.
fn whole(src: &mut Source<'_>, out: &mut Metadata) -> Result<(), ReadError> {
    let data = src.vec(src.len())?;
    // one forward pass (faster than a reverse search) for the last relationship
    if let Some(at) = memchr::memmem::find_iter(&data, b"C2PA_Manifest").last() {
        let named = at.checked_sub(1).and_then(|p| data.get(p)) == Some(&b'/');
        out.c2pa.push(
            match embedded_store(&data, at.saturating_sub(1)).filter(|_| named) {
                Some(store) => StoreLocation::Bytes(store),
                None => StoreLocation::InAsset,
            },
        );
    }
    let mut n = 0;
    // plain XMP packets
    let mut at = 0usize;
    while let Some(i) = bytes::find(&data, b"<x:xmpmeta", at) {
        let end =
            bytes::find(&data, b"</x:xmpmeta>", i).map_or(data.len(), |e| e.saturating_add(12));
        out.add_xmp_in("XMP (PDF metadata)", data.get(i..end).unwrap_or_default());
        at = end;
        n += 1;
        if n >= MAX_XMP_PACKETS {
            break;
        }
    }
    // compressed metadata streams
    let mut at = 0usize;
    while let Some(i) = bytes::find(&data, b"/Metadata", at) {
        at = i.saturating_add(9);
        if n >= MAX_XMP_PACKETS {
            break;
        }
        let dict_end = bytes::find(&data, b"stream", i).unwrap_or(data.len());
        let dict = data
            .get(i.saturating_sub(512)..dict_end)
            .unwrap_or_default();
        if bytes::find(dict, b"FlateDecode", 0).is_none() || dict_end.saturating_sub(i) > 1024 {
            continue;
        }
        let mut s = dict_end.saturating_add(6);
        while matches!(data.get(s), Some(b'\r' | b'\n')) {
            s = s.saturating_add(1);
        }
        let e = bytes::find(&data, b"endstream", s).unwrap_or(data.len());
        let x = match super::png::inflate_partial(data.get(s..e).unwrap_or_default()) {
            Ok(x) => x,
            Err((why, x)) => {
                // only a metadata stream whose own object names the filter (the
                // `FlateDecode` seen may be a neighbour's)
                let before = data.get(..i).unwrap_or_default();
                let obj = memchr::memmem::rfind(before, b"obj").unwrap_or(0);
                let own = before.trim_ascii_end().ends_with(b"/Type")
                    && data
                        .get(obj..dict_end)
                        .is_some_and(|d| bytes::find(d, b"FlateDecode", 0).is_some());
                if own {
                    out.malformed("PDF metadata stream", "metadata stream", why);
                }
                x
            }
        };
        if bytes::find(&x, b"xmpmeta", 0).is_some() {
            out.add_xmp_in("XMP (PDF metadata stream)", &x);
            n += 1;
        }
    }
    Ok(())
}

/// Longest file-spec dictionary looked at around its `/C2PA_Manifest`.
const MAX_DICT: usize = 4096;

/// The manifest store of the file spec whose `/C2PA_Manifest` is at `at`, when it is plain.
fn embedded_store(data: &[u8], at: usize) -> Option<Vec<u8>> {
    // the file spec's object: from its `obj` keyword to `endobj`
    let before = data.get(at.saturating_sub(MAX_DICT)..at)?;
    let start = at.saturating_sub(before.len()) + memchr::memmem::rfind(before, b"obj")?;
    let end = bytes::find(data, b"endobj", at)?;
    let spec = data.get(start..end)?;
    if end.saturating_sub(start) > 2 * MAX_DICT {
        return None;
    }
    let ef = bytes::find(spec, b"/EF", 0)?;
    let f = bytes::find(spec, b"/F", ef.saturating_add(3))?;
    let (num, gen_) = reference(spec.get(f.saturating_add(2)..)?)?;
    let (dict, body) = object_stream(data, num, gen_)?;
    let value = after_key(dict, b"/Length")?;
    let length = match reference(value) {
        // `/Length N G R`: the length is that object's integer
        Some((ln, lg)) => integer(object_text(data, ln, lg)?)?.0,
        None => integer(value)?.0,
    };
    let raw = body.get(..usize::try_from(length).ok()?)?;
    let store = match filter(dict)? {
        None => raw.to_vec(),
        Some(()) => super::png::inflate_partial(raw).ok()?,
    };
    crate::manifest::is_c2pa_store(&store).then_some(store)
}

/// `Some(None)` for no filter, `Some(Some(()))` for `/FlateDecode` alone, `None` otherwise.
fn filter(dict: &[u8]) -> Option<Option<()>> {
    match after_key(dict, b"/Filter") {
        None => Some(None),
        Some(v) => {
            let v = v.trim_ascii_start();
            let v = v.strip_prefix(b"[").unwrap_or(v).trim_ascii_start();
            let name = v.strip_prefix(b"/FlateDecode")?;
            let next = name.trim_ascii_start().first().copied();
            matches!(next, Some(b'/' | b'>' | b']') | None).then_some(Some(()))
        }
    }
}

/// The bytes after `key` in a dictionary, when `key` is a whole name there.
fn after_key<'a>(dict: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let mut from = 0;
    while let Some(i) = bytes::find(dict, key, from) {
        let rest = dict.get(i.saturating_add(key.len())..)?;
        if !rest.first().is_some_and(u8::is_ascii_alphanumeric) {
            return Some(rest);
        }
        from = i.saturating_add(1);
    }
    None
}

/// A non-negative integer at the start of `b` (after white space), and what follows it.
fn integer(b: &[u8]) -> Option<(u64, &[u8])> {
    let b = b.trim_ascii_start();
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > 12 {
        return None;
    }
    let v = std::str::from_utf8(b.get(..n)?).ok()?.parse().ok()?;
    Some((v, b.get(n..)?))
}

/// An indirect reference `N G R` at the start of `b`.
fn reference(b: &[u8]) -> Option<(u64, u64)> {
    let (num, rest) = integer(b)?;
    let (gen_, rest) = integer(rest)?;
    let rest = rest.trim_ascii_start();
    (rest.first() == Some(&b'R') && !rest.get(1).is_some_and(u8::is_ascii_alphanumeric))
        .then_some((num, gen_))
}

/// The text of the newest definition of object `num gen`, after its `obj` keyword.
fn object_text(data: &[u8], num: u64, gen_: u64) -> Option<&[u8]> {
    let head = format!("{num} {gen_} obj");
    let finder = memchr::memmem::Finder::new(head.as_bytes());
    let mut best = None;
    for i in finder.find_iter(data) {
        let prev = i.checked_sub(1).and_then(|p| data.get(p));
        if prev.is_none_or(|c| c.is_ascii_whitespace()) {
            best = Some(i);
        }
    }
    data.get(best?.saturating_add(head.len())..)
}

/// The dictionary and the stream data (from just after `stream` and its end of line) of object
/// `num gen`.
fn object_stream(data: &[u8], num: u64, gen_: u64) -> Option<(&[u8], &[u8])> {
    let text = object_text(data, num, gen_)?;
    let window = text.get(..text.len().min(MAX_DICT))?;
    let s = bytes::find(window, b"stream", 0)?;
    let end = bytes::find(window, b"endobj", 0);
    if end.is_some_and(|e| e < s) {
        return None;
    }
    let dict = window.get(..s)?;
    let mut body = text.get(s.saturating_add(6)..)?;
    if let Some(rest) = body.strip_prefix(b"\r\n") {
        body = rest;
    } else if let Some(rest) = body
        .strip_prefix(b"\n")
        .or_else(|| body.strip_prefix(b"\r"))
    {
        body = rest;
    }
    Some((dict, body))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "test code")]
mod tests {
    use super::*;

    fn store() -> Vec<u8> {
        let mut s = vec![0, 0, 0, 0x26];
        s.extend_from_slice(b"jumb\0\0\0\x1ejumd");
        s.extend_from_slice(&crate::manifest::STORE_UUID);
        s.extend_from_slice(b"\x03c2pa\0");
        s
    }

    fn pdf(stream_dict: &str, body: &[u8]) -> Vec<u8> {
        let mut d = b"%PDF-1.7\n1 0 obj\n<</Length 999>>stream\nold\nendstream\nendobj\n".to_vec();
        d.extend_from_slice(format!("7 0 obj\n{stream_dict}stream\r\n").as_bytes());
        d.extend_from_slice(body);
        d.extend_from_slice(b"\nendstream\nendobj\n9 0 obj\n<</Type/Filespec/EF<</F 7 0 R>>/AFRelationship/C2PA_Manifest>>\nendobj\n%%EOF\n");
        d
    }

    #[test]
    fn plain_and_flate_stores_are_cut_out() {
        let s = store();
        let at = |d: &[u8]| memchr::memmem::rfind(d, b"/C2PA_Manifest").unwrap();
        let d = pdf(&format!("<</Length {}>>", s.len()), &s);
        assert_eq!(embedded_store(&d, at(&d)), Some(s.clone()));
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut z, &s).unwrap();
        let z = z.finish().unwrap();
        let d = pdf(&format!("<</Filter/FlateDecode/Length {}>>", z.len()), &z);
        assert_eq!(embedded_store(&d, at(&d)), Some(s.clone()));
        // an indirect length
        let mut d = pdf("<</Length 8 0 R>>", &s);
        d.extend_from_slice(format!("8 0 obj\n{}\nendobj\n", s.len()).as_bytes());
        assert_eq!(embedded_store(&d, at(&d)), Some(s.clone()));
        // another filter, a wrong length or not a store: left to the c2pa crate
        let d = pdf(
            &format!("<</Filter/ASCIIHexDecode/Length {}>>", s.len()),
            &s,
        );
        assert_eq!(embedded_store(&d, at(&d)), None);
        let d = pdf("<</Length 100000>>", &s);
        assert_eq!(embedded_store(&d, at(&d)), None);
        let d = pdf("<</Length 4>>", b"abcd");
        assert_eq!(embedded_store(&d, at(&d)), None);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]
mod followed_tests {
    use super::*;

    /// A PDF written object by object, with a classic xref section per revision.
    struct Writer {
        data: Vec<u8>,
        offsets: Vec<(u64, usize)>,
        last_xref: Option<usize>,
    }

    impl Writer {
        fn new() -> Self {
            Self {
                data: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec(),
                offsets: Vec::new(),
                last_xref: None,
            }
        }
        fn object(&mut self, num: u64, body: &[u8]) {
            self.offsets.push((num, self.data.len()));
            self.data
                .extend_from_slice(format!("{num} 0 obj\n").as_bytes());
            self.data.extend_from_slice(body);
            self.data.extend_from_slice(b"\nendobj\n");
        }
        fn stream(&mut self, num: u64, dict: &str, body: &[u8]) {
            let mut b = format!("<<{dict}/Length {}>>stream\r\n", body.len()).into_bytes();
            b.extend_from_slice(body);
            b.extend_from_slice(b"\nendstream");
            self.object(num, &b);
        }
        /// Ends a revision: an xref section for the objects written since the last one.
        fn revision(&mut self, root: u64) {
            let at = self.data.len();
            let mut x = String::from("xref\n");
            let mut objs = std::mem::take(&mut self.offsets);
            objs.sort();
            if self.last_xref.is_none() {
                x.push_str("0 1\n0000000000 65535 f\r\n");
            }
            for (num, off) in &objs {
                x.push_str(&format!("{num} 1\n{off:010} 00000 n\r\n"));
            }
            x.push_str(&format!("trailer\n<</Size 50/Root {root} 0 R"));
            if let Some(p) = self.last_xref {
                x.push_str(&format!("/Prev {p}"));
            }
            x.push_str(&format!(">>\nstartxref\n{at}\n%%EOF\n"));
            self.data.extend_from_slice(x.as_bytes());
            self.last_xref = Some(at);
        }
    }

    fn store(tag: u8) -> Vec<u8> {
        let mut s = vec![0, 0, 0, 0x27];
        s.extend_from_slice(b"jumb\0\0\0\x1fjumd");
        s.extend_from_slice(&crate::manifest::STORE_UUID);
        s.extend_from_slice(b"\x03c2pa\0");
        s.push(tag);
        s
    }

    const XMP: &str = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF/></x:xmpmeta>";

    /// A PDF of more than one read window: a large image stream, a catalog with metadata and a
    /// C2PA file spec, then an incremental update that replaces the store.
    fn document(flate: bool) -> Vec<u8> {
        let mut w = Writer::new();
        w.stream(3, "/Type/XObject/Subtype/Image", &vec![0x55; 300_000]);
        w.stream(4, "/Type/Metadata/Subtype/XML", XMP.as_bytes());
        w.stream(
            5,
            "/Type/EmbeddedFile/Subtype/application#2Fc2pa",
            &store(1),
        );
        w.object(
            6,
            b"<</Type/Filespec/AFRelationship/C2PA_Manifest/EF<</F 5 0 R>>>>",
        );
        w.object(
            1,
            b"<</Type/Catalog/Pages 2 0 R/Metadata 4 0 R/AF[6 0 R]/Names<</Dests 9 0 R>>>>",
        );
        w.object(2, b"<</Type/Pages/Count 0/Kids[]>>");
        w.revision(1);
        // the update: a new store stream, compressed or not, under the same file spec
        if flate {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut z, &store(2)).unwrap();
            w.stream(5, "/Filter/FlateDecode", &z.finish().unwrap());
        } else {
            w.stream(5, "/Type/EmbeddedFile", &store(2));
        }
        w.revision(1);
        w.data
    }

    fn read(data: &[u8]) -> (Metadata, u64) {
        let mut c = std::io::Cursor::new(data);
        let mut src = Source::new(&mut c, 64 << 20, None).unwrap();
        let mut meta = Metadata::default();
        PdfReader.read(Format::Pdf, &mut src, &mut meta).unwrap();
        (meta, src.bytes_read())
    }

    #[test]
    fn a_large_pdf_is_read_through_its_xref_and_updates() {
        for flate in [false, true] {
            let d = document(flate);
            let (meta, read) = read(&d);
            assert_eq!(
                meta.c2pa,
                vec![StoreLocation::Bytes(store(2))],
                "flate {flate}"
            );
            assert_eq!(meta.xmp.len(), 1);
            assert_eq!(meta.xmp[0].data, XMP);
            assert_eq!(meta.xmp[0].source, "XMP (PDF metadata)");
            assert!(read < 100_000, "{read} of {} bytes read", d.len());
        }
    }

    #[test]
    fn a_pdf_whose_xref_cannot_be_followed_is_read_whole() {
        let good = document(false);
        let at = memchr::memmem::rfind(&good, b"startxref\n").unwrap() + 10;
        // a damaged startxref, an xref entry in another form, a /Prev loop
        let mut wrong = good.clone();
        wrong[at] = b'9';
        let mut entry = good.clone();
        let x = memchr::memmem::rfind(&entry, b" 00000 n\r\n").unwrap();
        entry[x + 7] = b'x';
        let mut looped = good.clone();
        let p = memchr::memmem::rfind(&looped, b"/Prev ").unwrap() + 6;
        let own = std::str::from_utf8(&good[at..])
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string();
        looped.splice(p..p + own.len(), own.bytes());
        for (what, d) in [("startxref", wrong), ("entry", entry), ("loop", looped)] {
            let (meta, read) = read(&d);
            assert_eq!(
                meta.c2pa,
                vec![StoreLocation::Bytes(store(2))],
                "{what}: the newest store, found by the whole-file search"
            );
            assert_eq!(meta.xmp.len(), 1, "{what}");
            assert!(read >= d.len() as u64, "{what}: {read} bytes read");
        }
    }
}
