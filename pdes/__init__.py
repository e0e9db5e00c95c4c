"""Parameterised PDEs for neural-galerkin, each with a reference solver: hand-written finite
differences, or derived from the right-hand side it states once (`F`)."""

from typing import Protocol

from ._advection import Advection as Advection
from ._advection_diffusion import AdvectionDiffusion as AdvectionDiffusion
from ._allen_cahn import AllenCahn as AllenCahn, AllenCahnNeumann as AllenCahnNeumann
from ._base import (
    AbstractEquation as AbstractEquation,
    AbstractExactEquation as AbstractExactEquation,
    check_parameter as check_parameter,
    rhs_at as rhs_at,
)
from ._boundary import (
    AbstractBoundary as AbstractBoundary,
    Dirichlet as Dirichlet,
    Neumann as Neumann,
    Periodic as Periodic,
    Unbounded as Unbounded,
)
from ._burgers import Burgers as Burgers, cole_hopf as cole_hopf
from ._fd import (
    MIN_GRID_POINTS as MIN_GRID_POINTS,
    ReferenceSolution as ReferenceSolution,
    check_grid_points as check_grid_points,
    convergence_slope as convergence_slope,
    fd_solve as fd_solve,
    reference_method as reference_method,
    reference_solve as reference_solve,
    spectral_solve as spectral_solve,
)
from ._fokker_planck import (
    FokkerPlanck as FokkerPlanck,
    FokkerPlanckQuartic as FokkerPlanckQuartic,
    MonteCarloMoments as MonteCarloMoments,
    gaussian_density as gaussian_density,
    monte_carlo as monte_carlo,
)
from ._heat import HeatDirichlet as HeatDirichlet
from ._kdv import KdV as KdV
from ._operators import (
    BOUNDED_ORDER as BOUNDED_ORDER,
    AbstractField as AbstractField,
    GridField as GridField,
    PointField as PointField,
)
from ._rde import RDE as RDE
from ._vlasov import Vlasov as Vlasov
from ._vlasov_colora import VlasovCoLoRA as VlasovCoLoRA
from ._wave import Wave2D as Wave2D


class _Shipped(Protocol):
    """What `pdes.EQUATIONS` holds: an equation's class, which makes it with its defaults
    (`cls()`) or in `d` dimensions (`cls.in_dimension(d)`)."""

    def __call__(self) -> AbstractEquation: ...

    def in_dimension(self, d: int) -> AbstractEquation: ...


EQUATIONS: dict[str, _Shipped] = {"advection": Advection,
    "advection-diffusion": AdvectionDiffusion, "allen-cahn": AllenCahn,
    "fokker-planck": FokkerPlanck, "fokker-planck-quartic": FokkerPlanckQuartic,
    "allen-cahn-neumann": AllenCahnNeumann, "burgers": Burgers,
    "heat-dirichlet": HeatDirichlet, "kdv": KdV, "rde": RDE, "vlasov": Vlasov,
    "vlasov-colora": VlasovCoLoRA,
    "wave-2d": Wave2D}


def get(name: str) -> AbstractEquation:
    """The shipped equation called `name`, with its default settings. `"NAME-Kd"` gives the
    equation in `K` dimensions, for those that have a `in_dimension(K)` (e.g.
    `"advection-diffusion-6d"`, `"burgers-2d"`)."""
    name = name.lower()
    base, _, dim = name.rpartition("-")
    if name not in EQUATIONS and base in EQUATIONS and dim[:-1].isdigit() and dim[-1:] == "d":
        return EQUATIONS[base].in_dimension(int(dim[:-1]))
    try:
        return EQUATIONS[name]()
    except KeyError:
        raise ValueError(
            f"unknown PDE {name!r}; the shipped PDEs are: {', '.join(sorted(EQUATIONS))} "
            "(and NAME-Kd in K dimensions where the equation allows it)"
        ) from None
