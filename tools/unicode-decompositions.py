#!/usr/bin/env python3
"""Writes the compatibility decompositions (NFKD) that TextFold reads, one code point a line:
`<code point> <decomposition...>` in hex. The server runs with invariant globalization, where .NET does not
normalize, and a table pinned here folds alike on every host, so fingerprints and event ids never depend on
the host's ICU. Left out: Hangul syllables (letters either way) and spacing accents whose decomposition starts
with a space (a lone ´ or ¨ is punctuation, not a space and a mark).

Usage: python3 tools/unicode-decompositions.py > src/ProspectEvents.Domain/Detection/Terms/unicode-decompositions.txt
"""
import unicodedata

print(f"# NFKD of Unicode {unicodedata.unidata_version}, from tools/unicode-decompositions.py; do not edit by hand")
for cp in range(0x110000):
    if 0xD800 <= cp <= 0xDFFF or 0xAC00 <= cp <= 0xD7A3:
        continue
    c = chr(cp)
    d = unicodedata.normalize("NFKD", c)
    if d == c or (d.startswith(" ") and d.strip()):
        continue
    print(f"{cp:X} " + " ".join(f"{ord(x):X}" for x in d))
