#!/usr/bin/env python3
"""Fill an empty, migrated jiaxiao database with a province (or a city) of data.

Usage:
  python3 bench/scale_gen.py --backend postgres --scale province --pg "CONNINFO" [--factor F]
  python3 bench/scale_gen.py --backend sqlite   --scale city     --sqlite FILE   [--factor F]

The database must have been created by the product (`jiaxiao migrate`), so the schema
is the product's own; the generator only writes rows, with explicit ids, in the
product's formats (timestamps as the product writes them on each backend, calendar
dates 'YYYY-MM-DD', closure rows valid from '0000-01-01' to '9999-12-31').

  province  1 province, 10 cities, 100 counties, 3,000 schools, ~3,000,000 pupils,
            ~3,000,000 guardians, ~300,000 sessions, 30,000,000 check-ins
  city      1 province, 1 city, 10 counties, 300 schools, ~300,000 pupils and parents,
            ~30,000 sessions, 10,000,000 check-ins
--factor scales schools (and so everything) down, e.g. 0.1 for a tenth.

What each school gets (deterministic: school n's data comes from seed n): a school type
(mostly primary and junior, some nine-year, senior high and kindergartens), its grades
and classes (classes of about 40), pupils with a class membership in the current school
year, one guardian per family (about one in ten families two; about one pupil in twelve
is a sibling sharing an earlier pupil's guardians), eight topics, and about 100
sessions of the school year: whole-school, grade or class audiences (session_audience),
a few named-parents sessions (session_invitee); forms lecture, parent_class, forum,
open_day, online, breakout; held before today (China time), planned after it, about
4% cancelled. Each held session's check-ins are a random sample of its invited
households, sized so that the scale's check-in total comes out (statuses mostly present,
some late, excused, absent; methods qr, code, staff, paper). Two schools (one with
--scale city) move to another county on a date in the school year: their closure rows
from the old ancestors close on that date and new ones open under the new county, as
`store::org::move_unit` writes them. One more school (--mega-checkins, on by default)
is extra big: 6,000 pupils, 260 sessions, 1,100,000 check-ins on top of the scale's
total, so that its year of check-ins does not fit one XLSX sheet (1,048,576 rows).

PostgreSQL: every table is streamed as CSV into its own `psql -c "COPY … FROM STDIN"`
process (all open at once, schools written one after another), so no table is ever held
in memory here; then the identity sequences move past the ids written, `session_tally`
is filled if the schema has it (migration 0009), and VACUUM ANALYZE runs.
SQLite: executemany in transactions of a few schools, journal_mode=OFF and
synchronous=OFF during the load, then session_tally, ANALYZE and journal_mode=WAL (the
product's mode).
The database's own triggers (migration 0011: the schools' counters, the reach cache's
stale marks) are off during the load — PostgreSQL sessions run with
session_replication_role=replica, SQLite's triggers are dropped and made again from
their stored text — and their tables are filled once at the end, as
`parent_school::tally::rebuild` does. Standard library only (and psql for PostgreSQL).
Prints a summary (rows per table, seconds) to stderr, and the ids scripts need as
`KEY=value` lines on stdout.
"""

import argparse
import datetime as dt
import os
import random
import sqlite3
import subprocess
import sys
import time

BEGINNING = "0000-01-01"
OPEN_END = "9999-12-31"
YEAR_ID = 1  # 2026-2027 (the demo numbers the current year 1 too)

SCALES = {
    # cities, counties per city, schools per county, pupils per school, check-ins
    # (1,035 pupils on average per school: kindergartens have a third, so ~1,000 overall)
    "province": dict(cities=10, counties=10, schools=30, pupils=1035, checkins=30_000_000),
    "city": dict(cities=1, counties=10, schools=30, pupils=1035, checkins=10_000_000),
}

