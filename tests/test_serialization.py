from __future__ import annotations

import datetime
import math

import pytest

from longcallbacks.serialization import check_json_value, to_json_list


def test_plain_values_pass_and_tuples_become_lists() -> None:
    assert to_json_list((1, "a", [2, (3,)], {"k": None}), "args") == [1, "a", [2, [3]], {"k": None}]


def test_none_means_no_arguments() -> None:
    assert to_json_list(None, "args") == []


def test_error_names_position_and_type() -> None:
    with pytest.raises(TypeError, match=r"user_function_args\[1\] has type datetime.*isoformat"):
        to_json_list([1, datetime.datetime(2026, 1, 1)], "user_function_args")


def test_error_names_nested_path() -> None:
    with pytest.raises(TypeError, match=r"args\[0\]\['when'\]\[2\] has type set"):
        to_json_list([{"when": [1, 2, {3}]}], "args")


def test_non_string_dict_key_rejected() -> None:
    with pytest.raises(TypeError, match=r"dict key of type int"):
        to_json_list([{1: "a"}], "args")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_rejected(value: float) -> None:
    with pytest.raises(TypeError, match="float"):
        check_json_value(value, "value")


def test_non_list_arguments_rejected() -> None:
    with pytest.raises(TypeError, match=r"must be a list or tuple of arguments, not str.*\['abc'\]"):
        to_json_list("abc", "user_function_args")
