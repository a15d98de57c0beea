"""Real sign-in for the browser tests: a local OpenID Connect provider and the flow through it.

The provider is ``oidc-provider-mock`` (PyPI), a Flask app served on a thread of the test
process by its ``run_server_in_thread``; it starts in milliseconds and stops with the test.
It accepts any client id and secret (no client registration). Its authorization page is a form
with one ``sub`` field and an "Authorize" button: whoever is typed there is signed in, with the
claims set for that ``sub`` beforehand by ``PUT /users/<sub>`` (or just ``{"email": sub}``).

Usage::

    from tests.e2e.oidc import app_page, oidc_auth, sign_in, sign_out  # noqa: F401 - oidc_auth is a fixture

    def test_x(oidc_auth, chromium_browser, tmp_path):
        with app_page(oidc_auth, chromium_browser, env, tmp_path / "server.log") as page:
            sign_in(page, oidc_auth.app_url, "ana@example.com", "Ana")

Open the app at ``oidc_auth.app_url`` only, never at another spelling of the same address
(``127.0.0.1`` for ``localhost``): the browser keeps the login-state cookie per host, and
Streamlit signs the origin of ``redirect_uri`` into its auth cookie and ignores that cookie on a
websocket from any other origin, so the app would just show its sign-in screen again.
"""

from __future__ import annotations

import json
import re
import secrets
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from tests.e2e.conftest import _free_port, _unavailable, running_app, wait_idle

# Generous, but a sign-in takes 2-4 s here: the first one of a server also
# imports Authlib and fetches the provider's metadata.
FLOW_TIMEOUT_MS = 30_000
SIGN_IN_BUTTON = ".st-key-sign_in button"
SIGN_OUT_BUTTON = ".st-key-sign_out button"
AUTHORIZE_PATH = "/oauth2/authorize"
END_SESSION_PATH = "/oauth2/end_session"


@dataclass(frozen=True)
class OidcAuth:
    """What a test needs to run an app with sign-in through the mock provider."""

    issuer: str  # the provider, e.g. http://127.0.0.1:41234
    app_port: int  # the port the app must run on: redirect_uri names it
    app_url: str  # where to open the app, e.g. http://localhost:41235
    secrets_path: Path  # a secrets.toml with the [auth] section

    @property
    def server_args(self) -> list[str]:
        return ["--secrets.files", str(self.secrets_path)]

    @property
    def app_kwargs(self) -> dict:
        """Keyword arguments for ``running_app``: the port and ``--secrets.files``."""
        return {"port": self.app_port, "extra_args": self.server_args}

    def set_user(self, sub: str, claims: dict) -> None:
        """Give ``sub`` these claims (``email``, ``name``, ...) in its ID token and userinfo."""
        set_user(self.issuer, sub, claims)


