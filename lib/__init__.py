"""`lib`: the helper package of *The Geometry of Autoencoder Latent Spaces*.

Layers, arrows pointing down only (``pyproject.toml``'s import contracts check them with
``lint-imports`` in ``make test``):

1. **one package per paper**, each with ``model.py``, ``losses.py`` and ``recipes.py`` (the
   chapter's settings, ``get_config()``, and its training recipes); independent of one another:
   :mod:`lib.taking_apart` (Newson et al. 2018, chapter 01, with ``theory.py``) and
   :mod:`lib.toroidal` (Mikulski & Duda 2019, chapter 02, with ``sweep.py``);
2. **shared tools**, know no paper: :mod:`lib.nets` (networks several chapters use),
   :mod:`lib.analysis` (fits, per-image errors, circular statistics), :mod:`lib.plotting`,
   :mod:`lib.sliders`;
3. **data** sources and generators, know no model: :mod:`lib.data` (``mnist``, ``disks``);
4. **generic core**, knows no paper: :mod:`lib.device`, :mod:`lib.seeding`, :mod:`lib.config`
   (the one config style), :mod:`lib.trainer`, :mod:`lib.checkpoint` (checkpoints and the model
   registry, ``load_pretrained``), :mod:`lib.notebook` (the notebook contract),
   :mod:`lib.nbtools`.

Shipped checkpoints live in ``lib/pretrained/<chapter>/``.
"""

__version__ = "0.1.0"
