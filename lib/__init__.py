"""`lib`: the helper package of *The Geometry of Autoencoder Latent Spaces*.

Layers, arrows pointing down only (``pyproject.toml``'s import contracts check them with
``lint-imports`` in ``make test``):

1. **one package per paper**, independent of one another, each of one shape (book/contributing.md,
   checked by ``tests/test_package_template.py``): ``runs.py`` (the chapter's settings,
   ``get_config()``, the run spec of one model and ``build_run``, the one way to train it),
   ``recipes.py`` (data streams and the notebook's ``fit_*`` recipes), ``measure.py``
   (measures, the verdict rule and its function) and where the paper has them ``model.py``, ``losses.py``,
   ``theory.py`` and ``record.py`` (shipped records of long runs):
   :mod:`lib.taking_apart` (Newson et al. 2018, chapter 01), :mod:`lib.toroidal` (Mikulski &
   Duda 2019, chapter 02), :mod:`lib.atomic` (Newson & Traonmilin 2023, chapter 03),
   :mod:`lib.measuring` (Locatello et al. 2019's metrics, chapter 04) and :mod:`lib.pmp`
   (Fumero et al. 2021, chapter 05); beside them :mod:`lib.intro` (chapter 00, no paper: the
   warm-up autoencoder);
2. **shared tools**, know no paper: :mod:`lib.nets` (networks two chapters share),
   :mod:`lib.judge` (the dSprites factor judge: a classifier of the factors, shipped, for
   the adequacy of a model's reconstructions),
   :mod:`lib.analysis` (fits, per-image errors, circular statistics), :mod:`lib.plotting`,
   :mod:`lib.sliders`, :mod:`lib.live` (decoders exported for the browser);
3. **data** sources and generators, and **metrics**, know no model: :mod:`lib.data`
   (``mnist``, ``disks``, ``spikes``, ``dsprites``, ``factor_files``), :mod:`lib.metrics`;
4. **generic core**, knows no paper: :mod:`lib.errors` (the book's errors, checks at the door),
   :mod:`lib.records` (the JSON-lines reader), :mod:`lib.files` (file digests),
   :mod:`lib.device`, :mod:`lib.seeding`,
   :mod:`lib.config` (the one config style, config trees), :mod:`lib.runs` (the parts of a
   run every package's ``build_run`` returns, several seeds as one trainer),
   :mod:`lib.trainer` (the trainer, runs that resume), :mod:`lib.scale` (batched seeds,
   CUDA graphs), :mod:`lib.checkpoint`
   (checkpoints, the model registry, ``load_pretrained``, the reader's cache),
   :mod:`lib.notebook` (the notebook contract), :mod:`lib.nbtools`.

Shipped checkpoints live in ``lib/pretrained/<chapter>/`` and are read-only to a reader: what a
reader trains goes to the user cache (:func:`lib.checkpoint.user_cache_dir`).
"""

__version__ = "0.1.0"
