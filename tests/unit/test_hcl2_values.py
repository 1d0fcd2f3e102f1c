"""The cty-like value layer: numbers, conversions, unification, unknowns and marks (cases after go-cty's
``convert`` and ``cty`` tests)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from imagesmith.hcl2.convert import ConversionError, convert, unify
from imagesmith.hcl2.numbers import format_number, parse_number
from imagesmith.hcl2.operators import apply_binary, equals
from imagesmith.hcl2.typeexpr import parse_type
from imagesmith.hcl2.types import BOOL, DYNAMIC, NUMBER, STRING, ListType, MapType, ObjectType, SetType, TupleType
from imagesmith.hcl2.values import (
    NULL_DYNAMIC,
    bool_val,
    from_python,
    null_val,
    number_val,
    set_val,
    string_val,
    to_python,
    tuple_val,
    unknown_val,
)


@pytest.mark.parametrize(
    ("text", "shown"),
    [("5", "5"), ("3.2", "3.2"), ("0.1", "0.1"), ("1e3", "1000"), ("-0.5", "-0.5"),
     ("123456789012345678901234567890", "123456789012345678901234567890"),
     ("3.14159265358979323846264338327950288419716939937510582097494459",
      "3.14159265358979323846264338327950288419716939937510582097494459")],
)
def test_numbers_parse_and_print_like_cty(text: str, shown: str) -> None:
    num = parse_number(text)
    assert num is not None and format_number(num) == shown


def test_arithmetic_is_512_bit_binary_like_big_float() -> None:
    eleven, five_one = number_val(11), number_val(parse_number("5.1") or 0)
    got = apply_binary("%", eleven, five_one)
    assert format_number(got.as_number()) == "0.8" + "0" * 152 + "24"  # the specsuite's expected value
    third = apply_binary("/", number_val(1), number_val(3))
    assert apply_binary("*", third, number_val(3)).as_number() == 1


@pytest.mark.parametrize(
    ("value", "want_type", "want"),
    [
        (number_val(5), STRING, "5"),
        (bool_val(True), STRING, "true"),
        (string_val("12.5"), NUMBER, Fraction(25, 2)),
        (string_val("true"), BOOL, True),
        (string_val("1"), BOOL, True),
        (from_python(["a", 1]), ListType(STRING), ["a", "1"]),
        (from_python(["b", "a", "b"]), SetType(STRING), ["a", "b"]),
        (from_python({"a": 1, "b": "x"}), MapType(STRING), {"a": "1", "b": "x"}),
        (from_python({"a": 1, "b": 2}), MapType(DYNAMIC), {"a": 1, "b": 2}),
        (from_python({"a": "1", "extra": 2}), ObjectType({"a": NUMBER}), {"a": 1}),
        (from_python([1, "2"]), TupleType([STRING, NUMBER]), ["1", 2]),
    ],
)
def test_conversions(value: object, want_type: object, want: object) -> None:
    got = convert(value, want_type)  # type: ignore[arg-type]
    assert got.type == want_type or isinstance(want_type, MapType)
    if isinstance(want, Fraction):
        assert got.as_number() == want
    else:
        assert to_python(got) == want


@pytest.mark.parametrize(
    ("value", "want_type", "message"),
    [
        (string_val("x"), NUMBER, "a number is required"),
        (string_val("TRUE"), BOOL, 'a bool is required; to convert from string, use lowercase "true"'),
        (bool_val(True), NUMBER, "number required"),
        (from_python({"b": 1}), ObjectType({"a": NUMBER}), 'attribute "a" is required'),
        (from_python([1, {"a": 1}]), ListType(DYNAMIC), "all list elements must have the same type"),
        (from_python(["x"]), ListType(NUMBER), "[0]: a number is required"),
    ],
)
def test_conversion_errors(value: object, want_type: object, message: str) -> None:
    with pytest.raises(ConversionError) as exc:
        convert(value, want_type)  # type: ignore[arg-type]
    assert str(exc.value) == message


def test_null_and_unknown_convert_to_the_target_type() -> None:
    assert convert(NULL_DYNAMIC, STRING).type == STRING
    got = convert(unknown_val(DYNAMIC), ListType(STRING))
    assert not got.is_known and got.type == ListType(STRING)


def test_unify() -> None:
    assert unify([STRING, NUMBER, BOOL]) == STRING
    assert unify([NUMBER, BOOL]) is None
    assert unify([ListType(STRING), TupleType([NUMBER])]) == ListType(STRING)
    assert unify([ObjectType({"a": NUMBER}), ObjectType({"a": STRING})]) == ObjectType({"a": STRING})
    assert unify([ObjectType({"a": NUMBER}), ObjectType({"b": STRING})]) == MapType(STRING)
    assert unify([DYNAMIC, STRING]) == DYNAMIC


def test_equality_across_types_and_unknowns() -> None:
    assert equals(string_val("1"), number_val(1)).v is False
    assert equals(null_val(STRING), NULL_DYNAMIC).v is True
    assert not equals(unknown_val(STRING), string_val("a")).is_known
    assert equals(tuple_val([number_val(1)]), tuple_val([number_val(1)])).v is True


def test_logic_short_circuits_over_unknowns() -> None:
    assert apply_binary("&&", bool_val(False), unknown_val(BOOL)).v is False
    assert apply_binary("||", unknown_val(BOOL), bool_val(True)).v is True
    assert not apply_binary("&&", bool_val(True), unknown_val(BOOL)).is_known


def test_marks_propagate_through_operators_and_conversion() -> None:
    secret = string_val("5").with_marks({"sensitive"})
    assert convert(secret, NUMBER).marks == {"sensitive"}
    total = apply_binary("+", convert(secret, NUMBER), number_val(1))
    assert total.marks == {"sensitive"} and total.as_number() == 6


def test_sets_order_and_dedupe_like_cty() -> None:
    s = set_val([string_val("b"), string_val("a"), string_val("b")])
    assert to_python(s) == ["a", "b"]
    n = set_val([number_val(10), number_val(2)])
    assert to_python(n) == [2, 10]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("string", STRING),
        ("list(number)", ListType(NUMBER)),
        ("map(any)", MapType(DYNAMIC)),
        ("set(bool)", SetType(BOOL)),
        ("tuple([string, number])", TupleType([STRING, NUMBER])),
        ("object({a = string, b = list(number)})", ObjectType({"a": STRING, "b": ListType(NUMBER)})),
    ],
)
def test_type_expressions(text: str, want: object) -> None:
    got, diags = parse_type(text)
    assert not diags and got == want


def test_invalid_type_expression() -> None:
    _, diags = parse_type("strang")
    assert diags[0].summary == "Invalid type specification"


def test_sensitive_values_are_masked_when_shown() -> None:
    from imagesmith.hcl2.display import show

    secret = string_val("hunter2").with_marks({"sensitive"})
    val = from_python({"user": "me", "password": secret, "list": [1, secret], "odd key": None})
    text = show(val)
    assert "hunter2" not in text
    assert text == '{list = [1, <sensitive>], "odd key" = null, password = <sensitive>, user = "me"}'
    assert show(unknown_val(STRING)) == "<unknown>"
