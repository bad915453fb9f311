#!/usr/bin/env python3
"""Compares which files `greenlight scan --format json` and `exiftool -j` say carry a
generative-AI marker, and both against the generator's truth list.

usage: compare.py GREENLIGHT.ndjson EXIFTOOL.json TRUTH.tsv
       compare.py --corpus GREENLIGHT.ndjson EXIFTOOL-ALL.json

With --corpus the tree is copies of real files and EXIFTOOL-ALL.json is exiftool's every tag
(-a -G1 -ee) of the originals: every copy of an original in which any tag holds a generative-AI
digital source type must be flagged by greenlight (files greenlight alone flags are listed)."""

import json
import sys

GENAI_TERMS = {"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia",
               "compositeSynthetic", "trainedAlgorithmicData"}


def exiftool_ai(tags):
    """The same markers greenlight reads, judged from exiftool's tags."""
    dst = str(tags.get("DigitalSourceType", "")).strip().rstrip("/").rsplit("/", 1)[-1]
    if dst in GENAI_TERMS:
        return True
    for key in ("Parameters", "UserComment", "Comment", "Description"):
        v = str(tags.get(key, ""))
        if "Steps: " in v and "Sampler: " in v:
            return True
    if "class_type" in str(tags.get("Prompt", "")) or '"nodes"' in str(tags.get("Workflow", "")):
        return True
    return False


def term(v):
    return str(v).strip().rstrip("/").rsplit("/", 1)[-1]


def any_marker(v):
    """Whether any string in exiftool's value (nested lists and maps too) is a GenAI term."""
    if isinstance(v, dict):
        return any(any_marker(x) for x in v.values())
    if isinstance(v, list):
        return any(any_marker(x) for x in v)
    return isinstance(v, str) and term(v) in GENAI_TERMS


def main_corpus(gl_path, ex_path):
    ex = {}
    with open(ex_path) as f:
        for t in json.load(f):
            name = t["SourceFile"].rsplit("/", 1)[-1]
            ex[name] = any(any_marker(v) for k, v in t.items() if k != "SourceFile")
    gl = {}
    with open(gl_path) as f:
        for line in f:
            r = json.loads(line)
            gl[r["path"]] = r["verdict"] in ("ai_generated", "ai_edited")
    marked = [p for p in gl if ex.get(p.rsplit("/", 1)[-1], False)]
    missed = sorted(p for p in marked if not gl[p])
    extra = sorted({p.rsplit("/", 1)[-1] for p in gl if gl[p] and not ex.get(p.rsplit("/", 1)[-1], False)})
    print("files: %d; exiftool shows an AI marker in %d (originals: %s), greenlight flags %d"
          % (len(gl), len(marked), ", ".join(sorted(n for n in ex if ex[n])) or "none",
             sum(gl.values())))
    print("marked by exiftool but not flagged by greenlight: %d" % len(missed))
    for p in missed[:10]:
        print("  " + p)
    print("flagged by greenlight only (originals): %s" % (", ".join(extra) or "none"))
    return 1 if missed or not marked else 0


def main():
    if sys.argv[1:2] == ["--corpus"]:
        return main_corpus(*sys.argv[2:4])
    gl_path, ex_path, truth_path = sys.argv[1:4]
    gl = {}
    with open(gl_path) as f:
        for line in f:
            r = json.loads(line)
            gl[r["path"]] = r["verdict"] in ("ai_generated", "ai_edited")
    with open(ex_path) as f:
        ex = {t["SourceFile"]: exiftool_ai(t) for t in json.load(f)}
    truth = {}
    with open(truth_path) as f:
        for line in f:
            p, a = line.rstrip("\n").split("\t")
            truth[p] = a == "1"
    paths = set(truth)
    missing_gl = len(paths - set(gl))
    missing_ex = len(paths - set(ex))
    disagree = [p for p in sorted(paths) if gl.get(p, False) != ex.get(p, False)]
    gl_wrong = sum(1 for p in paths if gl.get(p, False) != truth[p])
    ex_wrong = sum(1 for p in paths if ex.get(p, False) != truth[p])
    print("files: %d; with AI markers: truth %d, greenlight %d, exiftool %d"
          % (len(paths), sum(truth.values()), sum(gl.get(p, False) for p in paths),
             sum(ex.get(p, False) for p in paths)))
    print("mismatches greenlight vs exiftool: %d (greenlight vs truth: %d, exiftool vs truth: %d; "
          "not reported: greenlight %d, exiftool %d)"
          % (len(disagree), gl_wrong, ex_wrong, missing_gl, missing_ex))
    for p in disagree[:10]:
        print("  %s: greenlight %s, exiftool %s" % (p, gl.get(p), ex.get(p)))
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())
