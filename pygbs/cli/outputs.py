"""Output directories of the commands: complete or absent, never at the expense of user data.

This is the command line's policy (``pygbs`` and ``encoders`` commands apply it); the
library itself only writes plain atomic files into a folder it is given
(:mod:`pygbs.io.atomic`).

The contract is described in docs/cli.md ("Output directories and exit codes"):

- Files are written to a temporary sibling ``.<name>.<pid>.<random>.tmp`` and renamed into
  place (:func:`pygbs.io.atomic.atomic_path`).
- An output directory carries a manifest, :data:`MANIFEST`, naming the command that wrote
  it and the files it wrote. A command refuses an existing non-empty directory that is
  not its own earlier output unless ``force`` is given (:class:`~pygbs.errors.InputError`).
- :func:`output_dir` assembles a command's whole output in a temporary directory; only
  when it is complete are the files moved in. A directory that holds nothing but our own
  earlier output is swapped as a whole; otherwise only our files are moved in (one
  ``os.replace`` each) and the files of the earlier run that were not written again are
  removed. Nothing else in the directory is read, copied or touched.
- :func:`workspace` is the same contract for resumable runs (``encoders train/zoo``),
  which write in place so that their checkpoints survive an interrupt.
- Temporaries carry the process id; those of processes that no longer run are removed
  when the next command writes to the same place.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pygbs.cancel import check_cancelled
from pygbs.errors import InputError
from pygbs.io.atomic import (
    atomic_path,
    is_temp_name,
    named_error,
    temp_pid,
    temp_prefix,
    umask,
    write_text_atomic,
)

__all__ = [
    "MANIFEST",
    "Workspace",
    "check_output_file",
    "clean_stale_temps",
    "files_below",
    "output_dir",
    "workspace",
]

#: Name of the manifest file of an output directory.
MANIFEST = ".geobias-output.json"
_GENERATOR = "geobias"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but belongs to someone else
        return True
    return True


def clean_stale_temps(directory: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporaries left in ``directory`` by processes that no longer run.

    Only names of the form ``.<name>.<pid>.<random>.tmp`` whose process is gone are
    removed (files or directories); anything else is left alone.

    Returns
    -------
    list of Path
        What was removed.
    """
    d = Path(directory)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(d))
    except OSError:
        return removed
    for entry in entries:
        pid = temp_pid(entry.name)
        if pid is None or _pid_alive(pid):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


def _read_manifest(directory: Path) -> dict | None:
    try:
        doc = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("generator") != _GENERATOR:
        return None
    files = doc.get("files")
    if not isinstance(files, list):
        return None
    doc["files"] = [f for f in files if isinstance(f, str) and _safe_relative(f)]
    return doc


def _safe_relative(rel: str) -> bool:
    p = Path(rel)
    return bool(rel) and not p.is_absolute() and ".." not in p.parts and rel != MANIFEST


def _write_manifest(directory: Path, command: str, files: Iterable[str], complete: bool) -> None:
    doc = {
        "generator": _GENERATOR,
        "command": command,
        "complete": complete,
        "files": sorted(set(files) - {MANIFEST}),
    }
    write_text_atomic(directory / MANIFEST, json.dumps(doc, indent=1) + "\n")


def _tree(directory: Path) -> tuple[set[str], set[str], bool]:
    """Relative files and directories below ``directory`` (temporaries skipped).

    The flag says whether a symbolic link was met (never ours, never followed).
    """
    files: set[str] = set()
    dirs: set[str] = set()
    link = False
    for root, dirnames, filenames in os.walk(directory):
        base = Path(root)
        keep = []
        for name in dirnames:
            if is_temp_name(name):
                continue
            full = base / name
            rel = full.relative_to(directory).as_posix()
            if full.is_symlink():
                link = True
                files.add(rel)
            else:
                dirs.add(rel)
                keep.append(name)
        dirnames[:] = keep
        for name in filenames:
            if is_temp_name(name):
                continue
            full = base / name
            link = link or full.is_symlink()
            files.add(full.relative_to(directory).as_posix())
    return files, dirs, link


