"""CoLoRA networks: `W x + alpha * A B x + b` layers, periodic embedding, MLP, hypernetwork.

Offline weights `theta` are every array leaf except the online ones; the online weights `phi`
are the leaves named in `ONLINE_NAMES` (the CoLoRA `alpha`s and, where enabled, the shift of the
periodic embedding, or the mean and Cholesky factor of a Gaussian envelope). One filter,
`online_filter`, separates them, and `get_phi` / `set_phi` move `phi` to and from a flat
vector.
"""

import math
from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import jax.scipy.linalg
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, PyTree

ONLINE_NAMES = ("alpha", "shift", "mean", "cholesky", "pool_alpha")


class CoLoRALinear(eqx.Module):
    """The layer `W x + A (alpha * (B x)) + b` with a rank-`r` update scaled online.

    `alpha` has one entry (one scale for the layer) or `rank` entries (one per rank
    component). With `alpha = 0` the layer is the plain affine layer `W x + b`.

    **Pool components** (`pool_rank = q > 0`): a further update `P (pool_alpha * (Q x))` of
    rank `q`, one online scale per component, whose scales the hypernetwork does not predict:
    they are zero in the data-driven solution (which is therefore that of the layer without
    them) and online they stay zero until an adaptive equation-driven solve brings them
    online (`AdaptiveOnline`, base `~pool_mask(net)`). What they add is tangent directions,
    `du/dpool_alpha_j`, nonzero at `pool_alpha = 0`; `pretrain(..., train="pool")` trains
    `P` and `Q` for them (the tangent-space term).
    """

    weight: Float[Array, "out in"]
    bias: Float[Array, " out"]
    A: Float[Array, "out rank"]
    B: Float[Array, "rank in"]
    alpha: Float[Array, " n_alpha"]
    pool_A: Float[Array, "out pool"] | None
    pool_B: Float[Array, "pool in"] | None
    pool_alpha: Float[Array, " pool"] | None

    def __init__(
        self, in_size: int, out_size: int, rank: int, *, per_rank: bool = True,
        pool_rank: int = 0, key: PRNGKeyArray,
    ):
        kw, kb, ka, kB = jr.split(key, 4)
        dtype = jnp.zeros(()).dtype  # follows the default float dtype (x64 or not)
        lim = 1 / math.sqrt(in_size)
        self.weight = jr.uniform(kw, (out_size, in_size), dtype, -lim, lim)
        self.bias = jr.uniform(kb, (out_size,), dtype, -lim, lim)
        self.A = jr.uniform(ka, (out_size, rank), dtype, -1, 1) / math.sqrt(rank)
        self.B = jr.uniform(kB, (rank, in_size), dtype, -lim, lim)
        self.alpha = jnp.zeros((rank if per_rank else 1,), dtype)
        self.pool_A = self.pool_B = self.pool_alpha = None
        if pool_rank:
            self.pool_A, self.pool_B, self.pool_alpha = pool_components(
                in_size, out_size, pool_rank, jr.fold_in(key, 1))

    def __call__(self, x: Float[Array, " in"]) -> Float[Array, " out"]:
        out = self.weight @ x + self.A @ (self.alpha * (self.B @ x)) + self.bias
        if self.pool_alpha is not None:
            assert self.pool_A is not None and self.pool_B is not None
            out = out + self.pool_A @ (self.pool_alpha * (self.pool_B @ x))
        return out


def pool_components(in_size: int, out_size: int, pool_rank: int, key: PRNGKeyArray):
    """Freshly drawn pool factors `P` (`out x q`), `Q` (`q x in`) and zero scales, drawn like
    the layer's own `A`, `B`."""
    if not (isinstance(pool_rank, int) and pool_rank >= 1):
        raise ValueError(f"pool_rank must be a positive integer, got {pool_rank!r}")
    ka, kb = jr.split(key)
    dtype = jnp.zeros(()).dtype
    lim = 1 / math.sqrt(in_size)
    return (jr.uniform(ka, (out_size, pool_rank), dtype, -1, 1) / math.sqrt(pool_rank),
            jr.uniform(kb, (pool_rank, in_size), dtype, -lim, lim),
            jnp.zeros((pool_rank,), dtype))


