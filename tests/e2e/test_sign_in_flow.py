"""Real sign-in in a real headless Chromium: Overseer's "Sign in" through a local OpenID Connect provider.

The provider (``oidc-provider-mock``) runs on a thread of this process; the app runs with a
secrets.toml whose ``[auth]`` section points at it (tests/e2e/oidc.py). Nothing is faked on the
Streamlit side: ``st.login()``, the provider's form, ``/oauth2callback`` and the signed cookie.
"""

from __future__ import annotations


import pytest

from tests.e2e.conftest import no_failure, pinned_env
from tests.e2e.oidc import app_page, oidc_auth, sign_in, sign_out  # noqa: F401 - oidc_auth is a fixture

pytestmark = [
    pytest.mark.e2e,
    # The mock provider and Authlib warn about their own deprecated internals.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.*"),
    pytest.mark.filterwarnings("ignore::authlib.deprecate.AuthlibDeprecationWarning"),
]


def test_sign_in_and_out_through_the_identity_provider(oidc_auth, chromium_browser, tmp_path):  # noqa: F811
    env = pinned_env(DATABASE_URL=f"sqlite:///{tmp_path}/signin.db")
    log = tmp_path / "server.log"
    with app_page(oidc_auth, chromium_browser, env, log) as page:
        sign_in(page, oidc_auth.app_url, "ana@example.com", "Ana Lima")
        assert "ana@example.com" in page.inner_text("[data-testid='stSidebar']")
        no_failure(page)
        sign_out(page)  # the sidebar's "Sign out" (st.logout) and the provider's end-session page
        assert "ana@example.com" not in page.inner_text("body")
        no_failure(page)
