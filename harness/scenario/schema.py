"""The JSON Schema of the scenario language, as people write it.

pydantic describes the validated models; the authoring format also has short forms that the
models accept through before-validators (`- finish` for a step without arguments, `rename: TITLE`,
`- FROZEN-UNTIL-RELOAD: [readouts]`, a `name` taken from the file name). The schema admits those
too, so that an editor never flags a file the loader accepts.
"""

from __future__ import annotations

from typing import Any

from harness.anomalies import EXPECTABLE_CODES
from harness.scenario.model import Scenario
from harness.scenario.steps import STEP_KINDS

__all__ = ["scenario_json_schema"]


def _bare_kinds(defs: dict[str, Any]) -> list[str]:
    """Step kinds whose arguments are all optional, so the bare word is a complete step."""
    bare = []
    for kind in STEP_KINDS:
        arguments = defs[kind.__name__]["properties"][kind.kind]
        target = defs.get(arguments.get("$ref", "").rsplit("/", 1)[-1], {})
        if "$ref" in arguments and not target.get("required"):
            bare.append(kind.kind)
    return bare


def scenario_json_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema()
    defs: dict[str, Any] = schema["$defs"]
    schema["required"] = [name for name in schema["required"] if name != "name"]
    steps = schema["properties"]["steps"]["items"]
    steps["oneOf"].append({"enum": _bare_kinds(defs)})
    rename = defs["RenameStep"]["properties"]["rename"]
    defs["RenameStep"]["properties"]["rename"] = {"anyOf": [rename, {"type": "string"}]}
    readouts = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    defs["ExpectedAnomaly"] = {
        "anyOf": [
            defs["ExpectedAnomaly"],
            {
                "type": "object",
                "description": "- CODE: [readout patterns], with an optional surfaces: [...]",
                "minProperties": 1,
                "maxProperties": 2,
                "propertyNames": {"enum": [*EXPECTABLE_CODES, "surfaces"]},
                "additionalProperties": readouts,
            },
        ]
    }
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Freshness scenario (version 1)"
    return schema
