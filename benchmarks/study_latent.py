"""The four USC latent models (Qasemi, Vu, Pham and Shbita) at their default epochs, as `genre-nbs reproduce --preset
full` runs them (`genre_nbs.families.FAMILIES[name].run` with `KNOBS['latent']['full']`: 5 epochs, 3 for the WaveNet,
8 random windows per track, the paper's code sizes), on the synthetic default set. Per model: reconstruction error,
the random forest and the logistic regression on the window codes (window and voted track accuracy), and the
WaveNet's next-sample cross-entropy."""
import json, tempfile
from pathlib import Path
import numpy as np

TITLE = 'USC latent models at their default epochs: how much genre their codes carry'

def _run(tracks, knobs:dict, seed:int=0)->tuple: # (rows, metrics JSON per model, split counts)
    "Every latent family on one dataset, split by track with `split_tracks(seed)`, as the report runs them."
    from genre_nbs.data import genre_labels, split_tracks, repo_root
    from genre_nbs.families import FAMILIES, RunContext
    from genre_nbs.seq2seq import LATENT_MODELS
    from genre_nbs.training import reseed
    split = split_tracks(tracks, seed=seed)
    rows, metrics = [], {}
    with tempfile.TemporaryDirectory(prefix='study-latent-') as d:
        d = Path(d)
        ctx = RunContext(tracks, split, *genre_labels(tracks), seed, 'track', d/'out', d/'work', repo_root()/'data'/'cache')
        for name in LATENT_MODELS:
            reseed(seed)  # per family, as the report does
            rows += FAMILIES[name].run(ctx, knobs)
            metrics[name] = json.loads((d/'work'/name/f'{name}_metrics.json').read_text())
    return rows, metrics, split.value_counts().to_dict()

def _table(rows, metrics)->list:
    lines = ['| model | code | epochs | recon MSE train / test | classifier | window acc train / test | track acc [95% CI] |',
             '|---|---|---|---|---|---|---|']
    for r in rows:
        m = metrics[r['model']]
        clf = r['input'].removeprefix('codes -> ')
        lines.append(f"| {r['model']} | {r['code_dim']} | {r['epochs']} | {m['recon']['train']:.3f} / {m['recon']['test']:.3f} | "
                     f"{clf} | {r['train_acc']:.2f} / {r['test_acc']:.2f} | {r['track_acc']:.2f} [{r['track_lo']:.2f}, {r['track_hi']:.2f}] |")
    return lines

def _reading(rows, metrics, n_genres:int)->list:
    "Sentences computed from the numbers: which codes carry the most genre, which the least, the WaveNet's CE."
    best = {}
    for r in rows: best[r['model']] = max(best.get(r['model'], 0.), r['test_acc'])
    order = sorted(best, key=best.get, reverse=True)
    top, low = order[0], order[-1]
    wn = metrics['wavenet']['recon_detail']['test']
    out = ["Best classifier per model, test window accuracy: " +
           ', '.join(f"{m} {best[m]:.2f}" for m in order) + f" (chance {1 / n_genres:.2f}). "
           f"The {top} codes carry the most genre information, the {low} codes the least." + _overlap(rows, top, low),
           f"WaveNet next-sample cross-entropy on the test windows: {wn['ce']:.2f} nats (a uniform guess over the 256 "
           f"mu-law classes: {np.log(256):.2f}); next-sample accuracy {wn['acc']:.3f}."]
    rec = {m: metrics[m]['recon']['test'] for m in ('beta_vae', 'seq2seq_lstm', 'seq2seq_gru') if m in metrics}
    out.append("Test reconstruction MSE on the standardised scale (1.0 = the training mean): " +
               ', '.join(f"{m} {v:.3f}" for m, v in sorted(rec.items(), key=lambda kv: kv[1])) + '.')
    return [x for o in out for x in (o, '')]

def _overlap(rows, a:str, b:str)->str:
    "Whether the voted track accuracies' intervals of the best classifiers of models a and b overlap."
    best = lambda m: max((r for r in rows if r['model'] == m), key=lambda r: r['test_acc'])
    ra, rb = best(a), best(b)
    if ra['track_lo'] > rb['track_hi']:
        return (f" On the test tracks the gap is outside the noise: {a} {ra['track_acc']:.2f} [{ra['track_lo']:.2f}, "
                f"{ra['track_hi']:.2f}] against {b} {rb['track_acc']:.2f} [{rb['track_lo']:.2f}, {rb['track_hi']:.2f}].")
    return (f" On the test tracks their 95% intervals overlap ({a} {ra['track_acc']:.2f} [{ra['track_lo']:.2f}, "
            f"{ra['track_hi']:.2f}], {b} {rb['track_acc']:.2f} [{rb['track_lo']:.2f}, {rb['track_hi']:.2f}]).")

def run(quick:bool)->str:
    from genre_nbs.synthetic import load_tracks
    from genre_nbs.families import KNOBS
    import genre_nbs.seq2seq  # noqa: F401 (importing it registers the latent families and their knobs)
    knobs = KNOBS['latent']['tiny' if quick else 'full']
    parts = [f"Knobs: `KNOBS['latent']['{'tiny' if quick else 'full'}']` = `{knobs}` (empty: the defaults of "
             f"`run_latent_experiment`, `DEFAULT_EPOCHS` and the paper's code sizes). Seed 0; split by track with "
             f"`split_tracks(seed=0)`; window accuracy over the random windows of the test tracks, track accuracy by "
             f"soft vote over each test track's windows, 95% bootstrap interval. Reconstruction error: MSE on inputs "
             f"standardised with training statistics (the WaveNet's: the expected next sample vs the true one, over the "
             f"audio variance)."]
    tracks = load_tracks()[0]
    rows, metrics, counts = _run(tracks, knobs)
    parts += ['', "## Synthetic default set (10 genres x 10 tracks x 30 s)", '',
              f"Split train / valid / test: {counts.get('train', 0)} / {counts.get('valid', 0)} / {counts.get('test', 0)} "
              f"tracks; {metrics['beta_vae']['n_windows']['test']} test windows.", '']
    parts += _table(rows, metrics) + [''] + _reading(rows, metrics, tracks['genre'].nunique())
    return '\n'.join(parts)
