"""The secret values of an environment, and their redaction (swarmgit.domain.secrets)."""

from __future__ import annotations

from swarmgit.domain.secrets import NO_SECRETS, Secrets, secrets_from_env, url_passwords

KEY = "sk-ant-api03-abcdefghijklmnop"


def test_values_of_secret_named_variables_of_some_length_are_secret() -> None:
    env = {
        "ANTHROPIC_API_KEY": KEY,
        "my_token": "ghp_0123456789",
        "DB_PASSWORD": "pw-long-enough",
        "AWS_SECRET_ACCESS_KEY": "  spaced-secret-value\n",
        "PASSWORD_SHORT": "true",
        "HOME": "/home/someone",
        "EDITOR": "vim-is-longer-than-8",
    }
    assert set(secrets_from_env(env).values) == {
        KEY,
        "ghp_0123456789",
        "pw-long-enough",
        "spaced-secret-value",
    }


def test_the_password_of_a_url_in_any_variable_is_secret_but_not_the_rest_of_it() -> None:
    env = {
        "DATABASE_URL": "postgres://u:hunter2pass@db/x",
        "MIRRORS": "https://a.example/x http://bob:p%40ss-word-1@b.example:8080/y",
        "PLAIN_URL": "https://example.com/path?q=1",
        "GIT_REMOTE": "ssh://git@host/repo",
    }
    assert set(secrets_from_env(env).values) == {"hunter2pass", "p%40ss-word-1", "p@ss-word-1"}


def test_url_passwords_stop_at_the_host_and_take_the_last_at_sign() -> None:
    assert list(url_passwords("redis://:secret-value@cache:6379/0")) == ["secret-value"]
    assert list(url_passwords("x://user:pa@ss@host/p@th")) == ["pa@ss"]
    assert list(url_passwords("just text: a:b@c")) == []


def test_each_line_of_a_multi_line_secret_counts_on_its_own() -> None:
    pem = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\nshort\n-----END KEY-----\n"
    values = secrets_from_env({"SIGNING_KEY": pem}).values
    assert "MIIEvQIBADANBgkqhkiG9w0B" in values and "short" not in values
    assert pem.strip() in values


def test_redact_masks_every_occurrence_longest_first() -> None:
    secrets = secrets_from_env({"A_KEY": "abcdefgh", "B_KEY": "abcdefgh-and-more"})
    assert secrets.values == ("abcdefgh-and-more", "abcdefgh")
    text = "1 abcdefgh-and-more 2 abcdefgh 3 abcdefghabcdefgh"
    assert secrets.redact(text) == "1 *** 2 *** 3 ***"


def test_redact_masks_overlapping_values_entirely() -> None:
    secrets = Secrets(("12345678xyz", "xyz98765432"))
    assert secrets.redact("<12345678xyz98765432>") == "<***>"
    assert secrets.redact("nothing here") == "nothing here"


def test_found_in_and_an_empty_set() -> None:
    secrets = secrets_from_env({"TOKEN": KEY})
    assert secrets.found_in(f"key={KEY}") and not secrets.found_in("key=***")
    assert not NO_SECRETS and NO_SECRETS.redact(KEY) == KEY and not NO_SECRETS.found_in(KEY)


def test_the_repr_never_shows_a_value() -> None:
    secrets = secrets_from_env({"ANTHROPIC_API_KEY": KEY})
    assert KEY not in repr(secrets) and KEY not in str(secrets)
