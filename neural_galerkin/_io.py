"""Output files written whole or not at all, and checked before the work that fills them."""

import contextlib
import os
import pathlib
import tempfile


def check_output_file(path: str | pathlib.Path, what: str) -> pathlib.Path:
    """Refuse, before any work, an output file that could not be written: a folder of that
    name, a missing or read-only parent folder."""
    path = pathlib.Path(path)
    parent = path.parent
    if path.is_dir():
        raise ValueError(f"{what} {path} is a folder; give a file name")
    if not parent.is_dir():
        raise ValueError(f"{what} {path}: the folder {parent} does not exist; create it or give "
                         "another path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{what} {path}: the folder {parent} is not writable; give another "
                         "path")
    return path


@contextlib.contextmanager
def atomic_path(path: str | pathlib.Path):
    """A temporary file beside `path` (same suffix) to write to; on success it replaces `path`
    in one step, on failure it is removed and `path` is left as it was."""
    path = pathlib.Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield pathlib.Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | pathlib.Path, text: str) -> pathlib.Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return pathlib.Path(path)
