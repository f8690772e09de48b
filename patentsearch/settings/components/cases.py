"""Settings of the cases app (CASES_*)."""

from patentsearch.env import env

# Relevance feedback ("Refine"): Rocchio on unit vectors,
# q' = q + BETA * mean(relevant: grade >= 2) - GAMMA * mean(not relevant: grade 0), then normalised.
CASES_ROCCHIO_BETA = env.float("CASES_ROCCHIO_BETA", default=0.75)
CASES_ROCCHIO_GAMMA = env.float("CASES_ROCCHIO_GAMMA", default=0.15)
# Drawings in one query (the application's views).
CASES_MAX_QUERY_IMAGES = env.int("CASES_MAX_QUERY_IMAGES", default=8)
