"""Ayuda: how to read the page, in the page's language."""

from __future__ import annotations

import gradio as gr

from ovni_ui.i18n import Texts


def render_help(tr: Texts) -> None:
    with gr.Tab(tr("tab_help"), id="help"):
        gr.Markdown(tr("help_markdown"))
