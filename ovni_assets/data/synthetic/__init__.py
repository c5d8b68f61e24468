"""Calibrated synthetic SodAI data: `transacciones`, `clientes`, `productos` in the source schema.

What is generated (calibrated against `../shared/data/sodai`; `stats.dataset_statistics` measures both,
`docs/synthetic-data.md` lists the numbers):
- `productos`: a 971-product catalogue with the real attribute counts (brands, category, sub-category,
  segment, package, size), of which 100 products ever sell, with the real "how many customers buy it" curve.
- `clientes`: the real customer-type and deliveries-per-week mix, one region and zone, coordinates around
  X ≈ -108 (longitude), Y ≈ -46.6 (latitude); one customer has no X and a few (about 3 per 1,569) have X and
  Y swapped (Y ≈ -108).
- `transacciones`: each buying customer has a habitual basket (its size depends on the customer type; which
  products, on their popularity) and a weekly activity rate that depends on its deliveries per week. A week is
  active with a two-state chain; in an active week each basket product is bought with the pair's own rate
  (a few "core" products most weeks, the others now and then; a product just bought is a little less likely
  the next week, a restocking cadence), plus occasional trials of other products (new pairs). Some basket
  products start or stop mid-period, a few customers arrive late or stop buying, and customers with 1–2
  deliveries a week mostly never buy. An active week has 1 + Binomial(deliveries - 1, p) orders on distinct
  days (one `order_id` per customer and day, increasing with the date); a product is sometimes bought in two
  orders of a week. Units are (2j + 1)/3 (thirds) from the real units curve, usually the pair's habitual
  quantity. About 3.4 % of lines are returns (a negative line in the same order as a purchase of the same
  product, nearly always all of it but 2/3 of a unit, as in the real data; 1 % more than was bought), 1.3 %
  are a second line for the same product and order, 0.34 % are exact duplicates. Activity follows a mild
  yearly wave, weekly noise and a few holiday weeks at 45 %.

Drifts (`--drift KIND@WEEK`, see `config`): every order line before WEEK is exactly the line the same seed
writes without the drift.

Modules: `config` (what to generate, drifts, random streams), `reference` (the real data's shapes),
`calibration` (behaviour parameters), `catalogue` and `customers` (the small tables, built whole),
`baskets` (habitual pairs), `orders` (a week's purchases as order lines), `simulation` (a chunk of customers
week by week), `writer` (the parquet files), `stats` (the shape statistics of real and generated data).
"""
