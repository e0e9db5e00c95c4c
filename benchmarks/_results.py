"""Writing a benchmark's results: one markdown table (and optionally the raw numbers)."""

import json
import pathlib


def save_table(out: str, name: str, lines: list[str], rows=None) -> None:
    """Print the table `lines` and write it to `out/name.md` (and `rows` to `out/name.json`)."""
    table = "\n".join(lines)
    print(table)
    folder = pathlib.Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.md").write_text(table + "\n")
    if rows is not None:
        (folder / f"{name}.json").write_text(json.dumps(rows, indent=2) + "\n")
