-- Grow a demo PostgreSQL database to :total pupils under the county (雁塔区); the
-- PostgreSQL twin of bench/million_fill.py (same formulas, so the same pupils).
-- Usage: psql -v total=1000000 -v today=YYYY-MM-DD -f bench/million_pg.sql
--   (today is the date in China, UTC+8, as the product computes it)
\set ON_ERROR_STOP 1

SELECT id AS county FROM org_unit WHERE name = '雁塔区' AND kind = 'county' \gset
SELECT id AS year FROM school_year WHERE starts_on <= :'today' AND ends_on >= :'today' \gset
SELECT count(*) AS have FROM pupil WHERE school_id IN (
    SELECT descendant_id FROM org_closure
    WHERE ancestor_id = :county AND valid_from <= :'today' AND valid_to > :'today') \gset
SELECT :total - :have AS extra \gset

BEGIN;
CREATE TEMP TABLE sch (idx int PRIMARY KEY, school_id bigint NOT NULL);
CREATE TEMP TABLE cls (sidx int, cidx int, class_id bigint NOT NULL, PRIMARY KEY (sidx, cidx));
CREATE TEMP TABLE ncls (sidx int PRIMARY KEY, n int NOT NULL);
CREATE TEMP TABLE names (idx int PRIMARY KEY, name text, name_pinyin text, name_initials text, gender text);

INSERT INTO sch
SELECT row_number() OVER (ORDER BY u.id) - 1, u.id FROM org_unit u
WHERE u.kind = 'school' AND u.id IN (
    SELECT descendant_id FROM org_closure
    WHERE ancestor_id = :county AND valid_from <= :'today' AND valid_to > :'today');
INSERT INTO cls
SELECT s.idx, row_number() OVER (PARTITION BY s.idx ORDER BY c.id) - 1, c.id
FROM sch s JOIN org_closure oc ON oc.ancestor_id = s.school_id AND oc.valid_to = '9999-12-31'
JOIN org_unit c ON c.id = oc.descendant_id AND c.kind = 'class';
INSERT INTO ncls SELECT sidx, count(*) FROM cls GROUP BY sidx;
INSERT INTO names
SELECT row_number() OVER (ORDER BY id) - 1, name, name_pinyin, name_initials, gender FROM pupil;
ANALYZE sch; ANALYZE cls; ANALYZE ncls; ANALYZE names;
SELECT count(*) AS nsch FROM sch \gset
SELECT count(*) AS nnames FROM names \gset

INSERT INTO pupil (school_id, student_no, name, name_pinyin, name_initials, gender, created_at)
SELECT s.school_id, 'M' || lpad(n::text, 7, '0'), nm.name, nm.name_pinyin, nm.name_initials, nm.gender,
       (SELECT min(created_at) FROM pupil)
FROM generate_series(1, :extra) AS n
JOIN sch s ON s.idx = n % :nsch
JOIN names nm ON nm.idx = (n::bigint * 7919) % :nnames
ORDER BY n;

INSERT INTO class_membership (pupil_id, school_year_id, class_id)
SELECT p.id, :year, c.class_id
FROM pupil p JOIN sch s ON s.school_id = p.school_id JOIN ncls k ON k.sidx = s.idx
JOIN cls c ON c.sidx = s.idx AND c.cidx = (substr(p.student_no, 2)::int / :nsch) % k.n
WHERE substr(p.student_no, 1, 1) = 'M';
COMMIT;

-- What autovacuum would do a minute later; done now so the plans are the steady-state ones.
VACUUM ANALYZE;

SELECT :extra AS added,
       (SELECT count(*) FROM pupil WHERE school_id IN (
           SELECT descendant_id FROM org_closure
           WHERE ancestor_id = :county AND valid_from <= :'today' AND valid_to > :'today')) AS under_county,
       (SELECT count(*) FROM class_membership WHERE school_year_id = :year) AS memberships;
