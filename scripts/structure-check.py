#!/usr/bin/python3
"""Structure check (issue 21): no function in src/ over 80 lines, no file over 600.

Usage: scripts/structure-check.py [--max-function N] [--max-file N] [DIR...]
(DIR defaults to the repository's src/). Prints one line per violation and exits 1
if there is any, 0 otherwise.

The code is 4-space K&R C, so a top-level definition is recognised by its layout
rather than by a C parser: it starts at a non-indented line, its body opens with a
`{` at the end of its signature (or on a line of its own) and closes with the
first `}` at column 0. A function is counted from the first line of its signature
to that closing brace. A definition whose body really is data (a table) may carry
`/* structure-check: table */` on the line just before it and is then not counted.
"""

import argparse
import os
import re
import sys

MARKER = "structure-check: table"
SOURCE_EXTS = (".c", ".h")
IDENT_BEFORE_PAREN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def strip_line_comment(line):
    """The line without a trailing // or /* ... */ comment (for the ; and { tests)."""
    for mark in ("//", "/*"):
        at = line.find(mark)
        if at >= 0:
            line = line[:at]
    return line.rstrip()


def function_name(decl):
    """The name of the function declared by `decl`, or None if it is not one.

    A declaration with `=` before its body is an initializer (a table); one without
    parentheses is a struct/union/enum definition.
    """
    if "=" in decl:
        return None
    match = IDENT_BEFORE_PAREN.search(decl)
    return match.group(1) if match else None


def definitions(lines):
    """Yield (first_line, last_line, decl_text, exempt) for each top-level block (0-based)."""
    start = None        # first line of the declaration being read
    in_comment = False  # inside a /* */ comment at top level
    in_macro = False    # inside a backslash-continued preprocessor line
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if in_macro:
            in_macro = line.rstrip().endswith("\\")
            i += 1
            continue
        if in_comment:
            in_comment = "*/" not in line
            i += 1
            continue
        if start is None:
            if not stripped or line[0] in " \t":
                i += 1
                continue
            if stripped.startswith("#"):
                in_macro = line.rstrip().endswith("\\")
                i += 1
                continue
            if stripped.startswith("//"):
                i += 1
                continue
            if stripped.startswith("/*"):
                in_comment = "*/" not in stripped[2:]
                i += 1
                continue
            start = i
        code = strip_line_comment(line)
        if code.endswith(";") or code.endswith("}") or not code:
            start = None    # a declaration, a one-line definition, or nothing before a body
        elif code.endswith("{"):
            decl = " ".join(l.strip() for l in lines[start:i + 1])[:-1]
            end = i + 1
            while end < len(lines) and not lines[end].startswith("}"):
                end += 1
            exempt = start > 0 and MARKER in lines[start - 1]
            yield start, min(end, len(lines) - 1), decl, exempt
            start = None
            i = end
        i += 1


def check_file(path, shown, max_function, max_file):
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    problems = []
    if len(lines) > max_file:
        problems.append(f"{shown}: file is {len(lines)} lines (max {max_file})")
    for first, last, decl, exempt in definitions(lines):
        name = function_name(decl)
        length = last - first + 1
        if name is None or exempt or length <= max_function:
            continue
        problems.append(f"{shown}:{first + 1}: function {name} is {length} lines "
                        f"(max {max_function})")
    return problems


def source_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(SOURCE_EXTS):
                yield os.path.join(dirpath, name)


def main(argv):
    default_root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-function", type=int, default=80)
    parser.add_argument("--max-file", type=int, default=600)
    parser.add_argument("dirs", nargs="*")
    args = parser.parse_args(argv)
    roots = args.dirs or [os.path.relpath(os.path.normpath(default_root))]
    problems = []
    for root in roots:
        if not os.path.isdir(root):
            print(f"structure-check: {root}: not a directory", file=sys.stderr)
            return 2
        for path in source_files(root):
            problems += check_file(path, os.path.normpath(path), args.max_function,
                                   args.max_file)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
