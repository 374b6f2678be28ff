#!/usr/bin/env python
"""`make notebooks`: execute the notebooks top to bottom, in reading order, and save them with their outputs.

    .venv/bin/python tests/run_notebooks.py [NAME ...]     # default: every notebook of nbs/

Each notebook runs in a fresh kernel started in nbs/ with the environment the results depend on fixed
(PYTHONHASHSEED=0, one TensorFlow inter-op thread), progress bars off and TensorFlow's native start-up lines kept out
of the outputs (the kernel does not forward what native code writes to its stderr; Python-level warnings still show).
The saved notebook is cleaned like `nbdev_clean` does (no execution counts, no timing or widget metadata), so a rerun
that computes the same results leaves the file unchanged. One progress line per notebook; the first error stops the
run, names the notebook and the cell, and exits non-zero (that notebook is not saved, so no error output is committed).
"""
import os, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'

def notebooks(names=None)->list:
    "The notebooks to run, in reading order (the file names' order)."
    found = sorted(NBS.glob('*.ipynb'))
    if not names: return found
    want = [n.removesuffix('.ipynb') for n in names]
    missing = [n for n in want if not (NBS/f'{n}.ipynb').exists()]
    if missing: sys.exit(f"no such notebook in nbs/: {', '.join(missing)}")
    return [p for p in found if p.stem in want]

def clean(nb)->None:
    "nbdev_clean's rules, in place: drop execution counts and cell / notebook metadata other than the kernel's."
    from nbdev.clean import clean_nb
    clean_nb(nb, clear_all=False)
    nb.metadata = {'kernelspec': nb.metadata.get('kernelspec', {'display_name': 'python3', 'language': 'python', 'name': 'python3'})}

def run(path:Path, timeout:int)->float: # seconds
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ, PYTHONHASHSEED='0', TF_NUM_INTEROP_THREADS='1', TF_CPP_MIN_LOG_LEVEL='2', TQDM_DISABLE='1',
               MPLBACKEND='module://matplotlib_inline.backend_inline')
    client = NotebookClient(nb, timeout=timeout, kernel_name='python3', resources={'metadata': {'path': str(NBS)}},
                            record_timing=False, extra_arguments=['--IPKernelApp.capture_fd_output=False'])
    t0 = time.time()
    client.execute(env=env, cwd=str(NBS))
    clean(nb)
    nbformat.write(nb, path)
    return time.time() - t0

KERNEL_NOISE = (rb'|\[IPKernelApp\] WARNING \| Kernel is running over TCP'
                rb'|\[src/libmpg123/[\w.]+:\w+\(\):\d+\] warning: '  # mpg123 on the corrupt mp3s that 00_data feeds it on purpose
                rb'|Note: (Illegal Audio-MPEG-Header|Trying to resync|Hit end of \(available\) data)'
                rb'|.*resource_tracker: There appear to be \d+ leaked|  warnings\.warn\($')  # loky's pool at kernel shutdown

def quiet_kernels():
    """Kernels inherit our stderr, which no notebook captures: pass it through the command line's filter of TensorFlow's
    native start-up lines, plus the kernel-level lines of the demonstrations' deliberately broken files."""
    import re
    from genre_nbs.cli import NATIVE_NOISE, filter_native_stderr
    filter_native_stderr(re.compile(NATIVE_NOISE.pattern + KERNEL_NOISE))

def main(argv=None)->int:
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('names', nargs='*', help='notebooks to run (default: all of nbs/, in order)')
    ap.add_argument('--timeout', type=int, default=3600, help='seconds a cell may take (default 3600)')
    a = ap.parse_args(argv)
    todo, t_all = notebooks(a.names), time.time()
    quiet_kernels()
    for i, p in enumerate(todo, 1):
        print(f"[{i}/{len(todo)}] {p.stem} ...", end=' ', flush=True)
        try: secs = run(p, a.timeout)
        except Exception as e:  # nbclient's CellExecutionError names the cell and carries the traceback
            print('failed', flush=True)
            print(f"{p.name}: {str(e)[-4000:]}", file=sys.stderr)
            return 1
        print(f"{secs:.0f} s", flush=True)
    print(f"{len(todo)} notebooks executed in {(time.time() - t_all) / 60:.1f} min")
    return 0

if __name__ == '__main__': sys.exit(main())
