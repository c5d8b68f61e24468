"""Reference shapes measured on the real SodAI data (`../shared/data/sodai`), used by the synthetic generator.

Only aggregate counts and curves are kept here (no rows): the catalogue's attribute counts, split into the
~100 products that sell and the rest; how many customers buy each sold product; the customer-type and
deliveries-per-week mix; the weekday mix; the distribution of units per line. The generator samples from
these, so it needs no real file at run time.
"""

from __future__ import annotations

CUSTOMER_TYPE_COUNTS = {
    "ABARROTES": 1160,
    "MAYORISTA": 223,
    "CANAL FRIO": 85,
    "RESTAURANT": 60,
    "SUPERMERCADO": 25,
    "MINIMARKET": 9,
    "TIENDA DE CONVENIENCIA": 7,
}

DELIVERIES_PER_WEEK_COUNTS = {1: 30, 2: 40, 3: 1239, 4: 257, 5: 2, 6: 1}

# Share of customers that never buy, by deliveries per week (all 1-delivery customers never buy).
NEVER_BUYS_BY_DELIVERIES = {1: 1.0, 2: 0.78, 3: 0.067, 4: 0.008, 5: 0.0, 6: 0.0}  # measured

# Order lines per weekday, Monday first.
WEEKDAY_LINES = (35896, 29788, 26587, 36102, 31727, 14136, 4614)

# Units per positive line are (2j + 1) / 3 for a whole j; how many real lines have each j (j ≥ 0, the
# 45 most frequent values, 99 % of lines). Returns are -(2j - 1) / 3 with j from the same curve.
UNITS_J_COUNTS = {
    1: 45445, 2: 36087, 3: 21176, 5: 16350, 4: 12293, 10: 11600, 6: 6683, 20: 4079, 15: 3529, 8: 2589,
    7: 2243, 30: 1952, 50: 1466, 12: 1061, 25: 850, 9: 632, 40: 571, 100: 562, 13: 329, 11: 318, 14: 239,
    16: 225, 35: 211, 60: 202, 18: 172, 17: 156, 70: 109, 22: 90, 150: 90, 336: 84, 80: 77, 45: 73, 24: 71,
    200: 63, 19: 63, 21: 53, 23: 53, 26: 52, 27: 40, 32: 39, 0: 39, 33: 36, 28: 35, 55: 28, 29: 26,
}  # fmt: skip

# Customers (of 1,423 buying) that ever bought each of the 100 sold products, most popular first.
SOLD_PRODUCT_REACH = (
    1246, 1186, 1112, 1025, 973, 958, 933, 861, 810, 802, 782, 767, 716, 693, 661, 637, 484, 480, 444, 434,
    422, 372, 371, 334, 321, 320, 316, 297, 292, 285, 261, 258, 246, 244, 233, 219, 218, 214, 213, 201, 172,
    171, 162, 160, 135, 130, 126, 109, 98, 97, 93, 85, 81, 81, 81, 78, 76, 76, 74, 74, 73, 72, 71, 64, 64,
    63, 47, 46, 45, 42, 35, 34, 33, 33, 29, 29, 29, 19, 17, 14, 13, 12, 11, 11, 11, 9, 8, 7, 7, 7, 4, 4, 3,
    2, 2, 1, 1, 1, 1, 1,
)  # fmt: skip
REACH_BASE_CUSTOMERS = 1423

SUB_CATEGORY_TO_CATEGORY = {
    "GASEOSAS": "BEBIDAS CARBONATADAS",
    "AGUAS SABORIZADAS": "BEBIDAS CARBONATADAS",
    "JUGOS": "BEBIDAS NO CARBONATADAS",
}

