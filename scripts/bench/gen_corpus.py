#!/usr/bin/env python3
"""Generates the scan benchmark's corpus: a tree of small, varied media files (PNG, JPEG, MP4,
WAV, MP3, PDF, text), some carrying generative-AI markers (IPTC digital source type in XMP,
AUTOMATIC1111 or ComfyUI parameters), plus a few sparse multi-gigabyte MP4s that cost no disk.

usage: gen_corpus.py DIR COUNT [SEED]

Writes DIR/tree/... and DIR/truth.tsv (path, expected AI marker: 1 or 0)."""

import os
import random
import struct
import sys
import zlib

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
AI_TERMS = ["trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "compositeSynthetic"]
OTHER_TERMS = ["digitalCapture", "algorithmicMedia", "digitalCreation", "minorHumanEdits", "composite"]
PROMPTS = [
    "a lighthouse at dusk, volumetric fog",
    "night market in the rain, neon signs, 35mm",
    "portrait of an astronaut in a sunflower field",
    "matte painting of a ruined station interior",
]


def xmp(term):
    body = ""
    if term:
        body = ("<Iptc4xmpExt:DigitalSourceType>%s%s</Iptc4xmpExt:DigitalSourceType>" % (IPTC, term))
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="Studio Tool 4.2">'
        + body + "</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>"
    ).encode("utf-8")


def a1111(rng):
    return ("%s\nNegative prompt: blurry, lowres\nSteps: %d, Sampler: DPM++ 2M Karras, CFG scale: 7, "
            "Seed: %d, Size: 512x512, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly"
            % (rng.choice(PROMPTS), rng.randint(10, 60), rng.randint(0, 2**32)))


def comfy(rng):
    return ('{"3": {"class_type": "KSampler", "inputs": {"seed": %d, "steps": 20}}, '
            '"6": {"class_type": "CLIPTextEncode", "inputs": {"text": "%s"}}}'
            % (rng.randint(0, 2**32), rng.choice(PROMPTS)))


# ----------------------------------------------------------------------------- containers

def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(rng, texts):
    w, h = rng.randint(4, 48), rng.randint(4, 48)
    raw = b"".join(b"\0" + os.urandom(w * 3) for _ in range(h))
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    for k, v in texts:
        out += png_chunk(b"tEXt", k.encode("latin-1") + b"\0" + v.encode("latin-1"))
    out += png_chunk(b"IDAT", zlib.compress(raw, 1)) + png_chunk(b"IEND", b"")
    return out