class PeriodicEmbedding(eqx.Module):
    """The input embedding of a box `lower + [0, lengths]`, per direction `i`:

    - **periodic** directions: `[sin(2 pi k (x_i - s_i) / L_i), cos(...)]`, `k = 1..n_freq`;
      the output is exactly periodic. The shift `s` is an online weight when
      `online_shift=True`: it lets the ansatz translate its profile (exactly, for advection);
    - **bounded** directions (`bounded[i]`): `cos(pi m z_i)`, `m = 1..2 n_freq`, with
      `z_i = (x_i - lower_i) / L_i` in `[0, 1]`: the same number of features, all even about
      both ends, so any network of them has zero normal derivative there (homogeneous Neumann
      data held exactly by the ansatz; the Dirichlet factor of `CoLoRAMLP` builds on it).
      `cos(pi z)` alone is one-to-one on `[0, 1]`, so nothing is lost in the interior;
    - **unbounded** directions (`unbounded[i]`, every direction or none): the input is
      already the normalised coordinate `z` of a Gaussian envelope (`CoLoRAMLP` passes it),
      and the features are `z_i / k` and `tanh(k z_i)`, `k = 1..n_freq`: they grow at most
      linearly, so a network of them grows at most linearly and `exp(network)` times the
      envelope stays integrable.
    """

    lower: tuple[float, ...] = eqx.field(static=True)
    lengths: tuple[float, ...] = eqx.field(static=True)
    n_freq: int = eqx.field(static=True)
    shift: Float[Array, " d"] | None
    bounded: tuple[bool, ...] = eqx.field(static=True)
    unbounded: tuple[bool, ...] = eqx.field(static=True)

    def __init__(self, lower: Sequence[float], lengths: Sequence[float], n_freq: int = 1,
                 online_shift: bool = False, bounded: Sequence[bool] | None = None,
                 unbounded: Sequence[bool] | None = None):
        self.lower = tuple(float(a) for a in lower)
        self.lengths = tuple(float(a) for a in lengths)
        self.n_freq = int(n_freq)
        self.bounded = (False,) * len(self.lower) if bounded is None else tuple(
            bool(b) for b in bounded)
        if len(self.bounded) != len(self.lower):
            raise ValueError(f"bounded has {len(self.bounded)} entries for a box of "
                             f"{len(self.lower)} directions: give one per direction")
        self.unbounded = (False,) * len(self.lower) if unbounded is None else tuple(
            bool(b) for b in unbounded)
        if len(self.unbounded) != len(self.lower) or (any(self.unbounded)
                                                       and not all(self.unbounded)):
            raise ValueError(f"unbounded {self.unbounded} must have one entry per direction "
                             f"({len(self.lower)}), all True or all False (one Gaussian "
                             "envelope covers every direction)")
        if any(self.unbounded) and (any(self.bounded) or online_shift):
            raise ValueError("an unbounded embedding has no bounded directions and no online "
                             "shift (the envelope's mean moves it)")
        if online_shift and any(self.bounded):
            raise ValueError("online_shift translates the profile, which would move it across "
                             "the boundary of a bounded direction; use it on periodic boxes")
        self.shift = jnp.zeros((len(self.lower),)) if online_shift else None

    @property
    def out_size(self) -> int:
        return 2 * self.n_freq * len(self.lower)

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " features"]:
        if any(self.unbounded):  # `x` is the envelope's normalised coordinate
            k = jnp.arange(1, self.n_freq + 1, dtype=x.dtype)[:, None]
            return jnp.concatenate([(x[None, :] / k).ravel(), jnp.tanh(k * x[None, :]).ravel()])
        lower = jnp.asarray(self.lower, x.dtype)
        if self.shift is not None:
            lower = lower + self.shift
        z = 2 * jnp.pi * (x - lower) / jnp.asarray(self.lengths, x.dtype)
        kz = jnp.arange(1, self.n_freq + 1, dtype=x.dtype)[:, None] * z[None, :]
        first, second = jnp.sin(kz), jnp.cos(kz)
        if any(self.bounded):  # cos(pi m z), m odd in `first` and even in `second`
            mask = jnp.asarray(self.bounded)[None, :]
            first = jnp.where(mask, jnp.cos(kz - z[None, :] / 2), first)
        return jnp.concatenate([first.ravel(), second.ravel()])


