"""Explorar: a week's whole batch, filtered, summed up in figures, two charts, a table and a CSV download."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pandas as pd

from ovni_ui import charts, views
from ovni_ui.api_client import ApiRequestError
from ovni_ui.catalogue import Catalogue
from ovni_ui.formatting import day, spreadsheet_safe
from ovni_ui.page import AskedFor, Tab, handler

FILTERS = ("customer_type", "segment", "brand")  # batch columns, each with a "<column>_filter" label
EXPLORE_TABLE_ROWS = 300
EXPLORE_COLUMNS = (
    "col_week",
    "col_customer_id",
    "col_customer_type",
    "col_product_id",
    "col_brand",
    "col_segment",
    "col_probability_short",
    "col_will_buy",
)
NO_BATCH = ("", None, None, None, gr.update(visible=False))  # summary, charts, table, a hidden download


class ExploreTab(Tab):
    """A week and filters; the batch's figures, its charts, its first rows and every row as a CSV."""

    def render(self, status: gr.HTML) -> None:
        tr = self.tr
        with gr.Tab(tr("tab_explore"), id="explore") as tab:
            with gr.Row():
                # Choices arrive on page load; custom values let API clients pass any week or filter.
                week = gr.Dropdown(label=tr("week"), choices=[], value=None, allow_custom_value=True)
                filters = [
                    gr.Dropdown(
                        label=tr(f"{column}_filter"),
                        choices=[(tr("all"), "")],
                        value="",
                        allow_custom_value=True,
                    )
                    for column in FILTERS
                ]
                only_buy = gr.Checkbox(label=tr("only_buy"), value=False)
            with gr.Row():
                button = gr.Button(tr("explore_button"), variant="primary", scale=3)
                download = gr.DownloadButton(tr("download_csv"), visible=False, scale=1)
            message, summary = gr.HTML(), gr.HTML()
            with gr.Row():
                histogram, expected = self._render_charts()
            table = gr.Dataframe(
                headers=[tr(key) for key in EXPLORE_COLUMNS], interactive=False, max_height=420, wrap=True
            )
        inputs = [week, *filters, only_buy]
        outputs = [status, message, summary, histogram, expected, table, download]
        button.click(self.explore, inputs, outputs, api_name="explore")
        tab.select(self.explore, inputs, outputs, api_visibility="private")
        self.pickers = (week, *filters)

    def _render_charts(self) -> tuple[gr.Plot, gr.Plot]:
        """The histogram of probabilities and the products with the most expected buyers (`charts`)."""
        histogram = gr.Plot(show_label=False, elem_id="ovni-histogram-plot")
        expected = gr.Plot(show_label=False, elem_id="ovni-expected-plot")
        return histogram, expected

    def picker_choices(self, catalogue: Catalogue) -> tuple:
        """The weeks with a batch (the week being served and every past week already scored against
        actuals), newest first, and the values each filter can take."""
        scored = {day(q["week_start"]) for q in self.api.quality() if q.get("week_start")}
        weeks = sorted({catalogue.week_start} | scored, reverse=True)
        rows_of = {
            "customer_type": catalogue.customers,
            "segment": catalogue.products,
            "brand": catalogue.products,
        }
        return (
            gr.update(choices=weeks, value=weeks[0] if weeks else None),
            *(
                gr.update(choices=self._filter_choices(rows_of[column], column), value="")
                for column in FILTERS
            ),
        )

    def _filter_choices(self, rows: dict[int, dict], column: str) -> list:
        return [(self.tr("all"), ""), *sorted({str(r[column]) for r in rows.values() if r.get(column)})]

    @handler(*NO_BATCH)
    def explore(
        self,
        week: str | None,
        customer_type: str | None,
        segment: str | None,
        brand: str | None,
        only_buy: bool,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's progress tracker)
    ) -> tuple:
        """The batch of a week, filtered: (message, summary, histogram, expected buyers, table, CSV)."""
        tr = self.tr
        progress(0, desc=tr("loading_predictions"))
        week = week or self.page.catalogue.get().week_start
        try:
            batch = self.page.catalogue.batch(week, progress, tr("loading_predictions"))
        except ApiRequestError as error:
            raise AskedFor(error, week=week) from error
        batch = self._filtered(batch, (customer_type, segment, brand), only_buy)
        if batch.empty:
            return (views.banner("info", tr("explore_empty")), *NO_BATCH)
        batch = batch.sort_values(["probability", "customer_id"], ascending=[False, True])
        csv_path = self.page.download_dir / f"ovni_{week}.csv"
        self._write_csv(batch, csv_path)
        return (
            self._truncation_note(batch),
            self._summary(batch),
            charts.probability_histogram(tr, batch),
            charts.expected_buyers(tr, batch, self.page.catalogue.get().products),
            self._table(batch),
            gr.update(value=str(csv_path), visible=True),
        )

    def _filtered(self, batch: pd.DataFrame, wanted: tuple[str | None, ...], only_buy: bool) -> pd.DataFrame:
        """The rows with every chosen filter value (one a column of `FILTERS`; empty is all)."""
        for column, value in zip(FILTERS, wanted, strict=True):
            if value:
                batch = batch[batch[column] == value]
        return batch[batch["will_buy"]] if only_buy else batch

    def _summary(self, batch: pd.DataFrame) -> str:
        tr = self.tr
        return views.kpis(
            [
                (tr("pairs_count"), tr.number(len(batch), 0)),
                (tr("col_will_buy"), tr.number(int(batch["will_buy"].sum()), 0)),
                (tr("expected_buyers"), tr.number(float(batch["probability"].sum()), 1)),
            ]
        )

    def _truncation_note(self, batch: pd.DataFrame) -> str:
        if len(batch) <= EXPLORE_TABLE_ROWS:
            return ""
        return views.banner("info", self.tr("explore_truncated", shown=EXPLORE_TABLE_ROWS, total=len(batch)))

    def _table(self, batch: pd.DataFrame) -> pd.DataFrame:
        """The first rows as the page shows them: probabilities as percentages in the page's number format."""
        rows = batch.head(EXPLORE_TABLE_ROWS)
        table = self._columns(rows)
        table[self.tr("col_probability_short")] = rows["probability"].map(self.tr.percent).to_numpy()
        return table

    def _columns(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The rows under the page's column names, in the order of `EXPLORE_COLUMNS`."""
        tr = self.tr
        return pd.DataFrame(
            {
                tr("col_week"): rows["week_start"].astype(str).str[:10].to_numpy(),
                tr("col_customer_id"): rows["customer_id"].astype(int).to_numpy(),
                tr("col_customer_type"): rows["customer_type"].to_numpy(),
                tr("col_product_id"): rows["product_id"].astype(int).to_numpy(),
                tr("col_brand"): rows["brand"].to_numpy(),
                tr("col_segment"): rows["segment"].to_numpy(),
                tr("col_probability_short"): rows["probability"].round(4).to_numpy(),
                tr("col_will_buy"): rows["will_buy"].map({True: tr("yes"), False: tr("no")}).to_numpy(),
            }
        )

    def _write_csv(self, batch: pd.DataFrame, path: Path) -> None:
        """Every row, as the spreadsheet of the page's language opens it in columns: Spanish Excel expects
        semicolons and decimal commas; both files are UTF-8 with a BOM so accents survive."""
        spanish = self.tr.lang == "es"
        spreadsheet_safe(self._columns(batch)).to_csv(
            path,
            index=False,
            sep=";" if spanish else ",",
            decimal="," if spanish else ".",
            encoding="utf-8-sig",
        )
