# %% [markdown]
# # Tutorial: find where a model is biased
#
# A Geo-Bias Score says how much; maps say where. This tutorial draws the marked SSI of
# every centre and the local hotspots of the NeRF encoder's successes and failures on the
# shipped Birdsnap test images.

# %%
import warnings

import matplotlib.pyplot as plt

import pygbs
from pygbs.plot import plot_centres, plot_hotspots

warnings.filterwarnings("ignore", message="IProgress not found")  # no widgets here

pred = pygbs.read_predictions(pygbs.example_path("NeRF"))
res = pygbs.score(pred, scales=["nn50"], bootstrap=0)

fig, ax = plt.subplots(figsize=(7, 7))
plot_centres(res, "marked_ssi", "nn50", ax=ax)
plt.show()

# %% [markdown]
# Each dot is a centre coloured by the marked SSI of its 50 nearest samples. High values
# mark neighbourhoods whose successes and failures are far from randomly arranged. In
# sparsely sampled places the 50 nearest samples reach far, so read those dots with the
# sample density in mind.
#
# Local hotspots ask a more direct question: where do failures (or successes) cluster
# more than chance allows? Getis-Ord Gi\* on the coded performance (+1 right, -1 wrong),
# with a permutation test:

# %%
coded = pygbs.code_performance(pred).values
fig, ax = plt.subplots(figsize=(7, 7))
plot_hotspots(pred.lon, pred.lat, coded, statistic="gi", k=8, ax=ax)
plt.show()

# %% [markdown]
# Cold spots are clusters of failures: that is where the model is geographically biased
# against. `pygbs map FILE --out DIR` writes these maps, the density map and local
# Moran's I for any prediction file; [Reading hotspot maps](../hotspots.html) explains the
# classes. Next: [train an encoder against geo-bias](train-against-geo-bias.html).
