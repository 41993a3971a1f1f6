"""Search spaces on the right scale (concepts H2, H3).

Each dimension says how one hyperparameter is sampled, in the notes' own words: the
learning rate uniformly on a log axis (``LogUniform(1e-4, 1)``: r uniform in [-4, 0],
alpha = 10**r), a momentum beta through 1 - beta on a log axis
(``OneMinusLogUniform(0.9, 0.999)``: 1 - beta in [1e-3, 1e-1]), units and mini-batch
sizes as integers or powers of two.

Every dimension maps a number u in [0, 1] (its position on the *sampled scale*) to a
value and back, so samplers, the coarse-to-fine zoom and the plots share one notion of
"evenly spread". Nothing here imports Optuna; :meth:`Dimension.distribution` builds the
Optuna distribution only when a search runs.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .._validation import real

__all__ = [
    "Choice", "Dimension", "IntLogUniform", "IntUniform", "LogUniform", "OneMinusLogUniform",
    "PowerOfTwo", "Uniform", "check_space", "parse_space",
]


def _num(value: float) -> str:
    """A number as the notes write it: 1e-4, 0.999, 512."""
    if isinstance(value, numbers.Integral) or (float(value).is_integer() and abs(value) < 1e6):
        return str(int(value))
    if abs(value) < 1e-3 or abs(value) >= 1e6:
        mantissa, exponent = f"{value:.6e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    return f"{value:.6g}"


class Dimension:
    """One hyperparameter's range and the scale it is sampled on.

    Subclasses define :meth:`from_unit` (u in [0, 1] on the sampled scale -> value),
    :meth:`to_unit` (its inverse), :meth:`distribution` (the Optuna distribution of the
    stored, internal value) and :meth:`decode` (internal value -> value).
    """

    #: how the sampled scale is labelled in plots ("log", "linear", "1 - beta, log")
    scale = "linear"

    def from_unit(self, u: float) -> Any:
        raise NotImplementedError

    def to_unit(self, value: Any) -> float:
        raise NotImplementedError

    def distribution(self) -> Any:
        raise NotImplementedError

    def internal_name(self, name: str) -> str:
        """The name under which Optuna stores the internal value."""
        return name

    def decode(self, internal: Any) -> Any:
        return internal

    def encode(self, value: Any) -> Any:
        """The internal value of ``value`` (inverse of :meth:`decode`)."""
        return value

    def narrow(self, low_u: float, high_u: float) -> Dimension:
        """The same kind of dimension restricted to [low_u, high_u] of the sampled scale."""
        raise NotImplementedError

    @property
    def bounds(self) -> tuple[Any, Any]:
        """(low, high) in values."""
        raise NotImplementedError

    def plot_value(self, value: Any) -> float:
        """The coordinate a plot uses for ``value`` on this dimension's sampled scale."""
        return float(value)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self)))


def _ordered(owner: str, low: Any, high: Any, *, positive: bool = False,
             integer: bool = False) -> tuple[Any, Any]:
    kind = "an int" if integer else "a number"
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(
                value, numbers.Integral if integer else numbers.Real):
            raise TypeError(f"{owner}: `{name}` must be {kind}; got {value!r}")
        if not math.isfinite(float(value)):
            raise ValueError(f"{owner}: `{name}` must be finite; got {value!r}")
    if positive and (low <= 0 or high <= 0):
        bad = "low" if low <= 0 else "high"
        raise ValueError(f"{owner}: a log scale needs 0 < low < high; got {bad}={_num(low)} "
                         f"(log(0) is -inf and a log axis cannot reach 0 or below): start at a "
                         f"small positive value such as 1e-6, or use Uniform")
    if low == high:
        raise ValueError(f"{owner}: the range is empty (low == high == {_num(low)}); give "
                         "low < high, or fix the hyperparameter instead of searching it")
    if low > high:
        raise ValueError(f"{owner}: `low` must be below `high`; got low={_num(low)}, "
                         f"high={_num(high)}")
    return (int(low), int(high)) if integer else (float(low), float(high))


def _clip(u: float) -> float:
    return min(max(float(u), 0.0), 1.0)


