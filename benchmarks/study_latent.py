"""The four USC latent models (Qasemi, Vu, Pham and Shbita) at their default epochs, as `genre-nbs reproduce --preset
full` runs them (`genre_nbs.families.FAMILIES[name].run` with `KNOBS['latent']['full']`: 5 epochs, 3 for the WaveNet,
8 random windows per track, the paper's code sizes), on the synthetic default set. Per model: the saved model's
reconstruction error on its training and validation windows, the head on mean clip codes chosen on the validation
tracks and its accuracy on the test tracks, and the WaveNet's next-sample cross-entropy."""
import json, tempfile
from pathlib import Path
import numpy as np

TITLE = 'USC latent models at their default epochs: how much genre their codes carry'

def _run(tracks, knobs:dict, seed:int=0)->tuple: # (rows, saved config per model, split counts)
    "Every latent model's report row on one dataset, split by track as the report splits it (`evaluation.SPLIT_FRACTIONS`)."
    from genre_nbs.data import genre_labels, split_tracks, repo_root
    from genre_nbs.evaluation import SPLIT_FRACTIONS
    from genre_nbs.families import FAMILIES, RunContext
    from genre_nbs.seq2seq import LATENT_INPUTS, LATENT_MODELS
    split = split_tracks(tracks, seed=seed, **SPLIT_FRACTIONS)
    rows, cfg = [], {}
    with tempfile.TemporaryDirectory(prefix='study-latent-') as d:
        d = Path(d)
        ctx = RunContext(tracks, split, *genre_labels(tracks), seed, 'track', d/'out', d/'work', repo_root()/'data'/'cache',
                         knobs={'latent': knobs})
        for name in LATENT_MODELS:
            rows += FAMILIES[name].run(ctx, {})
            cfg[name] = json.loads((ctx.model_dir(name, LATENT_INPUTS[name]['kind'])/'config.json').read_text())
    return rows, cfg, split.value_counts().to_dict()

def _table(rows, cfg)->list:
    lines = ['| model | code | epochs | recon MSE train / valid | head (chosen on valid) | clip acc train / valid | test tracks [95% CI] |',
             '|---|---|---|---|---|---|---|']
    for r in rows:
        c = cfg[r['model']]
        lines.append(f"| {r['model']} | {c['code_dim']} | {c['epochs']} | {c['recon']['train']['mse']:.3f} / "
                     f"{c['recon']['valid']['mse']:.3f} | {c['head']} | {r['train_acc']:.2f} / {r['valid_acc']:.2f} | "
                     f"{r['track_acc']:.2f} [{r['track_lo']:.2f}, {r['track_hi']:.2f}] |")
    return lines

def _reading(rows, cfg, n_genres:int)->list:
    "Sentences computed from the numbers: which codes carry the most genre, which the least, the WaveNet's CE."
    acc = {r['model']: r for r in rows}
    order = sorted(acc, key=lambda m: acc[m]['track_acc'], reverse=True)
    top, low = acc[order[0]], acc[order[-1]]
    gap = ('outside the noise' if top['track_lo'] > low['track_hi'] else 'within the noise: their 95% intervals overlap')
    wn = cfg['wavenet']['recon']['valid']
    rec = {m: cfg[m]['recon']['valid']['mse'] for m in ('beta_vae', 'seq2seq_lstm', 'seq2seq_gru')}
    out = ["Test track accuracy per model: " + ', '.join(f"{m} {acc[m]['track_acc']:.2f} [{acc[m]['track_lo']:.2f}, "
           f"{acc[m]['track_hi']:.2f}]" for m in order) + f" (chance {1 / n_genres:.2f}). The gap between "
           f"{order[0]} and {order[-1]} is {gap}.",
           f"WaveNet next-sample cross-entropy on the validation windows: {wn['ce']:.2f} nats (a uniform guess over the 256 "
           f"mu-law classes: {np.log(256):.2f}); next-sample accuracy {wn['acc']:.3f}.",
           "Validation reconstruction MSE on the standardised scale (1.0 = the training mean): " +
           ', '.join(f"{m} {v:.3f}" for m, v in sorted(rec.items(), key=lambda kv: kv[1])) + '.']
    return [x for o in out for x in (o, '')]

def run(quick:bool)->str:
    from genre_nbs.synthetic import load_tracks
    from genre_nbs.families import KNOBS
    import genre_nbs.seq2seq  # noqa: F401 (importing it registers the latent families and their knobs)
    knobs = KNOBS['latent']['tiny' if quick else 'full']
    parts = [f"Knobs: `KNOBS['latent']['{'tiny' if quick else 'full'}']` = `{knobs}` (empty: the defaults of "
             f"`fit_latent_model`, `DEFAULT_EPOCHS` and the paper's code sizes). Seed 0; split by track with "
             f"`split_tracks(seed=0)` with the report's fractions. Each row is the model `train_latent_job` saves: the network, and a head on each "
             f"clip's mean code (random forest or logistic regression, chosen on the validation tracks, refit on train + "
             f"valid); test track accuracy with its 95% bootstrap interval. Reconstruction error: MSE on inputs "
             f"standardised with training statistics (the WaveNet's: the expected next sample vs the true one, over the "
             f"audio variance)."]
    tracks = load_tracks()[0]
    rows, cfg, counts = _run(tracks, knobs)
    parts += ['', "## Synthetic default set (10 genres x 10 tracks x 30 s)", '',
              f"Split train / valid / test: {counts.get('train', 0)} / {counts.get('valid', 0)} / {counts.get('test', 0)} "
              f"tracks.", '']
    parts += _table(rows, cfg) + [''] + _reading(rows, cfg, tracks['genre'].nunique())
    return '\n'.join(parts)
