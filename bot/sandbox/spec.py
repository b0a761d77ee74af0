"""The official Bot API description (``api.min.json``) as the simulator's source of truth.

It answers three questions for ``server.py``: does a method exist (case-insensitively, as at
Telegram), are its required fields present, and what Python value does each wire string
stand for. It also synthesises minimal, type-correct objects for methods the simulator
accepts without modelling them, so a client library can still parse the reply.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.sandbox.errors import ApiError, bad_request

SPEC_PATH = Path(__file__).with_name("api.min.json")

_INT_RE = re.compile(r"^[+-]?\d+$")
_SCALARS = {"Integer", "Float", "Boolean", "String", "True"}

# Telegram's own wording for well-known missing fields; the rest use "<field> is empty".
_EMPTY_FIELD_WORDING = {
    "text": "message text is empty",
    "callback_query_id": "query is too old and response timeout expired or query ID is invalid",
}
_FILE_FIELD_WORDING = {  # only where the field takes an upload
    "photo": "there is no photo in the request",
    "document": "there is no document in the request",
    "audio": "there is no audio in the request",
    "video": "there is no video in the request",
    "voice": "there is no voice in the request",
    "sticker": "there is no sticker in the request",
    "animation": "there is no animation in the request",
}


@dataclass(frozen=True, slots=True)
class Upload:
    """A file part of a multipart request: what the client uploaded, with its metadata."""

    data: bytes
    filename: str | None
    content_type: str | None


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One parameter of a method or field of a type, as the spec lists it."""

    name: str
    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True, slots=True)
class MethodSpec:
    """One Bot API method: its canonical name, parameters and return types."""

    name: str
    fields: tuple[FieldSpec, ...]
    returns: tuple[str, ...]


class ApiSpec:
    """Lookup, validation and coercion driven by ``api.min.json``."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.version: str = str(data.get("version", ""))
        self._methods: dict[str, MethodSpec] = {}
        for name, raw in data["methods"].items():
            fields = tuple(_field(f) for f in raw.get("fields", []))
            spec = MethodSpec(name=name, fields=fields, returns=tuple(raw.get("returns", [])))
            # Telegram matches method names case-insensitively (/bot<t>/SENDMESSAGE works).
            self._methods[name.lower()] = spec
        self._types: dict[str, Mapping[str, Any]] = dict(data["types"])

    @classmethod
    def load(cls, path: Path | None = None) -> ApiSpec:
        """Load the spec shipped with the package (cached) or from ``path``."""
        if path is None:
            return _default_spec()
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def method(self, name: str) -> MethodSpec | None:
        """Return the method called ``name`` (any letter case), or ``None``."""
        return self._methods.get(name.lower())

    @property
    def method_names(self) -> list[str]:
        """Return every canonical method name."""
        return sorted(m.name for m in self._methods.values())

    def type_fields(self, type_name: str) -> tuple[FieldSpec, ...]:
        """Return the fields of an object type (empty for unknown or abstract types)."""
        raw = self._types.get(type_name)
        if raw is None:
            return ()
        return tuple(_field(f) for f in raw.get("fields", []))

    def coerce(
        self, method: MethodSpec, raw: Mapping[str, Any], uploads: Mapping[str, Upload]
    ) -> dict[str, Any]:
        """Validate required fields and convert wire values to the types the spec names.

        Unknown parameters are dropped, as Telegram ignores them. ``attach://name`` strings
        in file fields are resolved to the uploaded part, as the multipart convention says.
        """
        params: dict[str, Any] = {}
        for field in method.fields:
            value: Any = raw.get(field.name)
            if value is None and field.name in uploads and _accepts_file(field.types):
                value = uploads[field.name]
            if value is None or value == "":
                if field.required:
                    raise bad_request(_empty_field(field))
                continue
            params[field.name] = _coerce_value(field, value, uploads)
        return params

    def example(self, type_names: tuple[str, ...] | list[str], depth: int = 0) -> Any:
        """Return a minimal valid value of the first of ``type_names`` (True for Boolean)."""
        type_name = type_names[0] if type_names else "Boolean"
        if type_name.startswith("Array of "):
            return []
        if type_name in ("Boolean", "True"):
            return True
        if type_name == "Integer":
            return 0
        if type_name == "Float":
            return 0.0
        if type_name == "String":
            return ""
        raw = self._types.get(type_name)
        if raw is None or depth > 6:
            return {}
        if raw.get("subtypes"):
            return self.example([raw["subtypes"][0]], depth + 1)
        obj: dict[str, Any] = {}
        for field in self.type_fields(type_name):
            if field.required:
                # Required booleans in Bot API objects are flags; False is the safe default.
                value = self.example(field.types, depth + 1)
                obj[field.name] = False if field.types == ("Boolean",) else value
        return obj


def _field(raw: Mapping[str, Any]) -> FieldSpec:
    return FieldSpec(
        name=raw["name"], types=tuple(raw.get("types", [])), required=bool(raw.get("required"))
    )


@functools.cache
def _default_spec() -> ApiSpec:
    return ApiSpec(json.loads(SPEC_PATH.read_text(encoding="utf-8")))


def _empty_field(field: FieldSpec) -> str:
    if field.name in _FILE_FIELD_WORDING and _accepts_file(field.types):
        return _FILE_FIELD_WORDING[field.name]
    return _EMPTY_FIELD_WORDING.get(field.name, f"{field.name} is empty")


def _accepts_file(types: tuple[str, ...]) -> bool:
    return "InputFile" in types


def _coerce_value(field: FieldSpec, value: Any, uploads: Mapping[str, Upload]) -> Any:
    types = field.types
    if isinstance(value, Upload):
        if _accepts_file(types):
            return value
        raise bad_request(f"{field.name} can't be a file")
    if _accepts_file(types):
        if isinstance(value, str) and value.startswith("attach://"):
            name = value.removeprefix("attach://")
            if name not in uploads:
                raise bad_request(f"{field.name} file attachment {name!r} not found")
            return uploads[name]
        return str(value)
    if set(types) <= _SCALARS:
        return _coerce_scalar(field, value)
    # Objects and arrays travel as JSON strings in form bodies and as JSON in JSON bodies.
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            if field.name == "reply_markup":
                raise bad_request("can't parse reply keyboard markup JSON object") from exc
            raise bad_request(f"can't parse {field.name} JSON object") from exc
    return value


def _coerce_scalar(field: FieldSpec, value: Any) -> Any:
    types = field.types
    if "Integer" in types:
        if isinstance(value, bool):
            raise _invalid(field)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INT_RE.match(value.strip()):
            return int(value.strip())
        if "String" in types and isinstance(value, str):
            return value
        raise _invalid(field)
    if "Float" in types:
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise _invalid(field) from exc
    if "Boolean" in types or "True" in types:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise _invalid(field)
    if isinstance(value, str):
        return value
    # A JSON body may carry a number for a String field; Telegram stringifies it.
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _invalid(field: FieldSpec) -> ApiError:
    return bad_request(f"invalid {field.name} specified")
