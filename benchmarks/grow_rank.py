"""A model with more online weights that starts as an existing one: the rank of every CoLoRA
layer grown by `--extra` components.

    python benchmarks/grow_rank.py WEIGHTS OUT [--extra 3] [--seed 7]

The new components' factors `A`, `B` are drawn as a fresh layer's are; their scales `alpha`
are predicted by new rows of the hypernetwork's last layer that start at zero, so the grown
model's data-driven solution is the old one's (checked here at two `(t, mu)`, up to the
float32 round-off of a longer sum) while its tangent space has `extra` more directions per
layer. Continue training it with `budget_pretrain.py --init OUT` (or `neural-galerkin pretrain
--init OUT`). Needs a model with one scale per rank component (`per_rank`), no pool and no
Gaussian envelope.
"""

import argparse
import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr

import neural_galerkin as ng
from neural_galerkin._network import online_filter


def online_leaves(net) -> list[tuple[str, int]]:
    """(path, size) of the online leaves of `net`, in the order of its flat `phi`."""
    flat = jax.tree_util.tree_flatten_with_path(eqx.filter(net, online_filter(net)))[0]
    return [(jax.tree_util.keystr(path), leaf.size) for path, leaf in flat]


def grow_rank(model: ng.CoLoRAModel, extra: int, key) -> ng.CoLoRAModel:
    config = model.config
    if not config.per_rank or config.pool_rank or any(config.unbounded):
        raise SystemExit("grow_rank needs a model with one scale per rank component, no "
                         "pool and no Gaussian envelope (an equation on R^d)")
    r = config.rank
    grown_config = dataclasses.replace(config, rank=r + extra)
    fresh = ng.make_model(grown_config, key=key)
    layers = tuple(
        eqx.tree_at(lambda lay: (lay.weight, lay.bias, lay.A, lay.B, lay.alpha), new,
                    (old.weight, old.bias, new.A.at[:, :r].set(old.A), new.B.at[:r].set(old.B),
                     new.alpha.at[:r].set(old.alpha)))
        for old, new in zip(model.net.layers, fresh.net.layers))
    net = eqx.tree_at(lambda n: (n.layers, n.embedding), fresh.net,
                      (layers, model.net.embedding))
    # where each old online weight sits in the grown phi: the same leaves, each leaf's first
    # entries (the old components) followed by the new ones
    old_leaves, new_leaves = online_leaves(model.net), online_leaves(net)
    assert [p for p, _ in old_leaves] == [p for p, _ in new_leaves]
    index, start = [], 0
    for (_, old_size), (_, new_size) in zip(old_leaves, new_leaves):
        index += range(start, start + old_size)
        start += new_size
    index = jnp.asarray(index)
    old_mlp, new_mlp = model.hyper.mlp, fresh.hyper.mlp
    last = new_mlp.layers[-1]
    last = eqx.tree_at(lambda lay: (lay.weight, lay.bias), last,
                       (jnp.zeros_like(last.weight).at[index].set(old_mlp.layers[-1].weight),
                        jnp.zeros_like(last.bias).at[index].set(old_mlp.layers[-1].bias)))
    mlp = eqx.tree_at(lambda m: m.layers, new_mlp, (*old_mlp.layers[:-1], last))
    hyper = eqx.tree_at(lambda h: h.mlp, fresh.hyper, mlp)
    return ng.CoLoRAModel(net=net, hyper=hyper, config=grown_config)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("weights")
    p.add_argument("out")
    p.add_argument("--extra", type=int, default=3, help="rank components added to each layer")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    model = ng.load_model(args.weights)
    grown = grow_rank(model, args.extra, jr.PRNGKey(args.seed))
    c = model.config
    x = jnp.asarray(c.lower) + jnp.asarray(c.lengths) * jr.uniform(jr.PRNGKey(1),
                                                                    (50, len(c.lower)))
    for t, mu in ((c.t_range[0], c.mu_range[0]), (sum(c.t_range) / 2, c.mu_range[1])):
        u_old = jax.vmap(lambda y: model.u(y, model.phi(t, mu)))(x)
        u_new = jax.vmap(lambda y: grown.u(y, grown.phi(t, mu)))(x)
        change = float(jnp.max(jnp.abs(u_new - u_old)))
        print(f"t = {t:g}, mu = {mu:g}: largest change of u {change:.1e}")
    ng.save_model(args.out, grown)
    print(f"{model.num_phi} -> {grown.num_phi} online weights; saved to {args.out}")


if __name__ == "__main__":
    main()
