from annotations.formats.webhook_signatures import secret_new, signature, signature_matches

# Computed independently, with
# printf '1700000000.{"id": "e1"}' | openssl dgst -sha256 -hmac whsec_example
EXPECTED = "sha256=f33c5d9b7dd300b8df8d4d745a8ee9160d8a5af545e0270734a9a4dd23d78b74"


def test_the_signature_is_the_hmac_sha256_of_timestamp_dot_body():
    assert signature(secret="whsec_example", timestamp="1700000000", body='{"id": "e1"}') == (
        EXPECTED
    )


def test_a_signature_matches_its_own_body_and_timestamp():
    assert signature_matches(
        secret="whsec_example", timestamp="1700000000", body='{"id": "e1"}', header=EXPECTED
    )


def test_a_changed_body_does_not_match():
    assert not signature_matches(
        secret="whsec_example", timestamp="1700000000", body='{"id": "e2"}', header=EXPECTED
    )


def test_a_changed_timestamp_does_not_match():
    assert not signature_matches(
        secret="whsec_example", timestamp="1700000001", body='{"id": "e1"}', header=EXPECTED
    )


def test_another_secret_does_not_match():
    assert not signature_matches(
        secret="whsec_other", timestamp="1700000000", body='{"id": "e1"}', header=EXPECTED
    )


def test_new_secrets_are_distinct_and_long():
    first, second = secret_new(), secret_new()

    assert first != second
    assert first.startswith("whsec_")
    assert len(first) == len("whsec_") + 43
