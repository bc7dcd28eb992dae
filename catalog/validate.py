#!/usr/bin/env python3
"""Validates Tokki's shipped character catalog (Character Card V3 JSON files).

Usage: python3 catalog/validate.py [catalog_dir]
Checks every catalog/<lang>/<slug>.json file and prints counts; exits 1 on any problem.
Only the Python standard library is used.
"""
import json
import os
import re
import sys

TOP_KEYS = ["spec", "spec_version", "data"]
DATA_KEYS = [
    "name", "nickname", "description", "personality", "scenario", "first_mes",
    "mes_example", "creator_notes", "system_prompt", "post_history_instructions",
    "alternate_greetings", "group_only_greetings", "tags", "creator",
    "character_version", "source", "creation_date", "modification_date",
    "character_book", "extensions",
]
NON_EMPTY = ["name", "description", "personality", "scenario", "first_mes",
             "mes_example", "creator_notes", "creator", "character_version"]
LANGS = ("en", "ko", "zh")
MOTIFS = {"crown", "wave", "star", "leaf", "book", "flame", "moon", "sun", "mountain",
          "flower", "gear", "note", "brush", "sword", "heart", "cloud", "compass",
          "feather", "atom", "scroll"}
TOKKI_KEYS = ["id", "tagline", "language", "real_person", "avatar"]
BOOK_KEYS = ["name", "scan_depth", "token_budget", "recursive_scanning", "extensions",
             "entries"]
ENTRY_KEYS = ["keys", "content", "extensions", "enabled", "insertion_order",
              "case_sensitive", "use_regex", "constant", "name", "priority", "id",
              "comment", "selective", "secondary_keys", "position"]
SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
HEX_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
TAG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
HANGUL_RE = re.compile(r"[\uac00-\ud7a3]")

# Length bounds, normalised per language. English counts words; Korean counts
# space-separated eojeol (one eojeol carries roughly 1.5 English words); Chinese
# counts Han characters (roughly 1.7 per English word).
DESC_BOUNDS = {"en": (120, 300), "ko": (80, 230), "zh": (200, 560)}
GREET_BOUNDS = {"en": (40, 120), "ko": (25, 90), "zh": (60, 220)}
# A real person's card must say, in its description, that it is a portrayal and
# not the person. One of these phrases per language is required.
PORTRAYAL_LABELS = {"en": "not the real person", "ko": "실제 인물 본인이 아니",
                    "zh": "并非历史人物"}
MIN_TOTAL, MIN_REAL, MIN_ORIGINAL, MIN_PER_LANG, MIN_BOOKS = 100, 40, 60, 20, 5


def measure(text, lang):
    if lang == "zh":
        return len(CJK_RE.findall(text))
    return len(text.split())


def check_len(problems, where, text, lang, bounds, what):
    lo, hi = bounds[lang]
    n = measure(text, lang)
    if not lo <= n <= hi:
        unit = "Han characters" if lang == "zh" else "words"
        problems.append(f"{where}: {what} has {n} {unit}, expected {lo}-{hi}")


def check_book(problems, where, book):
    if not isinstance(book, dict):
        problems.append(f"{where}: character_book must be null or an object")
        return
    for k in BOOK_KEYS:
        if k not in book:
            problems.append(f"{where}: character_book missing '{k}'")
    entries = book.get("entries")
    if not isinstance(entries, list) or not 3 <= len(entries) <= 6:
        problems.append(f"{where}: character_book needs 3-6 entries")
        return
    for i, e in enumerate(entries):
        for k in ENTRY_KEYS:
            if k not in e:
                problems.append(f"{where}: book entry {i} missing '{k}'")
        if not e.get("keys") or not str(e.get("content", "")).strip():
            problems.append(f"{where}: book entry {i} needs keys and content")


