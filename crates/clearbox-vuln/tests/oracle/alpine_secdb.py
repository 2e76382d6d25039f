"""Independent oracle: which secdb advisories affect a list of installed apk packages.

Reads Alpine secdb YAML files (argv[1:]) with PyYAML and, on stdin, one installed package per
line: `name<TAB>version<TAB>origin`. Prints one line per affected pair:
`origin<TAB>name<TAB>vulnerability<TAB>fixed-version`, sorted, `clear<TAB>...` for each pair
checked and found fixed, and `skipped<TAB>...` for pairs whose fixed version this oracle cannot
order.

A package is affected by a vulnerability when its origin has a secfixes entry for it with a
version other than "0" and the installed version is lower than the highest such version.
Version ordering is written here from the apk-tools version format (numbers separated by dots,
an optional letter, `_alpha`/`_beta`/`_pre`/`_rc` below the release and `_cvs`/`_svn`/`_git`/
`_hg`/`_p` above it, each with an optional number, then `-rN`). Anything else raises, so the
oracle never orders a version it does not understand.
"""

import re
import sys

import yaml

PRE = {"alpha": 0, "beta": 1, "pre": 2, "rc": 3}
POST = {"cvs": 5, "svn": 6, "git": 7, "hg": 8, "p": 9}
FORM = re.compile(r"^(\d+(?:\.\d+)*)([a-z]?)((?:_[a-z]+\d*)*)(?:-r(\d+))?$")


def key(version):
    match = FORM.match(version)
    if not match:
        raise ValueError(version)
    numbers, letter, suffixes, revision = match.groups()
    parts = [int(n) for n in numbers.split(".")]
    suffix_keys = []
    for suffix in filter(None, suffixes.split("_")):
        word, number = re.match(r"^([a-z]+)(\d*)$", suffix).groups()
        rank = PRE.get(word, POST.get(word))
        if rank is None:
            raise ValueError(version)
        suffix_keys.append((rank, int(number or 0)))
    return parts, letter, suffix_keys, int(revision or 0)


def compare(a, b):
    pa, la, sa, ra = key(a)
    pb, lb, sb, rb = key(b)
    # Numbers: element by element; a longer list wins when the common part is equal.
    for x, y in zip(pa, pb):
        if x != y:
            return -1 if x < y else 1
    if len(pa) != len(pb):
        return -1 if len(pa) < len(pb) else 1
    if la != lb:
        return -1 if la < lb else 1
    # Suffixes: a missing suffix is the release, between pre-release and post-release ranks.
    for i in range(max(len(sa), len(sb))):
        x = sa[i] if i < len(sa) else (4, 0)
        y = sb[i] if i < len(sb) else (4, 0)
        if x != y:
            return -1 if x < y else 1
    if ra != rb:
        return -1 if ra < rb else 1
    return 0


def vulnerability_id(item):
    match = re.search(r"CVE[- ](\d{4})-(\d{4,})", item, re.IGNORECASE)
    if match:
        return "CVE-%s-%s" % match.groups()
    for word in item.split():
        word = word.strip("()[],.:;")
        if re.search(r"\d", word) and re.search(r"[A-Za-z]", word) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*", word):
            return word
    return None


def main():
    fixes = {}  # origin -> vulnerability -> [versions]
    for path in sys.argv[1:]:
        document = yaml.safe_load(open(path))
        for entry in document.get("packages") or []:
            pkg = entry["pkg"]
            for version, items in (pkg.get("secfixes") or {}).items():
                for item in items or []:
                    vid = vulnerability_id(str(item))
                    if vid:
                        fixes.setdefault(pkg["name"], {}).setdefault(vid, []).append(str(version))
    out = []
    for line in sys.stdin:
        name, version, origin = line.rstrip("\n").split("\t")
        for vid, versions in fixes.get(origin, {}).items():
            fixed = [v for v in versions if v != "0"]
            if not fixed:
                continue
            try:
                highest = fixed[0]
                for v in fixed[1:]:
                    if compare(v, highest) > 0:
                        highest = v
                affected = compare(version, highest) < 0
            except ValueError as error:
                out.append("skipped\t%s\t%s\t%s" % (name, vid, error))
                continue
            if affected:
                out.append("%s\t%s\t%s\t%s" % (origin, name, vid, highest))
            else:
                out.append("clear\t%s\t%s\t%s" % (name, vid, highest))
    for line in sorted(out):
        print(line)


main()
