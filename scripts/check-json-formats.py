#!/usr/bin/env python3
"""Checks that every jansson pack/unpack call passes as many arguments as
its format string asks for.

jansson reads the arguments of json_pack(), json_pack_ex(), json_unpack()
and json_unpack_ex() with va_arg as the format string says, and no
compiler checks them (there is no __attribute__((format)) for jansson): a
format with three pairs given four silently packs the wrong values, such as
a pointer where a number was meant. C11 cannot parse a string literal at
compile time, so a macro could count the arguments but not the format;
this script reads the sources instead, and so sees every call, including
those on error paths no test runs.

Usage: check-json-formats.py [FILE|DIR]...   (default: the repository)
Prints one line per mismatch, 'file:line: ...', and exits 1 if any.
A format that is not a string literal is reported too: it cannot be
checked, so the code must not use one.
"""

import os
import re
import sys

# Function name -> index of the format argument.
FUNCS = {
    "json_pack": 0,
    "json_pack_ex": 2,
    "json_unpack": 1,
    "json_unpack_ex": 3,
}

SKIP_DIRS = {".git", "build", "build-asan", "build-fuzz", "node_modules"}


class FormatError(Exception):
    pass


def strip_comments(src):
    """Blanks out comments (keeping newlines, so line numbers hold)."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = skip_quoted(src, i)
            out.append(src[i:j])
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def skip_quoted(src, i):
    """Returns the index just past the string or char literal at i."""
    q = src[i]
    i += 1
    while i < len(src) and src[i] != q:
        i += 2 if src[i] == "\\" else 1
    return i + 1


def split_args(src, i):
    """Splits the argument list whose '(' is at i; returns the list of
    argument texts (top-level commas only)."""
    assert src[i] == "("
    depth, start, args = 0, i + 1, []
    while i < len(src):
        c = src[i]
        if c in "\"'":
            i = skip_quoted(src, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                last = src[start:i].strip()
                if last or args:
                    args.append(last)
                return args
        elif c == "," and depth == 1:
            args.append(src[start:i].strip())
            start = i + 1
        i += 1
    raise FormatError("unterminated argument list")


def literal_value(arg):
    """The value of one or more adjacent string literals, else None."""
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', arg)
    if not parts or re.sub(r'"(?:[^"\\]|\\.)*"', "", arg).strip():
        return None
    return bytes("".join(parts), "utf-8").decode("unicode_escape")


def count_pack(fmt):
    """Arguments a json_pack() format consumes (jansson's pack grammar)."""
    n, i = 0, 0
    while i < len(fmt):
        c = fmt[i]
        i += 1
        if c in " \t\n,:[]{}":
            continue
        if c == "n":
            continue
        if c in "bifIF":
            n += 1
        elif c in "oO":
            n += 1
            if i < len(fmt) and fmt[i] in "?*":
                i += 1
        elif c == "s":
            n += 1
            if i < len(fmt) and fmt[i] in "?*":
                i += 1
                continue
            # s# s% take a length; s+ concatenates the next string (+#, +%)
            while True:
                if i < len(fmt) and fmt[i] in "#%":
                    n += 1
                    i += 1
                if i < len(fmt) and fmt[i] == "+":
                    n += 1
                    i += 1
                    continue
                break
        else:
            raise FormatError("unknown pack format character '%s'" % c)
    return n


def count_unpack(fmt):
    """Arguments a json_unpack() format consumes (jansson's unpack
    grammar: '!' and '*' end an object or array strictly, '?' marks an
    optional key)."""
    n, i = 0, 0
    while i < len(fmt):
        c = fmt[i]
        i += 1
        if c in " \t\n,:[]{}!*?":
            continue
        if c == "n":
            continue
        if c in "bifIFoO":
            n += 1
        elif c == "s":
            n += 1
            if i < len(fmt) and fmt[i] == "%":
                n += 1
                i += 1
        else:
            raise FormatError("unknown unpack format character '%s'" % c)
    return n


CALL = re.compile(r"\b(json_pack_ex|json_pack|json_unpack_ex|json_unpack)"
                  r"\s*\(")


def check_file(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        src = strip_comments(f.read())
    problems = []
    for m in CALL.finditer(src):
        name = m.group(1)
        line = src.count("\n", 0, m.start()) + 1
        where = "%s:%d: %s" % (path, line, name)
        # A declaration or the name alone (no call) is not checked.
        if re.match(r"\s*\(\s*(const\s+char|json_t|json_error_t)\b",
                    src[m.end() - 1:]):
            continue
        try:
            args = split_args(src, m.end() - 1)
        except FormatError as e:
            problems.append("%s: %s" % (where, e))
            continue
        at = FUNCS[name]
        if len(args) <= at:
            problems.append("%s: no format argument" % where)
            continue
        if name == "json_unpack_ex" and "JSON_VALIDATE_ONLY" in args[2]:
            continue
        fmt = literal_value(args[at])
        if fmt is None:
            problems.append("%s: format is not a string literal: %s"
                            % (where, args[at]))
            continue
        try:
            want = (count_pack if "pack" in name and "unpack" not in name
                    else count_unpack)(fmt)
        except FormatError as e:
            problems.append("%s: \"%s\": %s" % (where, fmt, e))
            continue
        got = len(args) - at - 1
        if got != want:
            problems.append("%s: \"%s\" takes %d arguments, given %d"
                            % (where, fmt, want, got))
    return problems


def sources(paths):
    for p in paths:
        if os.path.isfile(p):
            yield p
            continue
        for root, dirs, files in os.walk(p):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.join(root, f)


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = argv[1:] or [root]
    problems, calls = [], 0
    for path in sources(paths):
        problems += check_file(path)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
