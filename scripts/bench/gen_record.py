#!/usr/bin/env python3
"""Generates the recorded-scan benchmark's delivery: COUNT small PNG files, 1,000 to a
directory, of which every (COUNT / FLAGGED)-th carries an AUTOMATIC1111 `parameters` text
chunk (ai_generated) and the rest none (no_ai_evidence).

usage: gen_record.py DIR COUNT FLAGGED

Writes DIR/tree/dNNNN/fNNNNNNN.png and prints the number of files and of flagged ones."""

import os
import struct
import sys
import zlib

PROMPTS = [
    "a lighthouse at dusk, volumetric fog",
    "night market in the rain, neon signs, 35mm",
    "portrait of an astronaut in a sunflower field",
    "matte painting of a ruined station interior",
]


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(texts, shade):
    w = h = 8
    raw = b"".join(b"\0" + bytes([shade, (shade * 7) & 255, (shade * 13) & 255]) * w for _ in range(h))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    for k, v in texts:
        out += chunk(b"tEXt", k.encode("latin-1") + b"\0" + v.encode("latin-1"))
    return out + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b"")


def a1111(n):
    return ("%s\nNegative prompt: blurry, lowres\nSteps: %d, Sampler: DPM++ 2M Karras, CFG scale: 7, "
            "Seed: %d, Size: 512x512, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly"
            % (PROMPTS[n % len(PROMPTS)], 10 + n % 50, n))


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    base, count, flagged = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if not 0 < flagged <= count:
        sys.exit("FLAGGED must be between 1 and COUNT")
    every = count // flagged
    plain = [png([], s) for s in range(16)]
    tree = os.path.join(base, "tree")
    made = 0
    for i in range(count):
        d = os.path.join(tree, "d%04d" % (i // 1000))
        if i % 1000 == 0:
            os.makedirs(d, exist_ok=True)
        ai = i % every == 0 and made < flagged
        data = png([("parameters", a1111(i))], i & 255) if ai else plain[i % len(plain)]
        made += ai
        with open(os.path.join(d, "f%07d.png" % i), "wb") as f:
            f.write(data)
    print("%d %d" % (count, made))


if __name__ == "__main__":
    main()
