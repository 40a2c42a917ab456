import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from IPython.display import HTML
from matplotlib.figure import Figure

from lib.plotting import image_grid, plot_history
from lib.sliders import SliderSpec, latent_slider, static_slider


def _decode(
    z,
):  # (B, D) -> (B, 1, 8, 8): brightness follows z[:, 0], a horizontal ramp follows z[:, -1]
    ramp = z[:, -1:, None, None] * torch.linspace(-1, 1, 8)  # (B, 1, 1, 8)
    return torch.sigmoid(z[:, :1, None, None] + ramp).expand(-1, 1, 8, 8)


def test_image_grid_accepts_tensors_and_arrays():
    fig = image_grid(
        torch.rand(10, 1, 8, 8), ncols=4, titles=[str(i) for i in range(10)]
    )
    assert isinstance(fig, Figure) and len(fig.axes) == 12
    plt.close(fig)
    fig = image_grid(np.random.rand(3, 8, 8))
    assert len(fig.axes) == 3
    plt.close(fig)
    with pytest.raises(ValueError, match="one channel"):
        image_grid(torch.rand(2, 3, 8, 8))


def test_plot_history_smooths_and_rejects_empty():
    fig = plot_history({"loss": list(np.linspace(1, 0.1, 100)), "empty": []}, smooth=10)
    assert isinstance(fig, Figure) and len(fig.axes[0].lines) == 1
    plt.close(fig)
    with pytest.raises(ValueError):
        plot_history({"loss": []})


def test_static_slider_sweeps_each_coordinate_and_frames_differ():
    anim = static_slider(
        _decode,
        {"a": (-3, 3, 0), "b": SliderSpec(-3, 3, 0, periodic=True)},
        frames_per_coordinate=5,
    )
    html = anim.to_jshtml()
    frames = re.findall(r'frames\[\d+\] = "data:image/png;base64,([^"]+)"', html)
    assert len(frames) == 10  # 5 per coordinate
    assert len(set(frames)) > 5  # the decoded image changes along the sweep
    # each frame names only the coordinate that moves (a list of all is clipped)
    from lib.sliders import frame_title

    assert frame_title("P6 (posX)", -0.4242) == "P6 (posX) = -0.42 (others at start)"
    anim._func(7)  # the 3rd frame of coordinate "b"
    assert anim._fig.axes[0].get_title().startswith("b = ")
    assert frame_title("radius", 14.0, alone=True) == "radius = +14.00"


def test_a_one_coordinate_player_names_its_panels_and_says_nothing_of_others():
    from lib.sliders import static_slider

    def two_panels(z):  # (B, 1) -> (B, 1, 8, 16): two images side by side
        return torch.sigmoid(z[:, :, None, None]).expand(-1, 1, 8, 16)

    anim = static_slider(
        two_panels, {"r": (0, 1, 0)}, frames_per_coordinate=3, panels=["in", "out"]
    )
    ax = anim._fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["in", "out"]
    assert ax.get_xticks().tolist() == [3.5, 11.5]  # the centres of the two halves
    anim._func(1)
    assert "others" not in ax.get_title()
    for bad in ("in", ["in", ""]):
        with pytest.raises(ValueError, match="panels"):
            static_slider(two_panels, {"r": (0, 1, 0)}, panels=bad)


def test_latent_slider_static_and_live():
    static = latent_slider(
        _decode, {"a": (-1, 1, 0)}, live=False, frames_per_coordinate=3
    )
    assert isinstance(static, HTML) and "animation" in static.data.lower()
    _assert_self_contained_player(static.data)
    live = latent_slider(_decode, {"a": (-1, 1, 0.5), "b": (-1, 1, 0)}, live=True)
    assert [w.description for w in live.children[:2]] == ["a", "b"]
    assert live.children[0].value == 0.5


def test_slider_spec_validation():
    with pytest.raises(ValueError, match="low < high"):
        SliderSpec(1, 1)
    with pytest.raises(ValueError, match="outside"):
        SliderSpec(0, 1, 2)


def test_coloured_atoms_paints_each_atom_in_its_own_colour():
    from lib.plotting import coloured_atoms

    atoms = torch.zeros(2, 4, 4)
    atoms[0, 0, 0] = 1.0
    atoms[1, 3, 3] = 0.5
    rgb = coloured_atoms(atoms)
    assert rgb.shape == (4, 4, 3)
    palette = plt.get_cmap("tab10")
    assert np.allclose(rgb[0, 0], palette(0)[:3])  # atom 0 in colour 0, full brightness
    assert np.allclose(
        rgb[3, 3], 0.5 * np.array(palette(1)[:3])
    )  # atom 1, half as bright
    assert np.allclose(rgb[1, 1], 0)  # no atom, black
    with pytest.raises(ValueError, match="k, H, W"):
        coloured_atoms(torch.zeros(4, 4))


