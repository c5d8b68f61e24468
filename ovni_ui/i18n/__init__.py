"""Every label and message of the UI, in Spanish (default) and English: one catalogue per tab, one lookup.

`Texts(lang)("key", **values)` returns the text with `str.format` placeholders filled in. The catalogues
(`common` for the page around the tabs and what several tabs show, then one per tab) make one set of keys,
so a key names a single text wherever the page shows it.
"""

from __future__ import annotations

from datetime import date
from types import ModuleType

from ovni_ui.i18n import common, consult, explore, model, recommend
from ovni_ui.i18n import help as help_tab  # as `help`, it would hide the builtin

LANG_NAMES = {"es": "Español", "en": "English"}
MONTHS = {
    "es": (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
CATALOGUES = (common, recommend, consult, explore, model, help_tab)


def _merged(lang: str, catalogues: tuple[ModuleType, ...]) -> dict[str, str]:
    """The texts of every catalogue in one language; a key in two catalogues is refused."""
    texts: dict[str, str] = {}
    for catalogue in catalogues:
        own = catalogue.TEXTS[lang]
        if repeated := texts.keys() & own.keys():
            raise ValueError(f"{catalogue.__name__} repeats {sorted(repeated)}")
        texts.update(own)
    return texts


TEXTS: dict[str, dict[str, str]] = {lang: _merged(lang, CATALOGUES) for lang in LANG_NAMES}


class Texts:
    """The texts of one language; calling it looks a key up and fills in its placeholders."""

    def __init__(self, lang: str):
        if lang not in TEXTS:
            raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(TEXTS)}")
        self.lang = lang
        self._texts = TEXTS[lang]

    def __call__(self, key: str, **values: object) -> str:
        text = self._texts[key]
        return text.format(**values) if values else text

    @property
    def other_lang(self) -> str:
        return "en" if self.lang == "es" else "es"

    def number(self, value: float | None, digits: int = 2) -> str:
        """A number with the language's decimal separator (Spanish: comma)."""
        if value is None:
            return "—"
        text = f"{float(value):,.{digits}f}"
        if self.lang == "es":
            text = text.replace(",", "\u202f").replace(".", ",")
        return text

    def long_date(self, value: date | str) -> str:
        """A day written out as people read it: es-CL "7 de octubre de 2024", en "October 7, 2024"."""
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        month = MONTHS[self.lang][day.month - 1]
        if self.lang == "es":
            return f"{day.day} de {month} de {day.year}"
        return f"{month} {day.day}, {day.year}"

    def days(self, count: int) -> str:
        """A number of days with its noun in the right number (1 día, 3 días)."""
        return self("days_one") if count == 1 else self("days_many", days=count)

    def percent(self, value: float | None) -> str:
        """A probability in [0, 1] as a percentage with one decimal."""
        if value is None:
            return "—"
        return (
            f"{self.number(float(value) * 100, 1)} %" if self.lang == "es" else f"{float(value) * 100:.1f}%"
        )

    def size(self, litres: float | None) -> str:
        """A package size in litres without trailing zeros (1,5 L; 0,355 L)."""
        if litres is None:
            return ""
        return f"{self.number(litres, 3).rstrip('0').rstrip(',.')} L"

    def product_line(self, product: dict) -> str:
        """Brand, sub-category, package and size, and segment of a product in one line (known parts only)."""
        package = " ".join(
            part for part in ((product.get("package") or "").lower(), self.size(product.get("size"))) if part
        )
        parts = [product.get("brand"), (product.get("sub_category") or "").lower(), package]
        if product.get("segment"):
            parts.append(self("segment_label", segment=product["segment"]))
        return " · ".join(str(part) for part in parts if part)
