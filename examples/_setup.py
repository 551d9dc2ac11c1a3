"""The sample database the examples run against: a SQLite file with the tables
Go's examples assume (users, balances, projects, drivers, pickups, user_roles,
people, organization), made fresh in a temporary folder."""

from __future__ import annotations

import os
import tempfile

import dbsql

SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, username TEXT, age INTEGER,
                    status TEXT, created_at TIMESTAMP);
CREATE TABLE balances (user_id INTEGER PRIMARY KEY, balance INTEGER);
CREATE TABLE projects (id INTEGER PRIMARY KEY, mascot TEXT, release INTEGER, category TEXT);
CREATE TABLE drivers (id INTEGER PRIMARY KEY, status TEXT);
CREATE TABLE pickups (id INTEGER PRIMARY KEY, driver_id INTEGER);
CREATE TABLE user_roles (user INTEGER, role INTEGER);
CREATE TABLE organization (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, organization INTEGER,
                     active BOOLEAN);
CREATE TABLE orders (ref TEXT, state TEXT);
INSERT INTO users VALUES
    (37, 'Gopher', 'gopher', 27, 'due', '2009-11-10 23:00:00'),
    (41, 'Alice', 'alice', 27, 'due', '2015-02-01 10:00:00'),
    (43, 'Bob', 'bob', 33, 'paid', '2016-03-02 11:00:00'),
    (47, 'Carol', 'carol', 19, 'due', '2017-04-03 12:00:00'),
    (123, 'Dave', 'dave', 42, 'due', '2018-05-04 13:00:00');
INSERT INTO balances VALUES (37, 100), (41, 200), (43, 300), (47, 400);
INSERT INTO drivers VALUES (53, 'free');
INSERT INTO pickups VALUES (1, NULL), (2, NULL);
INSERT INTO user_roles VALUES (37, 3), (41, 1), (47, 2);
INSERT INTO organization VALUES (10, 'Go team');
INSERT INTO people VALUES (5, 'Gopher', 10, 1), (6, 'Rob', 10, 1), (7, 'Ken', 10, 0);
"""


def sample_db_path() -> str:
    """Create the sample database in a new temporary folder and return its path."""
    path = os.path.join(tempfile.mkdtemp(prefix="dbsql-example-"), "sample.db")
    db = dbsql.open("sqlite3", path)
    try:
        for stmt in SCHEMA.split(";"):
            if stmt.strip():
                db.exec(stmt)
    finally:
        db.close()
    return path


def open_sample_db() -> dbsql.DB:
    """Open the sample database (fresh) with the embedded sqlite3 driver."""
    return dbsql.open("sqlite3", sample_db_path())