class Uniform(Dimension):
    """A number uniform in [low, high] on a linear scale (e.g. keep_prob).

    Example:
        >>> Uniform(0.5, 1.0)
        Uniform(0.5, 1)
        >>> Uniform(0.5, 1.0).from_unit(0.5)
        0.75
    """

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = _ordered("Uniform", low, high)

    def __repr__(self) -> str:
        return f"Uniform({_num(self.low)}, {_num(self.high)})"

    @property
    def bounds(self) -> tuple[float, float]:
        return self.low, self.high

    def from_unit(self, u: float) -> float:
        return self.low + _clip(u) * (self.high - self.low)

    def to_unit(self, value: float) -> float:
        return (float(value) - self.low) / (self.high - self.low)

    def distribution(self) -> Any:
        from optuna.distributions import FloatDistribution
        return FloatDistribution(self.low, self.high)

    def narrow(self, low_u: float, high_u: float) -> Dimension:
        return _raw(Uniform, low=self.from_unit(low_u), high=self.from_unit(high_u))


class LogUniform(Dimension):
    """A positive number uniform on a log axis (H3): the learning rate's scale.

    ``LogUniform(1e-4, 1)`` draws r uniformly in [-4, 0] and returns 10**r, so each
    decade (1e-4..1e-3, ..., 0.1..1) gets the same share of the samples; a linear scale
    would spend 90% of them between 0.1 and 1.

    Args:
        low, high: the range of values, 0 < low < high.

    Example:
        >>> LogUniform(1e-4, 1)
        LogUniform(1e-4, 1)
        >>> LogUniform(1e-4, 1).from_unit(0.5)
        0.01
    """

    scale = "log"

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = _ordered("LogUniform", low, high, positive=True)

    def __repr__(self) -> str:
        return f"LogUniform({_num(self.low)}, {_num(self.high)})"

    def describe(self) -> str:
        """The notes' recipe: r uniform in [a, b], value 10**r."""
        return (f"r uniform in [{_num(math.log10(self.low))}, {_num(math.log10(self.high))}], "
                "value 10**r")

    @property
    def bounds(self) -> tuple[float, float]:
        return self.low, self.high

    def from_unit(self, u: float) -> float:
        a, b = math.log10(self.low), math.log10(self.high)
        return float(10 ** (a + _clip(u) * (b - a)))

    def to_unit(self, value: float) -> float:
        a, b = math.log10(self.low), math.log10(self.high)
        return (math.log10(float(value)) - a) / (b - a)

    def distribution(self) -> Any:
        from optuna.distributions import FloatDistribution
        return FloatDistribution(self.low, self.high, log=True)

    def plot_value(self, value: Any) -> float:
        return float(value)

    def narrow(self, low_u: float, high_u: float) -> Dimension:
        return _raw(LogUniform, low=self.from_unit(low_u), high=self.from_unit(high_u))


class OneMinusLogUniform(Dimension):
    """A beta in (0, 1) sampled through 1 - beta on a log axis (H3).

    ``OneMinusLogUniform(0.9, 0.999)`` draws 1 - beta log-uniformly in [1e-3, 1e-1]:
    r uniform in [-3, -1], beta = 1 - 10**r. beta = 0.9 averages about 10 values and
    0.999 about 1,000, and results are most sensitive near 1, where a linear scale
    would put almost no samples.

    Args:
        low, high: the range of beta, 0 < low < high < 1.

    Example:
        >>> OneMinusLogUniform(0.9, 0.999)
        OneMinusLogUniform(0.9, 0.999)
        >>> round(OneMinusLogUniform(0.9, 0.999).from_unit(0.5), 6)
        0.99
    """

    scale = "1 - beta, log"

    def __init__(self, low: float, high: float) -> None:
        for name, value in (("low", low), ("high", high)):
            real("OneMinusLogUniform", name, value, low=0.0, high=1.0, low_inclusive=False,
                 high_inclusive=False)
        self.low, self.high = _ordered("OneMinusLogUniform", low, high)

    def __repr__(self) -> str:
        return f"OneMinusLogUniform({_num(self.low)}, {_num(self.high)})"

    def describe(self) -> str:
        return (f"r uniform in [{_num(math.log10(1 - self.high))}, "
                f"{_num(math.log10(1 - self.low))}], value 1 - 10**r")

    @property
    def bounds(self) -> tuple[float, float]:
        return self.low, self.high

    # u = 0 is beta = low (1 - beta largest), u = 1 is beta = high.
    def from_unit(self, u: float) -> float:
        a, b = math.log10(1 - self.low), math.log10(1 - self.high)
        return float(1 - 10 ** (a + _clip(u) * (b - a)))

    def to_unit(self, value: float) -> float:
        a, b = math.log10(1 - self.low), math.log10(1 - self.high)
        return (math.log10(1 - float(value)) - a) / (b - a)

    def internal_name(self, name: str) -> str:
        return f"1-{name}"

    def distribution(self) -> Any:
        from optuna.distributions import FloatDistribution
        return FloatDistribution(1 - self.high, 1 - self.low, log=True)

    def decode(self, internal: Any) -> float:
        return 1.0 - float(internal)

    def encode(self, value: Any) -> float:
        return 1.0 - float(value)

    def plot_value(self, value: Any) -> float:
        return 1.0 - float(value)

    def narrow(self, low_u: float, high_u: float) -> Dimension:
        return _raw(OneMinusLogUniform, low=self.from_unit(low_u), high=self.from_unit(high_u))


