"""bench-api on a shared machine: failed requests are counted beside the figures, never raised."""

import itertools
import threading

import httpx

from qlik.management.commands.bench_api import Command


def test_resets_timeouts_and_errors_are_counted_and_the_answered_requests_timed():
    answers = itertools.cycle(["ok", "reset", "ok", "timeout", "ok", "500", "ok", "refused"])
    lock = threading.Lock()

    def call(client):
        with lock:
            answer = next(answers)
        request = httpx.Request("GET", "http://127.0.0.1/")
        if answer == "reset":
            raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
        if answer == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if answer == "refused":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return httpx.Response(500 if answer == "500" else 200, request=request)

    result = Command()._drive(call, {"clients": 4, "requests": 80})
    assert result["errors"] == {"non_200": 10, "resets": 20, "timeouts": 10, "other": 0}
    assert (result["failed"], result["error_share"]) == (40, 0.5)
    assert result["p50"] > 0 and result["throughput"] > 0  # the 40 answered ones
    assert any("Connection reset by peer" in example for example in result["examples"])


def test_a_scenario_whose_every_request_failed_reports_no_latency():
    def call(client):
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    result = Command()._drive(call, {"clients": 2, "requests": 6})
    assert result["errors"]["resets"] == 6 and result["throughput"] == 0
    assert result["p95"] != result["p95"]  # NaN: nothing answered
