"""BetaVAE score (Higgins et al. 2017, "beta-VAE: Learning Basic Visual Concepts with a
Constrained Variational Framework", ICLR).

Each point: choose a factor k at random, draw two batches of ``batch_size`` factor
vectors that agree pairwise on factor k, encode both and take the mean absolute
difference of the codes over the batch; a linear classifier predicts k from that feature
vector. The score is its accuracy on the training points and on fresh evaluation points.

As disentanglement_lib's ``beta_vae.py`` (``compute_beta_vae_sklearn``; Locatello et al.
2019) with its study defaults: batch 64, 10,000 train and 5,000 eval points, sklearn's
``LogisticRegression()`` with default settings (lbfgs; the reference passes its
RandomState, which lbfgs does not use). We draw the factor batches of many points at
once and render/encode them in chunks, so for the same seed the draws differ from the
reference's one-point-at-a-time loop.

Checked at the door (a :class:`lib.errors.ParameterError` naming the argument): the data
set's interface with at least two factors (the classifier tells factors apart),
``encode`` callable and returning finite (n, n_codes) codes of one width throughout,
``batch_size`` >= 1, ``num_train`` >= 2 (two classes to fit) and ``num_eval`` >= 1.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lib.errors import ParameterError, check_integer

from .factor_vae import _CHUNK, _sample_factors
from .utils import as_generator, check_dataset, check_encoder, encode_factors

__all__ = ["beta_vae_score"]


def _points(dataset, encode, rng, batch_size, num_points, n_codes=None):
    """Features (num_points, n_codes) and labels (num_points,) of the BetaVAE score."""
    n_factors = len(dataset.factor_sizes)
    per_block = max(1, _CHUNK // (2 * batch_size))
    feats, labels = [], []
    for start in range(0, num_points, per_block):
        m = min(per_block, num_points - start)
        k = rng.integers(n_factors, size=m)
        f1 = _sample_factors(dataset, m * batch_size, rng).reshape(m, batch_size, -1)
        f2 = _sample_factors(dataset, m * batch_size, rng).reshape(m, batch_size, -1)
        f2[np.arange(m), :, k] = f1[np.arange(m), :, k]
        both = np.concatenate([f1, f2]).reshape(2 * m * batch_size, -1)
        z = encode_factors(dataset, encode, both, _CHUNK, n_codes)
        n_codes = z.shape[1]
        z = z.reshape(2, m, batch_size, -1)
        feats.append(np.mean(np.abs(z[0] - z[1]), axis=1))
        labels.append(k)
    return np.concatenate(feats), np.concatenate(labels)


def beta_vae_score(
    dataset,
    encode: Callable[[np.ndarray], np.ndarray],
    rng,
    batch_size: int = 64,
    num_train: int = 10000,
    num_eval: int = 5000,
) -> dict[str, float]:
    """BetaVAE score of an encoder on a data set with known factors.

    ``dataset``, ``encode`` and ``rng`` (a ``np.random.Generator`` or an int seed) as in
    :func:`lib.metrics.factor_vae_score`; ``dataset`` with at least two factors,
    ``batch_size`` >= 1, ``num_train`` >= 2, ``num_eval`` >= 1. Returns
    ``{"train_accuracy", "eval_accuracy"}``, both in [0, 1].
    """
    from sklearn.linear_model import LogisticRegression

    check_dataset(dataset, min_factors=2)
    check_encoder(encode)
    rng = as_generator(rng)
    batch_size = check_integer("batch_size", batch_size, 1)
    num_train = check_integer("num_train", num_train, 2)  # two classes to fit
    num_eval = check_integer("num_eval", num_eval, 1)
    x_train, y_train = _points(dataset, encode, rng, batch_size, num_train)
    if np.unique(y_train).size < 2:
        raise ParameterError(
            f"the {num_train} training points all drew the same factor; raise num_train"
        )
    model = LogisticRegression().fit(x_train, y_train)
    train_acc = np.mean(model.predict(x_train) == y_train)
    x_eval, y_eval = _points(
        dataset, encode, rng, batch_size, num_eval, x_train.shape[1]
    )
    eval_acc = np.mean(model.predict(x_eval) == y_eval)
    return {"train_accuracy": float(train_acc), "eval_accuracy": float(eval_acc)}
