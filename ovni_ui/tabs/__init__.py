"""The tabs of the page, one module each: its layout, its handlers and the events that bind them."""