def _ancestors(files: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for f in files:
        out.update(p.as_posix() for p in Path(f).parents if p.as_posix() != ".")
    return out


@dataclass
class _Claim:
    """What an output directory holds before a command writes to it."""

    path: Path
    exists: bool
    own_files: set[str] = field(default_factory=set)  # ours, from the same command
    only_ours: bool = True


def _claim(path: str | os.PathLike[str], command: str, force: bool) -> _Claim:
    """Check that ``command`` may write to ``path``; remove stale temporaries there."""
    final = Path(path)
    if final.exists() and not final.is_dir():
        raise InputError(f"{final}: exists and is not a directory")
    if final.parent.is_dir():
        clean_stale_temps(final.parent)
    if not final.exists():
        return _Claim(final, exists=False)
    clean_stale_temps(final)
    manifest = _read_manifest(final)
    files, dirs, link = _tree(final)
    same = manifest is not None and manifest.get("command") == command
    own = set(manifest["files"]) if same else set()
    for d in sorted(_ancestors(own) & dirs):
        clean_stale_temps(final / d)
    if (files or dirs) and not same and not force:
        if manifest is not None:
            what = f"holds the output of `{manifest.get('command')}`"
        else:
            what = "is not empty and is not an output of this program"
        raise InputError(
            f"{final}: {what}; choose another directory for `{command}` or use --force "
            "(then only the files it writes are replaced)"
        )
    here = Path.cwd().resolve()
    resolved = final.resolve()
    only_ours = (
        not link
        and not final.is_symlink()
        and files <= own | {MANIFEST}
        and dirs <= _ancestors(own)
        and resolved != here
        and resolved not in here.parents
    )
    return _Claim(final, exists=True, own_files=own, only_ours=only_ours)


def _move(src: Path, dst: Path) -> None:
    try:
        os.replace(src, dst)
    except OSError as err:
        if err.errno != errno.EXDEV:
            raise
        with atomic_path(dst) as tmp:  # another file system: copy next to dst, then rename
            shutil.copy2(src, tmp)
        src.unlink()


def _remove_stale(final: Path, stale: Iterable[str]) -> None:
    """Remove files of an earlier run that were not written again, and their empty folders."""
    for rel in sorted(stale):
        path = final / rel
        if path.is_symlink() or path.is_file():
            path.unlink(missing_ok=True)
        for parent in Path(rel).parents:
            if parent.as_posix() == ".":
                break
            with contextlib.suppress(OSError):  # not empty: keep it
                (final / parent).rmdir()


def _make_dirs(path: Path) -> list[Path]:
    """``mkdir -p path``; returns the folders created, outermost first."""
    missing = [p for p in (path, *path.parents) if not p.exists()][::-1]
    for up in (path, *path.parents):  # "File exists" would hide the cause
        if up.exists() and not up.is_dir():
            raise InputError(f"{up}: is a file, not a directory; cannot create {path} in it")
    path.mkdir(parents=True, exist_ok=True)
    return missing


def _remove_dirs(created: list[Path]) -> None:
    """Remove folders made by :func:`_make_dirs` again, if still empty."""
    for d in reversed(created):
        with contextlib.suppress(OSError):
            d.rmdir()


def _files_in(stage: Path) -> set[str]:
    files, _, _ = _tree(stage)
    return files - {MANIFEST}


@contextlib.contextmanager
def output_dir(
    path: str | os.PathLike[str], command: str, *, force: bool = False
) -> Iterator[Path]:
    """Assemble a command's output directory; move it into ``path`` only when complete.

    Parameters
    ----------
    path : path-like
        The output directory (``--out``).
    command : str
        The command writing it (e.g. ``'pygbs score'``), recorded in :data:`MANIFEST`.
    force : bool, default=False
        Write into a non-empty directory that is not an earlier output of ``command``;
        only the files written are replaced there.

    Yields
    ------
    Path
        An empty temporary directory to write the whole output into. If the block raises
        (an error or an interrupt), it is removed and ``path`` is left as it was.

    Raises
    ------
    InputError
        If ``path`` is a file, or a non-empty directory that is not an earlier output of
        ``command`` and ``force`` is not given.
    """
    claim = _claim(path, command, force)
    final = claim.path
    name = final.resolve().name or "out"
    stage = None
    created: list[Path] = []
    try:
        if claim.only_ours:
            created = _make_dirs(final.parent)
            parent = final.parent
            try:
                stage = Path(tempfile.mkdtemp(prefix=temp_prefix(name), suffix=".tmp", dir=parent))
            except PermissionError:
                if not claim.exists:
                    raise
                claim.only_ours = False  # read-only parent: move the files in one by one
        if stage is None:
            parent = final
            stage = Path(tempfile.mkdtemp(prefix=temp_prefix(name), suffix=".tmp", dir=parent))
    except OSError as err:
        _remove_dirs(created)
        raise named_error(err, final) from None
    done = False
    try:
        yield stage
        check_cancelled()  # the last moment to stop with nothing written
        new = _files_in(stage)
        if claim.only_ours:
            _write_manifest(stage, command, new, complete=True)
            os.chmod(stage, 0o777 & ~umask())  # mkdtemp creates 0700
            if not claim.exists:
                os.replace(stage, final)
                done = True
                return
            old = parent / f"{temp_prefix(name)}{stage.name.split('.')[-2]}.old.tmp"
            try:
                os.replace(final, old)
            except OSError:  # e.g. a mount point: move the files in one by one below
                pass
            else:
                try:
                    os.replace(stage, final)
                except BaseException:
                    os.replace(old, final)
                    raise
                shutil.rmtree(old, ignore_errors=True)
                done = True
                return
        for rel in sorted(new):
            if (final / rel).is_dir() and not (final / rel).is_symlink():
                raise InputError(f"{final / rel}: is a directory; cannot write a file there")
            for up in Path(rel).parents:  # never write through a link to another folder
                if up.as_posix() != "." and (final / up).is_symlink():
                    raise InputError(
                        f"{final / up}: is a symbolic link; files are not written through "
                        "links in an output directory (remove it or choose another --out)"
                    )
        for rel in sorted(new):
            (final / rel).parent.mkdir(parents=True, exist_ok=True)
            _move(stage / rel, final / rel)
        _remove_stale(final, claim.own_files - new)
        _write_manifest(final, command, new, complete=True)
        done = True
    except OSError as err:
        raise named_error(err, final, stage) from err
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if not done:
            _remove_dirs(created)


@dataclass
class Workspace:
    """An output directory written in place by a resumable run (see :func:`workspace`).

    Attributes
    ----------
    path : Path
        The directory.
    files : set of str
        Set by the run before the block ends: the files (relative paths) that make up its
        output; files of the earlier run of the same command that are not among them
        are removed, and the manifest lists these.
    """

    path: Path
    files: set[str] = field(default_factory=set)


@contextlib.contextmanager
def workspace(
    path: str | os.PathLike[str], command: str, *, force: bool = False
) -> Iterator[Workspace]:
    """Claim an output directory that a resumable run writes in place.

    The same ownership rules as :func:`output_dir` apply. Each file is written atomically
    by the run; checkpoints stay when the run is interrupted, so that it can be resumed.
    The manifest is written at once (``"complete": false``) and completed at the end. A
    directory created here that holds nothing but the manifest after a failure is removed.

    Parameters
    ----------
    path : path-like
        The output directory (``--out``).
    command : str
        The command writing it, e.g. ``'encoders zoo'``.
    force : bool, default=False
        Write into a non-empty directory that is not an earlier output of ``command``.

    Yields
    ------
    Workspace
    """
    claim = _claim(path, command, force)
    final = claim.path
    try:
        created = _make_dirs(final)
        _write_manifest(final, command, claim.own_files, complete=False)
    except OSError as err:
        raise named_error(err, final) from None
    ws = Workspace(final)
    try:
        yield ws
    except BaseException:
        if not claim.exists:
            files, _, _ = _tree(final)
            if files <= {MANIFEST}:
                shutil.rmtree(final, ignore_errors=True)
                _remove_dirs(created)
        raise
    new = {f for f in ws.files if _safe_relative(f)}
    _remove_stale(final, claim.own_files - new)
    _write_manifest(final, command, new, complete=True)


def files_below(directory: str | os.PathLike[str], root: str | os.PathLike[str]) -> set[str]:
    """Files below ``directory`` (temporaries skipped), relative to ``root``."""
    d, r = Path(directory), Path(root)
    if not d.is_dir():
        return set()
    files, _, _ = _tree(d)
    prefix = d.relative_to(r)
    return {(prefix / f).as_posix() for f in files}


def check_output_file(path: str | os.PathLike[str], marker: str, *, force: bool = False) -> Path:
    """Check that a single output file may be (re)written: absent, or ours, or ``force``.

    Parameters
    ----------
    path : path-like
        The output file (``--out``).
    marker : str
        Text that every file written by the command contains in its first 4 KiB.
    force : bool, default=False
        Replace any existing file.

    Returns
    -------
    Path

    Raises
    ------
    InputError
        If ``path`` is a directory, or an existing file without ``marker`` and not ``force``.
    """
    final = Path(path)
    if final.parent.is_dir():
        clean_stale_temps(final.parent)
    if final.is_dir():
        raise InputError(f"{final}: is a directory; give a file name")
    if final.exists() and not force:
        try:
            with open(final, "rb") as fh:
                head = fh.read(4096)
        except OSError:
            head = b""
        if marker.encode() not in head:
            raise InputError(
                f"{final}: exists and was not written by this program; choose another name "
                "or use --force"
            )
    if not final.parent.is_dir():
        return final  # created when the file is written
    try:  # fail now, not after the work, where nothing can be written
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(final.name), suffix=".tmp", dir=final.parent)
    except OSError as err:
        raise named_error(err, final) from None
    os.close(fd)
    os.unlink(tmp)
    return final