SURNAMES = [("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
            ("杨", "yang"), ("赵", "zhao"), ("黄", "huang"), ("周", "zhou"), ("吴", "wu"),
            ("徐", "xu"), ("孙", "sun"), ("胡", "hu"), ("朱", "zhu"), ("高", "gao"),
            ("林", "lin"), ("何", "he"), ("郭", "guo"), ("马", "ma"), ("罗", "luo")]
GIVEN = [("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"),
         ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"),
         ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("涛", "tao"), ("明", "ming"),
         ("超", "chao"), ("秀", "xiu"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"),
         ("子", "zi"), ("轩", "xuan"), ("浩", "hao"), ("宇", "yu"), ("欣", "xin"),
         ("怡", "yi"), ("梓", "zi"), ("涵", "han"), ("晨", "chen"), ("博", "bo")]
TOPICS = ["科学育儿，做智慧型父母", "读懂孩子，科学陪伴", "家校共育，携手成长", "培养良好的学习习惯",
          "青春期孩子的心理特点", "亲子沟通的艺术", "安全教育从家庭开始", "让孩子学会生活"]
CITY_NAMES = ["东州市", "南州市", "西州市", "北州市", "中州市", "江城市", "河城市", "山城市", "湖城市", "海城市"]
DIGITS = "零一二三四五六七八九十"
KG_GRADES = {-2: "小班", -1: "中班", 0: "大班"}
# type, grade levels, share of schools (cumulative draw)
SCHOOL_TYPES = [("primary", range(1, 7), 0.55), ("junior", range(7, 10), 0.22),
                ("nine_year", range(1, 10), 0.08), ("senior_high", range(10, 13), 0.10),
                ("kindergarten", range(-2, 1), 0.05)]
FORMS = [("lecture", 0.40), ("parent_class", 0.20), ("forum", 0.10), ("open_day", 0.10),
         ("online", 0.15), ("breakout", 0.05)]
RELATIONS = ["mother", "father", "grandmother", "grandfather"]

TABLES = {
    "org_unit": ["id", "parent_id", "kind", "name", "code", "school_type", "grade_level", "class_number", "created_at"],
    "org_closure": ["ancestor_id", "descendant_id", "depth", "valid_from", "valid_to"],
    "pupil": ["id", "school_id", "student_no", "name", "name_pinyin", "name_initials", "gender", "created_at"],
    "class_membership": ["pupil_id", "school_year_id", "class_id"],
    "guardian": ["id", "name", "name_pinyin", "name_initials", "phone", "created_at"],
    "guardianship": ["guardian_id", "pupil_id", "relation"],
    "topic": ["id", "school_id", "ordinal", "title", "description", "active", "created_at"],
    "teaching_session": ["id", "school_id", "school_year_id", "topic_id", "title", "form", "starts_at",
                         "duration_minutes", "place", "instructor_name", "audience", "status",
                         "checkin_secret", "opens_before_minutes", "closes_after_minutes",
                         "late_after_minutes", "created_at"],
    "session_audience": ["session_id", "unit_id"],
    "session_invitee": ["session_id", "guardian_id"],
    "checkin": ["id", "session_id", "guardian_id", "status", "method", "checked_at", "created_at"],
}
# Parents first: nothing enforces it for the FK-less tables, but org_unit, topic and
# teaching_session have FOREIGN KEYs (on SQLite checked per statement).
ORDER = list(TABLES)


def grade_name(level):
    if level <= 0:
        return KG_GRADES[level]
    if level <= 9:
        return f"{DIGITS[level]}年级"
    return f"高{DIGITS[level - 9]}"


class TS:
    """Timestamps as the product stores them: RFC 3339 UTC text on SQLite
    ('2026-11-15T10:49:28+00:00', chrono via sqlx), timestamptz on PostgreSQL."""

    def __init__(self, backend):
        self.sep, self.zone = ("T", "+00:00") if backend == "sqlite" else (" ", "+00")

    def fmt(self, t):
        return t.strftime(f"%Y-%m-%d{self.sep}%H:%M:%S") + self.zone


class PgSink:
    # Triggers off for the load (the sessions of the superuser this script runs as).
    ENV = dict(os.environ, PGOPTIONS="-c session_replication_role=replica")

    def __init__(self, conninfo):
        self.conninfo = conninfo
        self.procs, self.files, self.counts = {}, {}, {}
        for t in ORDER:
            cols = ", ".join(TABLES[t])
            p = subprocess.Popen(
                ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", conninfo, "-c",
                 f"COPY {t} ({cols}) FROM STDIN WITH (FORMAT csv)"],
                stdin=subprocess.PIPE, env=self.ENV)
            self.procs[t] = p
            self.files[t] = open(p.stdin.fileno(), "w", encoding="utf-8", buffering=1 << 20, closefd=False)
            self.counts[t] = 0

    @staticmethod
    def _cell(v):
        if v is None:
            return ""
        if isinstance(v, bool):
            return "t" if v else "f"
        if isinstance(v, str) and ("," in v or '"' in v or "\n" in v):
            return '"' + v.replace('"', '""') + '"'
        return str(v)

    def add(self, table, row):
        self.files[table].write(",".join(map(self._cell, row)) + "\n")
        self.counts[table] += 1

    def add_raw(self, table, lines, n):
        """CSV lines already formatted (the check-in hot loop)."""
        self.files[table].write(lines)
        self.counts[table] += n

    def flush(self):
        pass

    def close(self):
        # org_unit's COPY must end before the tables referencing it: close in order.
        for t in ORDER:
            self.files[t].close()
            self.procs[t].stdin.close()
            if self.procs[t].wait() != 0:
                sys.exit(f"COPY {t} failed")

    def sql(self, text):
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", self.conninfo, "-c", text], check=True,
                       stdout=subprocess.DEVNULL, env=self.ENV)

    def scalar(self, text):
        return subprocess.run(["psql", "-X", "-qtA", self.conninfo, "-c", text], check=True,
                              capture_output=True, text=True).stdout.strip()