# (segment, sub_category) counts among sold and unsold products.
SOLD_SEGMENT_SUB_CATEGORY = {
    ("HIGH", "AGUAS SABORIZADAS"): 3, ("HIGH", "GASEOSAS"): 18, ("LOW", "AGUAS SABORIZADAS"): 5,
    ("LOW", "GASEOSAS"): 4, ("MEDIUM", "AGUAS SABORIZADAS"): 8, ("MEDIUM", "GASEOSAS"): 29,
    ("PREMIUM", "GASEOSAS"): 33,
}  # fmt: skip
UNSOLD_SEGMENT_SUB_CATEGORY = {
    ("HIGH", "AGUAS SABORIZADAS"): 10, ("HIGH", "GASEOSAS"): 119, ("HIGH", "JUGOS"): 81,
    ("LOW", "AGUAS SABORIZADAS"): 8, ("LOW", "GASEOSAS"): 26, ("LOW", "JUGOS"): 120,
    ("MEDIUM", "AGUAS SABORIZADAS"): 16, ("MEDIUM", "GASEOSAS"): 186, ("MEDIUM", "JUGOS"): 28,
    ("PREMIUM", "AGUAS SABORIZADAS"): 19, ("PREMIUM", "GASEOSAS"): 258,
}  # fmt: skip

# (package, size in litres) counts among sold and unsold products.
SOLD_PACKAGE_SIZE = {
    ("BOTELLA", 0.25): 9, ("BOTELLA", 0.33): 16, ("BOTELLA", 0.5): 2, ("BOTELLA", 0.66): 20,
    ("BOTELLA", 1.0): 15, ("KEG", 20.0): 3, ("LATA", 0.25): 22, ("LATA", 0.31): 4, ("LATA", 0.33): 7,
    ("LATA", 0.5): 2,
}  # fmt: skip
UNSOLD_PACKAGE_SIZE = {
    ("BOTELLA", 0.125): 2, ("BOTELLA", 0.25): 57, ("BOTELLA", 0.33): 136, ("BOTELLA", 0.5): 58,
    ("BOTELLA", 0.66): 109, ("BOTELLA", 1.0): 101, ("BOTELLA", 1.5): 18, ("BOTELLA", 2.0): 36,
    ("BOTELLA", 2.25): 3, ("BOTELLA", 3.0): 14, ("BOTELLA", 10.0): 1, ("KEG", 20.0): 37, ("LATA", 0.25): 133,
    ("LATA", 0.31): 18, ("LATA", 0.33): 55, ("LATA", 0.5): 50, ("TETRA", 0.25): 18, ("TETRA", 1.0): 21,
    ("TETRA", 1.5): 4,
}  # fmt: skip

# Brand number → (products in the catalogue, of which sold).
BRAND_COUNTS = {
    7: (104, 7), 3: (102, 11), 35: (79, 12), 31: (64, 9), 1: (52, 10), 10: (43, 3), 44: (41, 9), 18: (38, 0),
    26: (35, 2), 40: (33, 0), 34: (25, 6), 19: (23, 0), 33: (23, 3), 60: (19, 0), 50: (16, 0), 38: (16, 0),
    21: (16, 5), 24: (15, 3), 20: (15, 0), 54: (14, 3), 15: (12, 4), 45: (12, 0), 58: (10, 0), 59: (10, 0),
    28: (9, 2), 57: (8, 0), 53: (8, 0), 48: (8, 0), 39: (7, 0), 4: (7, 0), 30: (7, 0), 49: (6, 0), 22: (6, 3),
    29: (6, 0), 56: (6, 0), 16: (6, 4), 17: (5, 0), 27: (5, 0), 9: (5, 0), 41: (5, 0), 14: (5, 1), 2: (4, 1),
    13: (4, 0), 55: (4, 1), 46: (3, 0), 0: (3, 0), 43: (3, 0), 12: (3, 0), 25: (3, 0), 5: (2, 0), 52: (2, 1),
    6: (2, 0), 32: (2, 0), 51: (2, 0), 47: (2, 0), 42: (1, 0), 37: (1, 0), 36: (1, 0), 23: (1, 0), 8: (1, 0),
    11: (1, 0),
}  # fmt: skip

SOLD_PRODUCTS = sum(SOLD_SEGMENT_SUB_CATEGORY.values())
CATALOGUE_SIZE = SOLD_PRODUCTS + sum(UNSOLD_SEGMENT_SUB_CATEGORY.values())
