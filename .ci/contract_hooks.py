"""schemathesis hooks for .ci/contract: a token fetched from the served API and renewed every
few seconds, so that an operation that revokes tokens (they are fuzzed too) cannot leave the
rest of the run signed out."""

import os

import requests
import schemathesis


@schemathesis.auth(refresh_interval=5)
class DemoToken:
    def get(self, case, context):
        base = os.environ["ATLAS_CONTRACT_BASE"]
        response = requests.post(
            f"{base}/api/v1/auth/token/",
            json={"username": "demo", "password": os.environ["ATLAS_CONTRACT_PASSWORD"]},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["token"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Token {data}"
