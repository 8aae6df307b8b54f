"""The JSON-RPC backend's HTTP sessions read proxy and CA settings from the environment once,
when the backend is made, not on every call."""

from __future__ import annotations

import pytest
import requests

from node_adapter._backends import RpcBackend


def _session(backend: RpcBackend, index: int = 0) -> requests.Session:
    manager = backend._w3s[index].provider._request_session_manager  # type: ignore[attr-defined]
    session: requests.Session = manager._explicit_session
    return session


def test_proxies_and_ca_bundle_from_the_environment_are_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/province-ca.pem")
    backend = RpcBackend(["https://besu.example:8545", "http://127.0.0.1:8545"], timeout=5)
    remote_session, local_session = _session(backend, 0), _session(backend, 1)
    assert remote_session.trust_env is False and local_session.trust_env is False
    assert remote_session.proxies.get("https") == "http://proxy.example:3128"
    assert "http" not in local_session.proxies  # 127.0.0.1 is in NO_PROXY
    assert remote_session.verify == "/etc/ssl/certs/province-ca.pem"


def test_without_proxy_settings_sessions_go_direct(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    backend = RpcBackend(["http://127.0.0.1:8545"], timeout=5)
    session = _session(backend)
    assert session.trust_env is False
    assert not session.proxies
    assert session.verify is True