def set_user(issuer: str, sub: str, claims: dict) -> None:
    req = urllib.request.Request(
        f"{issuer}/users/{quote(sub, safe='')}", data=json.dumps(claims).encode(), method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 204, resp.status


def auth_secrets_toml(*, issuer: str, app_url: str, client_id: str = "overseer-e2e",
                      client_secret: str = "e2e-secret", cookie_secret: str | None = None) -> str:
    """The ``[auth]`` section of a secrets.toml for ``st.login()`` through ``issuer``."""
    return (
        "[auth]\n"
        f'redirect_uri = "{app_url}/oauth2callback"\n'
        f'cookie_secret = "{cookie_secret or secrets.token_hex(32)}"\n'
        f'client_id = "{client_id}"\n'
        f'client_secret = "{client_secret}"\n'
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
    )


@pytest.fixture
def oidc_auth(tmp_path) -> Iterator[OidcAuth]:
    """A mock OpenID Connect provider on a free port, and a secrets.toml pointing an app at it.

    Start the app with ``running_app(..., **oidc_auth.app_kwargs)`` (it must listen on
    ``oidc_auth.app_port``: the redirect URI names it) and open it at ``oidc_auth.app_url``.
    """
    try:
        import oidc_provider_mock
    except ImportError:
        _unavailable("the oidc-provider-mock package is not installed")
    with oidc_provider_mock.run_server_in_thread() as server:
        # The server binds "localhost" as IPv4; name it by address so no client tries ::1 first.
        issuer = f"http://127.0.0.1:{server.server_port}"
        port = _free_port()
        app_url = f"http://localhost:{port}"
        path = tmp_path / "auth-secrets.toml"
        path.write_text(auth_secrets_toml(issuer=issuer, app_url=app_url))
        yield OidcAuth(issuer=issuer, app_port=port, app_url=app_url, secrets_path=path)


@contextmanager
def app_page(oidc_auth: OidcAuth, browser, env: dict, log: Path) -> Iterator:
    """A page, in a browser context of its own, on an app started with sign-in through ``oidc_auth``.

    A failure inside comes out with the end of the server's log, which is where
    a sign-in that went wrong says why, and a screenshot of the page beside the
    log; the context is closed either way.
    """
    with running_app(env, log, **oidc_auth.app_kwargs):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            yield page
        except Exception as exc:
            shot = log.with_suffix(".png")
            try:
                page.screenshot(path=shot, full_page=True)
            except Exception:  # noqa: BLE001 - the failure itself matters more than its picture
                shot = None
            raise AssertionError(
                f"{exc}\n--- screenshot: {shot} ---\n--- server log ---\n{log.read_text()[-4000:]}"
            ) from exc
        finally:
            context.close()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def sign_in(page, app_url: str, email: str, name: str | None = None, *, expect_text: str | None = None) -> None:
    """Sign in for real: the app's "Sign in" button, the provider's form, back in the app.

    ``email`` is the user's ``sub`` and ``email`` claim (``name`` too when given). Returns once
    the app has run signed in: its sign-in button is gone and ``expect_text`` (default: the
    email) shows on the page.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    page.goto(app_url)
    button = page.locator(SIGN_IN_BUTTON)
    try:
        button.wait_for(timeout=FLOW_TIMEOUT_MS)
    except PlaywrightTimeoutError:
        raise AssertionError(
            f"no sign-in button (key 'sign_in') at {app_url}; the page shows:\n{page.inner_text('body')[:2000]}"
        ) from None
    wait_idle(page)
    button.click()
    # st.login() sends the browser to /auth/login, which redirects to the provider's form.
    page.wait_for_url(re.compile(re.escape(AUTHORIZE_PATH)), timeout=FLOW_TIMEOUT_MS)
    claims = {"email": email, "email_verified": True}
    if name:
        claims["name"] = name
    set_user(_origin(page.url), email, claims)
    page.locator("input[name='sub']").fill(email)
    page.locator("form:has(input[name='sub']) button[type='submit']").click()
    # The provider redirects to /oauth2callback, which sets the auth cookie and redirects to the app.
    app_origin = _origin(app_url)
    page.wait_for_url(lambda url: url.startswith(app_origin) and "/oauth2callback" not in url,
                      timeout=FLOW_TIMEOUT_MS)
    page.get_by_text(expect_text or email).first.wait_for(timeout=FLOW_TIMEOUT_MS)
    wait_idle(page)
    assert page.locator(SIGN_IN_BUTTON).count() == 0, "still on the sign-in screen after signing in"


def sign_out(page, app_url: str | None = None) -> None:
    """Sign out for real: the app's "Sign out" button (key ``sign_out``) when it shows one, else
    Streamlit's ``/auth/logout`` (what ``st.logout()`` opens).

    Streamlit sends the browser to the provider's end-session page; its "End session" button
    leads back through ``/oauth2callback`` to the app, which shows its sign-in button again.
    """
    base = _origin(app_url or page.url)
    button = page.locator(SIGN_OUT_BUTTON)
    if page.url.startswith(base) and button.count():
        button.first.click()
        page.wait_for_url(re.compile(re.escape(END_SESSION_PATH)), timeout=FLOW_TIMEOUT_MS)
    else:
        page.goto(f"{base}/auth/logout")
    if END_SESSION_PATH in page.url:
        page.locator("form button[type='submit']").click()
    page.wait_for_url(lambda url: url.startswith(base) and "/oauth2callback" not in url, timeout=FLOW_TIMEOUT_MS)
    page.locator(SIGN_IN_BUTTON).wait_for(timeout=FLOW_TIMEOUT_MS)
    wait_idle(page)