class GaussianEnvelope(eqx.Module):
    """The Gaussian density `q(x) = N(x; mean, L L^T)` with online `mean` and Cholesky factor
    `L` (lower triangular, stored packed row by row as `cholesky`, its diagonal as logarithms
    so that any value is a valid factor): the decaying part of the ansatz of a density on
    R^d (`CoLoRAMLP(..., envelope=True)`). `normalise(x) = L^{-1} (x - mean)` is the
    coordinate in which the network sees the solution, so its shape moves and spreads with
    the envelope, and `points(z) = mean + L z` maps standard normal draws onto `q` (the
    sampler and the invariants' quadrature draw there)."""

    mean: Float[Array, " d"]
    cholesky: Float[Array, " k"]

    def __init__(self, mean: ArrayLike, scale: ArrayLike):
        dtype = jnp.zeros(()).dtype
        mean = jnp.asarray(mean, dtype)
        d = mean.shape[0]
        scale = jnp.broadcast_to(jnp.asarray(scale, dtype), (d,))
        rows, cols = _tril(d)
        packed = jnp.where(jnp.asarray(rows == cols), jnp.log(scale)[rows], 0.0)
        self.mean, self.cholesky = mean, packed

    @property
    def ndim(self) -> int:
        return self.mean.shape[0]

    def factor(self) -> Float[Array, "d d"]:
        """The lower-triangular factor `L` (positive diagonal)."""
        d = self.ndim
        rows, cols = _tril(d)
        diag = jnp.asarray(rows == cols)
        values = jnp.where(diag, jnp.exp(self.cholesky), self.cholesky)
        return jnp.zeros((d, d), values.dtype).at[rows, cols].set(values)

    def normalise(self, x: Float[Array, " d"]) -> Float[Array, " d"]:
        """`z = L^{-1} (x - mean)`."""
        return jax.scipy.linalg.solve_triangular(self.factor(), x - self.mean, lower=True)

    def log_density(self, x: Float[Array, " d"]) -> Float[Array, ""]:
        """`log q(x)`, normalised: `q` integrates to 1."""
        z = self.normalise(x)
        rows, cols = _tril(self.ndim)
        log_det = jnp.sum(jnp.where(jnp.asarray(rows == cols), self.cholesky, 0.0))
        return -0.5 * jnp.sum(z**2) - log_det - 0.5 * self.ndim * math.log(2 * math.pi)

    def points(self, z: Float[Array, "n d"]) -> Float[Array, "n d"]:
        """`mean + L z` for each row of `z` (standard normal draws become draws from `q`)."""
        return self.mean[None] + z @ self.factor().T

    def covariance(self) -> Float[Array, "d d"]:
        L = self.factor()
        return L @ L.T


def envelope_phi(net: "CoLoRAMLP", mean: ArrayLike, cov: ArrayLike) -> Float[Array, " p"]:
    """The online weights of `net` (a network with a Gaussian envelope) with the envelope
    set to `N(mean, cov)` and the others as they are: with the output layer at its initial
    zero (or the network's correction otherwise zero), the ansatz is then exactly that
    Gaussian, the start of a density that begins Gaussian."""
    if net.envelope is None:
        raise ValueError("envelope_phi needs a network with a Gaussian envelope "
                         "(CoLoRAMLP(..., envelope=True))")
    d = net.envelope.ndim
    dtype = net.envelope.mean.dtype
    mean = jnp.asarray(mean, dtype)
    cov = jnp.asarray(cov, dtype)
    if mean.shape != (d,) or cov.shape != (d, d):
        raise ValueError(f"mean and cov must have shapes ({d},) and ({d}, {d}), got "
                         f"{mean.shape} and {cov.shape}")
    L = jnp.linalg.cholesky(cov)
    rows, cols = _tril(d)
    packed = jnp.where(jnp.asarray(rows == cols), jnp.log(jnp.abs(L[rows, cols])),
                       L[rows, cols])
    net = eqx.tree_at(lambda n: (n.envelope.mean, n.envelope.cholesky), net, (mean, packed))
    return get_phi(net)


def _tril(d: int):
    """The row and column indices of the lower triangle of a `d x d` matrix, row by row."""
    return np.tril_indices(d)