class IntUniform(Dimension):
    """An integer uniform in [low, high] (both included), e.g. the number of layers.

    Example:
        >>> IntUniform(1, 4)
        IntUniform(1, 4)
    """

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = _ordered("IntUniform", low, high, integer=True)

    def __repr__(self) -> str:
        return f"IntUniform({self.low}, {self.high})"

    @property
    def bounds(self) -> tuple[int, int]:
        return self.low, self.high

    def from_unit(self, u: float) -> int:
        # Cells of equal width, one per integer, so every integer is equally likely.
        return min(self.low + int(_clip(u) * (self.high - self.low + 1)), self.high)

    def to_unit(self, value: int) -> float:
        return (int(value) - self.low + 0.5) / (self.high - self.low + 1)

    def distribution(self) -> Any:
        from optuna.distributions import IntDistribution
        return IntDistribution(self.low, self.high)

    def narrow(self, low_u: float, high_u: float) -> Dimension:
        return _raw(IntUniform, low=self.from_unit(low_u), high=self.from_unit(high_u))


class IntLogUniform(Dimension):
    """An integer spread evenly on a log axis (hidden units: 32..512).

    Example:
        >>> IntLogUniform(32, 512)
        IntLogUniform(32, 512)
        >>> [IntLogUniform(32, 512).from_unit(u) for u in (0.0, 0.25, 0.5, 1.0)]
        [32, 63, 127, 512]
    """

    scale = "log"

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = _ordered("IntLogUniform", low, high, positive=True, integer=True)

    def __repr__(self) -> str:
        return f"IntLogUniform({self.low}, {self.high})"

    @property
    def bounds(self) -> tuple[int, int]:
        return self.low, self.high

    def from_unit(self, u: float) -> int:
        # Optuna's rule: log-uniform on [low - 0.5, high + 0.5], then round.
        a, b = math.log(self.low - 0.5), math.log(self.high + 0.5)
        value = round(math.exp(a + _clip(u) * (b - a)))
        return int(min(max(value, self.low), self.high))

    def to_unit(self, value: int) -> float:
        a, b = math.log(self.low - 0.5), math.log(self.high + 0.5)
        return (math.log(int(value)) - a) / (b - a)

    def distribution(self) -> Any:
        from optuna.distributions import IntDistribution
        return IntDistribution(self.low, self.high, log=True)

    def narrow(self, low_u: float, high_u: float) -> Dimension:
        return _raw(IntLogUniform, low=self.from_unit(low_u), high=self.from_unit(high_u))


