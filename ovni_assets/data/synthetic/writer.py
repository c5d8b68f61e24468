"""`ovni generate`: the three source files, written chunk by chunk.

Generation runs in chunks of `CHUNK_CUSTOMERS` customers, each with its own random streams (per week), and
writes each chunk to parquet as it goes, so memory stays flat in the number of customers and the output is
deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ovni_assets.data.synthetic.catalogue import Catalogue, build_catalogue
from ovni_assets.data.synthetic.config import GeneratorConfig
from ovni_assets.data.synthetic.customers import Customers, build_customers
from ovni_assets.data.synthetic.simulation import ChunkSimulator, season_factors

CHUNK_CUSTOMERS = 4000
_WAVE_CHUNK_KEY = 1_000_000

TRANSACTIONS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("product_id", pa.int64()),
        ("order_id", pa.int64()),
        ("purchase_date", pa.timestamp("ns")),
        ("items", pa.float64()),
    ]
)


def _chunks(customers: Customers, config: GeneratorConfig) -> Iterator[tuple[int, np.ndarray]]:
    """(chunk key, global customer indices): base customers first, then the new-customer wave."""
    base = np.arange(config.customers)
    for number, begin in enumerate(range(0, config.customers, CHUNK_CUSTOMERS)):
        yield number, base[begin : begin + CHUNK_CUSTOMERS]
    wave = np.arange(config.customers, len(customers.ids))
    for number, begin in enumerate(range(0, len(wave), CHUNK_CUSTOMERS)):
        yield _WAVE_CHUNK_KEY + number, wave[begin : begin + CHUNK_CUSTOMERS]


def _transactions(config: GeneratorConfig, catalogue: Catalogue, customers: Customers) -> Iterator[pa.Table]:
    """The order lines of each chunk of customers, one table per chunk that bought anything."""
    seasons = season_factors(config)
    order_stride = 10 ** len(str(2 * config.customers))  # room for the new-customer wave (≤ 2× customers)
    for chunk_key, index in _chunks(customers, config):
        simulator = ChunkSimulator(
            config, catalogue, customers.take(index), index, chunk_key, order_stride, seasons
        )
        weeks = list(simulator.weeks())
        if weeks:
            yield pa.table(
                {name: np.concatenate([w[name] for w in weeks]) for name in TRANSACTIONS_SCHEMA.names},
                schema=TRANSACTIONS_SCHEMA,
            )


def write_dataset(config: GeneratorConfig, out: Path) -> dict[str, int]:
    """Write transacciones/clientes/productos.parquet into `out`; return rows written per table."""
    config.validate()
    out.mkdir(parents=True, exist_ok=True)
    catalogue = build_catalogue(config.seed)
    customers, customers_table = build_customers(config)
    pq.write_table(catalogue.table, out / "productos.parquet")
    pq.write_table(customers_table, out / "clientes.parquet")
    rows = 0
    with pq.ParquetWriter(out / "transacciones.parquet", TRANSACTIONS_SCHEMA) as writer:
        for table in _transactions(config, catalogue, customers):
            writer.write_table(table)
            rows += table.num_rows
    return {
        "transacciones": rows,
        "clientes": customers_table.num_rows,
        "productos": catalogue.table.num_rows,
    }
