"""Griffe extension for the API reference (loaded by mkdocstrings' Python handler, see
`mkdocs.yml`): teaches it two conventions of this code base.

1. Public names. The packages mark them by redundant aliases, `from ._x import y as y` (as
   equinox and diffrax do), not by `__all__`. Griffe takes imported names for private unless
   `__all__` lists them, so every `import y as y` of a module is marked public here:
   `::: neural_galerkin` then documents exactly the names `neural_galerkin/__init__.py`
   re-exports, and a new one appears without touching the docs.
2. Lists. The docstrings are Markdown, and some start a list right under a line such as
   `**Arguments:**`, with no blank line in between. Python-Markdown (unlike CommonMark) needs
   the blank line, and would run the items into one paragraph; one is inserted before such a
   list. Only `- ` items at the docstring's own indentation count, so a wrapped formula that
   starts a line with `+` inside backticks is left as it is.
"""

import ast
from typing import Any

import griffe


def separate_lists(text: str) -> str:
    """`text` with a blank line before every `- ` list that directly follows a paragraph."""
    out: list[str] = []
    in_list = False
    for line in text.splitlines():
        if line.startswith("- "):
            if out and out[-1].strip() and not in_list:
                out.append("")
            in_list = True
        elif line.strip() and not line.startswith(" "):
            in_list = False  # a paragraph at the left margin ends the list
        out.append(line)
    return "\n".join(out)


class Conventions(griffe.Extension):
    def on_module_members(self, *, node: Any, mod: griffe.Module, **kwargs: Any) -> None:
        if not isinstance(node, ast.Module):  # loaded by inspection: no source to read
            return
        for stmt in node.body:
            if isinstance(stmt, ast.Import | ast.ImportFrom):
                for alias in stmt.names:
                    if alias.asname and alias.asname == alias.name.rpartition(".")[2]:
                        member = mod.members.get(alias.asname)
                        if member is not None:
                            member.public = True

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = separate_lists(obj.docstring.value)
