"""OVNI Gradio UI. Speaks only HTTP to the API."""
