#!/usr/bin/env python3
"""Builds lntune's English pretraining corpus from text available offline (stdlib only).

Called by scripts/build_corpus.sh. Writes one document per line (UTF-8) and a manifest with the
documents, characters and words each source gave. Sources (Debian packages or ../shared):

  glue      training splits of CoLA, SST-2, MRPC, STS-B, RTE (sentences only; labels dropped)
  e2e       E2E NLG references of the training part of devset.csv (see E2E_TRAIN_FRACTION)
  gcide     GNU Collaborative International Dictionary of English (dict-gcide), definitions
  foldoc    Free On-line Dictionary of Computing (dict-foldoc), entries
  pydoc     the Python 3.11 documentation's reST sources (python3-doc), prose paragraphs
  fortunes  fortune(6) quotations (fortunes, fortunes-min), without the ASCII-art files

Nothing from an evaluation split enters: every GLUE dev sentence and every E2E reference of the
evaluation part is collected first, and a corpus document equal to one of them (after lower-casing
and collapsing whitespace) is dropped. Documents are deduplicated the same way across sources.
"""
import csv
import glob
import json
import os
import re
import sys
import zlib

# E2E: the official training set is not in ../shared; devset.csv is split by meaning
# representation in order of first appearance: the first 80% of MRs are "train", the rest "eval".
E2E_TRAIN_FRACTION = 0.8

GLUE_COLUMNS = {  # task -> (has header, sentence columns by header name or index)
    "CoLA": (False, [3]),
    "SST-2": (True, ["sentence"]),
    "MRPC": (True, ["#1 String", "#2 String"]),
    "STS-B": (True, ["sentence1", "sentence2"]),
    "RTE": (True, ["sentence1", "sentence2"]),
}


def norm_key(s):
    return " ".join(s.lower().split())


def clean_ws(s):
    return " ".join(s.split())


def glue_sentences(glue_dir, split):
    for task, (header, cols) in GLUE_COLUMNS.items():
        path = os.path.join(glue_dir, task, split + ".tsv")
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
        if header:
            names = rows[0]
            idx = [names.index(c) for c in cols]
            rows = rows[1:]
        else:
            idx = cols
        for r in rows:
            for i in idx:
                if i < len(r) and r[i].strip():
                    yield r[i]


