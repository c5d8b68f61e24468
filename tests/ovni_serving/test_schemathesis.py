"""Property-based tests from the app's own OpenAPI schema: whatever a client sends, never a server error,
and every response matches the documented schema."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ovni_assets.settings import OvniSettings
from ovni_serving.app import create_app
from ovni_serving.model_store import ModelStore

# The schema is static, so it is read from an app with nothing loaded yet (cheap at collection time); the
# fixture below gives that same app a loaded store before any case runs.
# (schemathesis.pytest.from_fixture relies on a private pytest attribute that pytest 9 removed.)
app = create_app(OvniSettings(home=Path(tempfile.gettempdir()) / "ovni-schema-only"), poll=False)
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module", autouse=True)
def loaded_app(served):
    loaded = OvniSettings(home=served.settings.home, api_token="s3cret")
    store = ModelStore(loaded)
    assert store.refresh(), store.errors
    app.state.settings, app.state.store = loaded, store
    return app


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_breaks_the_api(case):
    response = case.call()
    assert response.status_code < 500, (case.method, case.path, response.text)
    case.validate_response(
        response, checks=[response_schema_conformance, content_type_conformance, status_code_conformance]
    )
