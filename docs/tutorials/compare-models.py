# %% [markdown]
# # Tutorial: compare models and read the intervals
#
# Seven models predicted the species of the same 2,262 Birdsnap test images: six
# location encoders and an image-only model without a location prior (`no_prior`). Are
# the encoders more geographically biased than the baseline, and is the difference real?

# %%
import pygbs
from pygbs.datasets import EXAMPLE_MODELS

files = [pygbs.example_path(model) for model in EXAMPLE_MODELS]
cmp = pygbs.compare(
    files,
    names=list(EXAMPLE_MODELS),
    coords_from=pygbs.example_path("NeRF"),
    scales=["nn50"],
    bootstrap=200,
)
cmp.table[["model", "accuracy", "n", "marked_ssi@nn50"]].round(3)

# %% [markdown]
# `coords_from` gives coordinates to the two files that lack usable ones: the `no_prior`
# file has no lon/lat columns, and the `wrap` file holds encoded coordinates (checked row
# by row against the NeRF file before its degrees are used). Every model is scored on the
# same centres, so the scores can be compared.
#
# Each score comes with a spatial block-bootstrap interval:

# %%
score = "marked_ssi@nn50"
intervals = cmp.table[["model", score, f"{score}_ci_low", f"{score}_ci_high"]]
intervals.columns = ["model", "marked SSI", "low", "high"]
intervals.round(2)

# %% [markdown]
# The intervals of two models overlap even where one model is clearly more biased: each
# interval includes the variation that the choice of locations brings, which is shared
# by models scored on the same locations. The paired differences remove it. `pairs`
# holds each model minus the baseline (the `no_prior` model) on the same centres, with a
# paired interval and p-value:

# %%
marked = cmp.pairs.query("score == 'marked'")
marked[["model_a", "model_b", "diff", "ci_low", "ci_high", "p_value"]].round(3)

# %% [markdown]
# An interval that excludes 0 means the models differ beyond what the choice of locations
# explains. On the command line the same comparison is
# `pygbs compare FILES... --coords-from NeRF_FILE --scale nn50 --out DIR`. Next:
# [find where a model is biased](where-biased.html).
