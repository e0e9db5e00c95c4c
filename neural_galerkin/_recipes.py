"""How the shipped pretrained models are made: `neural-galerkin pretrain PDE` follows these."""

import dataclasses
import pathlib
from typing import Any

WEIGHTS_DIR = pathlib.Path(__file__).parent / "weights"


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Training data and hyperparameters of a shipped model.

    - `train_mus`: parameters of the FD training trajectories (their extremes set the range
      inside which the model may be used);
    - `data`: `"fd"` (FD trajectories on `n` points per direction), `"exact"` (the
      equation's exact solution at `n` uniformly random points: for high dimension) or
      `"file"` (snapshots from a data file that is not part of the package: `source` says
      which, and the commands that reproduce the weights from it);
    - `n_times`: snapshots in `[0, t1]`;
    - `default_mu`: the parameter `neural-galerkin solve PDE` uses: not a training value;
    - `model`: `ModelConfig` keywords; `steps`, `seed`: pretraining;
    - `data_seed`: the seed of `"exact"` data's random points, where it is not `seed`;
    - `residual_weight`, `residual_points`: equation-aware pretraining (see `pretrain`);
    - `loss`, `learning_rate`: `pretrain`'s (`"log"` for a density on R^d).
    """

    train_mus: tuple[float, ...]
    default_mu: float
    test_mus: tuple[float, ...]
    n: int = 1024
    data: str = "fd"
    n_times: int = 101
    steps: int = 20_000
    seed: int = 0
    data_seed: int | None = None
    model: dict[str, Any] = dataclasses.field(default_factory=dict)
    residual_weight: float = 0.0
    residual_points: int = 128
    source: str = ""
    loss: str = "relative"
    learning_rate: float = 3e-3

    def points_seed(self, seed: int | None = None) -> int:
        """The seed that draws `"exact"` data's random points: `seed` where given (`pretrain
        --seed`), else `data_seed`, else `seed`."""
        if seed is not None:
            return seed
        return self.seed if self.data_seed is None else self.data_seed


RECIPES: dict[str, Recipe] = {
    "burgers": Recipe(
        train_mus=(1.0e-3, 1.5e-3, 2.2e-3, 3.2e-3, 4.6e-3, 6.8e-3, 1.0e-2),
        default_mu=3.9e-3,
        test_mus=(1.8e-3, 3.9e-3, 8.2e-3),
        model=dict(width=40, depth=6, rank=2),
        residual_weight=0.1,
        residual_points=64,
    ),
    "advection": Recipe(
        train_mus=(0.5, 0.75, 1.0, 1.25, 1.5),
        default_mu=0.9,
        test_mus=(0.6, 0.9, 1.4),
        n=512,
        steps=10_000,
        model=dict(width=24, depth=4, rank=2, online_shift=True),
    ),
    # FD data on 256^2 (its own error at t = 4 against the exact solution: 1.2e-2 at mu = 0.5,
    # 3.8e-2 at mu = 1.5); two frequencies, no online shift (the blob turns, it does not
    # translate; a shift trained worse), equation-aware (EQ 6.1e-2 -> 4.7e-2 at 3000 steps)
    "vlasov": Recipe(
        train_mus=(0.5, 2 / 3, 5 / 6, 1.0, 7 / 6, 4 / 3, 1.5),
        default_mu=0.9,
        test_mus=(0.6, 0.9, 1.4),
        n=256,
        n_times=41,
        steps=8000,
        model=dict(width=32, depth=5, rank=2, n_freq=2),
        residual_weight=0.1,
        residual_points=128,
    ),
    # FD data on 1024 points (its error against FD on 4096: 1.1e-4 at mu = 2.5e-3, 6.5e-5 at
    # mu = 1e-2). The error is set by the fit of the narrow bumps of the initial condition:
    # three frequencies (3000 steps: EQ 1.5e-2 -> 9.2e-3 at mu = 4.8e-3 from n_freq 1 to 3).
    # Data-only: EQ already follows D, and the residual term doubled the cost per step and
    # trained worse at equal steps (3000 steps: EQ 1.5e-2 -> 2.2e-2 at mu = 4.8e-3)
    "allen-cahn": Recipe(
        train_mus=(2.5e-3, 3.2e-3, 4.2e-3, 5.5e-3, 7.5e-3, 1.0e-2),
        default_mu=4.8e-3,
        test_mus=(2.9e-3, 4.8e-3, 8.5e-3),
        n=1024,
        steps=10_000,
        model=dict(width=40, depth=6, rank=2, n_freq=3),
    ),
    # The exact two-soliton solution at 4096 random points: the second-order FD is a poor
    # source here (its error against the exact solution at mu = 2: 4.1e-2 on 512 points,
    # 1.0e-2 on 1024, which already takes 1.35e5 steps). Strongly equation-aware: at 3000
    # steps, EQ error at mu = 1.75 up to t = 2 was 0.56 data-only, 0.23 with weight 1e-1 and
    # 2.5e-2 with weight 1 (residual at t = 0: 0.33, 0.08, 0.07). Four Fourier frequencies
    # (the box is 60 long, a soliton about 1 wide), rank 3 and 60,000 steps: the first model
    # whose EQ follows both solitons through their collision at all three test wave numbers
    # (largest error over t in [0, 8]: 2.3e-3 / 2.9e-3 / 4.0e-3 at 1.55 / 1.75 / 1.95, at or
    # below D's). Trained in float32 in 130 s on an H100 (benchmarks/kdv_larger_model.py
    # --steps 60000; about 0.1 s a step on one CPU core: 1.7 hours; `pretrain kdv` trains in
    # float64, as the command line computes, so its weights differ in the bits); the model
    # shipped before (width 32, rank 2, one frequency, 10,000 steps) is kept as
    # benchmarks/weights/kdv_v1: D ~1e-2, its EQ lost the solitons at the collision
    "kdv": Recipe(
        train_mus=(1.5, 1.6, 1.7, 1.8, 1.9, 2.0),
        default_mu=1.55,
        test_mus=(1.55, 1.75, 1.95),
        data="exact",
        n=4096,
        steps=60_000,
        seed=5,
        data_seed=0,
        model=dict(width=48, depth=5, rank=3, n_freq=4, online_shift=True),
        residual_weight=1.0,
        residual_points=128,
    ),
}

# The CoLoRA authors' 2D Burgers data (not FD: their snapshots, 51 times on a 128 x 128 grid, of
# the bump `pdes.Burgers.in_dimension(2)` starts from), without the two test viscosities of the
# authors' split. Data-only; the FD reference from the same initial condition differs from the
# data by 2e-3 - 3e-3 at the test viscosities (benchmarks/results/burgers2d_data.md)
RECIPES["burgers-2d"] = Recipe(
    train_mus=(1e-3, 1.99e-3, 2.98e-3, 4.96e-3, 5.95e-3, 6.94e-3, 8.92e-3, 1e-2),
    default_mu=7.93e-3,
    test_mus=(3.97e-3, 7.93e-3),
    n=128,
    data="file",
    n_times=51,
    steps=370_000,
    model=dict(width=40, depth=6, rank=2),
    source="the CoLoRA authors' 2D Burgers snapshots (julesberman/CoLoRA, data/burgers/, as one "
    ".npz with u (mu, t, x0, x1), mu, t, x0, x1); stage 0: `neural-galerkin pretrain "
    "burgers-2d --data colora_burgers2d.npz --exclude-mu 0.00397 0.00793 --steps 20000 "
    "--width 40 --depth 6 --rank 2 --out STAGE0`, then the 14 stages of "
    "`python benchmarks/burgers2d_train.py --init STAGE0 --out DIR --data "
    "colora_burgers2d.npz` listed in benchmarks/results/burgers2d_train.md (4.1 h on one CPU "
    "core)",
)