def e2e_split(e2e_dir):
    """(train refs, eval refs) of devset.csv split by MR order of first appearance."""
    with open(os.path.join(e2e_dir, "devset.csv"), encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    order = []
    for r in rows:
        if r["mr"] not in order:
            order.append(r["mr"])
    train_mrs = set(order[: int(len(order) * E2E_TRAIN_FRACTION)])
    train = [r["ref"] for r in rows if r["mr"] in train_mrs]
    evals = [r["ref"] for r in rows if r["mr"] not in train_mrs]
    return train, evals


def dict_entries(path):
    """Entries of a dictd .dict.dz: a headword line at column 0, then indented lines."""
    text = zlib.decompress(open(path, "rb").read(), 16 + zlib.MAX_WBITS).decode("utf-8", "replace")
    entry = []
    for line in text.split("\n"):
        if line and not line[0].isspace():
            if entry:
                yield entry
            entry = [line]
        elif entry:
            entry.append(line)
    if entry:
        yield entry


def gcide(path):
    for e in dict_entries(path):
        head = e[0]
        if head.startswith("00-database"):
            continue
        word = head.split("\\")[0].strip().rstrip(",")
        body = " ".join([head[len(head.split("\\")[0]):]] + e[1:])
        body = re.sub(r"\\[^\\]*\\", " ", body)          # pronunciation \Ab*di"ca*tion\
        body = re.sub(r"\[[^\]]*\]", " ", body)           # etymology, [1913 Webster], [R.]
        body = re.sub(r'\([^()]*"[^()]*\)', " ", body)       # pronunciations in parentheses
        body = re.sub(r"\[?1913 Webster\]?", " ", body)
        body = re.sub(r"--[A-Z][^.;]*\.", " ", body)       # --Bailey. citations
        body = re.sub(r"[{}]", "", body)
        body = clean_ws(body).lstrip(",;. ")
        if len(body.split()) >= 6 and word:
            yield f"{word}: {body}"


def foldoc(path):
    for e in dict_entries(path):
        word = e[0].strip()
        if word.startswith("00-database"):
            continue
        body = " ".join(e[1:])
        body = re.sub(r"<[^>]*>", " ", body)               # <category> tags
        body = re.sub(r"\{\(?(?:https?|ftp)://[^}]*\}", " ", body)  # URLs
        body = re.sub(r"\((?:\d{4}-\d{2}-\d{2})\)", " ", body)      # dates
        body = re.sub(r"[{}]", "", body)
        body = clean_ws(body)
        if len(body.split()) >= 6:
            yield f"{word}: {body}"


ROLE = re.compile(r":[a-z:]+:`~?!?([^`<]*?)(?:\s*<[^>]*>)?`")
LINK = re.compile(r"`([^`<]*?)(?:\s*<[^>]*>)?`__?")


def rst_paragraphs(text):
    """Prose paragraphs of a reST file: no directives, code, tables or titles."""
    lines = text.split("\n")
    paras, cur, skip_indent = [], [], None
    for ln in lines + [""]:
        indent = len(ln) - len(ln.lstrip())
        if skip_indent is not None:
            if not ln.strip() or indent > skip_indent:
                continue
            skip_indent = None
        s = ln.strip()
        if s.startswith(".."):
            skip_indent = indent  # a directive / comment and its indented body
            if cur:
                paras.append(cur)
            cur = []
            continue
        if not s:
            if cur:
                paras.append(cur)
            cur = []
            continue
        if indent > 0 and not cur:
            continue  # literal blocks after "::", block quotes, code, definition bodies: skipped
        if re.fullmatch(r"([=\-~*^#+`'\".])\1{2,}", s) or s.startswith((">>>", "|", "+-", "+=")):
            cur = []
            continue
        cur.append(s)
    for p in paras:
        t = " ".join(p)
        if t.endswith("::"):
            t = t[:-1]
        t = ROLE.sub(r"\1", t)
        t = LINK.sub(r"\1", t)
        t = t.replace("``", "").replace("**", "")
        t = re.sub(r"(?<![\w*])\*([^*]+)\*", r"\1", t)
        t = clean_ws(t)
        words = t.split()
        letters = sum(c.isalpha() for c in t)
        if len(words) >= 8 and letters > 0.6 * len(t) and not t.startswith(("*", "-", "#")):
            yield t



def pydoc(root):
    for path in sorted(glob.glob(os.path.join(root, "**", "*.txt"), recursive=True)):
        with open(path, encoding="utf-8", errors="replace") as f:
            yield from rst_paragraphs(f.read())


def fortunes(root):
    for path in sorted(glob.glob(os.path.join(root, "*.u8"))):
        if os.path.basename(path).startswith(("art", "ascii-art")):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for q in f.read().split("\n%\n"):
                lines = [l for l in q.split("\n") if l.strip()]
                # Drop the attribution lines ("-- Author") and quotations laid out as pictures.
                prose = [l for l in lines if not l.strip().startswith("--")]
                t = clean_ws(" ".join(prose))
                if len(t.split()) >= 5 and sum(c.isalpha() for c in t) > 0.6 * len(t):
                    yield t


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: corpus_sources.py SHARED_DIR OUT.txt MANIFEST.json")
    shared, out, manifest_path = sys.argv[1:]
    glue_dir = os.path.join(shared, "data", "glue")
    e2e_train, e2e_eval = e2e_split(os.path.join(shared, "data", "e2e"))
    banned = {norm_key(s) for s in glue_sentences(glue_dir, "dev")} | {norm_key(s) for s in e2e_eval}

    sources = [
        ("glue", "GLUE training splits (CoLA, SST-2, MRPC, STS-B, RTE)", "per task: see ../shared/README.md",
         lambda: glue_sentences(glue_dir, "train")),
        ("e2e", f"E2E NLG devset.csv references, first {int(E2E_TRAIN_FRACTION * 100)}% of MRs", "CC BY-SA 4.0",
         lambda: iter(e2e_train)),
        ("gcide", "GCIDE 0.48 (dict-gcide), /usr/share/dictd/gcide.dict.dz", "GPL-2+",
         lambda: gcide("/usr/share/dictd/gcide.dict.dz")),
        ("foldoc", "FOLDOC (dict-foldoc), /usr/share/dictd/foldoc.dict.dz", "GFDL-1.1+",
         lambda: foldoc("/usr/share/dictd/foldoc.dict.dz")),
        ("pydoc", "Python 3.11 documentation sources (python3-doc)", "PSF-2.0",
         lambda: pydoc("/usr/share/doc/python3/html/_sources")),
        ("fortunes", "fortune(6) quotations (fortunes, fortunes-min), /usr/share/games/fortunes/*.u8",
         "BSD-4-clause and public domain (see /usr/share/doc/fortunes-min/copyright)",
         lambda: fortunes("/usr/share/games/fortunes")),
    ]
    seen = set()
    manifest = {"documents": 0, "bytes": 0, "words": 0, "sources": [], "dropped_eval_overlap": 0,
                "dropped_duplicates": 0, "e2e_train_fraction": E2E_TRAIN_FRACTION}
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for name, desc, licence, gen in sources:
            docs = nbytes = words = 0
            for doc in gen():
                doc = clean_ws(doc)
                key = norm_key(doc)
                if not key:
                    continue
                if key in banned:
                    manifest["dropped_eval_overlap"] += 1
                    continue
                if key in seen:
                    manifest["dropped_duplicates"] += 1
                    continue
                seen.add(key)
                f.write(doc + "\n")
                docs += 1
                nbytes += len(doc.encode("utf-8")) + 1
                words += len(doc.split())
            manifest["sources"].append({"name": name, "what": desc, "licence": licence, "documents": docs,
                                        "bytes": nbytes, "words": words})
            manifest["documents"] += docs
            manifest["bytes"] += nbytes
            manifest["words"] += words
            print(f"  {name:9s} {docs:8d} documents {nbytes / 1e6:7.2f} MB {words:9d} words", file=sys.stderr)
    os.replace(tmp, out)
    with open(manifest_path + ".tmp", "w") as f:
        json.dump(manifest, f, indent=2)
    os.replace(manifest_path + ".tmp", manifest_path)


if __name__ == "__main__":
    main()
