"""How a landed file is read: its dialect detected, its number and date formats decided from its own values.

Real exports (ERP, spreadsheets) differ in separator, encoding, decimal and thousands marks and timestamp
zones. Each is decided per file and recorded in `ingested_file_formats` with the batch; what the file's own
bytes cannot settle is held (`FormatProblem`), never guessed. See docs/ingestion.md, "Parsing policy".
"""

from __future__ import annotations

import codecs
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ovni_assets.data.schema import SourceTable

UTF8 = "utf-8"
WINDOWS_1252 = "windows-1252"  # a superset of Latin-1's printable characters; what Windows exports write
UTF8_BOM = codecs.BOM_UTF8
SNIFFED_NONE = "(empty)"  # how sniff_csv reports a quote or escape the file never uses

# Timestamp values written with a zone: the offset (or Z/UTC) after a date and a time of day.
ZONE_SUFFIX = r"\s*(Z|UTC|[+-]\d{2}(:?\d{2})?)"
ZONED_TIMESTAMP = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?" + ZONE_SUFFIX
# Excel stores a date as a day count (1900 or 1904 system, which the number alone does not tell).
EXCEL_SERIAL_DATE = r"\d{5}(\.\d+)?"

NO_ZONE = "no_zone"  # values carry no zone: read as written
LOCAL_TIME_AS_WRITTEN = "local_time_as_written"  # the offset is dropped, the wall time as written is kept

_SIGN = r"[+-]?"
_EXPONENT = r"([eE][+-]?\d+)?"


def _shapes(mark: str, other: str) -> dict[str, str]:
    """Regular expressions (full match) of the number shapes that tell what `mark` is."""
    m, o = re.escape(mark), re.escape(other)
    return {
        # one mark, 1-3 leading digits (not a leading zero), exactly 3 after: 1.200 is 1.2 or 1200
        "ambiguous": rf"{_SIGN}[1-9]\d{{0,2}}{m}\d{{3}}",
        "decimal": rf"{_SIGN}(\d*{m}\d+|\d+{m}){_EXPONENT}",
        "groups": rf"{_SIGN}[1-9]\d{{0,2}}({m}\d{{3}}){{2,}}",
        "groups_then_other_decimal": rf"{_SIGN}[1-9]\d{{0,2}}({m}\d{{3}})+{o}\d+",
    }


NUMBER_SHAPES = {".": _shapes(".", ","), ",": _shapes(",", ".")}


