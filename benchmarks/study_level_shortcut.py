"""Can a synthetic track's genre be read off its level? For every track of the synthetic default set (the `quick`
preset's data knobs, generated on first use): RMS level, peak, crest factor (peak over RMS) and mean (DC offset),
and the 5-fold cross-validated accuracy of a random forest that sees only those numbers, against chance (10%).
The generator sets every track's loudness from one range and high-passes it at 20 Hz (`synthetic.synthesize_track`),
so loudness and offset should tell nothing; the crest factor is left to the music (a limited metal mix has a lower
one than a classical recording, as on records)."""
import numpy as np
import pandas as pd
import soundfile as sf
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score
from genre_nbs.evaluation import DATA_KNOBS
from genre_nbs.synthetic import load_tracks, make_synthetic_gtzan, scan_gtzan

TITLE = 'Level shortcuts in the synthetic default set: genre from loudness, peak, crest factor or offset'

FEATURES = {'RMS level (dBFS)': 'rms_db', 'peak': 'peak', 'crest factor (dB)': 'crest_db', 'mean (DC offset)': 'mean'}

def level_table(tracks:pd.DataFrame)->pd.DataFrame:
    "One row per track: its level numbers and genre."
    rows = []
    for path, genre in zip(tracks['path'], tracks['genre']):
        y = sf.read(path, dtype='float64')[0]
        rms, peak = np.sqrt(np.mean(y ** 2)), np.abs(y).max()
        rows.append(dict(genre=genre, rms_db=20 * np.log10(rms), peak=peak, crest_db=20 * np.log10(peak / rms), mean=y.mean()))
    return pd.DataFrame(rows)

def run(quick:bool)->str:
    knobs = dict(DATA_KNOBS['quick'])
    if quick:  # a check that it runs: 10 short tracks per genre in a temporary folder
        import tempfile
        with tempfile.TemporaryDirectory() as d: t = level_table(scan_gtzan(make_synthetic_gtzan(d, n_per_genre=10, duration=5.0)))
    else: t = level_table(load_tracks(None, None, **knobs)[0])
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    acc = {name: cross_val_score(RandomForestClassifier(300, random_state=0), t[[c]], t['genre'], cv=cv)
           for name, c in FEATURES.items()}
    acc['all four'] = cross_val_score(RandomForestClassifier(300, random_state=0), t[list(FEATURES.values())], t['genre'], cv=cv)
    n_g = t['genre'].nunique()
    lines = [f"{len(t)} tracks, {n_g} genres" + ('' if quick else f" (the default set: {knobs['n_per_genre']} tracks per genre, "
             f"{knobs['duration']:.0f} s)") + f". Random forest (300 trees) on the named numbers only, 5-fold stratified CV, "
             f"mean +- std of the folds' accuracy; chance is {100 / n_g:.0f}%.", '',
             '| what the forest sees | accuracy (%) |', '|---|---|']
    lines += [f"| {name} | {100 * a.mean():.1f} +- {100 * a.std():.1f} |" for name, a in acc.items()]
    g = t.groupby('genre')[list(FEATURES.values())].mean()
    g = g.assign(mean=1e3 * g['mean']).rename(columns={'rms_db': 'RMS (dBFS)', 'peak': 'peak', 'crest_db': 'crest (dB)', 'mean': 'mean (x 1e-3)'})
    lines += ['', 'Per-genre means:', '', '| genre | ' + ' | '.join(g.columns) + ' |', '|---' * (len(g.columns) + 1) + '|']
    lines += [f"| {genre} | " + ' | '.join(f'{v:.2f}' for v in r) + ' |' for genre, r in g.iterrows()]
    return '\n'.join(lines)
