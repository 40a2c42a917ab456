"""`lib`: the helper package of *The Geometry of Autoencoder Latent Spaces*.

Layering (arrows point down only):

- generic core, knows no paper: :mod:`lib.device`, :mod:`lib.seeding`, :mod:`lib.params`,
  :mod:`lib.trainer`, :mod:`lib.checkpoint`
- data sources and generators, know no model: :mod:`lib.data`
- one model module and one loss module per paper: :mod:`lib.models`, :mod:`lib.losses`
- theory (closed forms), plotting and sliders on top: :mod:`lib.theory`, :mod:`lib.plotting`,
  :mod:`lib.sliders`
"""

__version__ = "0.1.0"
