"""The whole flow with Python's OAuth libraries, as their documentation uses them: the RFC 8414 metadata
fetched with requests (both libraries' sessions take endpoint URLs, not an issuer), authorize at the sandbox
(auto-approve), the code exchange and a refresh at the service's /token, a revocation at /revoke.
Run by test/clients/oauth-libraries.test.ts as: python3 oauth_libraries.py (authlib|requests-oauthlib)
METADATA_URL CLIENT_ID REDIRECT_URI. Prints one JSON line of what each step got; never a token.
"""

import base64
import hashlib
import json
import os
import secrets
import sys

import requests

# Both libraries refuse plain http unless told; the sandbox runs on loopback http.
os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"

library, metadata_url, client_id, redirect_uri = sys.argv[1:5]
metadata = requests.get(metadata_url, timeout=5).json()
scope = "user-read-email user-read-private"


def follow(url):
    """The sandbox's auto-approve answers the authorize URL with a redirect carrying the code."""
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.status_code
    return answer.headers["Location"]


def shape(token):
    scope_got = token.get("scope")
    # oauthlib hands the scope back as a list.
    if isinstance(scope_got, list):
        scope_got = " ".join(scope_got)
    return {
        "token_type": token.get("token_type"),
        "has_access_token": bool(token.get("access_token")),
        "has_refresh_token": bool(token.get("refresh_token")),
        "expires_in": token.get("expires_in"),
        "scope": scope_got,
    }


def revoke_status(token):
    answer = requests.post(
        metadata["revocation_endpoint"],
        data={"token": token, "token_type_hint": "refresh_token", "client_id": client_id},
        timeout=5,
    )
    return answer.status_code


def refresh_after_revoke(token):
    answer = requests.post(
        metadata["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": token, "client_id": client_id},
        timeout=5,
    )
    return answer.json().get("error")


def with_authlib():
    from authlib.integrations.requests_client import OAuth2Session

    session = OAuth2Session(
        client_id,
        redirect_uri=redirect_uri,
        scope=scope,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    verifier = secrets.token_urlsafe(48)
    url, _state = session.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier
    )
    token = session.fetch_token(
        metadata["token_endpoint"], authorization_response=follow(url), code_verifier=verifier
    )
    refresh_token = token["refresh_token"]
    refreshed = session.refresh_token(metadata["token_endpoint"], refresh_token=refresh_token)
    revoked = session.revoke_token(
        metadata["revocation_endpoint"], token=refresh_token, token_type_hint="refresh_token"
    )
    return {
        "exchange": shape(token),
        "refresh": shape(refreshed),
        "revoke": revoked.status_code,
        "after_revoke": refresh_after_revoke(refresh_token),
    }


def with_requests_oauthlib():
    from requests_oauthlib import OAuth2Session

    session = OAuth2Session(client_id, redirect_uri=redirect_uri, scope=scope.split(" "))
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    url, _state = session.authorization_url(
        metadata["authorization_endpoint"], code_challenge=challenge, code_challenge_method="S256"
    )
    # Without a client secret, requests-oauthlib authenticates with HTTP Basic and an empty password.
    token = session.fetch_token(
        metadata["token_endpoint"], authorization_response=follow(url), code_verifier=verifier
    )
    refresh_token = token["refresh_token"]
    refreshed = session.refresh_token(
        metadata["token_endpoint"], refresh_token=refresh_token, client_id=client_id
    )
    # requests-oauthlib has no revocation call: RFC 7009 by hand.
    return {
        "exchange": shape(token),
        "refresh": shape(refreshed),
        "revoke": revoke_status(refresh_token),
        "after_revoke": refresh_after_revoke(refresh_token),
    }


result = with_authlib() if library == "authlib" else with_requests_oauthlib()
print(json.dumps(result))