# The bounded cases: the ansatz holds the boundary data exactly (zero Dirichlet data by the
# factor sin(pi x), zero Neumann data by the even cos embedding; `CoLoRAMLP`)
RECIPES["heat-dirichlet"] = Recipe(
    train_mus=(0.01, 0.0158, 0.0251, 0.0398, 0.0631, 0.1),
    default_mu=0.045,
    test_mus=(0.013, 0.045, 0.08),
    data="exact",
    n=1024,
    n_times=41,
    steps=15_000,
    model=dict(width=32, depth=5, rank=3, n_freq=2),
)
RECIPES["allen-cahn-neumann"] = Recipe(
    train_mus=(1e-3, 1.58e-3, 2.51e-3, 3.98e-3, 6.31e-3, 1e-2),
    default_mu=3.2e-3,
    test_mus=(1.3e-3, 3.2e-3, 8e-3),
    n=513,
    n_times=81,
    steps=10_000,
    model=dict(width=32, depth=5, rank=2, n_freq=3),
)

# The systems: two fields, one output each. wave-2d: the reference on 64^2 (spectral, exact to
# 1e-9). The shipped network embeds each direction with eight Fourier frequencies (width 48,
# depth 5, rank 3), all its stages with the first snapshots drawn more often (`--early-weight
# 20`): 165000 steps of 16 x 512 points on one CPU core without the residual term (D 4.3e-3 /
# 4.8e-3 at mu = 0.55 / 0.85), then with it (weight 0.1) 15000 + 19000 steps on one core
# (`f8`, `f8-residual`, `f8-residual-more` in budget_pretrain_freq.md; kept as
# benchmarks/weights/wave2d_f8), then on a GPU 52000 steps of 32 x 4096 (`f8continued`, kept
# as benchmarks/weights/wave2d_f8c) and 20000 more at a peak rate of 1e-4 (`A` in
# budget_pretrain_wave_gpu.md). Against the exact solution (wave-2d_accuracy.md, float64):
# D 3.2e-3 / 3.3e-3, EQ in the wave's energy norm (`Wave2D.galerkin_gradient_fields`)
# 3.5e-3 / 3.6e-3 (wave-2d_error_floors_f8gpu_*.md: EQ beside the model's best fit at each
# time). The model shipped before it (three frequencies, width 32; its GPU and CPU stages in
# budget_pretrain_gpu.md, budget_pretrain_cpu.md, budget_pretrain_early.md) had D 6.0e-3 /
# 7.9e-3 and EQ 7.2e-3 / 8.8e-3
RECIPES["wave-2d"] = Recipe(
    train_mus=(0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
    default_mu=0.85,
    test_mus=(0.55, 0.85),
    n=64,
    n_times=41,
    steps=20_000,  # `pretrain wave-2d`'s default; the shipped model's stages (above): 271000
    model=dict(width=48, depth=5, rank=3, n_freq=8),
)
# The CoLoRA authors' RDE data (their HDF5 folder, 12 injection strengths, 101 times on 512
# points), which `pdes.RDE` reproduces to 2e-5 when integrated as they did (backward Euler).
# 20000 steps (12.7 min on 2 CPU cores) gave D against the held-out data 2.1e-3 (mu = 2.3),
# 1.9e-3 (2.7); the shipped model continues them with the residual term (weight 0.1), 53000 +
# 37000 steps of 32 x 512 points on a GPU (budget_pretrain_gpu.md): D against the data
# 1.35e-3 / 1.23e-3, against the converged equation (which differs from the data by 5.9e-3
# at 2.3) 6.0e-3 / 4.0e-3; EQ 2.1e-2 / 2.9e-2, its Galerkin residual up to 0.5-0.8 (that
# model is kept, not shipped: benchmarks/weights/rde_colora_data). The shipped model
# continues it for 24000 steps (16 x 512 points, peak rate 1e-4, one CPU core, 2460 s) on the
# converged equation's own trajectories at the same parameters, times and grid
# (benchmarks/reference_trajectories.py), so that the manifold holds the solutions EQ
# follows: against the converged equation D 1.06e-3 / 8.4e-4, EQ 1.15e-3 / 9.0e-4, residual
# <= 0.034 (rde_accuracy.md); against the data D 5.9e-3 / 3.9e-3 (their own time error),
# EQ 6.5e-3 / 3.5e-3 (rde_data.md)
RECIPES["rde"] = Recipe(
    train_mus=(2.0, 2.1, 2.2, 2.4, 2.5, 2.6, 2.8, 2.9, 3.0, 3.1),
    default_mu=2.7,
    test_mus=(2.3, 2.7),
    n=512,
    data="file",
    n_times=101,
    steps=134_000,  # in all: 20000, then 90000 + 24000 by benchmarks/budget_pretrain.py
    model=dict(width=40, depth=6, rank=3),
    residual_weight=0.1,
    residual_points=256,
    source="the CoLoRA authors' RDE data (julesberman/CoLoRA, data/rde/: one HDF5 file per "
    "parameter); `neural-galerkin pretrain rde --data data/rde --exclude-mu 2.3 2.7 --width 40 "
    "--depth 6 --rank 3 --out DIR`, then `python benchmarks/budget_pretrain.py rde --data "
    "data/rde --init DIR --residual-weight 0.1 ...` twice (benchmarks/results/"
    "budget_pretrain_gpu.md gives each run's options), then on the converged equation's "
    "trajectories: `python benchmarks/reference_trajectories.py rde --like data/rde --out "
    "REF.npz` and `python benchmarks/budget_pretrain.py rde --data REF.npz --init DIR2 ...` "
    "(run 11-rde-converged of benchmarks/results/budget_pretrain_early.md)",
)

# The CoLoRA authors' Vlasov data (their HDF5 folder, 9 parameters, 63 times on a 100 x 100
# grid), which `pdes.VlasovCoLoRA` (its fitted field) reproduces to 3e-4 - 1.9e-3; trained without
# the authors' test pair 0.25, 0.35. Shipped: the stage-6 model of vlasov_colora_train.md
# (18000 steps of 32 x 512 points on CPU, D 2.4e-2 / 2.1e-2) continued with the equation-aware
# residual term (weight 0.1): 55000 + 40000 steps of 32 snapshots x 4096 points on a GPU, then
# 23000 of 16 x 512 on CPU (peak rate 1e-4), then 11000 of 16 x 1024 on CPU (peak rate 3e-5;
# budget_pretrain_gpu.md, budget_pretrain_cpu.md), then 26000 + 16000 + 12000 + 27000 on one
# CPU core with the first snapshots drawn more often (`--early-weight 10`,
# budget_pretrain_early.md). Against the data (vlasov_colora_data.md): D 2.69e-3 / 2.36e-3 (the
# authors report 2.75e-3 for the pair), EQ from the data's t = 0 snapshot with mass by
# projection 3.93e-3 / 3.09e-3 on the equation's default 100 x 100 samples (4.17e-3 / 3.16e-3
# on 64 x 64; the initial fit's 2.65e-3 / 2.10e-3 is most of it), mass drift <= 3.8e-15
RECIPES["vlasov-colora"] = Recipe(
    train_mus=(0.2, 0.224, 0.274, 0.3, 0.326, 0.376, 0.4),
    default_mu=0.35,
    test_mus=(0.25, 0.35),
    n=100,
    data="file",
    n_times=63,
    steps=229_000,  # in all, over the stages above
    model=dict(width=40, depth=6, rank=3),
    residual_weight=0.1,
    source="the CoLoRA authors' Vlasov data (julesberman/CoLoRA, data/vlasov/: one HDF5 file "
    "per parameter, extracted with `git show HEAD:data/vlasov/NAME > DIR/NAME`); "
    "`python benchmarks/vlasov_colora_train.py --data DIR --out OUT` (stages 1-6, float32, "
    "benchmarks/results/vlasov_colora_train.md), then `python benchmarks/budget_pretrain.py "
    "vlasov-colora --data DIR --init OUT/stage_6 --residual-weight 0.1 ...` eight times "
    "(benchmarks/results/budget_pretrain_gpu.md, budget_pretrain_cpu.md and "
    "budget_pretrain_early.md give each run's options)",
)

# advection-diffusion in d = 4, 5, 6: trained on the exact solution at random points (no grid
# fits in memory there); the online shift carries the advection, the CoLoRA weights the decay
for _d in (4, 5, 6):
    RECIPES[f"advection-diffusion-{_d}d"] = Recipe(
        train_mus=(5e-3, 7.96e-3, 1.27e-2, 2.02e-2, 3.21e-2, 5e-2),
        default_mu=2.2e-2,
        test_mus=(7.5e-3, 2.2e-2, 4e-2),
        data="exact",
        n=8192,
        n_times=41,
        steps=6000,
        model=dict(width=32, depth=4, rank=2, n_freq=2, online_shift=True),
        residual_weight=0.1,
        residual_points=64,
    )

# Fokker-Planck of 8 interacting particles, a density on R^8: the exact Gaussian at 4096 points
# drawn from it per snapshot; a small network with a Gaussian envelope (the benchmark's:
# 16 wide, 3 layers, rank 2), its hypernetwork started at the snapshots' sample moments and
# trained on the logarithm of the density (`pretrain(loss="log")`) at a lower learning rate,
# which refines that start (d = 8, 1000 steps at 3e-4: envelope mean / covariance errors
# 1.7e-3 / 1.7e-2 at the held-out alphas, density 1.5e-2 to 7.6e-2 over t; from a random start
# the envelope did not move: mean 93% off after 3000 steps at 3e-3); data only (the residual
# term's uniform points would miss the mass). Held out: alpha = 0.125 and 0.375, where the
# shipped weights (2500 steps) give D 9.4e-2 / 7.5e-2 and EQ 9.7e-4 / 9.9e-4 (density, worst of
# 41 times; benchmarks/results/fokker_planck_pretrained.md).
RECIPES["fokker-planck-8d"] = Recipe(
    train_mus=(0.0, 0.0625, 0.25, 0.3125, 0.4375, 0.5),
    default_mu=0.375,
    test_mus=(0.125, 0.375),
    data="exact",
    n=4096,
    n_times=41,
    steps=2500,
    model=dict(width=16, depth=3, rank=2),
    loss="log",
    learning_rate=3e-4,
)


def default_recipe(equation) -> Recipe:
    """How `neural-galerkin pretrain --equation SPEC` (without `--data`) trains a model of a
    user's equation: on the reference `solve` compares with by default, at 5 parameters
    across its `mu_range` (log-spaced where the range spans a factor 10 or more, else
    evenly), 41 times in `[0, t1]`, with the default network and 20000 steps (as with
    `--data`), data-only. Up to 3 dimensions the reference solutions (its finite differences,
    or the pseudo-spectral solve of its `F`) on 1024 / 128 / 32 points per direction (fewer
    where the equation sets `reference_points` lower); above, its exact solution at 8192
    random points (an equation without one needs `--data`)."""
    import pdes

    lo, hi = (float(m) for m in equation.mu_range)
    if lo > 0 and hi >= 10 * lo:
        mus = tuple(lo * (hi / lo) ** (k / 4) for k in range(5))
    else:
        mus = tuple(lo + (hi - lo) * k / 4 for k in range(5))
    d = equation.ndim
    if d <= 3:
        data, n = "fd", {1: 1024, 2: 128, 3: 32}[d]
        n = min(n, equation.reference_points or n)
    elif isinstance(equation, pdes.AbstractExactEquation):
        data, n = "exact", 8192
    else:
        raise ValueError(f"{equation.name} is {d}-dimensional and has no exact solution "
                         "(pdes.AbstractExactEquation): no grid reference fits in memory to "
                         "train on; give --data FILE")
    return Recipe(train_mus=mus, default_mu=(mus[1] + mus[2]) / 2, test_mus=(), n=n,
                  data=data, n_times=41, steps=20_000)


def shipped_weights(name: str) -> pathlib.Path:
    return WEIGHTS_DIR / name


def load_pretrained(name: str):
    """The shipped pretrained model for the PDE `name` (see `RECIPES` for how it was made)."""
    from ._model import load_model

    if name.lower() not in RECIPES:
        raise ValueError(f"no shipped model for {name!r}; shipped: {', '.join(sorted(RECIPES))}")
    return load_model(shipped_weights(name.lower()))
