"""Outputs written whole or not at all, and checked before the work that fills them: a model or
a checkpoint folder replaces the old one by renames, a file by `os.replace`, so that an error
or an interruption part-way through a write never leaves a half-written output."""

import contextlib
import os
import pathlib
import shutil
import tempfile
import uuid
from collections.abc import Callable, Collection


def replace_folder(target: str | pathlib.Path, write: Callable[[pathlib.Path], object], *,
                   discard: Collection[str] = ()) -> pathlib.Path:
    """Make the folder `target` with `write(folder)` run on a new temporary folder beside it,
    then swap that in. Until the swap the old `target` (if any) is untouched; an exception in
    `write` removes the temporary folder and leaves the old one as it was. Entries of the old
    folder that the new one does not have, other than the names in `discard`, move into the new
    one (e.g. a checkpoint beside a model)."""
    target = pathlib.Path(target)
    if target.exists() and not target.is_dir():
        raise ValueError(f"{target} is a file, not a folder; give a folder path")
    target.parent.mkdir(parents=True, exist_ok=True)
    new = pathlib.Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        write(new)
        _sync(new)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    if not target.exists():
        os.rename(new, target)
        _sync_dir(target.parent)
        return target
    old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:12]}")
    moved = []
    try:
        os.rename(target, old)
        for entry in old.iterdir():
            if entry.name not in discard and not (new / entry.name).exists():
                os.rename(entry, new / entry.name)
                moved.append(entry.name)
        os.rename(new, target)
    except BaseException:  # put the old folder back as it was
        for name in moved:
            os.rename(new / name, old / name)
        if old.exists() and not target.exists():
            os.rename(old, target)
        shutil.rmtree(new, ignore_errors=True)
        raise
    _sync_dir(target.parent)
    shutil.rmtree(old, ignore_errors=True)
    return target


def check_writable_folder(target: str | pathlib.Path, what: str) -> None:
    """Refuse, with a `ValueError` naming `what` (e.g. `--out`), a `target` folder that cannot
    be made or written: a file, a path under a file, or a folder without write permission.
    Probes by creating and removing a folder where the writes will go; creates nothing else."""
    target = pathlib.Path(target).absolute()
    if target.exists() and not target.is_dir():
        raise ValueError(f"{what} {target} is a file; give a folder path")
    above = target.parent
    while not above.exists():
        above = above.parent
    if not above.is_dir():
        raise ValueError(f"{what} {target} lies under {above}, which is a file; give a path "
                         "in a folder")
    for folder in (above, target) if target.is_dir() else (above,):
        _probe(folder, what, target)


def check_output_file(path: str | pathlib.Path, what: str) -> pathlib.Path:
    """Refuse, with a `ValueError` naming `what` (e.g. `--json`), an output file that could not
    be written: a folder of that name, a missing parent folder or one without write
    permission. Creates nothing."""
    path = pathlib.Path(path)
    if path.is_dir():
        raise ValueError(f"{what} {path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise ValueError(f"{what} {path}: the folder {path.parent} does not exist; create it or "
                         "give another path")
    _probe(path.parent, what, path)
    return path


def _probe(folder: pathlib.Path, what: str, target: pathlib.Path) -> None:
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".write-probe-", dir=folder))
    except OSError as e:
        raise ValueError(f"{what} {target}: cannot write in {folder} ({e.strerror}); give "
                         "a folder you can write to") from None


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
    """Write `text` to `path` whole (`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return pathlib.Path(path)


def _sync(folder: pathlib.Path) -> None:
    # the files' contents reach the disk before the rename makes them the folder's
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
    _sync_dir(folder)


def _sync_dir(folder: pathlib.Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # a platform without directory handles (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
