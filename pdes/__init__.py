"""Parameterised PDEs for neural-galerkin, each with a finite-difference reference."""

from ._advection import Advection as Advection
from ._base import AbstractEquation as AbstractEquation
from ._burgers import Burgers as Burgers, cole_hopf as cole_hopf
from ._fd import (
    ReferenceSolution as ReferenceSolution,
    convergence_slope as convergence_slope,
    fd_solve as fd_solve,
)

EQUATIONS: dict[str, type[AbstractEquation]] = {"advection": Advection, "burgers": Burgers}


def get(name: str) -> AbstractEquation:
    """The shipped equation called `name`, with its default settings."""
    try:
        return EQUATIONS[name.lower()]()
    except KeyError:
        raise ValueError(
            f"unknown PDE {name!r}; the shipped PDEs are: {', '.join(sorted(EQUATIONS))}"
        ) from None
