# %% [markdown]
# # Tutorial: score a model
#
# How geographically biased is one model? This tutorial scores the NeRF location
# encoder's predictions on the Birdsnap test images, one of the example files that ship
# with pygbs, and reads the result. It runs as it stands: the outputs below were computed
# when this site was built.

# %%
import pygbs

path = pygbs.example_path("NeRF")
pred = pygbs.read_predictions(path)
print(path.name)
print(f"{pred.n_rows} rows, {pred.n_missing_coords} without coordinates")
print(f"{len(pred)} located rows")
print(f"value column: {pred.value_name}; share right: {pred.value.mean():.3f}")

# %% [markdown]
# Each row is one test image: where it was taken and whether the model's top-ranked
# species was right (`hit@1`). Rows without coordinates cannot be placed and are dropped
# (and counted). Now score it at a distance scale (all samples within 100 km of each
# centre) and a nearest-neighbour scale (the 50 nearest samples):

# %%
res = pygbs.score(pred, scales=["100km", "nn50"], bootstrap=200)
for scale in res.scales:
    agg = res.aggregate("marked", scale)
    print(
        f"marked SSI at {scale}: {agg.mean:.2f} "
        f"[{agg.ci_low:.2f}, {agg.ci_high:.2f}], {agg.n_scored} centres scored"
    )

# %% [markdown]
# The headline number, the **Geo-Bias Score**, is the mean marked SSI over the centres:
# how far from random the model's successes and failures are arranged in space, as a
# surprisal in nats. The interval is a spatial block bootstrap: how much the score would
# move with other locations of the same regions. At 100 km some centres are skipped:
# their neighbourhood holds fewer than 5 samples.
#
# The unmarked SSI measures the clustering of the samples themselves, the same for every
# model of the dataset; it is the baseline against which the marked SSI is read:

# %%
print(f"unmarked SSI at nn50: {res.headline('unmarked', 'nn50'):.2f}")
print(f"marked SSI at nn50:   {res.headline('marked', 'nn50'):.2f}")

# %% [markdown]
# Every centre has its own scores; the places with the highest marked SSI are where the
# model's performance is most clustered:

# %%
at_nn50 = res.centres.query("scale == 'nn50'")
cols = ["lon", "lat", "radius_km", "mean_performance", "marked_ssi"]
at_nn50.nlargest(5, "marked_ssi")[cols].round(2)

# %% [markdown]
# `res.write(folder)` writes the same `summary.json` and `centres.csv` as
# `pygbs score FILE --out folder` on the command line. Next:
# [compare models and read the intervals](compare-models.html).
