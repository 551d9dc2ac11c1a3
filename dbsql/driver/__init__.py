"""The driver contract of dbsql: a port of Go's database/sql/driver.

Drivers implement the protocols of :mod:`dbsql.driver.driver`; the value
converters of :mod:`dbsql.driver.types` carry Go's conversion rules.
"""

from dbsql.driver.driver import *  # noqa: F403
from dbsql.driver.driver import __all__ as _driver_all
from dbsql.driver.types import *  # noqa: F403
from dbsql.driver.types import __all__ as _types_all

__all__ = [*_driver_all, *_types_all]
