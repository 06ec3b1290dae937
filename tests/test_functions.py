"""Which functions may travel to a worker, and how status arguments are fitted."""

from __future__ import annotations

import functools
import os.path
from typing import Any

import pytest
from django.test import override_settings

from longcallbacks.exceptions import RejectedFunction
from longcallbacks.functions import fit_arguments, function_path, resolve_function
from tests import callbacks


def module_level(a: int) -> int:
    return a


def decorated(function: Any) -> Any:
    @functools.wraps(function)
    def wrapper(*args: Any) -> Any:
        return function(*args)

    return wrapper


@decorated
def wrapped_function() -> None:
    return None


class Holder:
    @staticmethod
    def static() -> None:
        return None


def test_path_of_module_function() -> None:
    assert function_path(callbacks.add) == "tests.callbacks.add"


def test_lambda_rejected_with_fix() -> None:
    with pytest.raises(ValueError, match=r"is a lambda.*INSTALLED_APPS") as info:
        function_path(lambda: None)
    assert isinstance(info.value, RejectedFunction)


def test_nested_function_rejected() -> None:
    def inner() -> None:
        return None

    with pytest.raises(RejectedFunction, match=r"test_nested_function_rejected.<locals>.inner is a nested"):
        function_path(inner)


def test_closure_rejected() -> None:
    captured = 3

    def closure() -> int:
        return captured

    with pytest.raises(RejectedFunction, match="closure"):
        function_path(closure)


def test_method_rejected() -> None:
    with pytest.raises(RejectedFunction, match="inside a class"):
        function_path(Holder.static)


def test_builtin_and_callable_object_rejected() -> None:
    with pytest.raises(RejectedFunction, match="must be a plain function, not builtin_function_or_method"):
        function_path(print)
    with pytest.raises(RejectedFunction, match="not partial"):
        function_path(functools.partial(callbacks.add, 1))


def test_function_outside_installed_apps_rejected() -> None:
    with pytest.raises(RejectedFunction, match=r"module 'posixpath', which is not allowed"):
        function_path(os.path.join)


def test_allowed_modules_setting_admits_module() -> None:
    with override_settings(LONGCALLBACKS={"ALLOWED_MODULES": ["posixpath"]}):
        assert function_path(os.path.join) == "posixpath.join"
    with pytest.raises(RejectedFunction):
        function_path(os.path.join)


def test_framework_app_functions_rejected() -> None:
    from django.contrib.auth import get_user_model

    with pytest.raises(RejectedFunction, match="django.contrib.auth"):
        function_path(get_user_model)


def test_wrapped_function_accepted_when_importable() -> None:
    assert function_path(wrapped_function) == "tests.test_functions.wrapped_function"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("os.system", "module 'os' is not allowed"),
        ("tests.callbacks.os", "module 'tests.callbacks' is not allowed|not a function|names a module"),
        ("tests.callbacks.time.sleep", "module 'tests.callbacks.time' is not allowed|cannot be imported"),
        ("tests.callbacks.missing", "cannot be imported"),
        ("tests.callbacks.SuiteVariables", "names a type, not a function"),
        ("not a path", "not a dotted Python path"),
        ("tests.callbacks.invoke_callback", "defined elsewhere"),
        ("__import__", "not a dotted Python path"),
    ],
)
def test_resolve_rejects_forged_paths(path: str, reason: str) -> None:
    with pytest.raises(RejectedFunction, match=reason):
        resolve_function(path)


def test_resolve_accepts_allowed_function() -> None:
    assert resolve_function("tests.callbacks.add") is callbacks.add


def status_two(state: Any, status: Any) -> None:
    return None


def status_four(state: Any, status: Any, tag: Any, result: Any) -> None:
    return None


def status_varargs(state: Any, *values: Any) -> None:
    return None


def test_fit_cuts_to_parameters() -> None:
    assert fit_arguments(status_two, [True, "tag", 42]) == [True]


def test_fit_pads_with_none() -> None:
    assert fit_arguments(status_four, [True]) == [True, None, None]


def test_fit_exact() -> None:
    assert fit_arguments(status_four, [False, "t", None]) == [False, "t", None]


def test_fit_varargs_gets_everything() -> None:
    assert fit_arguments(status_varargs, [1, 2, 3]) == [1, 2, 3]