def jpeg(rng, xmp_packet):
    def seg(marker, body):
        return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body
    out = b"\xff\xd8" + seg(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0")
    if xmp_packet is not None:
        out += seg(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + xmp_packet)
    out += seg(0xDB, b"\0" + bytes(range(1, 65)))
    out += seg(0xC0, b"\x08" + struct.pack(">HH", rng.randint(8, 256), rng.randint(8, 256)) + b"\x01\x01\x11\x00")
    out += seg(0xC4, b"\x00" + bytes([0, 1] + [0] * 14) + b"\x00")
    out += seg(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    data = os.urandom(rng.randint(200, 6000)).replace(b"\xff", b"\xfe")
    return out + data + b"\xff\xd9"


def box(kind, payload):
    return struct.pack(">I", 8 + len(payload)) + kind + payload


XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")


def mp4_head(xmp_packet):
    out = box(b"ftyp", b"isom\0\0\x02\0isomiso2mp41")
    if xmp_packet is not None:
        out += box(b"uuid", XMP_UUID + xmp_packet)
    mvhd = b"\0\0\0\0" + struct.pack(">IIII", 0, 0, 1000, 0) + b"\0\x01\0\0\x01\0" + b"\0" * 10 \
        + struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000) + b"\0" * 24 + struct.pack(">I", 2)
    out += box(b"moov", box(b"mvhd", mvhd))
    return out


def mp4(rng, xmp_packet):
    return mp4_head(xmp_packet) + box(b"mdat", os.urandom(rng.randint(500, 8000)))


def wav(rng, xmp_packet):
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    data = os.urandom(rng.randint(200, 8000) * 2)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    if xmp_packet is not None:
        pad = b"\0" if len(xmp_packet) % 2 else b""
        chunks += b"_PMX" + struct.pack("<I", len(xmp_packet)) + xmp_packet + pad
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def syncsafe(n):
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


def mp3(rng, xmp_packet, title):
    frames = b""
    t = b"\x03" + title.encode("utf-8") + b"\0"
    frames += b"TIT2" + struct.pack(">I", len(t)) + b"\0\0" + t
    if xmp_packet is not None:
        p = b"XMP\0" + xmp_packet
        frames += b"PRIV" + struct.pack(">I", len(p)) + b"\0\0" + p
    tag = b"ID3\x03\x00\x00" + syncsafe(len(frames)) + frames
    # MPEG-1 layer III, 128 kbit/s, 44.1 kHz: 417-byte frames
    audio = b"".join(b"\xff\xfb\x90\x64" + os.urandom(413) for _ in range(rng.randint(2, 12)))
    return tag + audio


def pdf(rng, xmp_packet):
    objs = []
    meta = " /Metadata 4 0 R" if xmp_packet is not None else ""
    objs.append(b"<< /Type /Catalog /Pages 2 0 R" + meta.encode() + b" >>")
    objs.append(b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>")
    if xmp_packet is not None:
        objs.append(b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n" % len(xmp_packet)
                    + xmp_packet + b"\nendstream")
    out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    pad = os.urandom(rng.randint(0, 3000)).hex().encode()
    out += b"% " + pad + b"\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return out


# ----------------------------------------------------------------------------- the mix

def make(rng):
    """One file: (extension, bytes, carries an AI marker)."""
    r = rng.random()
    ai = rng.random() < 0.2
    term = rng.choice(AI_TERMS) if ai else rng.choice(OTHER_TERMS + [None, None])
    packet = xmp(term) if (ai or term) else None
    if r < 0.25:
        if ai:
            texts = [("parameters", a1111(rng))] if rng.random() < 0.6 else [("prompt", comfy(rng))]
        else:
            texts = rng.choice([[], [("Software", "GIMP 2.10")], [("Title", "plate %d" % rng.randint(1, 999))]])
        return "png", png(rng, texts), ai
    if r < 0.50:
        return "jpg", jpeg(rng, packet), ai
    if r < 0.62:
        return "mp4", mp4(rng, packet), ai
    if r < 0.74:
        return "wav", wav(rng, packet), ai
    if r < 0.86:
        return "mp3", mp3(rng, packet, rng.choice(PROMPTS)), ai
    if r < 0.96:
        return "pdf", pdf(rng, packet), ai
    return "txt", ("call sheet %d\n" % rng.randint(1, 10**6)).encode() * rng.randint(1, 40), False


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    base, count = sys.argv[1], int(sys.argv[2])
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 20261127)
    tree = os.path.join(base, "tree")
    os.makedirs(tree, exist_ok=True)
    sparse = 3
    with open(os.path.join(base, "truth.tsv"), "w") as truth:
        for i in range(count - sparse):
            d = os.path.join(tree, "ep%02d" % (i // 10000), "sh%04d" % (i // 100))
            if i % 100 == 0:
                os.makedirs(d, exist_ok=True)
            ext, data, ai = make(rng)
            p = os.path.join(d, "f%06d.%s" % (i, ext))
            with open(p, "wb") as f:
                f.write(data)
            truth.write("%s\t%d\n" % (p, int(ai)))
        # sparse multi-gigabyte videos: a real header, then a 64-bit mdat that runs to the end
        d = os.path.join(tree, "masters")
        os.makedirs(d, exist_ok=True)
        for j, (gib, term) in enumerate([(2, None), (3, "trainedAlgorithmicMedia"), (4, "digitalCapture")]):
            p = os.path.join(d, "master%d.mp4" % j)
            head = mp4_head(xmp(term) if term else None)
            size = gib << 30
            with open(p, "wb") as f:
                f.write(head + struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", size - len(head)))
                f.truncate(size)
            truth.write("%s\t%d\n" % (p, int(term in AI_TERMS)))


if __name__ == "__main__":
    main()
