"""Baselines: sklearn-compatibility of the Keras wrapper, honest selection, and a fast real-data run on the GTZAN
feature table (skipped when ../shared/data is absent)."""
import numpy as np, pandas as pd, pytest
from sklearn.model_selection import StratifiedKFold, cross_val_score
from genre_nbs.data import shared_data_dir
from genre_nbs.baselines import (KerasClassifier, two_layer_classifier, huang_svm, huang_knn, latent_rf,
                                 latent_logreg, select_and_fit, final_test, evaluate_on_codes, kaggle_table_benchmark)

CSV = shared_data_dir()/'gtzan-features'/'features_30_sec.csv'
SPLITS = shared_data_dir()/'gtzan-splits'/'kereliuk-filtered'
needs_shared = pytest.mark.skipif(not (CSV.is_file() and (SPLITS/'test_filtered.txt').is_file()),
                                  reason=f"shared GTZAN feature table / Kereliuk split not found under {shared_data_dir()} "
                                         "(set GENRE_NBS_SHARED)")

def blobs(n_per=30, n_classes=3, d=10, sep=2.0, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_classes), n_per)
    return (rng.normal(0, sep, (n_classes, d))[y] + rng.normal(0, 1, (len(y), d))).astype('float32'), y

def test_keras_classifier_cross_validates_deterministically():
    "clone + fit inside sklearn's CV machinery, twice: same seed, same scores."
    X, y = blobs()
    est = two_layer_classifier(hidden=8, epochs=5, batch_size=8, lr=1e-2)
    s1, s2 = (cross_val_score(est, X, y, cv=StratifiedKFold(2)) for _ in range(2))
    np.testing.assert_array_equal(s1, s2)
    assert (s1 > 0.8).all(), s1

def test_selection_uses_validation_only_and_test_is_scored_once():
    "The chosen setting is the one that scores best on the validation rows when fit on the training rows alone."
    X, y = blobs(n_per=40, d=20, sep=0.4, seed=1)  # hard enough that C matters: valid accuracy 0.47 / 0.63 / 0.60
    side = np.array(['train', 'train', 'valid', 'test'])[np.arange(len(y)) % 4]
    tr, va, te = (side == s for s in ('train', 'valid', 'test'))
    grid = {'svc__C': [0.3, 3, 100]}
    best, table = select_and_fit(huang_svm(), grid, X[tr], y[tr], X[va], y[va])
    by_hand = {C: huang_svm().set_params(svc__C=C).fit(X[tr], y[tr]).score(X[va], y[va]) for C in grid['svc__C']}
    np.testing.assert_allclose(table.set_index('svc__C').valid_acc.sort_index().to_numpy(),
                               [by_hand[C] for C in sorted(by_hand)])
    assert best.selected_params_['svc__C'] == max(by_hand, key=by_hand.get) and len(set(by_hand.values())) > 1
    res = final_test(best, X[te], y[te])
    assert res.lo <= res.acc <= res.hi and res.n == te.sum()
    with pytest.raises(ValueError, match="already scored"): final_test(best, X[te], y[te])

def test_codes_and_knn_reject_bad_shapes():
    X, y = blobs(d=16)
    with pytest.raises(ValueError, match="2-D"): evaluate_on_codes(X[:, None], y, X, y)
    W = X.reshape(-1, 4, 4)  # 3-D windows are flattened; scored on held-out rows, not on the ones it memorised
    assert huang_knn().fit(W[::2], y[::2]).score(W[1::2], y[1::2]) > 0.8
    with pytest.raises(ValueError, match="not fitted"): KerasClassifier().predict(X)

@needs_shared
def test_real_gtzan_table_fast_subset():
    "Fixed-parameter logreg and random forest, both protocols; the artist-filtered split is much harder."
    models = {'logreg': (latent_logreg(C=0.1), {}), 'random_forest': (latent_rf(n_estimators=100, n_jobs=2), {})}
    res = kaggle_table_benchmark(CSV, SPLITS, models=models, n_boot=300, n_jobs=1)
    assert res.attrs['n_cv'] == 1000 and (res.attrs['n_train'], res.attrs['n_valid'], res.attrs['n_test']) == (443, 197, 290)
    assert (res.cv_acc > 0.6).all() and (res.cv_acc < 0.9).all(), res
    assert (res.test_acc > 0.4).all() and (res.test_acc < 0.75).all(), res
    assert (res.cv_acc - res.test_acc > 0.05).all(), "random folds should beat the artist-filtered split"
    assert (res.test_lo < res.test_acc).all() and (res.test_hi > res.test_acc).all()
