#!/usr/bin/env python3
"""Checks the project's rules for printing untrusted text (issue 17), so they cannot regress:

1. Every nlohmann JSON dump in src/ and tools/ replaces invalid UTF-8
   (error_handler_t::replace) instead of throwing type_error.316, which aborted `inspect`.
2. The CLI prints JSON only through cli::DumpJson (tools/tessera/options.cc is its home).

Exits 1 naming each offending call. Usage: untrusted_output_lint.py SOURCE_DIR
"""
import pathlib
import re
import sys

DUMP = re.compile(r"\.dump\(")


def call_text(text, start):
    """The argument text of the call whose '(' is at start-1, across lines."""
    depth, i = 1, start
    while i < len(text) and depth:
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        i += 1
    return text[start:i - 1]


def main():
    root = pathlib.Path(sys.argv[1])
    problems = []
    for folder in ("src", "tools"):
        for path in sorted((root / folder).rglob("*.cc")) + sorted((root / folder).rglob("*.h")):
            text = path.read_text(encoding="utf-8")
            for m in DUMP.finditer(text):
                args = call_text(text, m.end())
                line = text.count("\n", 0, m.start()) + 1
                where = f"{path.relative_to(root)}:{line}"
                if "error_handler_t::replace" not in args:
                    problems.append(f"{where}: dump({args}) throws on invalid UTF-8; "
                                    "pass error_handler_t::replace")
                elif folder == "tools" and path.name != "options.cc":
                    problems.append(f"{where}: the CLI prints JSON through cli::DumpJson")
    for p in problems:
        print(p)
    print(f"untrusted_output_lint: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