class FormatProblem(ValueError):
    """The file's bytes or values do not settle how to read it; `reason` says what was found and what to
    do."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FileFormat:
    """What was decided about one landed file: one row of `ingested_file_formats`."""

    file_format: str  # csv | parquet
    delimiter: str | None = None
    quote: str | None = None
    escape: str | None = None
    header: bool | None = None
    encoding: str | None = None  # utf-8 | windows-1252
    bom: bool = False
    decimal_mark: str | None = None
    thousands_mark: str | None = None
    number_evidence: str | None = None  # which value (or rule) settled the marks
    date_zone_policy: str = NO_ZONE


FILE_FORMAT_COLUMNS = (
    ("batch_id", "VARCHAR PRIMARY KEY"),
    ("file_format", "VARCHAR"),
    ("delimiter", "VARCHAR"),
    ("quote", "VARCHAR"),
    ("escape", "VARCHAR"),
    ("header", "BOOLEAN"),
    ("encoding", "VARCHAR"),
    ("bom", "BOOLEAN"),
    ("decimal_mark", "VARCHAR"),
    ("thousands_mark", "VARCHAR"),
    ("number_evidence", "VARCHAR"),
    ("date_zone_policy", "VARCHAR"),
)


def ensure_file_formats_table(con: duckdb.DuckDBPyConnection) -> None:
    columns = ", ".join(f"{name} {sql_type}" for name, sql_type in FILE_FORMAT_COLUMNS)
    con.execute(f"CREATE TABLE IF NOT EXISTS ingested_file_formats ({columns})")


def record_file_format(con: duckdb.DuckDBPyConnection, batch_id: str, file_format: FileFormat) -> None:
    """Insert the batch's row; the caller's transaction makes it part of the batch."""
    values = [getattr(file_format, name) for name, _ in FILE_FORMAT_COLUMNS[1:]]
    con.execute(
        f"INSERT INTO ingested_file_formats VALUES ({', '.join('?' * len(FILE_FORMAT_COLUMNS))})",
        [batch_id, *values],
    )


def _first_undecodable(data: bytes, encoding: str) -> UnicodeDecodeError | None:
    try:
        data.decode(encoding)
    except UnicodeDecodeError as error:
        return error
    return None


def _decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes, read in blocks so a large file is never held in memory."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _where(data: bytes, error: UnicodeDecodeError) -> str:
    byte = data[error.start]
    line = data.count(b"\n", 0, error.start) + 1
    return f"byte 0x{byte:02X} at offset {error.start:,} (line {line:,})"


# A multi-byte UTF-8 sequence: in a file that is not UTF-8 as a whole, a sign of mixed encodings.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def detect_encoding(path: Path) -> tuple[str, bool]:
    """(encoding, has a UTF-8 BOM). UTF-8 when every byte decodes as UTF-8; otherwise Windows-1252 (Latin-1's
    letters and the Windows punctuation), unless a byte is undefined there or the file also holds UTF-8
    sequences (two encodings in one file): then no reading is right and the file is held."""
    with path.open("rb") as handle:
        start = handle.read(4)
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FormatProblem(
            "unreadable csv file: it is UTF-16 (it starts with a UTF-16 byte order mark): export it as UTF-8"
        )
    if _decodes(path, UTF8):
        return UTF8, start.startswith(UTF8_BOM)
    data = path.read_bytes()
    not_utf8 = _first_undecodable(data, UTF8)
    tried = f"unreadable csv file: it is not UTF-8 ({_where(data, not_utf8)})"
    not_1252 = _first_undecodable(data, WINDOWS_1252)
    if not_1252 is not None:
        raise FormatProblem(
            f"{tried} nor Windows-1252/Latin-1 ({_where(data, not_1252)} is undefined there): "
            "export the file as UTF-8"
        )
    if _UTF8_SEQUENCE.search(data):
        raise FormatProblem(
            f"{tried}, yet it also holds UTF-8 characters: two encodings in one file; export it as UTF-8"
        )
    return WINDOWS_1252, False


@contextmanager
def utf8_copy(path: Path, encoding: str) -> Iterator[Path]:
    """The file itself when it is UTF-8, else a temporary UTF-8 copy (DuckDB reads UTF-8; the batch is still
    identified by the landed bytes)."""
    if encoding == UTF8:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="ovni-transcode-") as folder:
        target = Path(folder) / path.name
        with (
            path.open(encoding=encoding, newline="") as source,
            target.open("w", encoding=UTF8, newline="") as out,
        ):
            shutil.copyfileobj(source, out)
        yield target


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sniff_dialect(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[str, str, str, bool]:
    """(delimiter, quote, escape, has header) from DuckDB's sniffer. A file without quotes gets the RFC 4180
    quote and escape `"`, which change nothing where no quote appears."""
    try:
        delimiter, quote, escape, header = con.execute(
            f"SELECT Delimiter, Quote, Escape, HasHeader FROM sniff_csv({_sql_text(str(path))})"
        ).fetchone()
    except duckdb.Error as error:
        raise FormatProblem(f"unreadable csv file ({str(error).strip().splitlines()[0][:200]})") from None
    quote = '"' if quote in ("", SNIFFED_NONE) else quote
    escape = quote if escape in ("", SNIFFED_NONE) else escape
    return delimiter, quote, escape, bool(header)


def csv_relation_sql(path: Path, delimiter: str, quote: str, escape: str) -> str:
    """Every column as text (cast later, so a bad value is reported, never guessed at), in the detected
    dialect; the header is required because columns are matched by name."""
    return (
        f"read_csv({_sql_text(str(path))}, header = true, all_varchar = true, auto_detect = true, "
        f"delim = {_sql_text(delimiter)}, quote = {_sql_text(quote)}, escape = {_sql_text(escape)})"
    )


def number_observations(
    con: duckdb.DuckDBPyConnection, relation: str, columns: list[str]
) -> dict[str, dict[tuple[str, str], tuple[int, str | None]]]:
    """{column: {(mark, shape): (count, an example)}} over the text values of the numeric columns."""
    observed = {}
    for column in columns:
        value = f'trim("{column}")'
        keys, aggregates = [], []
        for mark, shapes in NUMBER_SHAPES.items():
            for shape, pattern in shapes.items():
                condition = f"regexp_full_match({value}, {_sql_text(pattern)})"
                if shape == "decimal":
                    condition += f" AND NOT regexp_full_match({value}, {_sql_text(shapes['ambiguous'])})"
                keys.append((mark, shape))
                aggregates += [
                    f"count(*) FILTER (WHERE {condition})",
                    f"any_value({value}) FILTER (WHERE {condition})",
                ]
        row = con.execute(f"SELECT {', '.join(aggregates)} FROM {relation}").fetchone()
        observed[column] = {key: (row[2 * i], row[2 * i + 1]) for i, key in enumerate(keys)}
    return observed


def _other(mark: str) -> str:
    return "," if mark == "." else "."


def decide_number_format(
    observed: dict[str, dict[tuple[str, str], tuple[int, str | None]]], delimiter: str
) -> tuple[str, str | None, str]:
    """(decimal mark, thousands mark or None, evidence) for a file, from its numeric values.

    A mark is a decimal mark when a value shows it so (`0,5`, `1,25`, `1.234,5`), a thousands mark when a
    value groups with it (`1.234.567`, `1.234,5`). A `,`-separated file writes `.` decimals (a `,` decimal
    would collide with its separator). Values of the shape `1.200` (1-3 digits, one mark, 3 digits) follow
    the file's decision; when nothing decides, they could be either, and the file is held.
    """
    evidence: dict[tuple[str, str], list[str]] = {}
    ambiguous: dict[str, list[str]] = {}
    for column, shapes in observed.items():
        for (mark, shape), (count, example) in shapes.items():
            if not count:
                continue
            where = f"{column} {example!r}"
            if shape == "ambiguous":
                ambiguous.setdefault(mark, []).append(where)
            if shape == "decimal":
                evidence.setdefault(("decimal", mark), []).append(where)
            if shape in ("groups", "groups_then_other_decimal"):
                evidence.setdefault(("thousands", mark), []).append(where)
            if shape == "groups_then_other_decimal":
                evidence.setdefault(("decimal", _other(mark)), []).append(where)

    decimals = sorted(mark for role, mark in evidence if role == "decimal")
    thousands = sorted(mark for role, mark in evidence if role == "thousands")
    if len(decimals) > 1 or len(thousands) > 1 or set(decimals) & set(thousands):
        found = "; ".join(
            f"{role} {mark!r}: {', '.join(where)}" for (role, mark), where in sorted(evidence.items())
        )
        raise FormatProblem(
            f"numbers use '.' and ',' in contradicting ways ({found}): export numbers with a plain '.' "
            "decimal mark and no thousands mark, or as parquet"
        )
    if decimals:
        decimal, why = decimals[0], f"decimal {decimals[0]!r} from {evidence[('decimal', decimals[0])][0]}"
    elif thousands:
        decimal, why = (
            _other(thousands[0]),
            f"thousands {thousands[0]!r} from {evidence[('thousands', thousands[0])][0]}",
        )
    elif delimiter == ",":
        decimal, why = ".", "decimal '.' because ',' separates the columns"
    elif ambiguous:
        examples = "; ".join(ambiguous.get(".", []) + ambiguous.get(",", []))
        raise FormatProblem(
            f"numbers such as {examples} read either with a decimal mark (1.200 = 1.2) or with a thousands "
            "mark (1.200 = 1200), and no value in the file settles which: export numbers with a plain '.' "
            "decimal mark and no thousands mark (1200 or 1.2), or as parquet"
        )
    else:
        return ".", None, "no value with a decimal or thousands mark"
    if thousands:
        thousands_mark = thousands[0]
        if decimals:
            why += f", thousands {thousands_mark!r} from {evidence[('thousands', thousands_mark)][0]}"
    elif _other(decimal) in ambiguous:
        thousands_mark = _other(decimal)
        why += f", so {ambiguous[thousands_mark][0]} groups thousands with {thousands_mark!r}"
    else:
        thousands_mark = None
    return decimal, thousands_mark, why


def plain_number_sql(column: str, decimal: str, thousands: str | None) -> str:
    """The text of `column` rewritten with a `.` decimal and no thousands mark, for values written in the
    file's format; any other value is left as written, so the cast reports it."""
    value = f'trim("{column}")'
    d = re.escape(decimal)
    grouped = rf"[1-9]\d{{0,2}}({re.escape(thousands)}\d{{3}})+|" if thousands else ""
    pattern = rf"{_SIGN}({grouped}\d*)({d}\d*)?{_EXPONENT}"
    plain = f"replace({value}, {_sql_text(thousands)}, '')" if thousands else value
    plain = f"replace({plain}, {_sql_text(decimal)}, '.')"
    return f'CASE WHEN regexp_full_match({value}, {_sql_text(pattern)}) THEN {plain} ELSE "{column}" END'


