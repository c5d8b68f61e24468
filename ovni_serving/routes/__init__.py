"""API routers, one module per area; `ALL` is what the app includes, in order."""

from ovni_serving.routes import admin, catalog, health, monitoring, predict

ALL = (health.router, predict.router, catalog.router, monitoring.router, admin.router)
