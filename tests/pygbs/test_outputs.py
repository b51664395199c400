"""The output-directory contract of docs/cli.md ("Output directories and exit codes").

The command line's policy (:mod:`pygbs.cli.outputs`): a manifest names the command and its
files; a non-empty directory that is not the same command's output is refused unless ``force``;
a re-run replaces our files and removes stale ones; user files are never read, copied or
touched; a failure leaves everything as it was; temporaries of dead processes are removed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pygbs.cli.outputs import (
    MANIFEST,
    check_output_file,
    clean_stale_temps,
    output_dir,
    workspace,
)
from pygbs.errors import InputError


def _write(stage: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (stage / rel).parent.mkdir(parents=True, exist_ok=True)
        (stage / rel).write_text(text)


def _listing(d: Path) -> set[str]:
    return {p.relative_to(d).as_posix() for p in d.rglob("*")}


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_new_directory_gets_files_and_manifest(tmp_path):
    out = tmp_path / "out"
    with output_dir(out, "pygbs score") as stage:
        assert stage.parent == tmp_path and not out.exists()  # assembled aside
        _write(stage, {"a.csv": "1", "sub/b.json": "2"})
    assert _listing(out) == {MANIFEST, "a.csv", "sub", "sub/b.json"}
    doc = json.loads((out / MANIFEST).read_text())
    assert doc["command"] == "pygbs score" and doc["files"] == ["a.csv", "sub/b.json"]
    assert doc["complete"] is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporaries left


def test_rerun_replaces_own_files_and_removes_stale_ones(tmp_path):
    out = tmp_path / "out"
    with output_dir(out, "pygbs map") as stage:
        _write(stage, {"density.png": "old", "hotspots_gi.png": "old", "maps/x.png": "old"})
    with output_dir(out, "pygbs map") as stage:
        _write(stage, {"density.png": "new"})
    assert _listing(out) == {MANIFEST, "density.png"}  # stale maps and their folder gone
    assert (out / "density.png").read_text() == "new"


def test_failure_leaves_the_directory_as_it_was(tmp_path):
    out = tmp_path / "out"
    with output_dir(out, "pygbs score") as stage:
        _write(stage, {"a.csv": "1"})
    with pytest.raises(RuntimeError), output_dir(out, "pygbs score") as stage:
        _write(stage, {"a.csv": "2", "b.csv": "2"})
        raise RuntimeError("half way")
    assert _listing(out) == {MANIFEST, "a.csv"} and (out / "a.csv").read_text() == "1"
    deep = tmp_path / "new" / "deep"  # folders made for it go too
    with pytest.raises(KeyboardInterrupt), output_dir(deep, "pygbs score") as stage:
        _write(stage, {"a.csv": "1"})
        raise KeyboardInterrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_foreign_directory_is_refused_without_force(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("user data")
    with pytest.raises(InputError, match=r"mine: is not empty .*--force"):
        with output_dir(out, "pygbs score"):
            pass
    with output_dir(tmp_path / "s", "pygbs score") as stage:
        _write(stage, {"a.csv": "1"})
    with pytest.raises(InputError, match="holds the output of `pygbs score`"):
        with output_dir(tmp_path / "s", "pygbs compare"):
            pass
    with pytest.raises(InputError, match="not a directory"):
        with output_dir(out / "notes.txt", "pygbs score"):
            pass
    assert _listing(out) == {"notes.txt"}


def test_force_moves_only_our_files_in_and_never_follows_links(tmp_path):
    big = tmp_path / "big"
    big.mkdir()
    (big / "data.bin").write_bytes(b"x" * 1000)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("user data")
    (out / "link").symlink_to(big, target_is_directory=True)
    (out / "userdir").mkdir()
    with output_dir(out, "pygbs score", force=True) as stage:
        _write(stage, {"summary.json": "{}", "centres.csv": "1"})
    assert (out / "link").is_symlink() and os.readlink(out / "link") == str(big)
    assert _listing(big) == {"data.bin"}
    assert (out / "notes.txt").read_text() == "user data"
    assert _listing(out) == {MANIFEST, "notes.txt", "link", "userdir", "summary.json",
                             "centres.csv"}  # fmt: skip
    # a later run of the same command needs no --force, replaces and prunes only its files
    with output_dir(out, "pygbs score") as stage:
        _write(stage, {"summary.json": "{2}"})
    assert _listing(out) == {MANIFEST, "notes.txt", "link", "userdir", "summary.json"}
    assert (out / "summary.json").read_text() == "{2}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big", "out"]


def test_out_dot_with_force_keeps_the_current_directory(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / "mine.txt").write_text("keep")
    monkeypatch.chdir(work)
    with pytest.raises(InputError, match="--force"), output_dir(".", "pygbs score"):
        pass
    with output_dir(".", "pygbs score", force=True) as stage:
        assert stage.resolve().parent == work  # staged inside, moved in file by file
        _write(stage, {"summary.json": "{}"})
    assert _listing(work) == {MANIFEST, "mine.txt", "summary.json"}
    with output_dir(".", "pygbs score") as stage:  # our own output now: no --force needed
        _write(stage, {"summary.json": "{2}"})
    assert (work / "summary.json").read_text() == "{2}" and Path.cwd() == work
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / f".out.{dead}.abc123.tmp").mkdir()  # a staged directory of a killed run
    (tmp_path / f".out.{dead}.abc123.tmp" / "centres.csv").write_text("1")
    (tmp_path / f".out.{dead}.xyz.old.tmp").mkdir()
    (out / f".centres.csv.{dead}.q1w2e3.tmp").write_text("partial")
    (tmp_path / f".out.{alive}.zzz.tmp").mkdir()  # a run still going on: kept
    (tmp_path / ".out.notapid.tmp").mkdir()  # not ours: kept
    with output_dir(out, "pygbs score") as stage:
        _write(stage, {"a.csv": "1"})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["out", f".out.{alive}.zzz.tmp", ".out.notapid.tmp"]
    )
    assert _listing(out) == {MANIFEST, "a.csv"}
    assert clean_stale_temps(tmp_path) == []


def test_manifest_paths_outside_the_directory_are_ignored(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    doc = {"generator": "geobias", "command": "pygbs score", "complete": True,
           "files": ["../victim.txt", str(victim), "a.csv"]}  # fmt: skip
    (out / MANIFEST).write_text(json.dumps(doc))
    (out / "a.csv").write_text("1")
    with output_dir(out, "pygbs score") as stage:
        _write(stage, {"b.csv": "1"})
    assert victim.read_text() == "keep"
    assert _listing(out) == {MANIFEST, "b.csv"}


def test_workspace_keeps_checkpoints_and_cleans_up_empty_runs(tmp_path):
    out = tmp_path / "runs" / "run"
    with pytest.raises(KeyboardInterrupt), workspace(out, "encoders train"):
        raise KeyboardInterrupt  # before any checkpoint: nothing left behind
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(KeyboardInterrupt), workspace(out, "encoders train") as ws:
        (ws.path / "checkpoint.pt").write_text("epoch 1")
        raise KeyboardInterrupt
    assert json.loads((out / MANIFEST).read_text())["complete"] is False
    with workspace(out, "encoders train") as ws:  # resumable: same command, no --force
        assert (ws.path / "checkpoint.pt").read_text() == "epoch 1"
        for name in ("a", "b"):
            (ws.path / name).write_text(name)
        ws.files = {"a", "b", "checkpoint.pt"}
    with workspace(out, "encoders train") as ws:
        ws.files = {"a"}
    assert _listing(out) == {MANIFEST, "a"}
    with pytest.raises(InputError, match="encoders train"), workspace(out, "encoders zoo"):
        pass


def test_single_output_file(tmp_path):
    mine = tmp_path / "mine.html"
    mine.write_text("<html>my notes</html>")
    with pytest.raises(InputError, match="mine.html: exists and was not written"):
        check_output_file(mine, "pygbs report")
    assert check_output_file(mine, "pygbs report", force=True) == mine
    ours = tmp_path / "r.html"
    ours.write_text('<meta name="generator" content="pygbs report">')
    assert check_output_file(ours, "pygbs report") == ours
    with pytest.raises(InputError, match="is a directory"):
        check_output_file(tmp_path, "pygbs report")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.html", "r.html"]


def test_directory_that_cannot_be_renamed_gets_the_files_moved_in(tmp_path, monkeypatch):
    # a mount point cannot be renamed: the files are moved in one by one instead
    import errno

    import pygbs.cli.outputs as atomic

    out = tmp_path / "mnt"
    with output_dir(out, "pygbs score") as stage:
        _write(stage, {"a.csv": "1", "b.csv": "1"})
    real = os.replace

    def replace(src, dst):
        if Path(src) == out:
            raise OSError(errno.EBUSY, "Device or resource busy", str(src))
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    with output_dir(out, "pygbs score") as stage:
        _write(stage, {"a.csv": "2"})
    assert _listing(out) == {MANIFEST, "a.csv"} and (out / "a.csv").read_text() == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnt"]
