"""AFX001: a ``# noqa`` comment naming an asgifix code that no rule has (as ruff's RUF100).

``# noqa: AFX999`` (a typo, or a rule that was renumbered) suppresses nothing, and the
finding it was meant for shows up, or worse, it silently stops matching after an edit.
Only codes in asgifix's own namespace (``AFX`` followed by digits) are judged: other
tools' codes (``E402``, ``RUF100``) are theirs. In Python, only comments count (a
``"# noqa"`` inside a string is text).

The fix is safe: an unknown code suppresses nothing, so removing it changes no result.
It removes the code from the list, or the whole ``# noqa: ...`` directive when the
code is the only one and the directive ends the line (leaving ``# noqa:`` would
suppress everything); otherwise no fix.
"""

from __future__ import annotations

import re
from typing import Iterator, Optional

from ..model import Edit, Finding, Fix
from . import FileMatcher

# The engine's grammar of a noqa directive (asgifix.engine._NOQA), with each code's place.
_DIRECTIVE = re.compile(r"#\s*noqa:\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*)", re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)
_OURS = re.compile(r"^AFX[0-9]+$")


class UnknownNoqaCode(FileMatcher):
    def check_file(self, parsed) -> Iterator[Finding]:
        document = parsed.document
        from ..catalogue import load_catalogue

        known = {rule.code for rule in load_catalogue()}
        comments = _python_comments(parsed)
        for line_number in range(1, document.line_count + 1):
            text = document.line_text(line_number)
            if "noqa" not in text.lower():
                continue
            line_start = document.offset(line_number, 1)
            for directive in _DIRECTIVE.finditer(text):
                if comments is not None and not _in_comment(comments, line_number, directive.start()):
                    continue
                codes = list(_CODE.finditer(directive.group("codes")))
                base = directive.start("codes")
                unknown = [c for c in codes if _OURS.match(c.group().upper()) and c.group().upper() not in known]
                for code in unknown:
                    start = line_start + base + code.start()
                    end = line_start + base + code.end()
                    fix = self._fix(document, text, line_start, directive, codes, code, base)
                    yield Finding(self.rule.code, self.rule.severity,
                                  f"`# noqa` names {code.group().upper()}, which is no asgifix rule: it suppresses nothing",
                                  document.display, document.span(start, end), fix,
                                  "remove it, or name the rule you meant (`asgifix rules` lists them)")

    def _fix(self, document, text, line_start, directive, codes, code, base) -> Optional[Fix]:
        if len(codes) > 1:
            index = codes.index(code)
            if index + 1 < len(codes):  # "AFX999, AFX101" -> "AFX101"
                start, end = base + code.start(), base + codes[index + 1].start()
            else:  # "AFX101, AFX999" -> "AFX101"
                start, end = base + codes[index - 1].end(), base + code.end()
            return Fix("safe", f"Remove {code.group().upper()} from the noqa list",
                       (Edit(document.display, document.span(line_start + start, line_start + end), ""),))
        if text[directive.end():].strip():
            return None  # words follow the directive: removing it would leave them outside the comment
        start = directive.start()
        if text[:start].strip() == "":
            return None  # a comment line of its own: left for a person (removing it leaves an empty line)
        while start > 0 and text[start - 1] in " \t":
            start -= 1
        return Fix("safe", "Remove the `# noqa` comment, which suppresses nothing",
                   (Edit(document.display, document.span(line_start + start, line_start + len(text)), ""),))


def _python_comments(parsed) -> Optional[dict[int, list[int]]]:
    """For a Python module, line -> columns (0-based) where a comment starts; None for other files."""
    tree = getattr(parsed, "tree", None)
    if tree is None:
        return None
    import io
    import tokenize

    starts: dict[int, list[int]] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(parsed.document.text).readline):
            if token.type == tokenize.COMMENT:
                starts.setdefault(token.start[0], []).append(token.start[1])
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return {}
    return starts


def _in_comment(comments: dict[int, list[int]], line: int, column: int) -> bool:
    return any(start <= column for start in comments.get(line, ()))
