"""Peak memory of the command line on one long file against one 30 s clip, for every kind of predictor.

Each model is trained on a small generated set with the `tiny` preset (`genre-nbs train`), then `genre-nbs classify`
(or `embed`, `tag`) runs once on a 30 s clip and once on a `--minutes`-long file, each in its own process under
`/usr/bin/time -v`; the ratio of the two peak RSS values is the figure (target: at most 1.5 for a 60-minute file). The
baseline is the same command on the 30 s clip, so the interpreter, TensorFlow and the model count in both.

    .venv/bin/python benchmarks/bench_long_file.py [--minutes 60] [--models knn ffnn cnn random_cnn dsae beta_vae musicnn]
"""
import argparse, os, re, shutil, subprocess, sys, tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

BIN = Path(sys.executable).parent
MODELS = ('knn', 'ffnn', 'cnn', 'random_cnn', 'dsae', 'beta_vae', 'wavenet', 'musicnn')
GENRES = ['classical', 'jazz', 'metal', 'pop']


def long_clip(path, minutes, sr=22050, seed=0):
    "A long mono PCM-16 file, written block by block: a tone whose pitch wanders, with noise (no music needed)."
    rng = np.random.default_rng(seed)
    with sf.SoundFile(path, 'w', sr, 1, 'PCM_16') as f:
        for k in range(int(minutes * 60)):
            t = np.arange(sr) / sr
            f.write((0.3 * np.sin(2 * np.pi * (220 + 20 * (k % 13)) * t) + 0.05 * rng.standard_normal(sr)).astype(np.float32))
    return path


def peak_mb(cmd, env):
    "Run `cmd` under /usr/bin/time -v; (peak RSS in MB, exit code, stderr tail)."
    r = subprocess.run(['/usr/bin/time', '-v', *map(str, cmd)], capture_output=True, text=True, env=env)
    m = re.search(r'Maximum resident set size \(kbytes\): (\d+)', r.stderr)
    return (int(m.group(1)) / 1024 if m else float('nan')), r.returncode, r.stderr[-600:]


def run(minutes=60.0, models=MODELS, quick=False):
    from genre_nbs.synthetic import make_synthetic_gtzan
    if quick: minutes = min(minutes, 5.0)
    out = dict(minutes=minutes, rows=[])
    with tempfile.TemporaryDirectory(prefix='genre-nbs-long-') as d:
        d = Path(d)
        env = dict(os.environ, GENRE_NBS_DATA=str(d/'data'), TF_CPP_MIN_LOG_LEVEL='2', PYTHONWARNINGS='ignore')
        data = make_synthetic_gtzan(d/'set', n_per_genre=3, duration=30.0, genres=GENRES)
        short = sorted(data.rglob('*.wav'))[0]  # one 30 s clip of the set
        big = long_clip(d/'long.wav', minutes)
        out['long_file_mb'] = big.stat().st_size / 2**20
        for name in models:
            mdir = d/'models'/name
            r = subprocess.run([BIN/'genre-nbs', 'train', '--model', name, '--data', data, '--preset', 'tiny', '--quiet',
                                '--out', mdir], capture_output=True, text=True, env=env)
            if r.returncode:
                out['rows'].append(dict(model=name, error=f'train failed: {r.stderr[-400:]}')); continue
            row = dict(model=name, command='classify')
            for key, clip in (('short_mb', short), ('long_mb', big)):
                mb, rc, tail = peak_mb([BIN/'genre-nbs', 'classify', '--model', mdir, clip, '--quiet'], env)
                row[key] = mb
                if rc: row['error'] = f'classify exit {rc}: {tail}'
            out['rows'].append(row)
        row = dict(model='musicnn MSD tagger', command='tag')
        for key, clip in (('short_mb', short), ('long_mb', big)):
            mb, rc, tail = peak_mb([BIN/'genre-nbs', 'tag', clip, '--quiet'], env)
            row[key] = mb
            if rc: row['error'] = f'tag exit {rc}: {tail}'
        out['rows'].append(row)
    for r in out['rows']:
        if 'short_mb' in r and 'long_mb' in r: r['ratio'] = r['long_mb'] / r['short_mb']
    return out


def table(res)->str:
    L = [f"| model | command | peak RSS, 30 s clip (MB) | peak RSS, {res['minutes']:g}-min file (MB) | ratio |", '|---|---|---:|---:|---:|']
    for r in res['rows']:
        if 'ratio' in r and 'error' not in r:
            L.append(f"| {r['model']} | {r['command']} | {r['short_mb']:.0f} | {r['long_mb']:.0f} | {r['ratio']:.2f} |")
        else: L.append(f"| {r['model']} | {r.get('command', '')} | failed: {r.get('error', '?')[:120]} | | |")
    return '\n'.join(L)


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--minutes', type=float, default=60.0)
    ap.add_argument('--models', nargs='+', default=list(MODELS), choices=MODELS)
    a = ap.parse_args()
    res = run(a.minutes, a.models)
    print(f"long file: {res['long_file_mb']:.0f} MB of 16-bit PCM at 22050 Hz")
    print(table(res))