class SqliteSink:
    BATCH = 50_000

    def __init__(self, path):
        self.con = sqlite3.connect(path, isolation_level=None)
        self.con.execute("PRAGMA journal_mode=OFF")
        self.con.execute("PRAGMA synchronous=OFF")
        self.con.execute("PRAGMA cache_size=-400000")
        self.con.execute("PRAGMA foreign_keys=OFF")
        # Triggers off for the load: dropped here, made again by restore_triggers().
        self.triggers = self.con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
        for name, _ in self.triggers:
            self.con.execute(f"DROP TRIGGER {name}")
        self.con.execute("BEGIN")
        self.buf = {t: [] for t in ORDER}
        self.counts = {t: 0 for t in ORDER}
        self.ins = {t: f"INSERT INTO {t} ({', '.join(c)}) VALUES ({', '.join('?' * len(c))})"
                    for t, c in TABLES.items()}

    def add(self, table, row):
        b = self.buf[table]
        b.append(row)
        if len(b) >= self.BATCH:
            self.con.executemany(self.ins[table], b)
            self.counts[table] += len(b)
            b.clear()

    def flush(self):
        for t in ORDER:
            if self.buf[t]:
                self.con.executemany(self.ins[t], self.buf[t])
                self.counts[t] += len(self.buf[t])
                self.buf[t].clear()
        self.con.execute("COMMIT")
        self.con.execute("BEGIN")

    def close(self):
        self.flush()
        self.con.execute("COMMIT")

    def restore_triggers(self):
        for _, sql in self.triggers:
            self.con.execute(sql)

    def sql(self, text):
        self.con.execute(text)

    def scalar(self, text):
        r = self.con.execute(text).fetchone()
        return "" if r is None else str(r[0])