def timestamp_policy(con: duckdb.DuckDBPyConnection, relation: str, columns: list[str]) -> str:
    """Hold Excel serial dates; tell whether any value carries a zone (`LOCAL_TIME_AS_WRITTEN`) or none."""
    zoned = 0
    for column in columns:
        value = f'trim("{column}")'
        serial = f"regexp_full_match({value}, '{EXCEL_SERIAL_DATE}')"
        serials, example, zoned_here = con.execute(
            f"SELECT count(*) FILTER (WHERE {serial}), any_value({value}) FILTER (WHERE {serial}), "
            f"count(*) FILTER (WHERE regexp_full_match({value}, '{ZONED_TIMESTAMP}')) FROM {relation}"
        ).fetchone()
        if serials:
            raise FormatProblem(
                f"column {column} looks like Excel serial day numbers ({serials:,} value(s), e.g. "
                f"{example!r}), whose date depends on the workbook's 1900 or 1904 date system: export dates "
                "as YYYY-MM-DD"
            )
        zoned += zoned_here
    return LOCAL_TIME_AS_WRITTEN if zoned else NO_ZONE


def local_time_sql(column: str) -> str:
    """The text of a timestamp `column` without its zone: the wall time as written, so the calendar date is
    the export's own, never moved by a conversion to another zone."""
    return (
        f"CASE WHEN regexp_full_match(trim(\"{column}\"), '{ZONED_TIMESTAMP}') "
        f"THEN regexp_replace(trim(\"{column}\"), '{ZONE_SUFFIX}$', '') ELSE \"{column}\" END"
    )