def test_heatmap_player_is_self_contained_html():
    import numpy as np

    from lib.plotting import heatmap_player

    frames = np.random.default_rng(0).random((3, 4, 5))
    html = heatmap_player(frames, ["a", "b", "c"]).data
    _assert_self_contained_player(html)
    import pytest

    with pytest.raises(ValueError, match="titles"):
        heatmap_player(frames, ["a"])
    with pytest.raises(ValueError, match="stack"):
        heatmap_player(np.zeros((4, 5)), ["a"])


def _assert_self_contained_player(html: str) -> None:
    """No URL outside the page (the offline book) and nine buttons, each with a drawn icon."""
    assert re.search(r"https?://|(src|href)=\"//", html) is None, "asks another host"
    assert "font-awesome" not in html and 'class="fa ' not in html
    buttons = re.findall(r"<button[^>]*>(.*?)</button>", html, flags=re.S)
    assert len(buttons) == 9
    assert all("<svg" in b and "<path" in b for b in buttons)


def test_player_html_fails_loudly_when_an_icon_is_missing():
    from types import SimpleNamespace

    from lib.plotting import player_html

    other_template = SimpleNamespace(
        to_jshtml=lambda default_mode: "<i class='fa fa-play'></i>"
    )
    with pytest.raises(RuntimeError, match="update player_html"):
        player_html(other_template)


def test_heatmap_player_refuses_frames_that_would_show_one_colour():
    """Chapter 05's support player once showed uniform black frames: every frame after the
    outputs shrank spanned under 2 % of one colour scale set by the largest early frame."""
    import numpy as np
    import pytest

    from lib.plotting import heatmap_player

    rng = np.random.default_rng(0)
    frames = np.stack([6 * rng.random((3, 4)), 0.05 * rng.random((3, 4))])
    with pytest.raises(ValueError, match="frame 1 .* one colour"):
        heatmap_player(frames, ["large", "shrunk"])
    heatmap_player(frames / frames.max((1, 2), keepdims=True), ["a", "b"], vmax=1.0)
    with pytest.raises(ValueError, match="vmax > vmin"):
        heatmap_player(frames, ["a", "b"], vmin=7.0)
    with pytest.raises(ValueError, match="finite"):
        heatmap_player(np.full((2, 3, 4), np.nan), ["a", "b"])


def test_code_ranges_start_at_the_code_and_cover_the_spread():
    from lib.sliders import code_ranges

    codes = torch.tensor([[0.0, 1.0], [2.0, 1.0], [4.0, 1.0]])
    ranges = code_ranges(codes, torch.tensor([10.0, 1.0]), names=["u", "v"])
    assert list(ranges) == ["u", "v"]
    assert (
        ranges["u"].default == 10.0 and ranges["u"].high == 10.0
    )  # widened to the start
    assert ranges["v"].low < 1.0 < ranges["v"].high  # a dead coordinate still moves
    with pytest.raises(ValueError, match=r"\(N, L\)"):
        code_ranges(codes, torch.zeros(3))
    with pytest.raises(ValueError, match="names"):
        code_ranges(codes, torch.zeros(2), names=["u"])


def test_image_decoder_squashes_logits_into_images():
    from lib.nets import Conv64AEConfig, Conv64Autoencoder, image_decoder

    model = Conv64Autoencoder(Conv64AEConfig(code_size=3))
    images = image_decoder(model)(torch.zeros(2, 3, dtype=torch.float64))
    assert images.shape == (2, 1, 64, 64) and 0 <= images.min() <= images.max() <= 1


def test_image_grid_writes_long_row_labels_across_in_a_margin():
    labels = ["k=(+0, +0, +0), length 2.3", "k=(+1, +0, -1), length 7.1"]
    fig = image_grid(
        torch.rand(8, 1, 4, 4), ncols=4, row_labels=labels, label_width=2.0
    )
    first = fig.axes[0].yaxis.label
    assert first.get_text() == labels[0] and first.get_rotation() == 0
    assert fig.subplotpars.left == pytest.approx(2.0 / fig.get_figwidth())
    plt.close(fig)


def test_angle_pair_scatter_titles_each_panel_with_its_correlation():
    from lib.plotting import angle_pair_scatter

    rng = np.random.default_rng(0)
    phi = rng.uniform(-np.pi, np.pi, (200, 3))
    copies = phi.copy()
    copies[:, 1] = copies[:, 0]
    fig = angle_pair_scatter(
        [("uniform", phi), ("copies", torch.as_tensor(copies))], np.arange(200) % 10
    )
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 6 and titles[3] == "copies: corr +1.00"
    plt.close(fig)
