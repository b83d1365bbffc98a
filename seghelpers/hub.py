"""Is the Hugging Face Hub reachable? Asked once per process, answered within seconds.

Without ``HF_HUB_OFFLINE=1`` the libraries find out that the Hub is unreachable only after their own
timeouts and retries (a Hub id that is not cached took 26 s before the kit's message; a model about
90 s). :func:`reachable` asks once, with a short timeout, before the kit makes any Hub call:

* reachable: nothing changes, the libraries download as usual;
* not reachable: :func:`go_offline` switches huggingface_hub, datasets and transformers to their
  offline mode for the rest of the process, so whatever is cached loads at once, and what is not
  cached fails at once, with the kit's message (``make prefetch``, a local folder, ``synthetic``).

The probe honours ``HF_ENDPOINT`` (a mirror) and ``HF_HUB_OFFLINE`` (then it never touches the network).
``SEGHELPERS_HUB_TIMEOUT`` sets the timeout in seconds (default 2).
"""
from __future__ import annotations

import os
import socket
import time
import urllib.parse

DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_TIMEOUT = 2.0
_TRUE = ("1", "true", "yes", "on")

#: endpoint -> (reachable, reason, seconds the probe took); one probe per endpoint and process
_PROBES: dict[str, tuple[bool, str, float]] = {}


def endpoint() -> str:
    """The Hub's address: ``$HF_ENDPOINT`` or https://huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def offline_requested() -> bool:
    """True when the user (or :func:`go_offline`) set ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``)."""
    return any(os.environ.get(v, "").strip().lower() in _TRUE for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _timeout() -> float:
    try:
        return max(0.1, float(os.environ.get("SEGHELPERS_HUB_TIMEOUT", DEFAULT_TIMEOUT)))
    except ValueError:
        return DEFAULT_TIMEOUT


def probe(url: str | None = None, timeout: float | None = None) -> tuple[bool, str, float]:
    """One HTTP HEAD to ``url`` (default: the endpoint) -> ``(reachable, reason, seconds)``; never cached.

    Any HTTP answer counts as reachable (a 401/404 still proves the server is there). The whole probe
    (DNS, connect, TLS, answer) is bounded by ``timeout`` seconds, so a blackholed address costs
    ``timeout`` and a closed port or a missing DNS entry costs milliseconds.
    """
    import http.client
    import ssl
    import threading

    url = url or endpoint()
    timeout = _timeout() if timeout is None else float(timeout)
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False, f"{url!r} is not an http(s) address (check HF_ENDPOINT)", 0.0
    port = parts.port or (443 if parts.scheme == "https" else 80)
    result: list = []

    def run():
        try:
            if parts.scheme == "https":
                conn = http.client.HTTPSConnection(parts.hostname, port, timeout=timeout,
                                                   context=ssl.create_default_context())
            else:
                conn = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
            try:
                conn.request("HEAD", parts.path or "/", headers={"User-Agent": "seghelpers-probe"})
                status = conn.getresponse().status
            finally:
                conn.close()
            result.append((True, f"HTTP {status}"))
        except socket.gaierror as e:
            result.append((False, f"cannot resolve {parts.hostname} ({e.strerror or e})"))
        except ConnectionRefusedError:
            result.append((False, f"connection to {parts.hostname}:{port} refused"))
        except (socket.timeout, TimeoutError):
            result.append((False, f"no answer from {parts.hostname}:{port} within {timeout:g} s"))
        except ssl.SSLError as e:  # a TLS-intercepting proxy etc.: the server is there, let the libraries decide
            result.append((True, f"TLS error ({e.reason or e})"))
        except OSError as e:
            result.append((False, f"{type(e).__name__}: {e.strerror or e}"))

    t0 = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)  # DNS lookups ignore socket timeouts: bound them here
    worker.start()
    worker.join(timeout + 0.5)
    seconds = time.monotonic() - t0
    if not result:
        return False, f"no answer from {parts.hostname} within {timeout:g} s (DNS or network)", seconds
    ok, why = result[0]
    return ok, why, seconds


def reachable(timeout: float | None = None) -> tuple[bool, str]:
    """Whether the Hub answers (probed once per process and endpoint) -> ``(ok, reason)``.

    With ``HF_HUB_OFFLINE`` set it answers ``False`` without touching the network. When the probe
    fails, :func:`go_offline` is applied, so later library calls use the cache instead of waiting.
    """
    if offline_requested():
        return False, "offline mode (HF_HUB_OFFLINE=1)"
    url = endpoint()
    if url not in _PROBES:
        _PROBES[url] = probe(url, timeout)
        if not _PROBES[url][0]:
            go_offline()
    ok, why, _ = _PROBES[url]
    return ok, why


def last_probe() -> tuple[bool, str, float] | None:
    """The cached probe for the current endpoint ``(ok, reason, seconds)``, or None if none ran."""
    return _PROBES.get(endpoint())


def reset() -> None:
    """Forget the probe (tests; or after the network came back)."""
    _PROBES.clear()


def go_offline() -> None:
    """Switch huggingface_hub, datasets and transformers to offline mode for the rest of this process.

    Sets ``HF_HUB_OFFLINE=1`` / ``HF_DATASETS_OFFLINE=1`` for modules imported later and patches the
    flags the already-imported ones read at import time.
    """
    import sys

    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    hub_constants = sys.modules.get("huggingface_hub.constants")
    if hub_constants is not None:
        hub_constants.HF_HUB_OFFLINE = True
    ds_config = sys.modules.get("datasets.config")
    if ds_config is not None:
        ds_config.HF_HUB_OFFLINE = True
        ds_config.HF_DATASETS_OFFLINE = True
    tf_hub = sys.modules.get("transformers.utils.hub")
    if tf_hub is not None and hasattr(tf_hub, "_is_offline_mode"):
        tf_hub._is_offline_mode = True


def unreachable_message(what: str, why: str, more_en: str = "", more_zh: str = "") -> str:
    """The kit's message for a Hub asset that is neither reachable nor cached (``more_en``/``more_zh``: a
    caller's extra sentence, in the session's language like the rest, see :func:`seghelpers.i18n.tr`)."""
    from .i18n import tr

    return tr(f"{what} is not in the local cache and the Hugging Face Hub cannot be reached ({why}; "
              f"endpoint {endpoint()}). Run `make prefetch` while online (it caches the workshop assets), copy a "
              "prefetched cache or a shared dataset folder from someone who has one, or work offline with "
              "profile='smoke' (synthetic data, random-init model)." + more_en,
              f"{what} 不在本地缓存里，而且连不上 Hugging Face Hub（{why}；端点 {endpoint()}）。"
              "请在联网时运行 `make prefetch`（它会缓存工作坊要用的资源），或者从别人那里拷贝一份预取好的缓存或共享的数据集文件夹，"
              "或者用 profile='smoke' 离线学习（合成数据 + 随机初始化的模型）。" + more_zh)
