"""`neural-galerkin solve`: a reduced solve at a parameter, compared with a reference."""

import json
import pathlib
import time
import warnings

import numpy as np

from ._cli import _say


def solve_command(args) -> int:
    """`neural-galerkin solve`: every option checked, then the comparison and its report."""
    import diffrax as dfx
    import jax.random as jr

    import pdes

    from ._checks import as_sampler
    from ._cli import load_equation, shipped_equation
    from ._compare import check_model_fits, compare
    from ._files import check_output_file, write_text_atomic
    from ._invariants import Conservation
    from ._model import load_model
    from ._recipes import RECIPES, shipped_weights
    from ._sampling import RandomSampler, SteepSampler
    from ._solution import GalerkinResidualWarning
    from ._solve import as_field_weights

    for path, what in ((args.json, "--json"), (args.plot, "--plot")):
        if path is not None:
            check_output_file(path, what)
    if args.plot is not None:
        from ._plotting import _pyplot

        _pyplot()  # matplotlib is there, before the work whose figure it draws
    if args.equation is not None:  # the user's equation: no recipe, no shipped weights
        if args.pde is not None:
            raise ValueError(f"give a shipped PDE ({args.pde}) or --equation "
                             f"{args.equation}, not both")
        eq = load_equation(args.equation)
        key, rec = eq.name, None
        if args.weights is None:
            raise ValueError(f"your equation {eq.name!r} has no shipped weights; give "
                             "--weights DIR (make them with `neural-galerkin pretrain "
                             f"--equation {args.equation} --out DIR`)")
    elif args.pde is None:
        raise ValueError("give a PDE name (see `neural-galerkin list`) or --equation SPEC "
                         "(your own equation: package.module:Class or path/to/file.py:Class)")
    else:
        eq = shipped_equation(args.pde)
        key = args.pde.lower()
        rec = RECIPES.get(key)
    if args.weights is None:
        if rec is None and any(isinstance(b, pdes.Unbounded) for b in eq.boundaries):
            shipped = sorted(k for k in RECIPES if k.startswith(f"{eq.name}-"))
            raise ValueError(f"no shipped weights or recipe for {args.pde!r} (a density on "
                             f"R^{eq.ndim}); shipped: {', '.join(shipped) or 'none'}. Build "
                             "its envelope network in Python (docs/equations.md, the "
                             "Fokker-Planck section) or give --weights DIR")
        if rec is None or not shipped_weights(key).is_dir():
            raise ValueError(f"no shipped weights for {args.pde!r}; give --weights DIR (make "
                             f"them with `neural-galerkin pretrain {key} --out DIR`"
                             f"{'' if rec else ' --data FILE.npz'})")
        weights = shipped_weights(key)
    else:
        weights = pathlib.Path(args.weights)
    model = load_model(weights)
    check_model_fits(eq, model)
    if args.mu is not None:
        mu = args.mu
    elif rec is not None:
        mu = rec.default_mu
    else:
        raise ValueError(f"give --mu (a parameter inside the model's range "
                         f"[{model.mu_range[0]:g}, {model.mu_range[1]:g}])")
    eq.check_mu(mu, model.mu_range)
    meter = dfx.TqdmProgressMeter() if args.progress else dfx.NoProgressMeter()
    conserve = tuple(c.strip() for c in args.conserve.split(",") if c.strip())
    conservation = Conservation(conserve, method=args.conserve_method) if conserve else None
    n = args.samples if args.samples is not None else as_sampler(eq, None).n
    samples = {"uniform": lambda: args.samples,
               "random": lambda: RandomSampler(n, jr.PRNGKey(0)),
               "steep": lambda: SteepSampler(n, jr.PRNGKey(0))}[args.sampler]()
    field_weights = args.field_weights
    if field_weights is not None and field_weights not in ("plain", "balanced"):
        try:
            field_weights = [float(w) for w in field_weights.split(",")]
        except ValueError:
            raise ValueError(f"--field-weights {args.field_weights}: give plain, balanced or "
                             f"one number per field {eq.fields}, comma-separated") from None
    as_field_weights(field_weights, eq, model)  # refused before any work
    gradient_weights = gradient_weights_option(args.gradient_weights, eq)
    data = None
    if args.data is not None:
        from ._data import load_trajectories

        if args.mu is None:
            raise ValueError("solve --data needs --mu: which of the data's trajectories")
        if args.reference is not None or args.n_ref is not None:
            raise ValueError("--data is the reference: drop --reference and --n-ref")
        data = load_trajectories(args.data)
        reference = "data"
    else:
        reference = args.reference or (pdes.reference_method(eq) if eq.ndim <= 3 else "exact")
    _say(f"{key}: mu={mu:g}, mode={args.mode}; solving (reference: {reference}, then the "
         "reduced model) ...")
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GalerkinResidualWarning)
        report = compare(eq, model, mu, mode=args.mode, t1=args.t1, n_ref=args.n_ref,
                         reference=None if data is not None else reference, data=data,
                         samples=samples, rtol=args.rtol, atol=args.rtol * 1e-2,
                         progress_meter=meter, conserve=conservation,
                         field_weights=field_weights, gradient_weights=gradient_weights)
    total = time.perf_counter() - start
    r = report
    rows = [("pde", key), ("mu", f"{r.mu:g}"), ("mode", r.mode), ("final time", f"{r.t1:g}"),
            ("relative L2 error (space-time)", f"{r.rel_error:.3e}"),
            ("relative L2 error at final time", f"{r.rel_error_final:.3e}"),
            ("relative L2 error over time", "  ".join(
                f"t={r.ts[j]:.3g}: {r.errors_over_time[j]:.2e}"
                for j in np.linspace(0, len(r.ts) - 1, 5).round().astype(int))),
            *((f"relative L2 error of {name}", f"{e:.3e}") for name, e in
              r.field_errors.items()),
            ("mass drift (reduced)", f"{r.mass_drift:.3e}"),
            (f"mass drift ({reference} reference)", f"{r.mass_drift_reference:.3e}")]
    if r.moment_errors:  # a density on R^d: at points drawn from the exact density
        rows[-2:] = [(f"{k} (importance sampling, {r.n_ref} points per time)", v)
                     for k, v in rows[-2:]]
        if r.mass_drift_se is not None:  # measured in the ansatz's own frame instead
            rows[-2] = ("mass drift (reduced; its own frame, 65536 draws, Hermite control "
                        "variates)", f"{r.mass_drift:.3e} +- {r.mass_drift_se:.1e}")
        rows += [(f"relative error of the {name} (largest over time)", f"{e:.3e}")
                 for name, e in r.moment_errors.items()]
    elif eq.ndim > 3 and reference == "exact":
        rows[-2:] = [(f"{k} (Monte Carlo on {r.n_ref} random points)", v)
                     for k, v in rows[-2:]]
    # what the solve held, on the quadrature it held it with (in 1D the reference grid, so
    # the same as "mass drift (reduced)"; above, the samples' grid: where the reduced solution
    # has content that grid does not resolve, the reference grid's mass drifts although the
    # conserved one does not, and the two lines say so)
    rows += [(f"{name} drift (conserved, {args.conserve_method}, on its quadrature)",
              f"{r.drifts[name]:.3e}") for name in conserve]
    if r.max_residual is not None:
        rows += [("initial fit error", f"{r.fit_error:.3e}"),
                 ("max Galerkin residual", f"{r.max_residual:.3e}"),
                 ("time steps", f"{r.num_steps}")]
    rows += [("online time [s] (no compile)", f"{r.time_online_s:.3f}"),
             ("compile time [s]", f"{r.time_compile_s:.3f}"),
             (f"{reference} reference time [s] (n={r.n_ref}, no compile)",
              f"{r.time_reference_s:.3f}"),
             ("total wall time [s]", f"{total:.1f}")]
    width = max(len(k) for k, _ in rows) + 2
    for k, v in rows:
        print(f"{k:<{width}}{v}")
    for w in caught:
        if issubclass(w.category, GalerkinResidualWarning):
            _say(f"warning: {w.message}; the error against the {reference} reference above "
                 "is what to trust")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if args.json:
        # the name asked for: "burgers-2d", not the family's "burgers"
        summary = {**report.to_dict(), "pde": key}
        write_text_atomic(args.json, json.dumps(summary, indent=2) + "\n")
        _say(f"wrote {args.json}")
    if args.plot:
        from ._plotting import plot_comparison

        plot_comparison(report, args.plot)
        _say(f"wrote {args.plot}")
    return 0


def gradient_weights_option(text: str | None, eq) -> dict[str, float] | str | None:
    """`--gradient-weights none|FIELD=W,...` as `solve`'s `gradient_weights`, checked
    against the equation's fields before any work."""
    from ._solve import as_gradient_weights

    weights: dict[str, float] | str | None = text
    if text is not None and text != "none":
        try:
            weights = {name.strip(): float(w) for name, w in
                       (item.split("=") for item in text.split(","))}
        except ValueError:
            raise ValueError(f"--gradient-weights {text}: give none or FIELD=WEIGHT pairs "
                             f"over the fields {eq.fields}, comma-separated") from None
    as_gradient_weights(weights, eq)
    return weights
