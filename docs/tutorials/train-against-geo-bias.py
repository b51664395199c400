# %% [markdown]
# # Tutorial: train an encoder against geo-bias
#
# Needs the encoders: `pip install 'geobias[encoders]'`. A location encoder is trained
# twice on a small built-in synthetic dataset whose image model is poorer in four regions
# (`synthetic-vmf-biased`): once plainly and once with a geo-bias term added to the loss.
# Then pygbs scores both runs' test predictions. The dataset is kept small so that the
# page builds in a minute or two; the [Debiasing](../debiasing.html) page measures the trade-off
# properly.

# %%
import tempfile
from pathlib import Path

import encoders
import pygbs

out = Path(tempfile.mkdtemp())
dataset = encoders.load_dataset("synthetic-vmf-biased", n_train=3000, n_val=300, n_test=1500)
runs = {}
for weight in (0.0, 0.5):
    run = out / f"lambda-{weight}"
    trainer = encoders.Trainer(
        epochs=3,
        seed=0,
        progress=False,
        debias="performance-ssi" if weight else None,
        debias_lambda=weight,
    )
    encoders.train_and_evaluate("Sphere2Vec-sphereC", dataset, run, trainer=trainer)
    runs[weight] = run / "predictions.csv"
print({w: p.name for w, p in runs.items()})

# %% [markdown]
# `debias` is the kind of geo-bias term (here the performance SSI of the samples at the
# trainer's default scale, nn50) and `debias_lambda` its weight (0: plain training). Both runs
# exported their per-sample test predictions in TorchSpatial's layout, which pygbs reads
# like any other prediction file:

# %%
cmp = pygbs.compare(
    [runs[0.0], runs[0.5]],
    names=["plain", "geo-bias term"],
    scales=["nn50"],
    scores=["unmarked", "marked", "performance"],
    bootstrap=200,
)
cmp.table[["model", "accuracy", "marked_ssi@nn50", "performance_ssi@nn50"]].round(3)

# %% [markdown]
# A lower performance SSI with little loss of accuracy is what the term is for; the paired
# difference with its interval says whether this small run shows it:

# %%
cmp.pairs[["model_a", "model_b", "score", "diff", "ci_low", "ci_high"]].round(3)
