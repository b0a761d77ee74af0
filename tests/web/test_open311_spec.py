"""Our Open311 endpoint checked against the GeoReport v2 description by schemathesis:
generated requests for every operation, no server error, every documented answer in the
documented shape and content type."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import schemathesis
import yaml
from hypothesis import HealthCheck
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from bot.domain.reports import CATEGORIES
from bot.domain.tickets import Status
from tests.flows.conftest import ADMIN_ID
from tests.web.conftest import WebHarness

SPEC = Path(__file__).parents[1] / "data" / "open311" / "georeport_v2-1.yaml"
EXAMPLES_PER_OPERATION = 25


def narrowed_spec(numbers: list[str]) -> dict[str, Any]:
    """The official description, with its free-form parameters narrowed to what this
    deployment serves, so generated requests reach the code rather than the router: our
    formats, our jurisdiction, our service codes, points inside the sample community, and
    request ids that exist (``numbers``) so single requests are answered, not 404."""
    spec = copy.deepcopy(yaml.safe_load(SPEC.read_text(encoding="utf-8")))
    spec["parameters"]["response_format"]["enum"] = ["json", "xml"]
    spec["parameters"]["jurisdiction_id"]["enum"] = ["xingfuli"]
    for path in spec["paths"].values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                name = parameter.get("name")
                if name == "service_code":
                    parameter["enum"] = list(CATEGORIES)
                elif name == "lat":
                    parameter.update(minimum=30.270, maximum=30.280)
                elif name == "long":
                    parameter.update(minimum=120.145, maximum=120.158)
                elif name == "service_request_id" and parameter["in"] == "path":
                    parameter["enum"] = numbers
    return spec


def check_every_operation(base_url: str, api_key: str, numbers: list[str]) -> int:
    schema = schemathesis.openapi.from_dict(narrowed_spec(numbers))
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance]
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        query = {"api_key": api_key} if operation.method.upper() == "POST" else None

        @hypothesis.settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
        @hypothesis.given(case=operation.as_strategy(query=query))
        def run(case: Any) -> None:
            nonlocal calls
            case.call_and_validate(base_url=base_url, checks=checks)
            calls += 1

        run()
    return calls


async def test_the_endpoint_conforms_to_the_georeport_description(
    web_harness: WebHarness,
) -> None:
    services = web_harness.bot.services
    actor, _ = await services.people.identify(ADMIN_ID, "刘主任", "zh-hans", True)
    _, key = await services.open311.issue_key(actor, "schemathesis")
    # Requests to read back from the start: one with a point, one with an address.
    numbers = []
    async with httpx.AsyncClient() as http:
        for place in ({"lat": "30.2741", "long": "120.1482"}, {"address_string": "6号楼"}):
            response = await http.post(
                f"{web_harness.open311}/requests.json",
                data={"api_key": key, "service_code": "litter", "description": "垃圾", **place},
            )
            numbers.append(response.json()[0]["service_request_id"])
    # The checks make blocking HTTP calls: run them off the loop that serves them.
    calls = await asyncio.to_thread(check_every_operation, web_harness.open311, key, numbers)
    assert calls >= 6 * 5
    async with services.db.read() as tx:
        posted = await tx.open311.requests_between(
            web_harness.bot.community.id,
            web_harness.bot.clock.now().replace(year=2025),
            web_harness.bot.clock.now().replace(year=2027),
            list(Status),
            None,
            1000,
        )
    assert len(posted) > len(numbers), "some generated requests were valid and were filed"
