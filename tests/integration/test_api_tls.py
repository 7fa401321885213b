"""The API behind TLS: uvicorn serves HTTPS with AFTERCARE_API_TLS_CERT_FILE / _KEY_FILE, and nothing in clear."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from aftercare.certs import DevCerts, make_dev_certs
from aftercare.runtime import Platform, api_server
from aftercare.settings import Settings
from aftercare.wiring import open_stores
from tests.integration.conftest_services import free_port
from tests.support.mqtt_publisher import wait_until

pytestmark = pytest.mark.integration
ADMIN = "test-admin-token-0123456789abcdef"


@pytest.fixture
def certs(tmp_path: Path) -> DevCerts:
    return make_dev_certs(tmp_path / "certs")


@pytest.fixture
def https_api(tmp_path: Path, certs: DevCerts) -> Iterator[int]:
    port = free_port()
    settings = Settings(
        data_dir=tmp_path / "data",
        api_port=port,
        admin_token=ADMIN,
        api_tls_cert_file=certs.server_cert,
        api_tls_key_file=certs.server_key,
    )
    platform = Platform(settings=settings, stores=open_stores(settings), admin_token=ADMIN)
    server: uvicorn.Server = api_server(platform)
    thread = threading.Thread(target=server.run, name="https-api", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), 30, what="the API to start")
        assert server.started, "the API did not start"
        yield port
    finally:
        server.should_exit = True
        thread.join(15)
        platform.stop()


def test_the_api_answers_over_https_with_the_dev_ca(https_api: int, certs: DevCerts) -> None:
    verify = ssl.create_default_context(cafile=str(certs.ca_cert))
    with httpx.Client(verify=verify, timeout=10) as client:
        assert client.get(f"https://localhost:{https_api}/healthz").status_code == 200
        answer = client.get(
            f"https://127.0.0.1:{https_api}/api/v1/patients", headers={"Authorization": f"Bearer {ADMIN}"}
        )
        assert answer.status_code == 200, answer.text


def test_plain_http_gets_no_answer_from_the_api(https_api: int) -> None:
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{https_api}/healthz", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10)


def test_a_client_trusting_another_ca_refuses_the_api(https_api: int, tmp_path: Path) -> None:
    other = make_dev_certs(tmp_path / "other-ca")
    verify = ssl.create_default_context(cafile=str(other.ca_cert))
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"https://localhost:{https_api}/healthz", verify=verify, timeout=10)


def test_the_simulators_register_devices_through_the_https_api(https_api: int, certs: DevCerts) -> None:
    from simulators.registration import Registrar

    verify = ssl.create_default_context(cafile=str(certs.ca_cert))
    registered = Registrar(f"https://localhost:{https_api}", ADMIN, verify=verify).register(patients=1, shops=0)
    assert len(registered.patients) == 1
    assert list(registered.wearables.values()) == registered.patients