class PowerOfTwo(Dimension):
    """A power of two between two powers of two (mini-batch sizes: 32, 64, ..., 512).

    The bounds are values (``PowerOfTwo(32, 512)``), not exponents; the exponent is
    sampled uniformly, so each size is equally likely.

    Example:
        >>> PowerOfTwo(32, 512)
        PowerOfTwo(32, 512)
        >>> [PowerOfTwo(32, 512).from_unit(u) for u in (0.0, 0.5, 1.0)]
        [32, 128, 512]
    """

    scale = "log2"

    def __init__(self, low: int, high: int) -> None:
        low, high = _ordered("PowerOfTwo", low, high, positive=True, integer=True)
        for name, value in (("low", low), ("high", high)):
            if value & (value - 1):
                raise ValueError(f"PowerOfTwo: `{name}` must be a power of two (1, 2, 4, ..., "
                                 f"512, ...); got {value}")
        self.low, self.high = low, high

    def __repr__(self) -> str:
        return f"PowerOfTwo({self.low}, {self.high})"

    @property
    def bounds(self) -> tuple[int, int]:
        return self.low, self.high

    @property
    def _exponents(self) -> tuple[int, int]:
        return self.low.bit_length() - 1, self.high.bit_length() - 1

    def from_unit(self, u: float) -> int:
        a, b = self._exponents
        return int(2 ** min(a + int(_clip(u) * (b - a + 1)), b))

    def to_unit(self, value: int) -> float:
        a, b = self._exponents
        return (math.log2(int(value)) - a + 0.5) / (b - a + 1)

    def internal_name(self, name: str) -> str:
        return f"log2({name})"

    def distribution(self) -> Any:
        from optuna.distributions import IntDistribution
        return IntDistribution(*self._exponents)

    def decode(self, internal: Any) -> int:
        return int(2 ** int(internal))

    def encode(self, value: Any) -> int:
        return int(value).bit_length() - 1

    def narrow(self, low_u: float, high_u: float) -> Dimension:
        return _raw(PowerOfTwo, low=self.from_unit(low_u), high=self.from_unit(high_u))


class Choice(Dimension):
    """One of a list of options (an activation, an optimiser).

    Example:
        >>> Choice(["relu", "tanh"])
        Choice(['relu', 'tanh'])
    """

    scale = "choice"

    def __init__(self, options: Sequence[Any]) -> None:
        if isinstance(options, (str, bytes)) or not isinstance(options, Iterable):
            raise TypeError(f"Choice: `options` must be a list of options; got {options!r}")
        options = list(options)
        if not options:
            raise ValueError("Choice: the range is empty (no options); give at least one")
        for option in options:
            if option is not None and not isinstance(option, (bool, int, float, str)):
                raise TypeError(f"Choice: options must be None, bool, int, float or str (so "
                                f"a database can store them); got {option!r}")
        if len(set(map(repr, options))) != len(options):
            raise ValueError(f"Choice: the options repeat; got {options!r}")
        self.options = options

    def __repr__(self) -> str:
        return f"Choice({self.options!r})"

    @property
    def bounds(self) -> tuple[Any, Any]:
        return self.options[0], self.options[-1]

    def from_unit(self, u: float) -> Any:
        return self.options[min(int(_clip(u) * len(self.options)), len(self.options) - 1)]

    def to_unit(self, value: Any) -> float:
        return (self.options.index(value) + 0.5) / len(self.options)

    def distribution(self) -> Any:
        from optuna.distributions import CategoricalDistribution
        return CategoricalDistribution(self.options)

    def plot_value(self, value: Any) -> float:
        return float(self.options.index(value))

    def narrow(self, low_u: float, high_u: float) -> Dimension:
        return self

    def keep(self, values: Iterable[Any]) -> Choice:
        """Only the options in ``values`` (coarse to fine keeps the options that won)."""
        chosen = list(values)
        kept = [o for o in self.options if o in chosen] or self.options
        if kept == self.options:
            return self
        return _raw(Choice, options=kept, narrowed=True)

    def internal_name(self, name: str) -> str:
        # Optuna refuses to change a categorical parameter's options within a study, so
        # a narrowed Choice (coarse to fine) is stored under a name that lists them.
        if getattr(self, "narrowed", False):
            return f"{name}:{'|'.join(map(str, self.options))}"
        return name


