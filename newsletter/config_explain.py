"""Pydantic's validation errors, told as a user fixes them: the TOML key, what is wrong, and the fix.

    [fetch] poll_minutes: Input should be less than or equal to 1440 (got 99999999999). Fix: use a whole number from 1 to 1440.
    topics[0].feeds[0].fulltext: unknown key 'fulltext'. Fix: did you mean 'full_text'? Rename it, or remove it.

Ranges and key names are read from the schema itself, so a new setting explains itself.
A validator gives its own fix by raising ``invalid(problem, fix)``.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from newsletter import variables
from newsletter.errors import ConfigError
from newsletter.wording import counted

# The schema's union branches (config.FeedRef) are tagged with these; the user never wrote them.
FEED_URL, FEED_TABLE = "feed-url", "feed-table"
_BRANCH_TAGS = (FEED_URL, FEED_TABLE)


def invalid(problem: str, fix: str, about: Any = None, *, whole: bool = False) -> PydanticCustomError:
    """A validator's error that carries its own fix, for ``explain`` to show. The problem is told of
    the value the key holds, or of ``about`` when that is more precise (the one wrong item of a list);
    ``whole``: the problem is the whole sentence (a mistake across keys, not in one value)."""
    ctx = {"fix": fix} | ({"about": about} if about is not None else {}) | ({"whole": True} if whole else {})
    return PydanticCustomError("invalid", problem, ctx)


def _key_path(loc: tuple[Any, ...]) -> str:
    """Turn pydantic's location tuple into the TOML key a user would look for."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item}]" if parts else f"[{item}]"
        elif item not in _BRANCH_TAGS and not item.startswith("function-"):
            parts.append(str(item))
    if not parts or parts[0].startswith("topics"):
        return ".".join(parts)
    return f"[{'.'.join(parts[:-1])}] {parts[-1]}" if len(parts) > 1 else f"[{parts[0]}]"


_FIXES = {
    "missing": "add it.",
    "extra_forbidden": "remove it or check its spelling against the config reference in README.md.",
    "int_parsing": "write a whole number without quotes.",
    "int_type": "write a whole number without quotes.",
    "float_parsing": "write a number without quotes.",
    "float_type": "write a number without quotes.",
    "finite_number": "write a finite number.",
    "bool_parsing": "write true or false without quotes.",
    "bool_type": "write true or false without quotes.",
    "string_type": "write it as a quoted string.",
    "list_type": "write it as a list, e.g. [\"a\", \"b\"].",
    "literal_error": "use one of the values listed.",
    "too_short": "give at least one.",
}


_NUMBER_ERRORS = {"int_type", "int_parsing", "float_type", "float_parsing", "finite_number", "greater_than",
                  "greater_than_equal", "less_than", "less_than_equal"}


def explain(path: Path, err: ValidationError, schema: type[BaseModel]) -> ConfigError:
    """The first problem pydantic found in the file at ``path``, as one ConfigError (key, problem, fix)."""
    errors = err.errors()
    misspelt = _misspelt_required_key(errors, schema)
    if misspelt is not None:
        return _explain_misspelt(path, errors, misspelt)
    first = errors[0]
    loc = first["loc"]
    key = _key_path(loc)
    kind = first["type"]
    got = (first.get("ctx") or {}).get("about", first.get("input"))
    fix = (first.get("ctx") or {}).get("fix") or _FIXES.get(kind, "see the config reference in README.md.")
    # A password pasted into password_env, or under a key of its own, is not echoed to the terminal.
    secret = bool(loc) and isinstance(loc[-1], str) and variables.holds_secret(loc[-1])
    if kind == "missing":
        problem = "required key is missing."
    elif kind == "extra_forbidden":
        problem = f"unknown key {loc[-1]!r}."
        section = _schema_at(schema, loc)
        homes = _homes(schema, str(loc[-1]))
        if homes and not secret:  # a key of another table, written under this one ([delivery.smtp] outbox)
            problem = f"{loc[-1]!r} belongs under {' or '.join(homes)}, not {_table_of(key, loc)}."
            fix = f"move it there{' (whichever you meant)' if len(homes) > 1 else ''}."
        else:
            fix = _secret_fix(section, str(loc[-1])) if secret else _spelling_fix(section, str(loc[-1])) or fix
    elif kind == "invalid" and (first.get("ctx") or {}).get("whole"):
        problem = f"{first['msg']}."
    elif kind == "invalid":  # one of our validators: it says what is wrong with the value
        problem = (f"its value {first['msg']} (not shown here, in case it is a secret)." if secret
                   else f"{got!r} {first['msg']}.")
    else:
        shown = f" (got {got!r})" if not isinstance(got, (dict, list)) and not secret else ""
        problem = first["msg"].removeprefix("Value error, ") + shown + "."
        if secret and loc[-1] in variables.SECRET_KEYS:  # password_env = 123456: a number is no name either
            fix = variables.fix(str(loc[-1]))
    if kind in _NUMBER_ERRORS:
        fix = _number_fix(_schema_at(schema, loc), str(loc[-1]), kind) or fix
    if len(errors) > 1:
        fix += f" ({counted(len(errors) - 1, 'more problem')} after this one.)"
    return ConfigError(path, key or None, problem, fix)


