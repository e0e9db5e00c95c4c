"""A pretrained CoLoRA model: the network, its hypernetwork and what it was trained for."""

import dataclasses
import json
import math
import pathlib
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ._files import replace_folder
from ._network import (
    CoLoRAMLP,
    HyperNetwork,
    PeriodicEmbedding,
    num_phi,
    pool_components,
    pool_mask,
    set_phi,
)

WEIGHTS_FILE = "weights.eqx"
CONFIG_FILE = "config.json"
FORMAT_VERSION = 1
BOUNDARY_KINDS = ("periodic", "dirichlet", "neumann", "unbounded")


# the smallest sizes of a network (`ModelConfig`): a CoLoRA network has at least one hidden
# layer between its first and last CoLoRA layers
SIZE_MINIMUM = {"width": 1, "depth": 2, "rank": 1, "n_freq": 1, "hyper_width": 1,
                "hyper_depth": 1}


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Hyperparameters of a `CoLoRAModel`: everything needed to rebuild its structure."""

    equation: str
    lower: tuple[float, ...]
    lengths: tuple[float, ...]
    t_range: tuple[float, float]
    mu_range: tuple[float, float]
    width: int = 40
    depth: int = 6
    rank: int = 2
    per_rank: bool = True
    n_freq: int = 1
    online_shift: bool = False
    hyper_width: int = 32
    hyper_depth: int = 3
    log_mu: bool = False
    # one name per output of the network (a system of fields has several)
    fields: tuple[str, ...] = ("u",)
    # per direction "periodic", "dirichlet" (zero data held by the ansatz's factor),
    # "neumann" (zero data held by the even embedding) or "unbounded" (every direction: a
    # density on R^d, a Gaussian envelope); nonzero data are carried by a lift (see `lift`);
    # empty: every direction periodic
    boundaries: tuple[str, ...] = ()
    # whether the network was trained on u minus the lift of its equation's nonzero boundary
    # data (`pretrain(pde=...)`): then `u = L + N`, and `predict` needs the equation
    lift: bool = False
    # pool components of this rank in every layer: online weights the hypernetwork does not
    # predict (zero in the data-driven solution), for an adaptive equation-driven solve
    pool_rank: int = 0

    def __post_init__(self):
        problems = []
        if not (isinstance(self.pool_rank, int) and self.pool_rank >= 0):
            problems.append(f"pool_rank must be a non-negative integer, got {self.pool_rank!r}")
        d = len(self.lower)
        if not self.fields or len(set(self.fields)) != len(self.fields) or not all(
                isinstance(f, str) and f for f in self.fields):
            problems.append(f"fields {self.fields} must be distinct non-empty names, at least "
                            "one")
        if self.boundaries and (len(self.boundaries) != d or not set(self.boundaries) <= set(
                BOUNDARY_KINDS)):
            problems.append(f"boundaries {self.boundaries} must be empty (all periodic) or "
                            f"one of {BOUNDARY_KINDS} per direction ({d})")
        if "unbounded" in self.boundaries and set(self.boundaries) != {"unbounded"}:
            problems.append(f"boundaries {self.boundaries}: unbounded directions need every "
                            "direction unbounded (one Gaussian envelope over R^d)")
        if self.online_shift and set(self.boundaries) - {"periodic"}:
            problems.append("online_shift needs every direction periodic")
        if d < 1 or len(self.lengths) != d:
            problems.append(f"lower {self.lower} and lengths {self.lengths} must have one entry "
                            "per space direction each")
        if not all(math.isfinite(v) for v in (*self.lower, *self.lengths)) or not all(
                v > 0 for v in self.lengths):
            problems.append(f"lengths {self.lengths} must be positive and finite (and lower "
                            f"{self.lower} finite): the box is lower + [0, lengths)")
        for name, strict in (("t_range", True), ("mu_range", False)):
            r = getattr(self, name)
            if len(r) != 2 or not all(math.isfinite(v) for v in r):
                problems.append(f"{name} {r} must be two finite numbers (low, high)")
            elif r[0] > r[1] or (strict and r[0] == r[1]):
                problems.append(f"{name} {r} is reversed or empty: give (low, high) with low "
                                f"{'<' if strict else '<='} high")
        if self.log_mu and len(self.mu_range) == 2 and not self.mu_range[0] > 0:
            problems.append(f"log_mu needs a positive mu_range, got {self.mu_range}")
        for name, least in SIZE_MINIMUM.items():
            if not getattr(self, name) >= least:
                problems.append(f"{name} must be at least {least}, got {getattr(self, name)}")
        if problems:
            raise ValueError("invalid ModelConfig: " + "; ".join(problems))

    def to_json(self) -> dict[str, Any]:
        return {"format_version": FORMAT_VERSION, **dataclasses.asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ModelConfig":
        data = dict(data)
        version = data.pop("format_version", None)
        if version != FORMAT_VERSION:
            raise ValueError(f"format_version {version!r}, this package reads {FORMAT_VERSION}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}")
        for key in ("lower", "lengths", "t_range", "mu_range"):
            data[key] = tuple(float(v) for v in data[key])
        for key in ("fields", "boundaries"):  # absent from files of earlier versions
            if key in data:
                data[key] = tuple(str(v) for v in data[key])
        return cls(**data)

    @property
    def n_fields(self) -> int:
        return len(self.fields)

    @property
    def bounded(self) -> tuple[bool, ...]:
        return tuple(b in ("dirichlet", "neumann") for b in self.boundaries) or (
            (False,) * len(self.lower))

    @property
    def unbounded(self) -> tuple[bool, ...]:
        return tuple(b == "unbounded" for b in self.boundaries) or (False,) * len(self.lower)

    @property
    def dirichlet(self) -> tuple[bool, ...]:
        return tuple(b == "dirichlet" for b in self.boundaries) or (False,) * len(self.lower)


class CoLoRAModel(eqx.Module):
    """A CoLoRA network `u(x; theta, phi)` with the hypernetwork `h(t, mu) -> phi` trained with it.

    - `model.u(x, phi)`: the solution at one point for online weights `phi`;
    - `model.phi(t, mu)`: the data-driven (CoLoRA-D) online weights;
    - `model.mu_range`, `model.t_range`: where it was trained.
    """

    net: CoLoRAMLP
    hyper: HyperNetwork
    config: ModelConfig = eqx.field(static=True)

    @property
    def mu_range(self) -> tuple[float, float]:
        return self.config.mu_range

    @property
    def t_range(self) -> tuple[float, float]:
        return self.config.t_range

    @property
    def num_phi(self) -> int:
        return num_phi(self.net)

    def phi(self, t: ArrayLike, mu: ArrayLike) -> Float[Array, " p"]:
        return self.hyper(t, mu)

    def u(self, x: Float[Array, " d"], phi: Float[Array, " p"]) -> Float[Array, "*fields"]:
        return set_phi(self.net, phi)(x)


def make_model(config: ModelConfig, *, key: PRNGKeyArray) -> CoLoRAModel:
    """A freshly initialised `CoLoRAModel` with the structure given by `config`."""
    knet, khyper = jr.split(key)
    emb = PeriodicEmbedding(config.lower, config.lengths, config.n_freq, config.online_shift,
                            bounded=config.bounded, unbounded=config.unbounded)
    net = CoLoRAMLP(emb, config.width, config.depth, config.rank, per_rank=config.per_rank,
                    n_fields=config.n_fields, dirichlet=config.dirichlet,
                    envelope=any(config.unbounded), pool_rank=config.pool_rank, key=knet)
    hyper = HyperNetwork(num_phi(net), config.t_range, config.mu_range,
                         width=config.hyper_width, depth=config.hyper_depth,
                         log_mu=config.log_mu, held=tuple(pool_mask(net)), key=khyper)
    return CoLoRAModel(net=net, hyper=hyper, config=config)


def add_pool(model: CoLoRAModel, pool_rank: int, *, key: PRNGKeyArray) -> CoLoRAModel:
    """`model` with pool components of rank `pool_rank` added to every layer (freshly drawn
    factors, zero scales; `CoLoRALinear`): every other weight, and so the data-driven
    solution and the tangent directions of the model's own online weights, unchanged. Train
    the pool's factors with `pretrain(..., init=add_pool(model, q, key=k), train="pool",
    tangent_weight=1, pde=...)`, then solve with `AdaptiveOnline(~pool_mask(model.net))`.

    **Raises:** `ValueError` where `model` has pool components already or `pool_rank < 1`."""
    if model.config.pool_rank:
        raise ValueError(f"the model has pool components already (pool_rank "
                         f"{model.config.pool_rank}); start from a model without them")
    keys = jr.split(key, len(model.net.layers))
    layers = []
    for layer, k in zip(model.net.layers, keys):
        out_size, in_size = layer.weight.shape
        P, Q, scales = pool_components(in_size, out_size, pool_rank, k)
        dtype = layer.weight.dtype
        layers.append(eqx.tree_at(
            lambda lay: (lay.pool_A, lay.pool_B, lay.pool_alpha), layer,
            (P.astype(dtype), Q.astype(dtype), scales.astype(dtype)),
            is_leaf=lambda v: v is None))
    net = eqx.tree_at(lambda n: n.layers, model.net, tuple(layers))
    config = dataclasses.replace(model.config, pool_rank=int(pool_rank))
    held = tuple(pool_mask(net))
    hyper = HyperNetwork(len(held), config.t_range, config.mu_range, width=config.hyper_width,
                         depth=config.hyper_depth, log_mu=config.log_mu, held=held, key=key)
    hyper = eqx.tree_at(lambda h: h.mlp, hyper, model.hyper.mlp)  # the same predictions
    return CoLoRAModel(net=net, hyper=hyper, config=config)


def save_model(path: str | pathlib.Path, model: CoLoRAModel) -> pathlib.Path:
    """Save `model` into the folder `path` (created if needed): `config.json` with the
    hyperparameters and `weights.eqx` with the equinox-serialised arrays.

    The two files are written into a new folder beside `path` that then replaces it, so an
    error part-way leaves an earlier model at `path` intact (and no half-written one). Other
    files in an existing `path` (a training history, a checkpoint) stay."""
    return replace_folder(path, lambda folder: write_model_files(folder, model))


def write_model_files(folder: pathlib.Path, model: CoLoRAModel) -> None:
    """Write `config.json` and `weights.eqx` of `model` into the existing `folder`."""
    (folder / CONFIG_FILE).write_text(json.dumps(model.config.to_json(), indent=2) + "\n")
    eqx.tree_serialise_leaves(folder / WEIGHTS_FILE, model)


def _read_in_current_precision(f, like):
    # weights saved in float32 load under x64 (and float64 ones without it): cast on reading
    if eqx.is_inexact_array(like):
        return jnp.asarray(np.load(f), dtype=like.dtype)
    return eqx.default_deserialise_filter_spec(f, like)


def load_model(path: str | pathlib.Path) -> CoLoRAModel:
    """Load a model saved by `save_model`.

    **Raises:** `FileNotFoundError` for a missing folder or file; `ValueError` for a corrupt
    or mismatched file, saying which and what to do.
    """
    path = pathlib.Path(path)
    hint = "re-create it with `neural-galerkin pretrain ... --out DIR`"
    if not path.is_dir():
        raise FileNotFoundError(f"no weights folder at {path}; {hint}")
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        if not (path / name).is_file():
            raise FileNotFoundError(f"weights folder {path} has no {name}; {hint}")
    try:
        config = ModelConfig.from_json(json.loads((path / CONFIG_FILE).read_text()))
    except (ValueError, TypeError, KeyError) as e:
        raise ValueError(f"{path / CONFIG_FILE} is corrupt or from another version ({e}); "
                         f"{hint}") from None
    skeleton = make_model(config, key=jr.PRNGKey(0))
    try:
        model = eqx.tree_deserialise_leaves(path / WEIGHTS_FILE, skeleton,
                                            filter_spec=_read_in_current_precision)
    except Exception as e:  # numpy raises several types for truncated or foreign files
        raise ValueError(
            f"{path / WEIGHTS_FILE} does not match {CONFIG_FILE} or is corrupt "
            f"({type(e).__name__}: {e}); {hint}"
        ) from None
    bad = [not bool(jnp.all(jnp.isfinite(a))) for a in jax.tree.leaves(eqx.filter(
        model, eqx.is_inexact_array))]
    if any(bad):
        raise ValueError(f"{path / WEIGHTS_FILE} holds NaN or inf weights; {hint}")
    return model
