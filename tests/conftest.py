import matplotlib

matplotlib.use(
    "Agg"
)  # in-process only: notebook kernels started by the tests keep the inline backend

import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