def _tables(schema: type[BaseModel], where: str = "") -> list[tuple[str, type[BaseModel]]]:
    """Every table of the config with its name as a user writes it: [delivery.smtp], [[topics]], and a
    feed's own table ({ url = ... } in [[topics]] feeds)."""
    out: list[tuple[str, type[BaseModel]]] = []
    for name, field in schema.model_fields.items():
        model = _model_in(field.annotation)
        if model is None or field.exclude:
            continue
        key = field.alias or name
        listed = "list" in str(field.annotation).lower()
        if where.startswith("[[topics]]"):
            label = "a feed's table { url = ... } in [[topics]] feeds"
        else:
            label = f"[[{key}]]" if listed and not where else f"[{where.strip('[]')}.{key}]" if where else f"[{key}]"
        out += [(label, model), *_tables(model, label)]
    return out


def _homes(schema: type[BaseModel], key: str) -> list[str]:
    """The tables that have ``key`` (for a key written under the wrong one)."""
    return [label for label, model in _tables(schema) if key in _key_names(model)]


def _table_of(key_path: str, loc: tuple[Any, ...]) -> str:
    """'[delivery.smtp] outbox' -> '[delivery.smtp]'; 'topics[0].feeds[0].link' -> 'topics[0].feeds[0]'."""
    if len(loc) == 1:
        return "at the top of the file, before any [table]"
    return key_path.rsplit(" ", 1)[0] if key_path.startswith("[") else key_path.rsplit(".", 1)[0]


