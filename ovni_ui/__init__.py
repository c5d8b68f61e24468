"""OVNI Gradio UI. Speaks only HTTP to the API."""

import os

# Never phone home: set before gradio is imported anywhere in the UI.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
