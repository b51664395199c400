"""``python -m tests.goldens freeze|check [CASE ...]``: freeze or check golden outputs."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from tests.goldens.cases import (
    CASES,
    COPY_LIMIT,
    FROZEN,
    api_snapshot,
    load_hashes,
    output_files,
    run_case,
    sha256,
)


def main(argv: list[str] | None = None) -> int:
    """Freeze (store hashes and small copies) or check (compare bytes) the golden cases."""
    ap = argparse.ArgumentParser(prog="python -m tests.goldens", description=__doc__)
    ap.add_argument("action", choices=["freeze", "check"])
    ap.add_argument("cases", nargs="*", help="case names (default: all available)")
    args = ap.parse_args(argv)
    chosen = [c for c in CASES if (not args.cases or c.name in args.cases) and c.available()]
    hashes = load_hashes()
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in chosen:
            out = Path(tmp) / case.name
            res = run_case(case, out)
            if res.returncode != 0:
                print(f"{case.name}: exit {res.returncode}\n{res.stderr}")
                failed += 1
                continue
            files = output_files(out, case.include)
            got = {rel: sha256(p, out) for rel, p in files.items()}
            if args.action == "freeze":
                hashes[case.name] = got
                dest = FROZEN / case.name
                shutil.rmtree(dest, ignore_errors=True)
                for rel, p in files.items():
                    if p.stat().st_size <= COPY_LIMIT and not case.shared:
                        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(p, dest / rel)
                print(f"{case.name}: froze {len(got)} files")
            else:
                want = hashes.get(case.name, {})
                bad = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
                failed += bool(bad)
                print(
                    f"{case.name}: {len(got) - len(bad)}/{len(set(want) | set(got))} identical"
                    + "".join(f"\n  differs: {b}" for b in bad)
                )
    if args.action == "freeze":
        FROZEN.mkdir(parents=True, exist_ok=True)
        (FROZEN / "hashes.json").write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n")
        (FROZEN / "api.json").write_text(json.dumps(api_snapshot(), indent=1) + "\n")
    else:
        want_api = json.loads((FROZEN / "api.json").read_text())
        if api_snapshot() != want_api:
            print("public API differs from api.json")
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
