"""Griffe extension for the API reference: Sphinx roles in docstrings to Markdown.

linkmsg's docstrings are written to read well in ``help()``, with Sphinx-style
roles (``:class:`~linkmsg.errors.InvalidCursor```) and reST literal blocks
(a paragraph ending in ``::``). mkdocstrings renders Markdown, so this turns a
role into inline code (``~`` keeps only the last name, as in Sphinx) and ``::``
into ``:``; the indented block after it is already a Markdown code block.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|mod|exc|data|obj|const):`(~?)([^`]+)`")
_LITERAL = re.compile(r"(?<=\S)::$", re.MULTILINE)


def _role(match: re.Match[str]) -> str:
    short, target = match.group(1), match.group(2)
    if short:
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def convert(text: str) -> str:
    return _LITERAL.sub(":", _ROLE.sub(_role, text))


class SphinxRoles(griffe.Extension):
    """Rewrite every docstring once the object tree is complete."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value)
