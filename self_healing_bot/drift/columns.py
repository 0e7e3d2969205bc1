"""Column kinds and their inference from a reference column, with Evidently's rules.

float → numeric; integer → categorical with ≤ 10 distinct values, else numeric; strings → text
when distinct values exceed half the non-missing count, else categorical; bool → categorical;
dates and times → datetime. Text and datetime columns are reported but not tested.

    >>> infer_kind(pl.Series([1, 2, 2, 3]))
    <ColumnKind.CATEGORICAL: 'categorical'>
"""

from __future__ import annotations

from enum import StrEnum

import polars as pl

INTEGER_CARDINALITY_LIMIT = 10


class ColumnKind(StrEnum):
    """How a column is compared."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    DATETIME = "datetime"
    TEXT = "text"


class ValueClass(StrEnum):
    """The broad class of a stored dtype; columns of different classes cannot be compared."""

    NUMBER = "number"
    STRING = "string"
    BOOLEAN = "boolean"
    TEMPORAL = "temporal"
    EMPTY = "empty"
    OTHER = "other"


def value_class(dtype: pl.DataType) -> ValueClass:
    """The class of a polars dtype (`Null` is an all-missing column)."""
    if dtype.is_numeric():
        return ValueClass.NUMBER
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return ValueClass.STRING
    if dtype == pl.Boolean:
        return ValueClass.BOOLEAN
    if dtype.is_temporal():
        return ValueClass.TEMPORAL
    if dtype == pl.Null:
        return ValueClass.EMPTY
    return ValueClass.OTHER


# The kind of a column of a class that has no counting rule (numbers other than float and
# integer, e.g. Decimal, fall back to text as any unknown class does).
_KIND_OF_CLASS = {
    ValueClass.BOOLEAN: ColumnKind.CATEGORICAL,
    ValueClass.TEMPORAL: ColumnKind.DATETIME,
    ValueClass.EMPTY: ColumnKind.NUMERIC,
}


def present_values(column: pl.Series) -> pl.Series:
    """The column without nulls, NaN and infinities (what every test sees)."""
    column = column.drop_nulls()
    if column.dtype.is_float():
        column = column.filter(column.is_finite())
    return column


def infer_kind(column: pl.Series) -> ColumnKind:
    """The kind of a reference column (see the module docstring for the rules)."""
    dtype = column.dtype
    if dtype.is_integer() or value_class(dtype) is ValueClass.STRING:
        values = present_values(column)
        return kind_for(dtype, values.n_unique(), values.len())
    return kind_for(dtype, None, 0)


def kind_for(dtype: pl.DataType, distinct: int | None, present: int) -> ColumnKind:
    """The kind of a reference column from its dtype and counts alone (a stream has no column).

    `distinct` is the number of distinct present values, None when there were too many to count.

        >>> kind_for(pl.Int64(), 4, 1_000_000)
        <ColumnKind.CATEGORICAL: 'categorical'>
    """
    if dtype.is_float():
        return ColumnKind.NUMERIC
    if dtype.is_integer():
        if distinct is not None and distinct <= INTEGER_CARDINALITY_LIMIT:
            return ColumnKind.CATEGORICAL
        return ColumnKind.NUMERIC
    value = value_class(dtype)
    if value is ValueClass.STRING:
        if distinct is None or distinct > 0.5 * present:
            return ColumnKind.TEXT
        return ColumnKind.CATEGORICAL
    return _KIND_OF_CLASS.get(value, ColumnKind.TEXT)
