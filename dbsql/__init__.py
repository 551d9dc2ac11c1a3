"""dbsql: a faithful Python port of Go's database/sql.

The sql package must be used in conjunction with a database driver (see
:mod:`dbsql.driver`). Drivers that do not support context cancellation will not
return until after the query is completed.
"""

from dbsql import context as context
from dbsql import driver as driver
from dbsql.sql import *  # noqa: F403
from dbsql.sql import __all__ as _sql_all

# isort: split
# The package of built-in drivers (dbsql.drivers.dbapi, ...). Importing it binds
# the name dbsql.drivers to the package, which is callable as Go's
# sql.Drivers(), so dbsql.drivers() lists the registered drivers either way.
from dbsql import drivers as _drivers_package  # noqa: E402, F401

__all__ = ["context", "driver", *_sql_all]
