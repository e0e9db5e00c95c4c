from jaxtyping import Array, Float

Point = Float[Array, " d"]
Points = Float[Array, "n d"]
Phi = Float[Array, " p"]
