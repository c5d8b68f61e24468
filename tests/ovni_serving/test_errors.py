"""Errors outside any route: an unknown route or method, and a body that is not UTF-8."""

from __future__ import annotations


def test_unknown_route_and_method_are_json_4xx(client):
    assert client.get("/nope").json() == {"detail": "Not Found"}
    assert client.get("/predict").status_code == 405


def test_a_body_that_is_not_utf8_is_a_4xx_in_words(client):
    response = client.post("/predict", content=b"\xff\xfe\x00", headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500
    assert "JSON" in response.json()["detail"]
