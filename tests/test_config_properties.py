"""Property tests (hypothesis) of the configs and settings: any value of the wrong kind is
refused with the library's error naming the field, any valid one round-trips through JSON."""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.checkpoint import MODEL_REGISTRY
from lib.config import check_field_types
from lib.errors import ConfigError, ParameterError

# import every paper package, so that the registry holds every model
MODULES = (
    "lib.nets",
    "lib.judge",
    "lib.intro",
    "lib.taking_apart",
    "lib.toroidal",
    "lib.atomic",
    "lib.pmp",
)
for _module in MODULES:
    importlib.import_module(_module)
CONFIG_CLASSES = sorted(
    {cls.config_class for cls in MODEL_REGISTRY.values()}, key=lambda c: c.__name__
)

NOT_A_NUMBER = st.one_of(
    st.just(math.nan),
    st.just(math.inf),
    st.just(-math.inf),
    st.text(max_size=3),
    st.none(),
    st.lists(st.integers(), max_size=2),
)
NOT_AN_INTEGER = st.one_of(
    st.booleans(),
    st.floats(allow_nan=True).filter(lambda v: not float(v).is_integer()),
    st.text(max_size=3),
    st.none(),
)


def _typed_fields(cls, hint):
    hints = typing.get_type_hints(cls)
    return [f.name for f in dataclasses.fields(cls) if hints.get(f.name) is hint]


INT_FIELDS = [(c, n) for c in CONFIG_CLASSES for n in _typed_fields(c, int)]
FLOAT_FIELDS = [(c, n) for c in CONFIG_CLASSES for n in _typed_fields(c, float)]


def test_the_registry_covers_every_paper_package():
    assert len(CONFIG_CLASSES) >= 7 and INT_FIELDS and FLOAT_FIELDS


@pytest.mark.parametrize("cls", CONFIG_CLASSES, ids=lambda c: c.__name__)
def test_a_default_config_round_trips_through_json(cls):
    config = cls()
    assert cls.from_dict(json.loads(json.dumps(config.to_dict()))) == config


@pytest.mark.parametrize(
    "cls, field", INT_FIELDS, ids=[f"{c.__name__}.{n}" for c, n in INT_FIELDS]
)
@settings(max_examples=15, deadline=None)
@given(value=NOT_AN_INTEGER)
def test_an_integer_field_refuses_anything_but_an_integer(cls, field, value):
    with pytest.raises(
        ConfigError, match=rf"{cls.__name__}\.{field} must be an integer"
    ):
        cls(**{field: value})


@pytest.mark.parametrize(
    "cls, field", FLOAT_FIELDS, ids=[f"{c.__name__}.{n}" for c, n in FLOAT_FIELDS]
)
@settings(max_examples=15, deadline=None)
@given(value=NOT_A_NUMBER)
def test_a_number_field_refuses_nan_infinity_and_non_numbers(cls, field, value):
    with pytest.raises(ConfigError, match=rf"{cls.__name__}\.{field} must be a finite"):
        cls(**{field: value})


@settings(max_examples=40, deadline=None)
@given(
    lr=st.floats(min_value=1e-8, max_value=10.0),
    steps=st.integers(min_value=0, max_value=10**6),
    beta=st.floats(min_value=0.0, max_value=0.999),
)
def test_the_trainer_config_takes_every_valid_value(lr, steps, beta):
    from lib.trainer import TrainerConfig

    config = TrainerConfig(lr=lr, steps=steps, betas=(beta, beta))
    assert (config.lr, config.steps) == (lr, steps)


@settings(max_examples=40, deadline=None)
@given(lr=st.one_of(st.floats(max_value=0.0), NOT_A_NUMBER))
def test_the_trainer_config_refuses_every_bad_learning_rate(lr):
    from lib.trainer import TrainerConfig

    with pytest.raises(ValueError, match="lr"):
        TrainerConfig(lr=lr)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.one_of(
        st.integers(max_value=-1),
        st.integers(min_value=2**32),
        st.booleans(),
        st.floats(),
        st.text(max_size=2),
    )
)
def test_setup_refuses_every_seed_numpy_cannot_take(seed):
    from lib.notebook import setup

    with pytest.raises(ParameterError, match="parameter 'seed'"):
        setup(device="cpu", seed=seed)


def test_check_field_types_follows_optional_and_tuple_hints():
    @dataclasses.dataclass
    class Example:
        widths: tuple[int, ...] = (1, 2)
        pair: tuple[float, float] = (0.0, 1.0)
        clip: float | None = None

    check_field_types(Example())
    check_field_types(
        Example(widths=[3], clip=2)
    )  # JSON gives lists; an int is a number
    for bad in ({"widths": (1, True)}, {"pair": (0.0,)}, {"clip": math.nan}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            check_field_types(Example(**bad))
