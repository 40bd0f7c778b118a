"""The config names environment variables for its secrets, never the secrets themselves.

    password_env = "SMTP_PASSWORD"      # right: the variable's name
    password_env = "hunter2"            # wrong: the password itself

A user who pastes the secret where its variable's name goes must not see it echoed back
("export hunter2=...") into a terminal, a CI log or journald. So a ``*_env`` value is
printed only when it is written like a variable name; anything else is refused with a
message that names the file and the key but not the value.
"""

from __future__ import annotations

import re
from pathlib import Path

from newsletter.errors import ConfigError

# The keys that name a variable: what the variable holds, and the name the fix gives as an example.
SECRET_KEYS = {
    "password_env": ("the SMTP password", "SMTP_PASSWORD"),
    "api_key_env": ("the model's API key", "OPENAI_API_KEY"),
    "secret_env": ("the unsubscribe links' key", "NEWSLETTER_WEB_SECRET"),
}

# What a shell accepts after `export`; "sk-proj-abc123XYZ" is not one.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# What people name variables: capitals, digits and underscores (SMTP_PASSWORD, DEEPSEEK_API_KEY).
_CONVENTIONAL = re.compile(r"[A-Z_][A-Z0-9_]*")
# Words of a key whose value is a secret when someone writes one (password, api_key, smtp_secret):
# an unknown key like these gets the advice below, and no such key has its value printed in an error.
_SECRET_WORDS = {"password", "passwd", "pass", "pwd", "secret", "token", "key", "apikey", "credential",
                 "credentials"}


def is_name(value: str) -> bool:
    return bool(_NAME.fullmatch(value))


def printable(name: str) -> bool:
    """Whether a variable name may be printed: written like one, and not shaped like a token
    (AKIAIOSFODNN7EXAMPLE is a valid name, but long, unbroken and full of digits)."""
    token_like = "_" not in name and len(name) >= 16 and any(c.isdigit() for c in name)
    return bool(_CONVENTIONAL.fullmatch(name)) and not token_like


def holds_secret(key: str) -> bool:
    """Whether a config key's value may be a secret (password, api_key, password_env), so an error
    shows the key but not the value. max_tokens_per_issue holds none."""
    words = key.lower().split("_")
    return words[-1] == "env" or any(w in _SECRET_WORDS for w in words)


def fix(env_key: str | None) -> str:
    """The fix for a secret written into the file: it goes in a variable, and the variable's name in
    ``env_key`` (password_env, api_key_env, secret_env; None: whichever of them it is for)."""
    if env_key not in SECRET_KEYS:
        return ("a password or key never goes in this file: put it in an environment variable and write "
                "that variable's NAME in the key for it (password_env, api_key_env or secret_env).")
    what, example = SECRET_KEYS[env_key]
    return (f"{what} never goes in this file: put it in an environment variable (export {example}=...) "
            f'and write that variable\'s NAME in {env_key}, e.g. {env_key} = "{example}".')


def unlike_a_name(path: Path | str, key: str) -> ConfigError:
    """The error for a variable that is not set and whose name is not written like one: it may be the
    secret itself, so it is not printed."""
    field = key.split()[-1]
    return ConfigError(path, key, "names no environment variable that is set, and is not written like a "
                       "variable's name (capitals, digits and _); it is not shown here, in case it is the "
                       "secret itself.", fix(field).removesuffix(".") + "; if it is a variable's name, "
                       "export it before running.")
