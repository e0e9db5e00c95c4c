"""neural-galerkin: equation-driven reduced models of parameterised PDEs in JAX."""

import importlib.metadata

from ._adaptive import AdaptiveOnline as AdaptiveOnline, online_labels as online_labels
from ._batch import solve_batch as solve_batch
from ._checkpoint import Checkpoint as Checkpoint, load_checkpoint as load_checkpoint
from ._checks import (
    as_sampler as as_sampler,
    default_samples as default_samples,
    sample_points as sample_points,
)
from ._compare import compare as compare
from ._cubature import gauss_hermite_sparse_grid as gauss_hermite_sparse_grid
from ._data import (
    PointTrajectories as PointTrajectories,
    Trajectories as Trajectories,
    load_trajectories as load_trajectories,
    trajectories_from_exact as trajectories_from_exact,
    trajectories_from_fd as trajectories_from_fd,
)
from ._fit import fit_initial_condition as fit_initial_condition
from ._galerkin import (
    GalerkinField as GalerkinField,
    LeastSquares as LeastSquares,
    SparseUpdates as SparseUpdates,
)
from ._implicit import RegularisedImplicit as RegularisedImplicit
from ._invariants import (
    AbstractInvariant as AbstractInvariant,
    Conservation as Conservation,
    Energy as Energy,
    EquationInvariant as EquationInvariant,
    Functional as Functional,
    Mass as Mass,
    get_invariant as get_invariant,
)
from ._lift import BoundaryLift as BoundaryLift, boundary_lift as boundary_lift
from ._model import (
    CoLoRAModel as CoLoRAModel,
    ModelConfig as ModelConfig,
    add_pool as add_pool,
    load_model as load_model,
    make_model as make_model,
    save_model as save_model,
)
from ._network import (
    CoLoRALinear as CoLoRALinear,
    CoLoRAMLP as CoLoRAMLP,
    GaussianEnvelope as GaussianEnvelope,
    HyperNetwork as HyperNetwork,
    PeriodicEmbedding as PeriodicEmbedding,
    envelope_phi as envelope_phi,
    get_phi as get_phi,
    num_phi as num_phi,
    online_filter as online_filter,
    pool_mask as pool_mask,
    set_phi as set_phi,
)
from ._outcome import check_solution as check_solution
from ._predict import manifold_residual as manifold_residual, predict as predict
from ._recipes import RECIPES as RECIPES, load_pretrained as load_pretrained
from ._report import ComparisonReport as ComparisonReport, summary as summary
from ._sampling import (
    AbstractSampler as AbstractSampler,
    AnsatzMoments as AnsatzMoments,
    EnvelopeSampler as EnvelopeSampler,
    FixedSampler as FixedSampler,
    RandomSampler as RandomSampler,
    SteepSampler as SteepSampler,
    UniformSampler as UniformSampler,
    ansatz_moments as ansatz_moments,
    envelope_points as envelope_points,
)
from ._solution import (
    RESULTS as RESULTS,
    GalerkinResidualWarning as GalerkinResidualWarning,
    IncompleteSolutionWarning as IncompleteSolutionWarning,
    Solution as Solution,
    SolveError as SolveError,
)
from ._solve import balanced_field_weights as balanced_field_weights, solve as solve
from ._solver import GalerkinSolver as GalerkinSolver
from ._timing import compile_and_run as compile_and_run
from ._training import early_time_weights as early_time_weights, pretrain as pretrain

try:
    __version__ = importlib.metadata.version("neural-galerkin")
except importlib.metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"