def check_card(path, lang_dir, problems):
    where = os.path.join(lang_dir, os.path.basename(path))
    try:
        with open(path, "rb") as f:
            raw = f.read()
        card = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        problems.append(f"{where}: not valid UTF-8 ({e})")
        return None
    except json.JSONDecodeError as e:
        problems.append(f"{where}: invalid JSON ({e})")
        return None
    if not isinstance(card, dict) or sorted(card) != sorted(TOP_KEYS):
        problems.append(f"{where}: top-level keys must be exactly {TOP_KEYS}")
        return None
    if card["spec"] != "chara_card_v3" or card["spec_version"] != "3.0":
        problems.append(f"{where}: spec must be chara_card_v3 / 3.0")
    d = card["data"]
    if not isinstance(d, dict):
        problems.append(f"{where}: data must be an object")
        return None
    missing = [k for k in DATA_KEYS if k not in d]
    extra = [k for k in d if k not in DATA_KEYS]
    if missing:
        problems.append(f"{where}: data missing keys {missing}")
        return None
    if extra:
        problems.append(f"{where}: data has unknown keys {extra}")
    for k in NON_EMPTY:
        if not isinstance(d[k], str) or not d[k].strip():
            problems.append(f"{where}: '{k}' must be a non-empty string")
    for k in ("nickname", "system_prompt", "post_history_instructions"):
        if not isinstance(d[k], str):
            problems.append(f"{where}: '{k}' must be a string")
    if d["creator"] != "Tokki":
        problems.append(f"{where}: creator must be 'Tokki'")
    alts = d["alternate_greetings"]
    if not isinstance(alts, list) or len(alts) < 1 or not all(
            isinstance(a, str) and a.strip() for a in alts):
        problems.append(f"{where}: needs >=1 non-empty alternate greeting")
        alts = []
    if not isinstance(d["group_only_greetings"], list) or not isinstance(d["source"], list):
        problems.append(f"{where}: group_only_greetings and source must be lists")
    for k in ("creation_date", "modification_date"):
        if not isinstance(d[k], int) or d[k] <= 0:
            problems.append(f"{where}: '{k}' must be a positive integer")
    ex = d["mes_example"] if isinstance(d["mes_example"], str) else ""
    blocks = [b for b in ex.split("<START>")[1:] if b.strip()]
    if len(blocks) < 2:
        problems.append(f"{where}: mes_example needs >=2 <START> blocks")
    for i, b in enumerate(blocks):
        if "{{user}}:" not in b or "{{char}}:" not in b:
            problems.append(f"{where}: example block {i} needs {{{{user}}}}: and {{{{char}}}}: lines")
    for i, g in enumerate([d["first_mes"]] + alts):
        if "{{user}}" not in g:
            problems.append(f"{where}: greeting {i} does not use {{{{user}}}}")
    tags = d["tags"]
    if not isinstance(tags, list) or not 3 <= len(tags) <= 6 or not all(
            isinstance(t, str) and TAG_RE.match(t) for t in tags):
        problems.append(f"{where}: tags must be 3-6 lowercase slugs")
    elif len(set(tags)) != len(tags):
        problems.append(f"{where}: duplicate tags")
    if d["character_book"] is not None:
        check_book(problems, where, d["character_book"])
    ext = d["extensions"]
    t = ext.get("tokki") if isinstance(ext, dict) else None
    if not isinstance(t, dict):
        problems.append(f"{where}: extensions.tokki missing")
        return None
    for k in TOKKI_KEYS:
        if k not in t:
            problems.append(f"{where}: extensions.tokki missing '{k}'")
    slug = t.get("id", "")
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        problems.append(f"{where}: tokki.id must be an ascii slug")
    elif os.path.basename(path) != slug + ".json":
        problems.append(f"{where}: file name must be <tokki.id>.json")
    lang = t.get("language")
    if lang not in LANGS or lang != lang_dir:
        problems.append(f"{where}: tokki.language must be one of {LANGS} and match its folder")
        return None
    tagline = t.get("tagline", "")
    if not isinstance(tagline, str) or not tagline.strip() or "\n" in tagline:
        problems.append(f"{where}: tagline must be one non-empty line")
    if not isinstance(t.get("real_person"), bool):
        problems.append(f"{where}: real_person must be true or false")
    elif t["real_person"] and lang in PORTRAYAL_LABELS and \
            PORTRAYAL_LABELS[lang] not in d["description"]:
        problems.append(f"{where}: real-person description must contain "
                        f"'{PORTRAYAL_LABELS[lang]}'")
    av = t.get("avatar")
    if not isinstance(av, dict) or not av.get("emoji") or av.get("motif") not in MOTIFS \
            or not isinstance(av.get("palette"), list) or len(av["palette"]) != 2 \
            or not all(isinstance(c, str) and HEX_RE.match(c) for c in av["palette"]):
        problems.append(f"{where}: avatar needs emoji, 2 hex colours and a known motif")
    # The card text must be written in its language.
    text = d["description"] + d["first_mes"]
    if lang == "ko" and len(HANGUL_RE.findall(text)) < 100:
        problems.append(f"{where}: Korean card has too little Hangul")
    if lang == "zh" and len(CJK_RE.findall(text)) < 150:
        problems.append(f"{where}: Chinese card has too few Han characters")
    if lang == "en" and len(HANGUL_RE.findall(text)) + len(CJK_RE.findall(text)) > 20:
        problems.append(f"{where}: English card contains mostly CJK text")
    check_len(problems, where, d["description"], lang, DESC_BOUNDS, "description")
    for i, g in enumerate([d["first_mes"]] + alts):
        check_len(problems, where, g, lang, GREET_BOUNDS, f"greeting {i}")
    return {"id": slug, "lang": lang, "real": t.get("real_person") is True,
            "book": d["character_book"] is not None}


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    problems, cards = [], []
    for name in sorted(os.listdir(root)):
        sub = os.path.join(root, name)
        if not os.path.isdir(sub) or name.startswith((".", "_")):
            continue
        if name not in LANGS:
            problems.append(f"{name}/: unknown language folder")
            continue
        for fn in sorted(os.listdir(sub)):
            p = os.path.join(sub, fn)
            if not fn.endswith(".json"):
                problems.append(f"{name}/{fn}: unexpected file")
                continue
            info = check_card(p, name, problems)
            if info:
                cards.append(info)
    seen = {}
    for c in cards:
        if c["id"] in seen:
            problems.append(f"duplicate id '{c['id']}' ({c['lang']} and {seen[c['id']]})")
        seen[c["id"]] = c["lang"]
    total = len(cards)
    real = sum(c["real"] for c in cards)
    books = sum(c["book"] for c in cards)
    print(f"cards: {total}  historical (real_person): {real}  original: {total - real}"
          f"  with lorebook: {books}")
    for lang in LANGS:
        lc = [c for c in cards if c["lang"] == lang]
        lr = sum(c["real"] for c in lc)
        print(f"  {lang}: {len(lc)}  (historical {lr}, original {len(lc) - lr})")
    if total < MIN_TOTAL:
        problems.append(f"need >= {MIN_TOTAL} cards, have {total}")
    if real < MIN_REAL:
        problems.append(f"need >= {MIN_REAL} historical cards, have {real}")
    if total - real < MIN_ORIGINAL:
        problems.append(f"need >= {MIN_ORIGINAL} original cards, have {total - real}")
    for lang in LANGS:
        n = sum(1 for c in cards if c["lang"] == lang)
        if n < MIN_PER_LANG:
            problems.append(f"need >= {MIN_PER_LANG} cards in '{lang}', have {n}")
    if books < MIN_BOOKS:
        problems.append(f"need >= {MIN_BOOKS} cards with a character_book, have {books}")
    for p in problems:
        print("PROBLEM: " + p)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