def _schema_at(schema: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The section whose key the last item of ``loc`` names, for its key names and ranges."""
    model: type[BaseModel] | None = schema
    for item in loc[:-1]:
        if isinstance(item, int) or item in _BRANCH_TAGS or model is None:
            continue
        field = _field(model, item)
        model = _model_in(field.annotation) if field else None
    return model


def _field(model: type[BaseModel], key: str):
    return next((f for name, f in model.model_fields.items() if key in (name, f.alias)), None)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The section class inside list[Topic], SMTPSettings | None, FeedRef and the like."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for m in map(_model_in, get_args(annotation)) if m), None)


def _key_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items() if not f.exclude]


def _likely_key(model: type[BaseModel] | None, key: str) -> str | None:
    """The key of ``model`` that ``key`` is most likely a misspelling of, if any is close."""
    close = difflib.get_close_matches(key, _key_names(model), n=1, cutoff=0.6) if model else []
    return close[0] if close else None


def _spelling_fix(model: type[BaseModel] | None, key: str) -> str | None:
    if model is None:
        return None
    likely = _likely_key(model, key)
    if likely:
        return f"did you mean {likely!r}? Rename it, or remove it."
    return f"remove it; the keys here are {', '.join(_key_names(model))}."


def _secret_fix(model: type[BaseModel] | None, key: str) -> str:
    """For ``password = "..."`` beside password_env: "did you mean 'password_env'? Rename it" would put
    the password there. Say where a secret goes instead."""
    env_key = next((k for k in _key_names(model) if k in variables.SECRET_KEYS), None) if model else None
    return f"remove {key}; " + variables.fix(env_key)


def _misspelt_required_key(errors: list[dict], schema: type[BaseModel]) -> tuple[dict, dict] | None:
    """(unknown, missing): the first error is one of a pair where an unknown key is the misspelling of a
    required key in the same table. Pydantic reports both; the user made one mistake, so it is told as one."""
    first = errors[0]
    if first["type"] not in ("missing", "extra_forbidden"):
        return None
    table = first["loc"][:-1]
    here = [e for e in errors if e["loc"][:-1] == table and e["type"] in ("missing", "extra_forbidden")]
    for other in errors[1:]:
        if {first["type"], other["type"]} != {"missing", "extra_forbidden"} or first["loc"][:-1] != other["loc"][:-1]:
            continue
        unknown, missing = (first, other) if first["type"] == "extra_forbidden" else (other, first)
        if _likely_key(_schema_at(schema, unknown["loc"]), str(unknown["loc"][-1])) == missing["loc"][-1]:
            return unknown, missing
        # One key unknown and one required key missing in one table ({ link = ... } for { url = ... }): one
        # mistake, a name for it, even when the two are not spelt alike. Unless the unknown key has a home of
        # its own, or its value could not be the missing key's (starttls = true is no smtp host).
        if len(here) == 2 and not _homes(schema, str(unknown["loc"][-1])) \
                and _fits(_schema_at(schema, missing["loc"]), str(missing["loc"][-1]), unknown.get("input")):
            return unknown, missing
    return None


def _fits(model: type[BaseModel] | None, key: str, value: Any) -> bool:
    """Whether ``value`` would be valid for ``key`` of ``model``."""
    field = _field(model, key) if model else None
    if field is None:
        return False
    kind = Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
    try:
        TypeAdapter(kind).validate_python(value)
    except ValidationError:
        return False
    return True


def _explain_misspelt(path: Path, errors: list[dict], pair: tuple[dict, dict]) -> ConfigError:
    unknown, missing = pair
    wrong, right = str(unknown["loc"][-1]), str(missing["loc"][-1])
    key = _key_path(unknown["loc"])
    if len(unknown["loc"]) == 1:  # a whole table: say it as written, [[topic]] for a list of tables
        key = f"[[{wrong}]]" if isinstance(unknown.get("input"), list) else f"[{wrong}]"
        right = f"[[{right}]]" if key.startswith("[[") else f"[{right}]"
    fix = f"did you mean {right}? Rename {wrong} to {right.strip('[]')}."
    if len(errors) > 2:
        fix += f" ({counted(len(errors) - 2, 'more problem')} after this one.)"
    return ConfigError(path, key, f"is not a key here, and the required key {right} is missing.", fix)


def _number_fix(model: type[BaseModel] | None, key: str, kind: str) -> str | None:
    """'use a whole number from 1 to 1440.': the field's type and range, read from the schema itself."""
    field = _field(model, key) if model else None
    of = number_type(field.annotation) if field is not None else None
    if of is None:
        return None
    meta = {type(m): m for m in field.metadata}
    low = f"from {meta[Ge].ge}" if Ge in meta else f"above {meta[Gt].gt}" if Gt in meta else ""
    high = f"up to {meta[Le].le}" if Le in meta else f"below {meta[Lt].lt}" if Lt in meta else ""
    if low.startswith("from") and high.startswith("up to"):
        high = high.replace("up to", "to")
    bounds = " ".join(b for b in (low, high) if b)
    number = "a whole number" if of is int else "a number"
    verb = "use" if kind.startswith(("greater", "less")) else "write"
    quotes = "" if verb == "use" else " without quotes"
    return f"{verb} {number}{quotes}{' ' + bounds if bounds else ''}."


def number_type(annotation: Any) -> type | None:
    """int or float for a number key, also an optional one (``StrictInt | None``: unset means off); else None."""
    if annotation in (int, float):
        return annotation
    inner = [a for a in get_args(annotation) if a is not type(None)]
    if len(inner) == 1 and len(get_args(annotation)) == 2:  # X | None
        found = get_args(inner[0])[0] if get_origin(inner[0]) is Annotated else inner[0]
        return found if found in (int, float) else None
    return None
