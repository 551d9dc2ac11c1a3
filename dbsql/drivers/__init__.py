"""Drivers that come with dbsql, and finding drivers by name.

``dbsql.open("sqlite3", ...)``, ``"postgres"`` and ``"mysql"`` work without
importing a driver module: :func:`dbsql.open` asks :func:`_find_driver` for a
name that no one registered yet. It imports the built-in driver module of that
name (which registers itself), or else loads the entry point of that name in the
group ``dbsql.drivers`` that an installed package declares, e.g. in its
``pyproject.toml``::

    [project.entry-points."dbsql.drivers"]
    mydb = "mydb_dbsql:driver"

The entry point may name a ``driver.Driver`` instance, a class or factory
returning one (called with no arguments), or a module that calls
``dbsql.register`` itself when imported. Registration keeps Go's rules: a name
registered twice is an error.
"""

from __future__ import annotations

import importlib
import sys
import threading
import types
from importlib import metadata
from typing import Any

from dbsql import driver

__all__: list[str] = []

# The drivers shipped with dbsql: name -> module that registers it on import.
_BUILTIN = {
    "sqlite3": "dbsql.drivers.sqlite3",
    "postgres": "dbsql.drivers.postgres",
    "mysql": "dbsql.drivers.mysql",
}

ENTRY_POINT_GROUP = "dbsql.drivers"

_find_mu = threading.Lock()


def _registered(name: str) -> driver.Driver | None:
    from dbsql import sql

    with sql._drivers_mu:
        return sql._drivers.get(name)


def _find_driver(name: str) -> driver.Driver | None:
    """Import or load the driver called name; return it, or None if there is none."""
    with _find_mu:
        d = _registered(name)
        if d is not None:
            return d
        module = _BUILTIN.get(name)
        if module is not None:
            importlib.import_module(module)
            return _registered(name)
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            if ep.name != name:
                continue
            obj: Any = ep.load()
            d = _registered(name)
            if d is not None or isinstance(obj, types.ModuleType):
                return d
            if isinstance(obj, type) or (callable(obj) and not hasattr(obj, "open")):
                obj = obj()
            if not hasattr(obj, "open"):
                raise TypeError(
                    f"sql: entry point {ep.value!r} for driver {name!r} is not a "
                    f"driver.Driver (no open method): {type(obj).__name__}"
                )
            from dbsql import sql

            drv: driver.Driver = obj
            sql.register(name, drv)
            return drv
        return None


class _DriversModule(types.ModuleType):
    """This package, callable as Go's ``sql.Drivers()``.

    ``dbsql.drivers`` is both this package (``dbsql.drivers.dbapi``...) and the
    function :func:`dbsql.sql.drivers`: once a submodule is imported Python binds
    the package to that name, so the package answers the call.
    """

    def __call__(self) -> list[str]:
        from dbsql import sql

        return sql.drivers()


sys.modules[__name__].__class__ = _DriversModule