class CoLoRAMLP(eqx.Module):
    """`u(x) = D(x) L_depth(s(... s(L_1(embed(x)))))` with CoLoRA layers `L_i` and activation
    `s`. Every layer carries an online `alpha`; `depth` counts all of them, output layer
    included.

    - `n_fields`: the number of outputs, one per field of a system, sharing every hidden
      layer. One field: `u(x)` is a scalar (shape `()`), several: shape `(n_fields,)`.
    - `dirichlet[i]`: the direction `i` is bounded with zero Dirichlet data, held exactly by
      the factor `D(x) = prod_i sin(pi z_i)` (`z_i = (x_i - lower_i) / L_i`, a smooth
      distance function, zero at both ends and positive inside). With the even embedding of
      bounded directions the network is then odd about each end, as the solution of a
      problem with zero Dirichlet data and a right-hand side that vanishes there is.
    - `pool_rank`: pool components of that rank in every layer (`CoLoRALinear`), online
      weights that stay zero unless an adaptive solve brings them online; `0`: none.
    - `envelope=True` (an embedding with every direction `unbounded`): a density on R^d,
      `u(x) = q(x) exp(N(z))` with `q` a `GaussianEnvelope` (online mean and Cholesky factor)
      and `N` the network above, evaluated at the envelope's coordinate
      `z = L^{-1} (x - mean)`. Positive and decaying by construction; the Gaussian family is
      held exactly (`N = 0`: the output layer starts at zero weight and bias, so the
      freshly made network *is* the envelope), the network carries the departures from it.
    """

    embedding: PeriodicEmbedding
    layers: tuple[CoLoRALinear, ...]
    activation: Callable = eqx.field(static=True)
    n_fields: int = eqx.field(static=True)
    dirichlet: tuple[bool, ...] = eqx.field(static=True)
    envelope: GaussianEnvelope | None

    def __init__(
        self, embedding: PeriodicEmbedding, width: int, depth: int, rank: int, *,
        per_rank: bool = True, activation: Callable = jax.nn.swish, n_fields: int = 1,
        dirichlet: Sequence[bool] | None = None, envelope: bool = False,
        pool_rank: int = 0, key: PRNGKeyArray,
    ):
        if depth < 2:
            raise ValueError(f"depth must be at least 2, got {depth}")
        if n_fields < 1:
            raise ValueError(f"n_fields must be at least 1, got {n_fields}")
        d = len(embedding.lower)
        dirichlet = (False,) * d if dirichlet is None else tuple(bool(b) for b in dirichlet)
        if len(dirichlet) != d or any(a and not b for a, b in zip(dirichlet,
                                                                    embedding.bounded)):
            raise ValueError(f"dirichlet {dirichlet} must have one entry per direction ({d}), "
                             "True only on bounded directions of the embedding "
                             f"({embedding.bounded})")
        self.n_fields = int(n_fields)
        self.dirichlet = dirichlet
        sizes = [embedding.out_size] + [width] * (depth - 1) + [self.n_fields]
        keys = jr.split(key, depth)
        self.embedding = embedding
        self.layers = tuple(
            CoLoRALinear(a, b, rank, per_rank=per_rank, pool_rank=pool_rank, key=k)
            for a, b, k in zip(sizes[:-1], sizes[1:], keys)
        )
        self.activation = activation
        self.envelope = None
        if envelope != any(embedding.unbounded):
            raise ValueError("envelope=True goes with an embedding whose directions are all "
                             "unbounded (PeriodicEmbedding(..., unbounded=(True,) * d)), and "
                             "only with one")
        if envelope:
            if self.n_fields != 1 or any(dirichlet):
                raise ValueError("a Gaussian envelope is the ansatz of one density on R^d: "
                                 "n_fields=1 and no dirichlet directions")
            lower = jnp.asarray(embedding.lower)
            lengths = jnp.asarray(embedding.lengths)
            # the box marks where the mass is: start as the Gaussian filling it
            self.envelope = GaussianEnvelope(lower + lengths / 2, lengths / 4)
            last = self.layers[-1]
            last = eqx.tree_at(lambda layer: (layer.weight, layer.bias), last,
                               (jnp.zeros_like(last.weight), jnp.zeros_like(last.bias)))
            self.layers = (*self.layers[:-1], last)

    def log_value(self, x: Float[Array, " d"]) -> Float[Array, ""]:
        """`log u(x) = log q(x) + N(z)` of a network with a Gaussian envelope, without
        forming `u` (which underflows far from the envelope's mean)."""
        if self.envelope is None:
            raise ValueError("log_value needs a network with a Gaussian envelope "
                             "(CoLoRAMLP(..., envelope=True)): only its output is positive")
        h = self.embedding(self.envelope.normalise(x))
        for layer in self.layers[:-1]:
            h = self.activation(layer(h))
        return self.envelope.log_density(x) + self.layers[-1](h)[0]

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, "*fields"]:
        if self.envelope is not None:
            return jnp.exp(self.log_value(x))
        h = self.embedding(x)
        for layer in self.layers[:-1]:
            h = self.activation(layer(h))
        out = self.layers[-1](h)
        out = out[0] if self.n_fields == 1 else out
        if any(self.dirichlet):
            emb = self.embedding
            z = (x - jnp.asarray(emb.lower, x.dtype)) / jnp.asarray(emb.lengths, x.dtype)
            factor = jnp.where(jnp.asarray(self.dirichlet), jnp.sin(jnp.pi * z), 1.0)
            out = out * jnp.prod(factor)
        return out


