#!/usr/bin/env python
"""Train and score the USC latent models (genre_nbs.seq2seq) on one dataset and print a markdown results table.

Usage (from the repo root; CPU, run with `nice`):
    nice .venv/bin/python benchmarks/bench_seq2seq.py --data synthetic --out data/runs/seq2seq
    nice .venv/bin/python benchmarks/bench_seq2seq.py --data ../shared/data/gtzan-sample --models beta_vae wavenet
Each model: wall time, reconstruction MSE (standardised scale) per side, RF / logreg train and test accuracy on codes."""
import argparse, json, os, sys, time
from pathlib import Path
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', default='synthetic', help="'synthetic' (generated default set) or a GTZAN-layout folder")
    ap.add_argument('--models', nargs='+', default=['seq2seq_gru', 'seq2seq_lstm', 'beta_vae', 'wavenet'])
    ap.add_argument('--epochs', type=int, default=None, help='override every model\'s default epochs')
    ap.add_argument('--n-per-track', type=int, default=8)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out', default='data/runs/seq2seq')
    ap.add_argument('--fig-dir', default=None)
    a = ap.parse_args(argv)
    from genre_nbs.data import scan_gtzan, split_tracks
    from genre_nbs.evaluation import SPLIT_FRACTIONS
    from genre_nbs.synthetic import make_synthetic_gtzan
    from genre_nbs.seq2seq import run_latent_experiment
    root = make_synthetic_gtzan() if a.data == 'synthetic' else Path(a.data)
    tracks = scan_gtzan(root)
    split = split_tracks(tracks, seed=a.seed, **SPLIT_FRACTIONS)  # as the report splits
    rows = []
    for m in a.models:
        r = run_latent_experiment(m, tracks, split, a.out, epochs=a.epochs, seed=a.seed, n_per_track=a.n_per_track,
                                  fig_dir=a.fig_dir)
        rows.append(r)
        print(json.dumps({k: r[k] for k in ('model', 'epochs', 'wall_s', 'train_s', 'recon', 'rf_train', 'rf_test',
                                           'logreg_train', 'logreg_test')}), flush=True)
    print(f"\ndata: {root} ({len(tracks)} tracks, split train/valid/test = "
          f"{(split=='train').sum()}/{(split=='valid').sum()}/{(split=='test').sum()} tracks, seed {a.seed})\n")
    print('| model | code | epochs | train s | total s | recon MSE train / test | RF train / test | logreg train / test |')
    print('|---|---|---|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['model']} | {r['code_dim']} | {r['epochs']} | {r['train_s']:.0f} | {r['wall_s']:.0f} | "
              f"{r['recon']['train']:.3f} / {r['recon']['test']:.3f} | {r['rf_train']:.2f} / {r['rf_test']:.2f} | "
              f"{r['logreg_train']:.2f} / {r['logreg_test']:.2f} |")

if __name__ == '__main__': sys.exit(main())
