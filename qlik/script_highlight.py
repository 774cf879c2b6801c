"""Qlik load-script syntax highlighting, on the server, as one HTML fragment per line.

Hand-written rather than vendored: Pygments has no Qlik lexer, and highlight.js or Prism
would need a Node toolchain (or a CDN, which an air-gapped portal cannot use) for a
language they do not ship either. Qlik script needs little: comments (`//`, `/* */`,
`REM`), strings, `[bracketed]` names and paths (INLINE tables span lines), `$(variables)`,
numbers, keywords, functions and table labels. Tokens that span lines (block comments,
INLINE data) are closed at each line's end and reopened on the next, so every line is
well-formed HTML on its own and can carry its own number and anchor.
"""

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

KEYWORDS = frozenset(
    [
        "add",
        "alias",
        "and",
        "as",
        "asc",
        "autogenerate",
        "binary",
        "buffer",
        "by",
        "call",
        "case",
        "concatenate",
        "connect",
        "continue",
        "crosstable",
        "default",
        "desc",
        "directory",
        "disconnect",
        "distinct",
        "do",
        "drop",
        "each",
        "else",
        "elseif",
        "end",
        "endif",
        "endsub",
        "endswitch",
        "execute",
        "exists",
        "exit",
        "field",
        "fields",
        "first",
        "for",
        "from",
        "generic",
        "group",
        "hierarchy",
        "hierarchybelongsto",
        "if",
        "in",
        "include",
        "inline",
        "inner",
        "intervalmatch",
        "into",
        "join",
        "keep",
        "left",
        "let",
        "lib",
        "load",
        "loop",
        "mapping",
        "must_include",
        "next",
        "noconcatenate",
        "not",
        "null",
        "or",
        "order",
        "outer",
        "qualify",
        "rename",
        "replace",
        "resident",
        "right",
        "sample",
        "script",
        "section",
        "select",
        "semantic",
        "set",
        "sleep",
        "sql",
        "store",
        "sub",
        "switch",
        "table",
        "tables",
        "then",
        "to",
        "trace",
        "unless",
        "unqualify",
        "until",
        "when",
        "where",
        "while",
        "with",
    ]
)

TOKENS = re.compile(
    r"""
      (?P<comment>/\*[\s\S]*?(?:\*/|\Z) | (?<![:\w])//[^\n]* | (?im:^[ \t]*rem\b[^;]*;?))
    | (?P<string>'[^'\n]*'? | "[^"\n]*"?)
    | (?P<bracket>\[[^\]]*\]?)
    | (?P<variable>\$\([^)\n]*\)?)
    | (?P<number>(?<![\w.])\d+(?:\.\d+)?(?![\w.]))
    | (?P<word>[A-Za-z_#@][\w.#@]*)
    | (?P<other>\s+|.)
    """,
    re.VERBOSE,
)
LABEL_AFTER = re.compile(r"[ \t]*:(?!:)")
CLASSES = {
    "comment": "c",
    "string": "s",
    "bracket": "b",
    "variable": "v",
    "number": "n",
    "keyword": "k",
    "function": "f",
    "label": "l",
}


def _tokens(script: str):
    at_statement_start = True
    for match in TOKENS.finditer(script):
        kind, text = match.lastgroup, match.group()
        if kind == "word":
            rest = script[match.end() : match.end() + 3]
            if text.lower() in KEYWORDS:
                kind = "keyword"
            elif rest.startswith("("):
                kind = "function"
            elif at_statement_start and LABEL_AFTER.match(script, match.end()):
                kind = "label"
        if kind == "bracket" and at_statement_start and LABEL_AFTER.match(script, match.end()):
            kind = "label"
        if kind != "other" or not text.isspace():
            at_statement_start = text == ";"
        if kind == "other" and "\n" in text:
            at_statement_start = True
        yield kind, text


def script_highlight(script: str) -> list[SafeString]:
    """The script as HTML lines (line n at index n - 1), every token in a <span class>."""
    script = (script or "").replace("\r\n", "\n").replace("\r", "\n")
    lines: list[list[str]] = [[]]
    for kind, text in _tokens(script):
        css = CLASSES.get(kind)
        for index, piece in enumerate(text.split("\n")):
            if index:
                lines.append([])
            if piece:
                lines[-1].append(f'<span class="{css}">{escape(piece)}</span>' if css else escape(piece))
    if len(lines) > 1 and not lines[-1]:
        lines.pop()  # the newline that ends the last line starts no line of its own
    # Safe: every piece of script text went through escape() above.
    return [mark_safe("".join(parts)) for parts in lines]  # noqa: S308
