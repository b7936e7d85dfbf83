"""The OpenAPI 3.1 document of the HTTP/JSON API, generated from the proto descriptors.

Responsibility: :func:`openapi_document` walks ``scameter.v1``'s service and messages and
writes one ``POST /v1/<kebab>`` operation per RPC whose request and response schemas are the
messages in the proto3 JSON mapping (lowerCamelCase ``json_name``, enums as their names, 64-bit
integers as strings, ``google.protobuf.Duration`` as ``"1.5s"`` strings). The server serves it
at ``/openapi.json``; ``scripts/gen_openapi.py`` writes it to ``docs/openapi.json`` and a test
fails when that file is stale.

Invariant: deterministic (sorted keys when dumped, declaration order for paths), so the
committed file only changes when the proto or this generator does.
"""

from __future__ import annotations

import json
from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from scameter.rpc.http import HTTP_STATUS, SERVICE, kebab

_T = FieldDescriptor
_SCALARS: dict[int, dict[str, Any]] = {
    _T.TYPE_STRING: {"type": "string"},
    _T.TYPE_BOOL: {"type": "boolean"},
    _T.TYPE_INT32: {"type": "integer", "format": "int32"},
    _T.TYPE_SINT32: {"type": "integer", "format": "int32"},
    _T.TYPE_UINT32: {"type": "integer", "format": "uint32", "minimum": 0},
    _T.TYPE_INT64: {"type": "string", "format": "int64"},
    _T.TYPE_UINT64: {"type": "string", "format": "uint64"},
    _T.TYPE_DOUBLE: {"type": "number", "format": "double"},
    _T.TYPE_FLOAT: {"type": "number", "format": "float"},
    _T.TYPE_BYTES: {"type": "string", "format": "byte"},
}

#: Well-known types with their own JSON form (proto3 JSON mapping).
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Duration": {
        "type": "string",
        "pattern": r"^-?[0-9]+(\.[0-9]{1,9})?s$",
        "description": "A duration in seconds with an 's' suffix, e.g. \"300s\".",
    },
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _schema_name(full_name: str) -> str:
    return full_name.removeprefix("scameter.v1.").replace(".", "_")


class _Schemas:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def enum(self, e: EnumDescriptor) -> dict[str, str]:
        name = _schema_name(e.full_name)
        if name not in self.schemas:
            self.schemas[name] = {"type": "string", "enum": [v.name for v in e.values]}
        return _ref(name)

    def message(self, m: Descriptor) -> dict[str, Any]:
        if m.full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[m.full_name])
        name = _schema_name(m.full_name)
        if name not in self.schemas:
            self.schemas[name] = {}  # placeholder: recursion stops here
            props = {f.json_name: self.field(f) for f in m.fields}
            self.schemas[name] = {"type": "object", "properties": props,
                                  "additionalProperties": False}  # fmt: skip
        return _ref(name)

    def field(self, f: FieldDescriptor) -> dict[str, Any]:
        if f.message_type is not None:
            one = self.message(f.message_type)
        elif f.enum_type is not None:
            one = self.enum(f.enum_type)
        else:
            one = dict(_SCALARS[f.type])
        if f.is_repeated:
            return {"type": "array", "items": one}
        return one


_DETAIL = "a google.rpc message with its '@type' (RetryInfo, BadRequest, ErrorInfo)"


def _error_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "integer", "description": "the HTTP status"},
                    "message": {"type": "string"},
                    "status": {"type": "string", "description": "the gRPC status code name"},
                    "details": {
                        "type": "array",
                        "items": {"type": "object", "description": _DETAIL},
                    },
                },
                "required": ["code", "message", "status"],
            }
        },
        "required": ["error"],
    }


def _operation(s: _Schemas, method: Any) -> dict[str, Any]:
    errors = {
        str(status): {"$ref": "#/components/responses/Error"}
        for status in sorted(set(HTTP_STATUS.values()) - {200})
    }
    return {
        "operationId": method.name,
        "summary": f"scameter.v1.Scameter/{method.name}",
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": s.message(method.input_type)}},
        },
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": s.message(method.output_type)}},
            },
            **errors,
        },
    }


def openapi_document(version: str = "") -> dict[str, Any]:
    """The OpenAPI 3.1 document (see the module docstring)."""
    s = _Schemas()
    paths = {f"/v1/{kebab(m.name)}": {"post": _operation(s, m)} for m in SERVICE.methods}
    s.schemas["Error"] = _error_schema()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "scameter HTTP/JSON API",
            "version": version or "v1",
            "description": "Every RPC of scameter.v1.Scameter as POST /v1/<kebab-case-name>, "
            "with the request and response messages in the proto3 JSON mapping. "
            "See docs/http.md.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(s.schemas.items())),
            "responses": {
                "Error": {
                    "description": "The call failed (Google JSON error model, AIP-193)",
                    "content": {"application/json": {"schema": _ref("Error")}},
                }
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def dumps(document: dict[str, Any]) -> str:
    """The committed file's text: sorted keys, two-space indent, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


__all__ = ["dumps", "openapi_document"]
