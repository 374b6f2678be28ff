"""Longer measurements the notebooks cite: each study is `benchmarks/study_<name>.py` with a `TITLE` and a
`run(quick:bool)->str` that computes its numbers and returns them as markdown (tables and the sentences that read
them). This script runs one study in this process and writes `benchmarks/studies/<name>.md`, headed by the command,
the date, the machine's core count and its load average, so that every number a notebook quotes from a study can be
traced to the file and recomputed with the command.

Usage (repository root): nice .venv/bin/python benchmarks/studies.py NAME [--quick]      # list: --list
"""
import argparse, importlib, os, platform, sys, time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

def names()->list: return sorted(p.stem.removeprefix('study_') for p in HERE.glob('study_*.py'))

def main(argv=None)->int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('name', nargs='?', help='the study to run')
    ap.add_argument('--quick', action='store_true', help='a small version, to check that it runs (written to <name>.quick.md)')
    ap.add_argument('--list', action='store_true', help='print the studies and exit')
    a = ap.parse_args(argv)
    if a.list or not a.name:
        for n in names(): print(f"{n}: {importlib.import_module(f'study_{n}').TITLE}")
        return 0
    if a.name not in names(): ap.error(f"unknown study {a.name!r}; choose from {', '.join(names())}")
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    mod = importlib.import_module(f'study_{a.name}')
    load0, t0 = os.getloadavg(), time.time()
    body = mod.run(quick=a.quick)
    cmd = f"nice .venv/bin/python benchmarks/studies.py {a.name}" + (' --quick' if a.quick else '')
    head = (f"# {mod.TITLE}\n\n`{cmd}` — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
            f"os.cpu_count() = {os.cpu_count()}, {(time.time() - t0) / 60:.0f} min; load average at start "
            f"{load0[0]:.1f}, at end {os.getloadavg()[0]:.1f}.\n\n")
    out = HERE/'studies'/f"{a.name}{'.quick' if a.quick else ''}.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(head + body.strip() + '\n')
    print(f"wrote {out.relative_to(HERE.parent)}")
    return 0

if __name__ == '__main__': sys.exit(main())
