"""JSON Schema checks (inference_service.model.json_schema): the draft, the metaschema, a value."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import validators

from inference_service.model.json_schema import (
    draft_name,
    draft_of,
    first_violation,
    schema_problem,
    validator,
)

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


def test_a_valid_schema_has_no_problem() -> None:
    assert schema_problem(PERSON) is None
    assert schema_problem({}) is None  # the empty schema accepts everything


def test_the_default_draft_is_2020_12() -> None:
    assert draft_of(PERSON) is validators.Draft202012Validator
    assert draft_name(validators.Draft202012Validator) == "2020-12"
    assert draft_name(validators.Draft7Validator) == "7"


@pytest.mark.parametrize(
    ("uri", "draft"),
    [
        ("http://json-schema.org/draft-07/schema#", validators.Draft7Validator),
        ("https://json-schema.org/draft-07/schema", validators.Draft7Validator),
        ("http://json-schema.org/draft-04/schema#", validators.Draft4Validator),
        ("https://json-schema.org/draft/2019-09/schema", validators.Draft201909Validator),
        ("https://json-schema.org/draft/2020-12/schema#", validators.Draft202012Validator),
    ],
)
def test_schema_names_its_draft(uri: str, draft: type[Any]) -> None:
    assert draft_of({"$schema": uri}) is draft


def test_the_metaschema_problem_names_the_location_and_the_draft() -> None:
    broken = {"type": "object", "properties": {"age": {"type": "integr"}}}
    assert schema_problem(broken) == (
        "is not a valid JSON Schema (draft 2020-12): at [$.properties.age.type]: "
        "'integr' is not valid under any of the given schemas"
    )


def test_each_draft_checks_its_own_rules() -> None:
    # A boolean exclusiveMinimum is draft 4's; from draft 6 on it is a number.
    old_style = {"type": "number", "minimum": 0, "exclusiveMinimum": True}
    assert schema_problem({"$schema": "http://json-schema.org/draft-04/schema#", **old_style}) is None
    problem = schema_problem(old_style)
    assert problem is not None and "draft 2020-12" in problem and "exclusiveMinimum" in problem


def test_an_unknown_draft_is_a_problem_not_a_guess() -> None:
    problem = schema_problem({"$schema": "https://example.invalid/my-draft", "type": "object"})
    assert problem is not None
    assert "[https://example.invalid/my-draft]" in problem and "2020-12/schema" in problem
    assert schema_problem({"$schema": 7}) is not None


def test_first_violation_names_the_path() -> None:
    check = validator(PERSON)
    assert first_violation(check, {"name": "Ada", "age": 36}) is None
    assert first_violation(check, {"name": "Ada", "age": -1}) == (
        "at [$.age]: -1 is less than the minimum of 0"
    )
    assert first_violation(check, {"name": "Ada"}) == "at [$]: 'age' is a required property"
    assert first_violation(check, []) == "at [$]: [] is not of type 'object'"
