#!/usr/bin/env python3
"""Point the console scripts that `pip install --target` wrote at the image's Python.

pip writes the path of the Python that ran it into each script's `#!` line. In the image that
path does not exist, and it differs between build machines, so the layer would too. This
rewrites the line in every script under TARGET/bin to `#!INTERPRETER` and updates the script's
hash and size in the RECORD file that lists it, so that RECORD still matches the files.

Usage: rewrite-script-interpreter.py TARGET INTERPRETER
"""

import base64
import hashlib
import sys
from pathlib import Path

# pip's --target install lists console scripts in RECORD relative to a temporary
# lib/python directory, so they appear as `../../bin/NAME`.
RECORD_SCRIPT_PREFIX = "../../bin/"


def record_hash(data: bytes) -> str:
    """Return the RECORD hash field for data (PEP 376: urlsafe base64, no padding)."""
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def strip_interpreter_lines(data: bytes, script: Path) -> bytes:
    """Remove the lines that name the interpreter and return the rest of the script."""
    lines = data.split(b"\n")

    # For an interpreter path longer than 127 bytes or with spaces, the script maker of distlib
    # (vendored in pip 23.2.1) writes `#!/bin/sh` and an exec line that sh runs and Python
    # reads as a string.
    if lines[0] == b"#!/bin/sh" and len(lines) > 2 and lines[1].startswith(b"'''exec' "):
        return b"\n".join(lines[3:])
    if lines[0].startswith(b"#!"):
        return b"\n".join(lines[1:])
    raise SystemExit(f"error: `{script}` has no #! line")


def rewrite_scripts(bin_dir: Path, interpreter: str) -> dict[str, tuple[str, int]]:
    """Rewrite each script's #! line and return its new RECORD hash and size by RECORD path."""
    records = {}
    for script in sorted(bin_dir.iterdir()):
        body = strip_interpreter_lines(script.read_bytes(), script)
        data = b"#!" + interpreter.encode() + b"\n" + body
        script.write_bytes(data)
        records[RECORD_SCRIPT_PREFIX + script.name] = (record_hash(data), len(data))
    return records


def update_records(target: Path, records: dict[str, tuple[str, int]]) -> None:
    """Replace the hash and size of each rewritten script in the RECORD file that lists it."""
    unlisted = set(records)
    for record in sorted(target.glob("*.dist-info/RECORD")):
        lines = record.read_bytes().decode("utf-8").splitlines(keepends=True)
        changed = False
        for index, line in enumerate(lines):
            path = line.split(",", 1)[0]
            if path in records:
                ending = line[len(line.rstrip("\r\n")) :]
                hash_field, size = records[path]
                lines[index] = f"{path},{hash_field},{size}{ending}"
                unlisted.discard(path)
                changed = True
        if changed:
            record.write_bytes("".join(lines).encode("utf-8"))
    if unlisted:
        raise SystemExit(f"error: no RECORD file lists {', '.join(sorted(unlisted))}")


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit("usage: rewrite-script-interpreter.py TARGET INTERPRETER")
    target = Path(sys.argv[1])
    interpreter = sys.argv[2]
    bin_dir = target / "bin"
    if not bin_dir.is_dir():
        return
    update_records(target, rewrite_scripts(bin_dir, interpreter))


if __name__ == "__main__":
    main()