def _raw(cls: Any, **fields: Any) -> Any:
    """An instance without the user-input checks: a narrowed box may hold one value."""
    instance = object.__new__(cls)
    for name, value in fields.items():
        setattr(instance, name, value)
    if "low" in fields and fields["low"] > fields["high"]:
        instance.low, instance.high = fields["high"], fields["low"]
    return instance


def check_space(owner: str, space: Any) -> dict[str, Dimension]:
    """A search space as ``{name: Dimension}``, or one error naming the bad entry.

    Accepts a mapping of names to dimensions, or the text form of
    :func:`parse_space`.
    """
    if isinstance(space, str):
        return parse_space(space)
    if not isinstance(space, Mapping):
        raise TypeError(f"{owner}: `space` must be a dict {{name: Dimension}} such as "
                        f"{{'lr': LogUniform(1e-4, 1)}}; got {type(space).__name__}")
    if not space:
        raise ValueError(f"{owner}: `space` is empty; name at least one hyperparameter")
    checked: dict[str, Dimension] = {}
    for name, dimension in space.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"{owner}: hyperparameter names must be identifiers; got {name!r}")
        if not isinstance(dimension, Dimension):
            raise TypeError(f"{owner}: space[{name!r}] must be a Dimension such as "
                            f"LogUniform(1e-4, 1) or Choice([...]); got {dimension!r}")
        checked[name] = dimension
    return checked


_KINDS = {
    "log": LogUniform, "1-log": OneMinusLogUniform, "uniform": Uniform, "int": IntUniform,
    "intlog": IntLogUniform, "pow2": PowerOfTwo, "choice": Choice,
}


def _literal(text: str) -> Any:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text.strip("'\"")


def parse_space(text: str) -> dict[str, Dimension]:
    """A search space from its one-line form (the ``--space`` of ``steepest tune``).

    Forms: ``name=log(a,b)``, ``name=1-log(a,b)`` (beta), ``name=uniform(a,b)``,
    ``name=int(a,b)``, ``name=intlog(a,b)``, ``name=pow2(a,b)``,
    ``name=choice(x,y,...)``, separated by spaces.

    Example:
        >>> parse_space("lr=log(1e-4,1e-1) beta1=1-log(0.9,0.999) batch=pow2(32,512)")
        ... # doctest: +NORMALIZE_WHITESPACE
        {'lr': LogUniform(1e-4, 0.1), 'beta1': OneMinusLogUniform(0.9, 0.999),
         'batch': PowerOfTwo(32, 512)}
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_space: `text` must be a string; got {type(text).__name__}")
    pattern = re.compile(r"\s*([A-Za-z_]\w*)\s*=\s*(1-log|[a-z0-9]+)\s*\(([^()]*)\)\s*")
    space: dict[str, Dimension] = {}
    position = 0
    while position < len(text.rstrip()):
        match = pattern.match(text, position)
        if match is None:
            rest = text[position:].strip()
            raise ValueError(f"--space: cannot read {rest!r}; write name=kind(a,b) with kind "
                             f"one of {', '.join(_KINDS)}, e.g. \"lr=log(1e-4,1e-1) "
                             "beta1=1-log(0.9,0.999) hidden=intlog(32,512) batch=pow2(32,512)\"")
        name, kind, arguments = match.groups()
        position = match.end()
        if kind not in _KINDS:
            raise ValueError(f"--space: {name}={kind}(...): unknown kind {kind!r}; use one of "
                             f"{', '.join(_KINDS)}")
        if name in space:
            raise ValueError(f"--space: {name!r} is given twice")
        values = [_literal(part) for part in arguments.split(",") if part.strip()]
        if kind == "choice":
            space[name] = Choice(values)
            continue
        if len(values) != 2:
            raise ValueError(f"--space: {name}={kind}(...) needs two bounds (low,high); got "
                             f"{arguments!r}")
        if kind in ("int", "intlog", "pow2"):
            values = [int(v) if isinstance(v, float) and v.is_integer() else v for v in values]
        try:
            space[name] = _KINDS[kind](*values)
        except (TypeError, ValueError) as error:
            raise ValueError(f"--space: {name}: {error}") from None
    if not space:
        raise ValueError("--space is empty; name at least one hyperparameter, e.g. "
                         "\"lr=log(1e-4,1e-1)\"")
    return space
