#!/usr/bin/env python3
"""Grow a demo SQLite database to TOTAL pupils under the county (雁塔区).

Usage: python3 bench/million_fill.py DB_FILE [TOTAL]      (default 1000000)

Adds TOTAL − (pupils already under the county) pupils by SQL, in one transaction,
spread evenly over the county's schools (new pupil n goes to school n mod S, so ids
interleave across schools) and over each school's existing classes, each with a class
membership for the current school year (the school_year row containing today in
China, UTC+8). Names, pinyin keys and genders are borrowed from the demo's own pupils
(pupil n takes the name of demo pupil (n·7919) mod count), so the search columns and
their indexes hold realistic values. Pupil numbers are 'M' + 7 digits. No guardians
are added: the measured query does not read them.

bench/million_pg.sql does the same on PostgreSQL, with the same formulas, so both
databases hold the same pupils. Standard library only.
"""

import datetime
import sqlite3
import sys
import time


def main():
    db, total = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    t0 = time.time()
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA busy_timeout = 10000")
    (county,) = con.execute("SELECT id FROM org_unit WHERE name = '雁塔区' AND kind = 'county'").fetchone()
    today = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=8)).strftime("%Y-%m-%d")
    (year,) = con.execute(
        "SELECT id FROM school_year WHERE starts_on <= ? AND ends_on >= ?", (today, today)
    ).fetchone()
    under = """SELECT descendant_id FROM org_closure
               WHERE ancestor_id = ? AND valid_from <= ? AND valid_to > ?"""
    (have,) = con.execute(
        f"SELECT count(*) FROM pupil WHERE school_id IN ({under})", (county, today, today)
    ).fetchone()
    extra = total - have
    if extra <= 0:
        print(f"already {have} pupils under the county", file=sys.stderr)
        return
    (created_at,) = con.execute("SELECT min(created_at) FROM pupil").fetchone()

    con.execute("BEGIN")
    for ddl in (
        "CREATE TEMP TABLE sch (idx INTEGER PRIMARY KEY, school_id INTEGER NOT NULL)",
        "CREATE TEMP TABLE cls (sidx INTEGER, cidx INTEGER, class_id INTEGER NOT NULL, PRIMARY KEY (sidx, cidx))",
        "CREATE TEMP TABLE ncls (sidx INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
        "CREATE TEMP TABLE names (idx INTEGER PRIMARY KEY, name TEXT, name_pinyin TEXT, name_initials TEXT, gender TEXT)",
    ):
        con.execute(ddl)
    con.execute(
        f"""INSERT INTO sch SELECT row_number() OVER (ORDER BY u.id) - 1, u.id FROM org_unit u
            WHERE u.kind = 'school' AND u.id IN ({under})""",
        (county, today, today),
    )
    con.execute(
        """INSERT INTO cls SELECT s.idx, row_number() OVER (PARTITION BY s.idx ORDER BY c.id) - 1, c.id
           FROM sch s JOIN org_closure oc ON oc.ancestor_id = s.school_id AND oc.valid_to = '9999-12-31'
           JOIN org_unit c ON c.id = oc.descendant_id AND c.kind = 'class'"""
    )
    con.execute("INSERT INTO ncls SELECT sidx, count(*) FROM cls GROUP BY sidx")
    con.execute(
        """INSERT INTO names SELECT row_number() OVER (ORDER BY id) - 1, name, name_pinyin, name_initials, gender
           FROM pupil"""
    )
    (nsch,) = con.execute("SELECT count(*) FROM sch").fetchone()
    (nnames,) = con.execute("SELECT count(*) FROM names").fetchone()
    con.execute(
        """INSERT INTO pupil (school_id, student_no, name, name_pinyin, name_initials, gender, created_at)
           WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :extra)
           SELECT s.school_id, 'M' || printf('%07d', n), nm.name, nm.name_pinyin, nm.name_initials, nm.gender, :created
           FROM seq JOIN sch s ON s.idx = n % :nsch JOIN names nm ON nm.idx = (n * 7919) % :nnames""",
        {"extra": extra, "created": created_at, "nsch": nsch, "nnames": nnames},
    )
    con.execute(
        """INSERT INTO class_membership (pupil_id, school_year_id, class_id)
           SELECT p.id, :year, c.class_id
           FROM pupil p JOIN sch s ON s.school_id = p.school_id JOIN ncls k ON k.sidx = s.idx
           JOIN cls c ON c.sidx = s.idx AND c.cidx = (CAST(substr(p.student_no, 2) AS INTEGER) / :nsch) % k.n
           WHERE substr(p.student_no, 1, 1) = 'M'""",
        {"year": year, "nsch": nsch},
    )
    con.execute("COMMIT")
    (now_have,) = con.execute(
        f"SELECT count(*) FROM pupil WHERE school_id IN ({under})", (county, today, today)
    ).fetchone()
    (members,) = con.execute(
        "SELECT count(*) FROM class_membership WHERE school_year_id = ?", (year,)
    ).fetchone()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    print(
        f"added {extra} pupils over {nsch} schools: {now_have} pupils under the county, "
        f"{members} class memberships in school year {year}, {time.time() - t0:.1f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
