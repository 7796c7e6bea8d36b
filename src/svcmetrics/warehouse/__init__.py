"""``--engine URL``: the indicators counted in the database that holds the records (spec 5.2)."""
