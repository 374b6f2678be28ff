"""Trained CNNs on the 50 real GTZAN clips of the shared data folder (5 per genre), 5-fold cross-validation by track
(`genre_nbs.cnn.compare_on_sample`): the default small-data recipe (`arch='tiny'`, batch 16, 12 random windows per
clip per epoch, SpecAugment) against the same recipe without SpecAugment. The random forest on the Kaggle features of
the same clips, on the same test folds, is the reference. Huang, Serafini and Pugh's exact net (`arch='huang'`) is not
cross-validated here: it is several times slower per window than the tiny net, too slow for 2 cores."""
import math

TITLE = "Trained CNNs on 50 real GTZAN clips: the small-data recipe with and without SpecAugment"

TINY = dict(arch='tiny', epochs=30, patience=8, n_random=12, batch_size=16)  # run_cnn_experiment's defaults

def configs(quick:bool)->dict:
    from genre_nbs.cnn import SPEC_AUG
    cfg = {'tiny + SpecAugment (the default recipe)': dict(TINY, spec_aug=SPEC_AUG),
           'tiny, no SpecAugment': dict(TINY, spec_aug=None)}
    return {k: dict(v, epochs=2) for k, v in cfg.items()} if quick else cfg

def _describe(kw:dict, n_train:int)->str:
    steps = math.ceil(n_train * kw['n_random'] / kw['batch_size'])
    return (f"`{kw['arch']}`, batch {kw['batch_size']}, "
            f"{kw['n_random']} windows per clip per epoch ({steps} Adam step{'s' if steps > 1 else ''} per epoch), "
            f"SpecAugment {'on' if kw.get('spec_aug') else 'off'}, up to {kw['epochs']} epochs, patience {kw['patience']}")

def run(quick:bool)->str:
    from genre_nbs.data import shared_data_dir
    from genre_nbs.cnn import compare_on_sample, build_cnn, LOGMEL_INPUT
    sample, csv = shared_data_dir()/'gtzan-sample', shared_data_dir()/'gtzan-features'/'features_30_sec.csv'
    if not sample.is_dir() or not csv.is_file(): return 'The GTZAN sample or the Kaggle feature table is not in the shared data folder: nothing measured.'
    cfg = configs(quick)
    summary, folds = compare_on_sample(cfg, sample, csv, n_folds=5, seed=0)
    n_train = 30  # 3 clips per genre in each fold's training set
    lines = ["50 real GTZAN clips, 10 genres x 5. Folds of `track_folds(y, 5, seed=0)`: in each fold one clip per genre is "
             "the test set, one the validation set (early stopping on the validation loss, checkpoint of the best epoch), "
             "three the training set; the CNNs' seeds are 0-4 (one per fold). Track accuracy: the mean of the window "
             "probabilities over the whole clip (14 non-overlapping 2 s windows, all clips cut to the shortest, 2584 frames). "
             "The random forest (200 trees) on the Kaggle handcrafted features trains on train + valid (40 clips). "
             "With 10 test clips per fold, one clip is 10 points; chance is 0.10.", '',
             '| model | settings | parameters | track acc, mean +- std over 5 folds | per fold | window acc | best epoch / epochs run, per fold |',
             '|---|---|---|---|---|---|---|']
    for name, r in summary.iterrows():
        if name == 'rf_kaggle':
            lines.append(f"| random forest, Kaggle features | 200 trees | - | {r.track_acc_mean:.2f} +- {r.track_acc_std:.2f} | "
                         f"{r.per_fold} | - | - |")
            continue
        kw = cfg[name]; f = folds[folds.model == name]
        n_par = build_cnn(kw['arch'], 10, LOGMEL_INPUT).count_params()
        ep = ' '.join(f"{int(b) + 1}/{int(e)}" for b, e in zip(f.best_epoch, f.epochs_run))
        lines.append(f"| {name} | {_describe(kw, n_train)} | {n_par:,} | {r.track_acc_mean:.2f} +- {r.track_acc_std:.2f} | "
                     f"{r.per_fold} | {r.window_acc_mean:.3f} | {ep} |")
    # reading: each configuration against the default, fold by fold
    names = list(cfg)
    base = folds[folds.model == names[0]].set_index('fold')
    lines += ['']
    rf = summary.loc['rf_kaggle']
    b = summary.loc[names[0]]
    lines += [f"The default recipe reaches {b.track_acc_mean:.2f} +- {b.track_acc_std:.2f} track accuracy against "
                 f"{rf.track_acc_mean:.2f} +- {rf.track_acc_std:.2f} for the random forest on handcrafted features "
                 f"({'below' if b.track_acc_mean < rf.track_acc_mean else 'not below'} it by "
                 f"{abs(rf.track_acc_mean - b.track_acc_mean) * 100:.0f} points). Each other configuration against it:", '']
    for name in names[1:]:
        o = folds[folds.model == name].set_index('fold')
        d = base.track_acc - o.track_acc
        s = summary.loc[name]
        lines.append(f"- {name}: {s.track_acc_mean:.2f} +- {s.track_acc_std:.2f} (default minus this: "
                     f"{(b.track_acc_mean - s.track_acc_mean) * 100:+.0f} points of track accuracy, "
                     f"{(b.window_acc_mean - s.window_acc_mean) * 100:+.1f} of window accuracy; the default is better in "
                     f"{int((d > 1e-9).sum())} folds, worse in {int((d < -1e-9).sum())}, level in {int((d.abs() <= 1e-9).sum())}).")
    return '\n'.join(lines)