def read_csv_format(
    con: duckdb.DuckDBPyConnection, relation: str, table: SourceTable, delimiter: str
) -> tuple[str, str | None, str, str]:
    """Decide the numbers and timestamps of a CSV read as text into `relation` and rewrite them there in
    the plain form the casts expect: (decimal mark, thousands mark, number evidence, date zone policy)."""
    present = {row[0] for row in con.execute(f"DESCRIBE {relation}").fetchall()}
    numeric = [c.name for c in table.columns if c.sql_type in ("DOUBLE", "BIGINT") and c.name in present]
    timestamps = [c.name for c in table.columns if c.sql_type == "TIMESTAMP" and c.name in present]
    decimal, thousands, evidence = decide_number_format(
        number_observations(con, relation, numeric), delimiter
    )
    zone_policy = timestamp_policy(con, relation, timestamps)
    rewrites = []
    if (decimal, thousands) != (".", None):
        rewrites += [f'"{c}" = {plain_number_sql(c, decimal, thousands)}' for c in numeric]
    if zone_policy == LOCAL_TIME_AS_WRITTEN:
        rewrites += [f'"{c}" = {local_time_sql(c)}' for c in timestamps]
    if rewrites:
        con.execute(f"UPDATE {relation} SET {', '.join(rewrites)}")
    return decimal, thousands, evidence, zone_policy


def _has_zone(sql_type: str) -> bool:
    """TIMESTAMP WITH TIME ZONE, TIMESTAMPTZ or a unit variant such as TIMESTAMPTZ_NS."""
    return "TIME ZONE" in sql_type or sql_type.startswith("TIMESTAMPTZ")


def parquet_zone_policy(con: duckdb.DuckDBPyConnection, relation: str, table: SourceTable) -> str:
    """Hold timestamps stored as instants (TIMESTAMP WITH TIME ZONE): their calendar date depends on a zone
    the file does not name. Timestamps without zone are read as stored."""
    types = dict((row[0], row[1]) for row in con.execute(f"DESCRIBE {relation}").fetchall())
    for column in table.columns:
        if column.sql_type == "TIMESTAMP" and _has_zone(types.get(column.name, "")):
            raise FormatProblem(
                f"column {column.name} holds instants with a time zone ({types[column.name]}), whose "
                "calendar date depends on the zone they are shown in: export local dates (a timestamp "
                "without zone)"
            )
    return NO_ZONE