def person(rng, gender=None):
    s, sp = SURNAMES[rng.randrange(len(SURNAMES))]
    g1, p1 = GIVEN[rng.randrange(len(GIVEN))]
    if rng.random() < 0.6:
        g2, p2 = GIVEN[rng.randrange(len(GIVEN))]
        return s + g1 + g2, sp + p1 + p2, sp[0] + p1[0] + p2[0]
    return s + g1, sp + p1, sp[0] + p1[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["postgres", "sqlite"], required=True)
    ap.add_argument("--scale", choices=list(SCALES), required=True)
    ap.add_argument("--pg", help="psql connection string (postgres)")
    ap.add_argument("--sqlite", help="database file (sqlite)")
    ap.add_argument("--factor", type=float, default=1.0)
    ap.add_argument("--sessions", type=int, default=100, help="sessions per school")
    ap.add_argument("--mega-checkins", type=int, default=1_100_000,
                    help="check-ins of one extra-big school (6,000 pupils, 260 sessions, mostly "
                         "whole-school), on top of the scale's total: a year's check-in sheet past "
                         "Excel's 1,048,576 rows; 0 for none")
    a = ap.parse_args()
    t0 = time.time()
    sc = SCALES[a.scale]
    ts = TS(a.backend)
    sink = PgSink(a.pg) if a.backend == "postgres" else SqliteSink(a.sqlite)

    cities = sc["cities"]
    counties_per_city = sc["counties"]
    schools_per_county = max(1, round(sc["schools"] * a.factor))
    n_schools = cities * counties_per_city * schools_per_county
    checkins_per_school = sc["checkins"] * a.factor / n_schools

    # Today in China (UTC+8), as the product computes the current school year.
    now = dt.datetime.now(dt.timezone.utc)
    today = (now + dt.timedelta(hours=8)).date()
    year_start, year_end = dt.date(2026, 9, 1), dt.date(2027, 8, 31)
    if not (year_start <= today <= year_end):
        # Keep working on a later machine date: shift the year to the one containing today.
        y = today.year if today.month >= 9 else today.year - 1
        year_start, year_end = dt.date(y, 9, 1), dt.date(y + 1, 8, 31)
    created = ts.fmt(dt.datetime.combine(year_start - dt.timedelta(days=10), dt.time(1, 0)))
    if a.backend == "postgres":
        sink.sql(f"INSERT INTO school_year (id, name, starts_on, ends_on) VALUES "
                 f"(1, '{year_start.year}-{year_end.year}学年', '{year_start}', '{year_end}'), "
                 f"(2, '{year_start.year - 1}-{year_end.year - 1}学年', '{year_start.replace(year=year_start.year - 1)}', "
                 f"'{year_end.replace(year=year_end.year - 1)}')")
    else:
        sink.con.execute("INSERT INTO school_year (id, name, starts_on, ends_on) VALUES (?, ?, ?, ?), (?, ?, ?, ?)",
                         (1, f"{year_start.year}-{year_end.year}学年", str(year_start), str(year_end),
                          2, f"{year_start.year - 1}-{year_end.year - 1}学年",
                          str(year_start.replace(year=year_start.year - 1)), str(year_end.replace(year=year_end.year - 1))))

    ids = {"unit": 0, "pupil": 0, "guardian": 0, "topic": 0, "session": 0, "checkin": 0}

    def nid(k):
        ids[k] += 1
        return ids[k]

    def unit(parent, kind, name, ancestors, code=None, stype=None, level=None, number=None):
        """ancestors: [(ancestor_id, depth)] of the new unit's parent chain, nearest first."""
        uid = nid("unit")
        sink.add("org_unit", (uid, parent, kind, name, code, stype, level, number, created))
        sink.add("org_closure", (uid, uid, 0, BEGINNING, OPEN_END))
        for anc, d in ancestors:
            sink.add("org_closure", (anc, uid, d, BEGINNING, OPEN_END))
        return uid

    province = unit(None, "province", "示范省", [])
    out = {"PROVINCE": province, "CITIES": [], "COUNTIES": []}
    counties = []  # (county_id, [(ancestor, depth)] of the county's own chain incl. itself)
    for ci in range(cities):
        city = unit(province, "city", CITY_NAMES[ci], [(province, 1)])
        out["CITIES"].append(city)
        for ki in range(counties_per_city):
            county = unit(city, "county", f"{CITY_NAMES[ci][:-1]}第{ki + 1}区", [(city, 1), (province, 2)])
            out["COUNTIES"].append(county)
            counties.append((county, [(county, 0), (city, 1), (province, 2)]))

    # The schools that move, and where to (the move re-hangs the school's subtree).
    moves = {}
    if len(counties) >= 2:
        moves[0] = (1, dt.date(year_start.year, 11, 1))  # first school: next county, same city
    if len(counties) >= 12:
        moves[5 * schools_per_county + 3] = (11, dt.date(year_start.year, 10, 15))  # to another city
    rel_checkins = 0.0
    # The third county's first school (no move touches it).
    mega_idx = 2 * schools_per_county if a.mega_checkins > 0 and len(counties) > 2 else -1
    mega_school, mega_rows = None, 0
    held_cut = dt.datetime.combine(today, dt.time(0, 0)) - dt.timedelta(hours=8)  # today 00:00 China, in UTC
    big_school, big_pupils = None, 0
    stats_t = time.time()
    for si in range(n_schools):
        rng = random.Random(si)
        before_school = ids["checkin"]
        county, chain = counties[si // schools_per_county]
        mv = moves.get(si)
        r = rng.random()
        acc = 0.0
        for stype, levels, share in SCHOOL_TYPES:
            acc += share
            if r < acc:
                break
        levels = list(levels)
        n_pupils = int(sc["pupils"] * rng.uniform(0.6, 1.4))
        if stype == "kindergarten":
            n_pupils //= 3
        is_mega = si == mega_idx
        if is_mega:
            stype, levels, n_pupils = "nine_year", list(range(1, 10)), 6000
        sname = f"第{si + 1}{'幼儿园' if stype == 'kindergarten' else '学校'}"
        up = [(anc, d + 1) for anc, d in chain]
        school = unit(county, "school", sname, up, code=f"62{si + 1:08d}", stype=stype)
        if is_mega:
            mega_school = school
        elif n_pupils > big_pupils and mv is None:
            big_school, big_pupils = school, n_pupils
        per_grade = n_pupils // len(levels)
        classes = []  # (class_id, grade_id, n_pupils)
        grades = []
        for lv in levels:
            g = unit(school, "grade", grade_name(lv), [(school, 1)] + [(x, d + 1) for x, d in up], level=lv)
            grades.append(g)
            ncls = max(1, round(per_grade / 40))
            for cn in range(1, ncls + 1):
                c = unit(g, "class", f"{grade_name(lv)}({cn})班",
                         [(g, 1), (school, 2)] + [(x, d + 2) for x, d in up], level=lv, number=cn)
                classes.append((c, g, per_grade // ncls + (1 if cn <= per_grade % ncls else 0)))
        if mv is not None:
            # What move_unit leaves: the subtree's paths from the old strict ancestors end on
            # the move date; paths from the new county's chain start on it. Here the old
            # ones were written open-ended above and are re-written closed by a fix-up
            # after the load (COPY cannot update); the new ones are written now.
            new_county, chain2 = counties[mv[0]]
            on = str(mv[1])
            subtree = [(school, 0)] + [(g, 1) for g in grades] + [(c, 2) for c, _, _ in classes]
            for d_id, d_depth in subtree:
                for anc, d in chain2:
                    sink.add("org_closure", (anc, d_id, d + 1 + d_depth, on, OPEN_END))
            out.setdefault("MOVED", []).append((school, county, new_county, on))
        # Topics
        topics = []
        for k, title in enumerate(TOPICS):
            tid = nid("topic")
            topics.append((tid, title))
            sink.add("topic", (tid, school, k + 1, title, None, True, created))
        # Pupils, guardians; households per class, for the audiences.
        class_households = {}
        families = []  # guardian id lists of this school's families (for siblings)
        all_households = []
        for c, g, n in classes:
            hh = []
            for _ in range(n):
                pid = nid("pupil")
                name, py, ini = person(rng)
                sink.add("pupil", (pid, school, f"{si + 1:04d}{pid:08d}", name, py, ini,
                                   "f" if rng.random() < 0.49 else "m", created))
                sink.add("class_membership", (pid, YEAR_ID, c))
                if families and rng.random() < 0.08:
                    fam = families[rng.randrange(len(families))]
                else:
                    fam = []
                    for k in range(2 if rng.random() < 0.09 else 1):
                        gid = nid("guardian")
                        gname, gpy, gini = person(rng)
                        sink.add("guardian", (gid, gname, gpy, gini, f"139{gid:08d}", created))
                        fam.append(gid)
                    families.append(fam)
                for k, gid in enumerate(fam):
                    sink.add("guardianship", (gid, pid, RELATIONS[k] if len(fam) > 1 else RELATIONS[rng.randrange(4)]))
                hh.extend(fam)
            # A family with two pupils in the class is one set of guardians, invited once.
            class_households[c] = list(dict.fromkeys(hh))
            all_households.extend(hh)
        grade_households = {}
        for c, g, _ in classes:
            grade_households.setdefault(g, []).extend(class_households[c])
        grade_households = {g: list(dict.fromkeys(h)) for g, h in grade_households.items()}
        all_unique = list(dict.fromkeys(all_households))

        # Sessions: audience and status first, then check-ins sized to the school's share.
        plan = []
        n_sessions = 260 if is_mega else a.sessions
        span_past = max(1, (today - year_start).days)
        for k in range(n_sessions):
            r = rng.random()
            acc = 0.0
            for form, share in FORMS:
                acc += share
                if r < acc:
                    break
            r = rng.random()
            if form == "breakout":
                c = classes[rng.randrange(len(classes))][0]
                audience, units, invited = "units", [c], class_households[c]
            elif r < (0.95 if is_mega else 0.50):
                audience, units, invited = "school", [], all_unique
            elif r < 0.75:
                g = grades[rng.randrange(len(grades))]
                audience, units, invited = "units", [g], grade_households[g]
            elif r < 0.95:
                cs = rng.sample(classes, min(len(classes), rng.randint(1, 3)))
                audience, units = "units", [c for c, _, _ in cs]
                invited = list(dict.fromkeys(h for c in units for h in class_households[c]))
            else:
                audience, units = "parents", []
                invited = rng.sample(all_unique, min(len(all_unique), rng.randint(20, 60)))
            r = rng.random()
            if r < 0.04:
                status = "cancelled"
                day = year_start + dt.timedelta(days=rng.randrange(300))
            elif r < 0.86:
                status = "held"
                day = year_start + dt.timedelta(days=rng.randrange(span_past))
            else:
                status = "planned"
                day = today + dt.timedelta(days=1 + rng.randrange(max(1, (year_end - today).days - 60)))
            hour = rng.choice([10, 11, 12])  # 18:00–20:00 in China, in UTC
            starts = dt.datetime(day.year, day.month, day.day, hour, 0)
            if status == "held" and starts >= held_cut:
                starts = held_cut - dt.timedelta(days=1, hours=12)
            plan.append((form, audience, units, invited, status, starts))
        weight = sum(len(p[3]) for p in plan if p[4] == "held")
        want = a.mega_checkins if is_mega else checkins_per_school + rel_checkins
        rate = min(1.0, want / weight) if weight else 0.0
        for form, audience, units, invited, status, starts in plan:
            sid = nid("session")
            tid, title = topics[rng.randrange(len(topics))]
            sink.add("teaching_session", (
                sid, school, YEAR_ID, tid, title, form, ts.fmt(starts), 90 if form == "breakout" else 60,
                None if form == "online" else "学校报告厅", "主讲教师", audience, status,
                "%040x" % rng.getrandbits(160), 30, 120, 10, ts.fmt(starts - dt.timedelta(days=14))))
            for u in units:
                sink.add("session_audience", (sid, u))
            if audience == "parents":
                for gid in invited:
                    sink.add("session_invitee", (sid, gid))
            if status != "held" or not invited:
                continue
            k = min(len(invited), int(len(invited) * rate + rng.random()))
            if k == 0:
                continue
            chosen = rng.sample(invited, k)
            base = starts.strftime(f"%Y-%m-%d{ts.sep}")
            lines = []
            for gid in chosen:
                cid = nid("checkin")
                r = rng.random()
                off = rng.randrange(-25, 16)
                if r < 0.03:
                    status_c, method, off = "absent", "staff", 0
                elif r < 0.07:
                    status_c, method, off = "excused", "staff", -60
                else:
                    status_c = "late" if off > 10 else "present"
                    r = rng.random()
                    method = "qr" if r < 0.72 else "code" if r < 0.82 else "staff" if r < 0.92 else "paper"
                m = starts.hour * 60 + off
                hh_, mm = divmod(m, 60)
                stamp = f"{base}{hh_:02d}:{mm:02d}:"
                lines.append(f"{cid},{sid},{gid},{status_c},{method},{stamp}{rng.randrange(60):02d}{ts.zone},{stamp}00{ts.zone}\n"
                             if a.backend == "postgres" else
                             (cid, sid, gid, status_c, method, f"{stamp}{rng.randrange(60):02d}{ts.zone}", f"{stamp}00{ts.zone}"))
            if a.backend == "postgres":
                sink.add_raw("checkin", "".join(lines), len(lines))
            else:
                for row in lines:
                    sink.add("checkin", row)
        # What this school fell short of (or overshot) goes to the next one.
        if is_mega:
            mega_rows = ids["checkin"] - before_school
        rel_checkins = checkins_per_school * (si + 1 - (si >= mega_idx >= 0)) - (ids["checkin"] - mega_rows)
        if a.backend == "sqlite" and si % 10 == 9:
            sink.flush()
        if si % 100 == 99 or si == n_schools - 1:
            el = time.time() - stats_t
            print(f"  {si + 1}/{n_schools} schools, {ids['pupil']} pupils, {ids['checkin']} check-ins, "
                  f"{el:.0f} s", file=sys.stderr, flush=True)
    sink.close()
    t_load = time.time() - t0

    # Closing the old paths of the moved schools (COPY only appends).
    for school, old, new, on in out.get("MOVED", []):
        sink.sql(
            f"UPDATE org_closure SET valid_to = '{on}' WHERE valid_from = '{BEGINNING}' AND depth > 0 "
            f"AND descendant_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = {school} "
            f"AND valid_from = '{BEGINNING}') "
            f"AND ancestor_id NOT IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = {school} "
            f"AND valid_from = '{BEGINNING}')")
        sink.sql(f"UPDATE org_unit SET parent_id = {new} WHERE id = {school}")
    if a.backend == "sqlite":
        sink.con.execute("BEGIN")
    has_tally = sink.scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'session_tally'"
        if a.backend == "postgres" else
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'session_tally'") not in ("", "0")
    if has_tally:
        sink.sql("INSERT INTO session_tally (session_id, present, late, excused, absent) "
                 "SELECT session_id, COUNT(CASE WHEN status = 'present' THEN 1 END), "
                 "COUNT(CASE WHEN status = 'late' THEN 1 END), COUNT(CASE WHEN status = 'excused' THEN 1 END), "
                 "COUNT(CASE WHEN status = 'absent' THEN 1 END) FROM checkin GROUP BY session_id")
    has_school_tally = sink.scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'school_tally'"
        if a.backend == "postgres" else
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'school_tally'") not in ("", "0")
    if has_school_tally:
        sink.sql("INSERT INTO school_tally (school_year_id, school_id, status, form, sessions, checkins) "
                 "SELECT t.school_year_id, t.school_id, t.status, t.form, COUNT(*), COALESCE(SUM(k.present + k.late), 0) "
                 "FROM teaching_session t LEFT JOIN session_tally k ON k.session_id = t.id "
                 "GROUP BY t.school_year_id, t.school_id, t.status, t.form")
        sink.sql("INSERT INTO reach_stale_school (school_id, school_year_id) "
                 "SELECT DISTINCT school_id, school_year_id FROM teaching_session")
    if a.backend == "sqlite":
        sink.restore_triggers()
    if a.backend == "postgres":
        for t in ("org_unit", "pupil", "guardian", "topic", "teaching_session", "checkin", "school_year"):
            sink.sql(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
                     f"COALESCE((SELECT MAX(id) FROM {t}), 0) + 1, false)")
        t1 = time.time()
        sink.sql("VACUUM ANALYZE")
        t_analyze = time.time() - t1
    else:
        sink.con.execute("COMMIT")
        t1 = time.time()
        sink.con.execute("ANALYZE")
        t_analyze = time.time() - t1
        sink.con.execute("PRAGMA journal_mode=WAL")
        sink.con.close()
    total = time.time() - t0
    print(f"rows: {ids['unit']} units, {n_schools} schools, {ids['pupil']} pupils, {ids['guardian']} guardians, "
          f"{ids['session']} sessions, {ids['checkin']} check-ins ({mega_rows} of them at the extra-big school "
          f"{mega_school}); session_tally {'filled' if has_tally else 'absent'}",
          file=sys.stderr)
    print(f"times: load {t_load:.0f} s, fix-ups+analyze {total - t_load:.0f} s (analyze {t_analyze:.0f} s), "
          f"total {total:.0f} s", file=sys.stderr)
    print(f"PROVINCE={province}")
    print(f"CITY={out['CITIES'][0]}")
    # The county the first moved school went to: its figures change with the date.
    print(f"COUNTY={out['COUNTIES'][1 if len(out['COUNTIES']) > 1 else 0]}")
    print(f"BIG_SCHOOL={big_school}")
    print(f"MEGA_SCHOOL={mega_school or ''}")
    print(f"MEGA_CHECKINS={mega_rows}")
    print("MOVED=" + ",".join(f"{s}:{o}:{n}:{on}" for s, o, n, on in out.get("MOVED", [])))
    print(f"GEN_SECONDS={total:.0f}")


if __name__ == "__main__":
    main()
