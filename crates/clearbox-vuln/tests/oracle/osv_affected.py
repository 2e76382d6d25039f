"""Independent oracle for the matcher tests: which OSV advisories affect a package version.

Reads OSV records (JSON, or YAML in OSV schema as the PyPA database writes them) from the
directories given with --source, reads queries from standard input as a JSON list of
{"ecosystem", "name", "version"} objects, and prints {"results": [{"ecosystem", "name",
"version", "advisories": [ids]}]} with ids sorted.

It shares no code with clearbox. Version ordering comes from `packaging.version` for PyPI and
from the SemVer 2.0.0 precedence rules written out below for Go. Range evaluation follows the
pseudocode of the OSV schema (https://ossf.github.io/osv-schema/#evaluation). A version is
affected when it is listed in `versions` or lies in a SEMVER or ECOSYSTEM range. GIT ranges,
withdrawn records and ranges with a version that does not parse are skipped.
At one version, `fixed` and `last_affected` events sort before `introduced`, so two adjacent
ranges join; the schema leaves that order open. No alias merging is done: every matching record
id is listed.

Needs PyYAML and packaging (the clearbox validator venv has both).
"""

import argparse
import json
import os
import re
import sys

import yaml
from packaging.version import InvalidVersion, Version

SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)


class Unparsable(Exception):
    """A version string the ecosystem's ordering cannot read."""


def semver_key(text):
    """Sort key with SemVer 2.0.0 section 11 precedence; build metadata is ignored."""
    match = SEMVER.match(text[1:] if text.startswith("v") else text)
    if not match:
        raise Unparsable(text)
    major, minor, patch, pre = match.groups()
    if pre is None:
        # A release sorts after every pre-release of the same version.
        return (int(major), int(minor), int(patch), 1, ())
    identifiers = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in pre.split(".")
    )
    return (int(major), int(minor), int(patch), 0, identifiers)


def pep440_key(text):
    try:
        return Version(text)
    except InvalidVersion as error:
        raise Unparsable(text) from error


def key_function(ecosystem, range_type):
    if range_type == "SEMVER":
        return semver_key
    base = ecosystem.split(":")[0]
    if base == "PyPI":
        return pep440_key
    if base == "Go":
        return semver_key
    return None


def normalise_name(ecosystem, name):
    if ecosystem.split(":")[0] == "PyPI":
        return re.sub(r"[-_.]+", "-", name).lower()
    return name


class Bottom:
    """`introduced: "0"`: below every version."""

    def __lt__(self, other):
        return not isinstance(other, Bottom)

    def __gt__(self, other):
        return False

    def __eq__(self, other):
        return isinstance(other, Bottom)


def in_range(version_key, events, key):
    parsed = []
    for event in events:
        (kind, value), = event.items()
        if kind == "introduced" and value == "0":
            parsed.append((kind, Bottom()))
        elif kind == "limit" and "*" in value:
            parsed.append((kind, None))
        else:
            parsed.append((kind, key(value)))

    limits = [bound for kind, bound in parsed if kind == "limit"]
    if limits and not any(bound is None or version_key < bound for bound in limits):
        return False

    timeline = [(kind, bound) for kind, bound in parsed if kind != "limit"]

    # Sort by tie rank, then stably by version, so ends of ranges come first at one version.
    timeline.sort(key=lambda item: 0 if item[0] in ("fixed", "last_affected") else 1)
    timeline = sorted_by_bound(timeline)
    vulnerable = False
    for kind, bound in timeline:
        if kind == "introduced" and not version_key < bound:
            vulnerable = True
        elif kind == "fixed" and not version_key < bound:
            vulnerable = False
        elif kind == "last_affected" and version_key > bound:
            vulnerable = False
    return vulnerable


def sorted_by_bound(timeline):
    """Insertion sort by bound, stable, so Bottom needs only `<` against other keys."""
    result = []
    for item in timeline:
        position = len(result)
        while position > 0 and item[1] < result[position - 1][1]:
            position -= 1
        result.insert(position, item)
    return result


def is_listed(ecosystem, version, listed):
    base = ecosystem.split(":")[0]
    for value in listed:
        if value == version:
            return True
        if base == "PyPI":
            try:
                if Version(value) == Version(version):
                    return True
            except InvalidVersion:
                continue
        if base == "Go" and value.lstrip("v") == version.lstrip("v"):
            return True
    return False


def affects(record, query):
    ecosystem, name, version = query["ecosystem"], query["name"], query["version"]
    wanted = normalise_name(ecosystem, name)
    for affected in record.get("affected") or []:
        package = affected.get("package")
        if not package or package.get("ecosystem") != ecosystem:
            continue
        if normalise_name(ecosystem, package.get("name", "")) != wanted:
            continue
        if is_listed(ecosystem, version, affected.get("versions") or []):
            return True
        for osv_range in affected.get("ranges") or []:
            key = key_function(ecosystem, osv_range.get("type"))
            if osv_range.get("type") == "GIT" or key is None:
                continue
            try:
                if in_range(key(version), osv_range.get("events") or [], key):
                    return True
            except Unparsable:
                continue
    return False


def load_records(sources):
    records = {}
    for source in sources:
        for directory, subdirectories, files in os.walk(source):
            subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
            for file_name in sorted(files):
                if file_name.startswith("."):
                    continue
                path = os.path.join(directory, file_name)
                with open(path, encoding="utf-8") as handle:
                    if file_name.endswith(".json"):
                        record = json.load(handle)
                    elif file_name.endswith((".yaml", ".yml")):
                        # BaseLoader keeps every scalar a string, so `1.10` stays `1.10`.
                        record = yaml.load(handle, Loader=yaml.BaseLoader)
                    else:
                        continue
                if record.get("withdrawn"):
                    continue
                records[record["id"]] = record
    return records


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", action="append", required=True, help="directory of records")
    arguments = parser.parse_args()
    records = load_records(arguments.source)
    results = []
    for query in json.load(sys.stdin):
        ids = sorted(i for i, record in records.items() if affects(record, query))
        results.append(dict(query, advisories=ids))
    json.dump({"results": results}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