class HyperNetwork(eqx.Module):
    """`h(t, mu) -> phi`: an MLP of the normalised time and parameter.

    Inputs are mapped to `[-1, 1]` over the training ranges; the parameter on a log scale
    when `log_mu` (for parameters spanning decades, such as a viscosity). `held`: a boolean
    mask over `phi` of entries held at zero (a network's pool scales, `pool_mask`): the MLP
    predicts the others only."""

    mlp: eqx.nn.MLP
    t_range: tuple[float, float] = eqx.field(static=True)
    mu_range: tuple[float, float] = eqx.field(static=True)
    log_mu: bool = eqx.field(static=True)
    n_phi: int = eqx.field(static=True)
    index: tuple[int, ...] | None = eqx.field(static=True)  # where the MLP's outputs go

    def __init__(self, n_phi: int, t_range, mu_range, *, width: int = 32, depth: int = 3,
                 log_mu: bool = False, held: Sequence[bool] | None = None,
                 key: PRNGKeyArray):
        index = None if held is None or not any(held) else tuple(
            i for i, h in enumerate(held) if not h)
        if held is not None and len(held) != n_phi:
            raise ValueError(f"held has {len(held)} entries for {n_phi} online weights")
        self.mlp = eqx.nn.MLP(2, n_phi if index is None else len(index), width, depth,
                              activation=jax.nn.swish, key=key)
        self.t_range = (float(t_range[0]), float(t_range[1]))
        self.mu_range = (float(mu_range[0]), float(mu_range[1]))
        self.log_mu = bool(log_mu)
        self.n_phi = int(n_phi)
        self.index = index

    def normalise(self, t: ArrayLike, mu: ArrayLike) -> Float[Array, " 2"]:
        t0, t1 = self.t_range
        lo, hi = self.mu_range
        mu = jnp.asarray(mu, dtype=jnp.zeros(()).dtype)
        if self.log_mu:
            mu, lo, hi = jnp.log(mu), math.log(lo), math.log(hi)
        tn = 2 * (t - t0) / (t1 - t0) - 1
        mn = 2 * (mu - lo) / (hi - lo) - 1 if hi > lo else jnp.zeros_like(mu)
        return jnp.stack([tn, mn])

    def __call__(self, t: ArrayLike, mu: ArrayLike) -> Float[Array, " p"]:
        out = self.mlp(self.normalise(t, mu))
        if self.index is None:
            return out
        return jnp.zeros((self.n_phi,), out.dtype).at[jnp.asarray(self.index)].set(out)


def online_filter(model: PyTree) -> PyTree[bool]:
    """`True` at the online leaves of `model` (named in `ONLINE_NAMES`), `False` elsewhere."""

    def is_online(path, leaf):
        name = getattr(path[-1], "name", None) if path else None
        return eqx.is_array(leaf) and name in ONLINE_NAMES

    return jax.tree_util.tree_map_with_path(is_online, model)


def pool_mask(net: PyTree) -> np.ndarray:
    """`True` at the online weights of `net` that are pool scales (`pool_alpha` of its
    layers), in the order of `get_phi`: `AdaptiveOnline(~pool_mask(net), ...)` keeps the
    network's own online weights always active and brings the pool online as needed."""

    def mark(path, leaf):
        name = getattr(path[-1], "name", None) if path else None
        return np.full(leaf.size, name == "pool_alpha")

    online = eqx.filter(net, online_filter(net))
    marks = jax.tree_util.tree_flatten_with_path(online)[0]
    if not marks:
        return np.zeros(0, bool)
    return np.concatenate([mark(path, leaf) for path, leaf in marks])


def get_phi(model: PyTree) -> Float[Array, " p"]:
    """The online weights of `model` as one flat vector."""
    leaves = jax.tree.leaves(eqx.filter(model, online_filter(model)))
    return jnp.concatenate([jnp.ravel(leaf) for leaf in leaves])


def num_phi(model: PyTree) -> int:
    return sum(leaf.size for leaf in jax.tree.leaves(eqx.filter(model, online_filter(model))))


def set_phi(model: PyTree, phi: Float[Array, " p"]) -> PyTree:
    """`model` with its online weights replaced by the flat vector `phi`."""
    online, offline = eqx.partition(model, online_filter(model))
    leaves, treedef = jax.tree.flatten(online)
    size = sum(leaf.size for leaf in leaves)
    if phi.shape != (size,):
        raise ValueError(f"phi has shape {phi.shape}, the model has {size} online weights")
    new, start = [], 0
    for leaf in leaves:
        new.append(phi[start : start + leaf.size].reshape(leaf.shape).astype(leaf.dtype))
        start += leaf.size
    return eqx.combine(jax.tree.unflatten(treedef, new), offline)
