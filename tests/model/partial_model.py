#!/usr/bin/env python3
"""partial_model.py - a model-based test of vb-restore's partial restore.

Random schemas, random rows and random histories of an application are put
to vb-restore --table [--where], --undo, --diff and --diff-table, and every
table of the live database, the exit status and the records are compared
with an oracle written from the contract (docs/DESIGN.md, "Restoring part of
a database"), not from the tools.  The oracle reads databases with Python's
sqlite3 and evaluates a --where with SQLite (for its affinities); which rows
a restore or an undo may touch it decides itself.

Usage:
    VB_BIN=build tests/model/partial_model.py [--seed S] [--cases N]
        [--jobs J] [--case K ...] [--fixed [NAME ...]] [--tmpdir DIR]
        [--repros N] [--keep] [-v]

Prints each mismatch with its seed, case number and a reproduction (the
schema, the history, the commands), then "N cases, M mismatches"; exits 1
when M > 0, 2 on bad usage.  Standard library only (Python 3.11).

Where the contract is silent the oracle chooses, and the generator keeps
away from what it cannot decide:
- a keyed table in which two rows share a key under IS (NULLs in the key
  of a rowid table) is refused by --table (exit 1); --diff and --diff-table
  are not checked on it;
- an undo leaves a table the restore created (it had been dropped) absent
  or empty, either;
- for a table without a key the undo deletes the copies the restore
  inserted (a conflict when fewer are left) and inserts the ones it
  deleted; the application's writes between a restore and its undo never
  delete some but not all copies of a row the restore inserted, nor touch
  a table in a foreign key;
- a restore that kept foreign-key violations (--force) is not redone.
"""

import argparse
import collections
import multiprocessing
import os
import random
import re
import shlex
import shutil
import sqlite3
import string
import subprocess
import sys
import tempfile
import time
import traceback

PER_WORLD = 6           # cases sharing one schema, one backup, one archive
TIMEOUT = 120           # seconds for one tool run
LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
SWAP = str.maketrans(string.ascii_letters,
                     string.ascii_lowercase.upper() +
                     string.ascii_uppercase.lower())


# ---- names, values, SQL text ----

def low(s):
    """SQLite's case folding of a name: ASCII letters only."""
    return s.translate(LOWER)


def qi(name):
    """An identifier quoted for SQL."""
    return '"' + name.replace('"', '""') + '"'


def lit(v):
    """A value as an SQL literal, its type kept."""
    if v is None:
        return 'NULL'
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    return "X'" + bytes(v).hex().upper() + "'"


def tv(v):
    """A value with its type, for comparing contents exactly."""
    if v is None:
        return ('null',)
    if isinstance(v, int):
        return ('int', v)
    if isinstance(v, float):
        return ('real', v)
    if isinstance(v, str):
        return ('text', v)
    return ('blob', bytes(v))


def rk(row):
    """A row as a hashable, typed value (None for no row)."""
    return None if row is None else tuple(tv(v) for v in row)


def show_rk(r):
    out = []
    for t in r:
        out.append('NULL' if t[0] == 'null' else lit(t[1]))
    return '(' + ', '.join(out) + ')'


def variant(rng, name):
    """The name in a random letter case (ASCII only, as SQLite folds)."""
    if rng.random() < 0.5:
        return name
    return rng.choice([name.translate(LOWER), name.translate(UPPER),
                       name.translate(SWAP)])


# ---- reading a database ----

class Table:
    """One table: its name, CREATE statement, columns, primary key (column
    positions in key order), rows, explicit indexes and foreign keys."""

    def __init__(self, name, sql, cols, types, pk, rows, indexes, fks):
        self.name, self.sql, self.cols, self.types = name, sql, cols, types
        self.pk, self.rows, self.indexes, self.fks = pk, rows, indexes, fks
        self.worowid = bool(re.search(r'WITHOUT\s+ROWID\s*$', sql or '',
                                      re.I))

    def with_rows(self, rows):
        return Table(self.name, self.sql, self.cols, self.types, self.pk,
                     list(rows), self.indexes, self.fks)

    def key(self, row):
        return tuple(row[i] for i in self.pk)

    def keyed(self):
        return bool(self.pk)

    def ipk(self):
        return (len(self.pk) == 1 and not self.worowid and
                self.types[self.pk[0]].upper() == 'INTEGER')

    def dupes(self):
        """Two rows share the key under IS (NULLs in the key)."""
        if not self.pk:
            return False
        keys = [self.key(r) for r in self.rows]
        return len(set(keys)) != len(keys)

    def lcols(self):
        return [low(c) for c in self.cols]

    def kind(self):
        if not self.pk:
            return 'nokey'
        if self.worowid:
            return 'worowid'
        if self.ipk():
            return 'ipk'
        if any(v is None for r in self.rows for v in self.key(r)):
            return 'key-null'
        return 'key'


class State:
    """A database's tables (by folded name, BackupLog left out) and
    BackupLog's row count (None when it has none)."""

    def __init__(self, tables, backuplog):
        self.tables, self.backuplog = tables, backuplog


def read_con(con):
    tables = {}
    blog = None
    for name, sql in con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
            ).fetchall():
        if low(name) == 'backuplog':
            blog = con.execute('SELECT count(*) FROM %s' % qi(name)
                               ).fetchone()[0]
            continue
        if low(name).startswith('sqlite_'):
            continue
        info = con.execute('PRAGMA table_info(%s)' % qi(name)).fetchall()
        cols = [r[1] for r in info]
        types = [r[2] for r in info]
        pk = [i for _, i in sorted((r[5], i) for i, r in enumerate(info)
                                   if r[5] > 0)]
        rows = con.execute('SELECT * FROM %s' % qi(name)).fetchall()
        idx = con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
            "tbl_name = ? AND sql IS NOT NULL", (name,)).fetchall()
        fks = [(r[3], r[2], r[4]) for r in con.execute(
            'PRAGMA foreign_key_list(%s)' % qi(name)).fetchall()]
        tables[low(name)] = Table(name, sql, cols, types, pk, rows, idx, fks)
    return State(tables, blog)


def read_db(path):
    con = sqlite3.connect(path)
    try:
        return read_con(con)
    finally:
        con.close()


def connect(path):
    """A connection of the driver or the application: no fsync (the
    durability of a test's files does not matter; its speed does)."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute('PRAGMA synchronous = OFF')
    return con


def copy_db(src, dst):
    s = sqlite3.connect(src)
    d = connect(dst)
    try:
        s.backup(d)
    finally:
        d.close()
        s.close()


def remove_db(path):
    for p in (path, path + '-wal', path + '-shm', path + '-journal'):
        if os.path.exists(p):
            os.remove(p)


# ---- the oracle ----

class Refused(Exception):
    """The contract says the tool refuses: exit 1, nothing changed.
    kind names the reason for grouping mismatches."""

    def __init__(self, kind, msg):
        super().__init__(msg)
        self.kind = kind


class CondEval:
    """Evaluates a --where condition on rows with SQLite, the table's column
    affinities kept (a copy of its columns, no constraints)."""

    def __call__(self, table, rows, cond):
        con = sqlite3.connect(':memory:')
        try:
            con.execute(table.sql)
            con.execute('CREATE TABLE ev AS SELECT * FROM %s WHERE 0'
                        % qi(table.name))
            cols = ', '.join(qi(c) for c in table.cols)
            marks = ', '.join('?' * (len(table.cols) + 1))
            con.executemany('INSERT INTO ev(rowid, %s) VALUES (%s)'
                            % (cols, marks),
                            [(i + 1,) + tuple(r) for i, r in enumerate(rows)])
            hit = {r[0] for r in con.execute(
                'SELECT rowid FROM ev WHERE (%s)' % cond)}
            return [i + 1 in hit for i in range(len(rows))]
        finally:
            con.close()


def same_columns(a, b):
    return a.lcols() == b.lcols()


def oracle_restore(backup, live, specs, evaluate):
    """What --table/--where must leave: (tables, restored, created), or
    Refused.  backup and live map folded names to Tables; specs is a list
    of (name as given, condition or None).  Foreign keys are checked by the
    caller on the result."""
    new = dict(live)
    restored, created = [], []
    for given, cond in specs:
        ln = low(given)
        if ln == 'backuplog':
            raise Refused('backuplog', 'BackupLog is never restored')
        b, l = backup.get(ln), live.get(ln)
        if b is None:
            raise Refused('no-table', 'no table %s in the backup' % given)
        if l is not None and not same_columns(b, l):
            raise Refused('columns', '%s: columns differ' % b.name)
        if b.dupes() or (l is not None and l.dupes()):
            raise Refused('ambiguous-key',
                          '%s: two rows share a key (IS)' % b.name)
        have = l.rows if l is not None else []
        if cond is None:
            rows = list(b.rows)
        else:
            bm = [r for r, m in zip(b.rows, evaluate(b, b.rows, cond)) if m]
            if b.keyed():
                lm = evaluate(b, have, cond) if have else []
                live_match = {b.key(r): m for r, m in zip(have, lm)}
                out = {b.key(r): r for r in have}
                coll = []
                for r in bm:
                    k = b.key(r)
                    if k in live_match and not live_match[k]:
                        coll.append(k)
                    else:
                        out[k] = r
                if coll:
                    raise Refused('collision', '%s: %d collision(s), first '
                                  'key %s' % (b.name, len(coll),
                                              show_rk(rk(coll[0]))))
                rows = list(out.values())
            else:
                cb = collections.Counter(rk(r) for r in bm)
                rep = {rk(r): r for r in bm}
                cl = collections.Counter(rk(r) for r in have)
                rows = list(have)
                for v, n in cb.items():
                    rows += [rep[v]] * max(0, n - cl[v])
        new[ln] = (l if l is not None else b).with_rows(rows)
        if l is None:
            created.append(ln)
        restored.append(ln)
    return new, restored, created


def fk_violations(live_path, work, new, restored):
    """The foreign-key violations involving the restored tables once they
    hold what the oracle says (SQLite's foreign_key_check on a copy)."""
    path = os.path.join(work, 'oracle-fk.db')
    remove_db(path)
    copy_db(live_path, path)
    con = connect(path)
    try:
        con.execute('PRAGMA foreign_keys = OFF')
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE "
                                   "type = 'trigger'").fetchall():
            con.execute('DROP TRIGGER %s' % qi(name))
        have = {low(n): n for (n,) in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        con.execute('BEGIN')
        for ln in restored:
            t = new[ln]
            if ln in have:
                con.execute('DELETE FROM %s' % qi(have[ln]))
            else:
                con.execute(t.sql)
            if t.rows:
                con.executemany('INSERT INTO %s VALUES (%s)' % (
                    qi(t.name), ', '.join('?' * len(t.cols))), t.rows)
        con.execute('COMMIT')
        out = []
        for tbl, rowid, parent, _ in con.execute('PRAGMA foreign_key_check'):
            if low(tbl) in restored or low(parent) in restored:
                out.append('%s row %s -> %s' % (tbl, rowid, parent))
        return out
    finally:
        con.close()
        remove_db(path)


def oracle_undo(s0, s1, s2, force):
    """What --undo must leave, for an operation that took the tables from
    s0 to s1, the application having taken them to s2 since: (conflicts,
    tables, tables that may be absent when empty).  A row the operation
    changed goes back unless changed since (a conflict); a row it did not
    touch is never changed.  A table without a key is a multiset: the
    copies the operation inserted are deleted (too few left: a conflict),
    the ones it deleted inserted again."""
    exp = dict(s2)
    conflicts, absent_ok = [], set()
    for ln in set(s0) | set(s1):
        t0, t1, t2 = s0.get(ln), s1.get(ln), s2.get(ln)
        if t1 is None or t2 is None:
            continue
        if t0 is not None and not same_columns(t0, t1):
            continue
        rows0 = t0.rows if t0 is not None else []
        keyed = t1.keyed() and not any(
            t.dupes() for t in (t0, t1, t2) if t is not None)
        if keyed:
            m0 = {t1.key(r): r for r in rows0}
            m1 = {t1.key(r): r for r in t1.rows}
            m2 = {t1.key(r): r for r in t2.rows}
            res = dict(m2)
            for k in set(m0) | set(m1):
                if rk(m0.get(k)) == rk(m1.get(k)):
                    continue
                if rk(m2.get(k)) != rk(m1.get(k)):
                    conflicts.append('%s key %s' % (t1.name, show_rk(rk(k))))
                elif k in m0:
                    res[k] = m0[k]
                else:
                    res.pop(k, None)
            rows = list(res.values())
        else:
            c0 = collections.Counter(rk(r) for r in rows0)
            c1 = collections.Counter(rk(r) for r in t1.rows)
            c2 = collections.Counter(rk(r) for r in t2.rows)
            rep = {}
            for r in rows0 + t1.rows + t2.rows:
                rep[rk(r)] = r
            res = collections.Counter(c2)
            for v in set(c0) | set(c1):
                d = c1[v] - c0[v]
                if d > 0 and c2[v] < d:
                    conflicts.append('%s row %s' % (t1.name, show_rk(v)))
                elif d != 0:
                    res[v] = c2[v] - d
            rows = [rep[v] for v, n in res.items() for _ in range(n)]
        exp[ln] = t2.with_rows(rows)
        if t0 is None:
            absent_ok.add(ln)
    if conflicts and not force:
        return conflicts, dict(s2), set()
    return conflicts, exp, absent_ok


def oracle_diff(backup, live):
    """--diff's line per table: folded name -> (state, backup rows, live
    rows, only backup, only live, changed), None where not checked."""
    exp = {}
    for ln in set(backup) | set(live):
        b, l = backup.get(ln), live.get(ln)
        if l is None:
            exp[ln] = ('only-backup', len(b.rows), None, None, None, None)
        elif b is None:
            exp[ln] = ('only-live', None, len(l.rows), None, None, None)
        elif not same_columns(b, l):
            exp[ln] = ('schema', len(b.rows), len(l.rows), None, None, None)
        elif b.keyed() and (b.dupes() or l.dupes()):
            exp[ln] = (None, len(b.rows), len(l.rows), None, None, None)
        elif b.keyed():
            bm = {b.key(r): r for r in b.rows}
            lm = {b.key(r): r for r in l.rows}
            ob = len(set(bm) - set(lm))
            ol = len(set(lm) - set(bm))
            ch = sum(1 for k in set(bm) & set(lm) if rk(bm[k]) != rk(lm[k]))
            exp[ln] = ('same' if ob == ol == ch == 0 else 'differs',
                       len(b.rows), len(l.rows), ob, ol, ch)
        else:
            cb = collections.Counter(rk(r) for r in b.rows)
            cl = collections.Counter(rk(r) for r in l.rows)
            ob = sum((cb - cl).values())
            ol = sum((cl - cb).values())
            exp[ln] = ('same' if ob == ol == 0 else 'differs',
                       len(b.rows), len(l.rows), ob, ol, 0)
    return exp


def compare(exp, act, absent_ok=()):
    """Differences between expected and actual tables, one line each."""
    out = []
    for ln in sorted(set(exp) | set(act)):
        e, a = exp.get(ln), act.get(ln)
        if e is None:
            out.append('%s: exists, expected absent' % a.name)
            continue
        if a is None:
            if not (ln in absent_ok and not e.rows):
                out.append('%s: missing' % e.name)
            continue
        if e.lcols() != a.lcols():
            out.append('%s: columns %s, expected %s' % (e.name, a.cols,
                                                        e.cols))
            continue
        ce = collections.Counter(rk(r) for r in e.rows)
        ca = collections.Counter(rk(r) for r in a.rows)
        if ce != ca:
            miss = list((ce - ca).elements())
            extra = list((ca - ce).elements())
            out.append('%s: missing %d %s; unexpected %d %s' % (
                e.name, len(miss), ' '.join(show_rk(r) for r in miss[:4]),
                len(extra), ' '.join(show_rk(r) for r in extra[:4])))
    return out


def changed_tables(exp, act):
    return [ln for ln in sorted(set(exp) | set(act))
            if compare({ln: exp[ln]} if ln in exp else {},
                       {ln: act[ln]} if ln in act else {})]


# ---- running the tools ----

def tool_env():
    env = dict(os.environ)
    env['VB_CONF'] = '/dev/null'
    for k in ('DB_PATH', 'BACKUP_DIR', 'MAX_BACKUPS', 'COMPRESSION',
              'ENCRYPT_TO', 'OFFSITE', 'VERIFY_WITH', 'SIGN_WITH'):
        env.pop(k, None)
    return env


class Run:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err


def make_backup(vb, db, bdir):
    """vb-snapshot DB -d BDIR -q | vb-compress -q; returns the archive."""
    env = tool_env()
    snap = subprocess.Popen([os.path.join(vb, 'vb-snapshot'), db, '-d', bdir,
                             '-q'], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    comp = subprocess.run([os.path.join(vb, 'vb-compress'), '-q'],
                          stdin=snap.stdout, capture_output=True, env=env,
                          timeout=TIMEOUT)
    snap.stdout.close()
    serr = snap.stderr.read()
    snap.stderr.close()
    snap.wait(TIMEOUT)
    names = [n for n in os.listdir(bdir)
             if n.startswith('backup-') and n.endswith('.tar.zst')]
    if snap.returncode or comp.returncode or len(names) != 1:
        raise RuntimeError('backup failed: %s %s' % (
            serr.decode(errors='replace'),
            comp.stderr.decode(errors='replace')))
    return os.path.join(bdir, names[0])


# ---- a case: its steps, each checked against the oracle ----

class Case:
    """One case's run: the live database, the backup's tables, what the
    last restore did (for --undo) and everything said for a reproduction."""

    def __init__(self, vb, wdir, cdir, archive, backup, label):
        self.vb, self.cdir, self.archive = vb, cdir, archive
        self.backup = backup
        # The database the backup was taken of: a backup of another one
        # is refused without --force (the manifest's source).
        self.live = os.path.join(wdir, 'live.db')
        self.label = label
        self.lines = []         # the reproduction: SQL and commands
        self.mismatches = []    # (kind, detail)
        self.seen = collections.Counter()   # what the oracle expected
        self.evaluate = CondEval()
        self.op = None          # (tables before, after) of the last restore
        self.undo = None        # its undo file
        self.kept_violations = False    # a restore --force left some
        self.subs = {cdir: 'CASE', archive: 'ARCHIVE', wdir: 'WORLD'}

    def fail(self, kind, detail):
        self.mismatches.append((kind, detail))
        self.lines.append('   ^ MISMATCH [%s] %s' % (kind, detail))

    def note(self, text):
        self.lines.append(text)

    def shown(self, argv):
        s = shlex.join(argv)
        for k, v in sorted(self.subs.items(), key=lambda kv: -len(kv[0])):
            s = s.replace(k, v)
        return s

    def tool(self, args):
        argv = [os.path.join(self.vb, 'vb-restore')] + args
        shown = self.shown(['vb-restore'] + args)
        try:
            p = subprocess.run(argv, capture_output=True, env=tool_env(),
                               timeout=TIMEOUT)
            r = Run(p.returncode, p.stdout.decode(errors='replace'),
                    p.stderr.decode(errors='replace'))
        except subprocess.TimeoutExpired:
            r = Run('timeout', '', '')
        err = ' | '.join(r.err.strip().splitlines()[:3])
        self.note('$ %s  -> exit %s%s' % (shown, r.rc,
                                           ('  [' + err + ']') if err else ''))
        return r

    def state(self):
        return read_db(self.live)

    def unchanged(self, kind, before, after):
        diffs = compare(before.tables, after.tables)
        if diffs:
            self.fail(kind + '-changed', 'nothing may change, but: ' +
                      '; '.join(diffs))
        if before.backuplog != after.backuplog:
            self.fail(kind + '-backuplog', 'BackupLog rows %s -> %s' % (
                before.backuplog, after.backuplog))

    def record(self, kind, out):
        """The one record of a restore: its undo file, or None."""
        lines = [x for x in out.splitlines() if x.strip()]
        if len(lines) != 1:
            self.fail(kind + '-record', 'expected one record line, got %d'
                      % len(lines))
            if not lines:
                return None
        f = lines[-1].split('\t')
        if len(f) != 8 or f[1] != 'restore' or f[2] != 'ok':
            self.fail(kind + '-record', 'not a restore ok record: %r'
                      % lines[-1][:200])
            return None
        m = re.search(r'undo=(\S+?)[;,]?(?:\s|$)', f[7])
        if not m:
            self.fail(kind + '-record', 'no undo=<path> in %r' % f[7][:200])
            return None
        return m.group(1)

    def integrity(self, kind):
        con = sqlite3.connect(self.live)
        try:
            r = con.execute('PRAGMA integrity_check').fetchall()
        finally:
            con.close()
        if r != [('ok',)]:
            self.fail(kind + '-integrity', str(r[:3]))

    def blog_plus_one(self, kind, before, after):
        if (after.backuplog or 0) != (before.backuplog or 0) + 1:
            self.fail(kind + '-backuplog', 'BackupLog rows %s -> %s, '
                      'expected one restore row' % (before.backuplog,
                                                    after.backuplog))

    # -- the steps --

    def app(self, sqls):
        """The application's writes (foreign keys on, triggers fire)."""
        con = connect(self.live)
        con.execute('PRAGMA foreign_keys = ON')
        try:
            for sql in sqls:
                con.execute(sql)
                self.note('app> ' + sql + ';')
        finally:
            con.close()

    def restore(self, specs, force):
        s0 = self.state()
        args = []
        for given, cond in specs:
            args += ['--table', given]
            if cond is not None:
                args += ['--where', cond]
        if force:
            args.append('--force')
        args += ['-d', self.cdir, '--db', self.live, self.archive]
        try:
            new, restored, created = oracle_restore(
                self.backup, s0.tables, specs, self.evaluate)
            viol = fk_violations(self.live, self.cdir, new, restored)
            if viol and not force:
                raise Refused('fk', 'foreign keys: %d violation(s): %s' % (
                    len(viol), ', '.join(viol[:3])))
            expect = None
        except Refused as e:
            expect = e
        r = self.tool(args)
        s1 = self.state()
        self.op = None
        self.undo = None
        self.seen['restore %s' % ('refused: ' + expect.kind
                                  if expect is not None else 'ok')] += 1
        if expect is None and viol:
            self.seen['restore ok, foreign key violations kept'] += 1
            self.kept_violations = True
        if any(c for _, c in specs):
            self.seen['restore with --where'] += 1
        if expect is not None:
            self.note('   oracle: refused (%s)' % expect)
            if r.rc != 1:
                self.fail('restore-not-refused:' + expect.kind,
                          'expected exit 1 (%s), got %s' % (expect, r.rc))
            else:
                self.unchanged('restore-refused', s0, s1)
        else:
            self.note('   oracle: ok%s' % (
                ' (foreign key violations kept: %s)' % ', '.join(viol[:3])
                if viol else ''))
            if r.rc != 0:
                self.fail('restore-refused%s: %s' % (
                    ' (a name in another case)' if any(
                        low(g) in self.backup and
                        g != self.backup[low(g)].name for g, _ in specs)
                    else '', self.why(r.err, specs)),
                          'expected exit 0, got %s' % r.rc)
                if r.rc == 1:
                    self.unchanged('restore-refused', s0, s1)
                return
            diffs = compare(new, s1.tables)
            if diffs:
                conds = {low(g): c for g, c in specs}
                tags = ','.join(sorted({
                    new[ln].kind() + ('+where' if conds.get(ln) else '') +
                    ('+created' if ln in created else '') +
                    ('' if ln in conds else '+not-named') +
                    ('+other-where' if ln in conds and not conds[ln] and
                     any(conds.values()) else '')
                    for ln in changed_tables(new, s1.tables)}))
                self.fail('restore-content[%s]' % tags, '; '.join(diffs))
            for ln in created:
                have = {low(n) for n, _ in s1.tables[ln].indexes} \
                    if ln in s1.tables else set()
                for n, _ in self.backup[ln].indexes:
                    if low(n) not in have:
                        self.fail('restore-created-index',
                                  '%s put back without its index %s'
                                  % (self.backup[ln].name, n))
        if r.rc == 0:
            self.blog_plus_one('restore', s0, s1)
            self.integrity('restore')
            self.undo = self.record('restore', r.out)
            self.op = (s0.tables, s1.tables)

    def why(self, err, specs):
        """The tool's complaint with the names and numbers taken out,
        to group mismatches by it."""
        line = (err.strip().splitlines() or ['(nothing on stderr)'])[0]
        line = re.sub(r'^vb-restore: ', '', line)
        names = {g for g, _ in specs} | {t.name for t in self.backup.values()}
        for n in sorted(names, key=len, reverse=True):
            line = re.sub(r'(?<![A-Za-z])%s(?![A-Za-z])' % re.escape(n), 'T',
                          line, flags=re.I)
        for g, c in specs:
            if c:
                line = line.replace(c, 'COND')
        line = re.sub(r'main\.\S+', 'main.T.C', line)
        return re.sub(r'\d+', 'N', line)[:90]

    def usage_where_first(self, table, cond):
        s0 = self.state()
        r = self.tool(['--where', cond, '--table', table, '-d', self.cdir,
                       '--db', self.live, self.archive])
        if r.rc != 2:
            self.fail('usage-where-first', 'a --where before any --table: '
                      'expected exit 2, got %s' % r.rc)
        self.unchanged('usage', s0, self.state())

    def do_undo(self, force, label='undo'):
        if self.undo is None or self.op is None:
            self.note('   (no undo file: %s skipped)' % label)
            return False
        s2 = self.state()
        conflicts, exp, absent_ok = oracle_undo(self.op[0], self.op[1],
                                                s2.tables, force)
        args = ['--undo', self.undo] + (['--force'] if force else []) + \
            ['-d', self.cdir, '--db', self.live]
        r = self.tool(args)
        s3 = self.state()
        self.op = None
        self.undo = None
        self.seen['%s %s' % (label, 'ok' if not conflicts else
                             'forced over conflicts' if force else
                             'refused: conflicts')] += 1
        if conflicts and not force:
            self.note('   oracle: refused, %d conflict(s): %s' % (
                len(conflicts), ', '.join(conflicts[:3])))
            if r.rc != 1:
                self.fail(label + '-conflict-not-refused',
                          'expected exit 1, got %s' % r.rc)
            else:
                self.unchanged(label + '-refused', s2, s3)
            return False
        self.note('   oracle: ok%s' % (
            ', %d conflict(s) left as they are (--force): %s' % (
                len(conflicts), ', '.join(conflicts[:3]))
            if conflicts else ''))
        if r.rc != 0:
            self.fail(label + '-exit', 'expected exit 0, got %s' % r.rc)
            if r.rc == 1:
                self.unchanged(label + '-refused', s2, s3)
            return False
        diffs = compare(exp, s3.tables, absent_ok)
        if diffs:
            tags = ','.join(sorted({
                (self.op_kind(ln, s2, s3)) for ln in changed_tables(
                    exp, s3.tables)}))
            self.fail('%s-content[%s]' % (label, tags), '; '.join(diffs))
        self.blog_plus_one(label, s2, s3)
        self.integrity(label)
        self.undo = self.record(label, r.out)
        self.op = (s2.tables, s3.tables)
        return not conflicts

    def op_kind(self, ln, *states):
        for s in states:
            if ln in s.tables:
                return s.tables[ln].kind()
        return 'none'

    def diff(self):
        s0 = self.state()
        r = self.tool(['--diff', '--db', self.live, '-d', self.cdir,
                       self.archive])
        self.unchanged('diff', s0, self.state())
        if r.rc != 0:
            self.fail('diff-exit', 'expected exit 0, got %s' % r.rc)
            return
        exp = oracle_diff(self.backup, s0.tables)
        self.seen['diff'] += 1
        got = {}
        for line in r.out.splitlines():
            f = line.split('\t')
            if len(f) >= 2 and f[0] == 'table' and f[1] == 'state':
                continue
            if len(f) < 7:
                self.fail('diff-format', 'not a diff line: %r' % line[:120])
                continue
            got[low(f[0])] = f
        for ln in sorted(set(exp) | set(got)):
            if ln not in exp:
                self.fail('diff-extra-table', 'lists %s' % got[ln][0])
                continue
            e = exp[ln]
            name = (self.backup.get(ln) or s0.tables.get(ln)).name
            kind = (self.backup.get(ln) or s0.tables.get(ln)).kind()
            if ln not in got:
                self.fail('diff-missing-table', 'no line for %s' % name)
                continue
            g = got[ln]
            want = []
            for i, (w, x) in enumerate(zip(e, g[1:7])):
                if w is not None and str(w) != x:
                    want.append('%s %s, expected %s' % (
                        ('state', 'backup_rows', 'live_rows', 'only_backup',
                         'only_live', 'changed')[i], x, w))
            if want:
                self.fail('diff-counts[%s]' % kind, '%s: %s' % (
                    name, '; '.join(want)))

    def diff_table(self, given):
        s0 = self.state()
        r = self.tool(['--diff-table', given, '--db', self.live,
                       '-d', self.cdir, self.archive])
        self.unchanged('diff-table', s0, self.state())
        ln = low(given)
        b, l = self.backup.get(ln), s0.tables.get(ln)
        self.seen['diff-table'] += 1
        if b is None or l is None or not same_columns(b, l):
            self.note('   oracle: refused (%s)' % (
                'no such table in the backup' if b is None else
                'no such table live' if l is None else 'columns differ'))
            if r.rc != 1:
                self.fail('diff-table-exit', 'expected exit 1, got %s'
                          % r.rc)
            if r.out:
                self.fail('diff-table-stdout-on-error',
                          'printed %r' % r.out[:120])
            return
        if b.dupes() or l.dupes():
            self.note('   oracle: (a key shared by two rows: not checked)')
            if r.rc != 0 and r.out:
                self.fail('diff-table-stdout-on-error',
                          'printed %r' % r.out[:120])
            return
        if r.rc != 0:
            self.fail('diff-table-exit%s: %s' % (
                ' (a name in another case)' if given != b.name else '',
                self.why(r.err, [(given, None)])),
                'expected exit 0, got %s' % r.rc)
            if r.out:
                self.fail('diff-table-stdout-on-error',
                          'printed %r' % r.out[:120])
            return
        path = os.path.join(self.cdir, 'difftable.db')
        remove_db(path)
        copy_db(self.live, path)
        con = connect(path)
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE "
                                   "type = 'trigger'").fetchall():
            con.execute('DROP TRIGGER %s' % qi(name))
        con.close()
        if shutil.which('sqlite3'):
            p = subprocess.run(['sqlite3', '-bail', path], input=r.out,
                               capture_output=True, text=True,
                               timeout=TIMEOUT)
            ok, err = p.returncode == 0 and not p.stderr.strip(), p.stderr
        else:
            con = sqlite3.connect(path, isolation_level=None)
            try:
                con.executescript(r.out)
                ok, err = True, ''
            except sqlite3.Error as e:
                ok, err = False, str(e)
            con.close()
        if not ok:
            self.fail('diff-table-sql', 'sqlite3 says %s' % err.strip()[:200])
            remove_db(path)
            return
        after = read_db(path).tables
        remove_db(path)
        exp = dict(s0.tables)
        exp[ln] = l.with_rows(b.rows)
        diffs = compare(exp, after)
        if diffs:
            self.fail('diff-table-result[%s]' % b.kind(), '; '.join(diffs))


# ---- generation: schemas, rows, histories, steps ----

TEXTS = ['x', 'y', "it's", 'say "hi"', '', 'a b', 'Zz', "O'Brien",
         'caf\u00e9', 'k07']
KEYS = ['k%02d' % i for i in range(40)] + ["it's", 'a"b', 'Key', "q'\"q"]
NAMES = ['People', 'Orders', 'LineItems', 'Order\'s "x"', 'kv Store',
         'Tags', "it's", 'Ev"ents', 'MixedCase', 'Audit Log', 'ledger']


def v_int(rng):
    return None if rng.random() < 0.1 else rng.randint(0, 20)


def v_real(rng):
    return None if rng.random() < 0.1 else rng.randint(0, 20) + 0.5


def v_text(rng):
    return None if rng.random() < 0.1 else rng.choice(TEXTS)


def v_any(rng):
    r = rng.random()
    if r < 0.15:
        return None
    if r < 0.45:
        return rng.randint(0, 20)
    if r < 0.6:
        return rng.randint(0, 20) + 0.25
    if r < 0.85:
        return rng.choice(TEXTS)
    return bytes(rng.randrange(256) for _ in range(rng.randint(0, 3)))


def v_for(rng, decl):
    d = decl.upper()
    if d.startswith('INTEGER'):
        return v_int(rng)
    if d.startswith('TEXT'):
        return v_text(rng)
    if d.startswith('REAL'):
        return v_real(rng)
    return v_any(rng)


def gen_world(rng):
    """A random schema and its rows: (schema SQL, data SQL, journal mode)."""
    n = rng.randint(2, 5)
    kinds = [rng.choice(['ipk', 'ipk', 'textpk', 'nokey', 'composite',
                         'worowid'])]
    for _ in range(n - 1):
        kinds.append(rng.choice(['ipk', 'textpk', 'nokey', 'composite',
                                 'worowid', 'child', 'child', 'child',
                                 'audit']))
    if kinds.count('audit') > 1:
        kinds = [k for k in kinds if k != 'audit'] + ['audit']
    if 'audit' in kinds:
        kinds.remove('audit')
        kinds.append('audit')
    for i, k in enumerate(kinds):
        if k == 'child' and 'ipk' not in kinds[:i]:
            kinds[i] = 'ipk'
    names = rng.sample(NAMES, len(kinds))
    dupe = rng.random() < 0.05
    schema, data = [], []
    specs = []          # (name, kind, cols [(name, decl)], key maker)
    for name, kind in zip(names, kinds):
        q = qi(name)
        if kind == 'ipk':
            cols = [(rng.choice(['id', 'Id']), 'INTEGER'),
                    (rng.choice(['Name', "it's"]), 'TEXT'),
                    (rng.choice(['Qty', 'q"ty']), 'INTEGER'),
                    (rng.choice(['data', 'Blob b']), '')]
            body = '%s INTEGER PRIMARY KEY, %s' % (qi(cols[0][0]), ', '.join(
                '%s %s' % (qi(c), d) for c, d in cols[1:]))
            sql = 'CREATE TABLE %s(%s)' % (q, body)
        elif kind == 'nokey':
            cols = [(rng.choice(['a', 'A']), ''),
                    (rng.choice(['B b', 'b']), 'TEXT'),
                    (rng.choice(['c', "C's"]), 'REAL')]
            sql = 'CREATE TABLE %s(%s)' % (q, ', '.join(
                ('%s %s' % (qi(c), d)).strip() for c, d in cols))
        elif kind == 'textpk':
            cols = [('k', 'TEXT'), ('v', ''),
                    (rng.choice(['w"q', 'W']), 'NUM')]
            sql = 'CREATE TABLE %s("k" TEXT PRIMARY KEY, "v", %s NUM)' % (
                q, qi(cols[2][0]))
        elif kind == 'composite':
            cols = [('g', 'TEXT'), ('n', 'INTEGER'),
                    (rng.choice(['Val', 'va l']), '')]
            sql = ('CREATE TABLE %s("g" TEXT, "n" INTEGER, %s, '
                   'PRIMARY KEY("g", "n"))' % (q, qi(cols[2][0])))
        elif kind == 'worowid':
            cols = [('k', 'TEXT'), ('v', ''), ('X', 'INTEGER')]
            key = rng.choice(['"k"', '"k", "X"'])
            sql = ('CREATE TABLE %s("k" TEXT, "v", "X" INTEGER, PRIMARY '
                   'KEY(%s)) WITHOUT ROWID' % (q, key))
        elif kind == 'child':
            parents = [s for s in specs if s[1] == 'ipk']
            parent = rng.choice(parents)
            ref = parent[0].translate(SWAP)
            if ref == parent[0]:
                ref = parent[0].translate(UPPER)
            cols = [('id', 'INTEGER'), ('pid', 'INTEGER'), ('note', 'TEXT')]
            sql = ('CREATE TABLE %s("id" INTEGER PRIMARY KEY, "pid" INTEGER '
                   'REFERENCES %s(%s), "note" TEXT)'
                   % (q, qi(ref), qi(parent[2][0][0].translate(SWAP))))
        else:   # audit, written by triggers on an earlier table
            cols = [('what', 'TEXT'), ('k', '')]
            sql = 'CREATE TABLE %s("what" TEXT, "k")' % q
        schema.append(sql)
        specs.append((name, kind, cols))
        if kind != 'audit' and rng.random() < 0.4:
            c = rng.choice(cols[1:])[0]
            schema.append('CREATE INDEX %s ON %s(%s)' % (
                qi('%s %s idx' % (name, c)), q, qi(c)))
        if kind == 'audit':
            target = rng.choice([s for s in specs if s[1] != 'audit'])
            tq, first = qi(target[0]), qi(target[2][0][0])
            for ev, row in (('INSERT', 'NEW'), ('UPDATE', 'NEW'),
                            ('DELETE', 'OLD')):
                if rng.random() < 0.8:
                    schema.append(
                        'CREATE TRIGGER %s AFTER %s ON %s BEGIN INSERT INTO '
                        '%s VALUES (%s, %s.%s); END' % (
                            qi('%s %s' % (target[0], ev.lower())), ev, tq,
                            q, lit(ev.lower()), row, first))
    # Rows, parents first (the order of the tables).
    ids = {}
    for name, kind, cols in specs:
        if kind == 'audit':
            continue
        q = qi(name)
        cl = ', '.join(qi(c) for c, _ in cols)
        rows = []
        count = rng.randint(5, 25)
        if kind in ('ipk', 'child'):
            keys = rng.sample(range(1, 61), count)
            ids[name] = keys
            for k in keys:
                if kind == 'child':
                    pk = ids[parent_of(specs, name, schema)]
                    rows.append((k, rng.choice(pk + [None]), v_text(rng)))
                else:
                    rows.append((k,) + tuple(v_for(rng, d)
                                             for _, d in cols[1:]))
        elif kind == 'nokey':
            for _ in range(count):
                if rows and rng.random() < 0.2:
                    rows.append(rng.choice(rows))
                else:
                    rows.append(tuple(v_for(rng, d) for _, d in cols))
        elif kind == 'textpk':
            keys = rng.sample(KEYS, min(count, len(KEYS)))
            if rng.random() < 0.6:
                keys[0] = None
            if dupe:
                keys[:2] = [None, None]
            for k in keys:
                rows.append((k, v_any(rng), v_any(rng)))
        elif kind == 'composite':
            pairs = rng.sample([(g, n) for g in ('a', 'B', "c'd")
                                for n in range(16)], count)
            if rng.random() < 0.2:
                pairs[0] = (None, pairs[0][1])
            for g, n in pairs:
                rows.append((g, n, v_any(rng)))
        elif kind == 'worowid':
            keys = rng.sample(KEYS, min(count, len(KEYS)))
            for k in keys:
                rows.append((k, v_any(rng), rng.randint(0, 5)))
        for r in rows:
            data.append('INSERT INTO %s(%s) VALUES (%s)' % (
                q, cl, ', '.join(lit(v) for v in r)))
    return schema, data, rng.choice(['wal', 'delete'])


def parent_of(specs, name, schema):
    """The ipk table a child table refers to (from its CREATE)."""
    for sql in schema:
        if sql.startswith('CREATE TABLE %s(' % qi(name)):
            m = re.search(r'REFERENCES ("(?:[^"]|"")*")', sql)
            ref = low(m.group(1)[1:-1].replace('""', '"'))
            for s in specs:
                if low(s[0]) == ref:
                    return s[0]
    raise KeyError(name)


def key_values(t, rng, con):
    """A fresh key for a keyed table (maybe taken: then the insert fails
    and is left out of the history)."""
    out = []
    for i in t.pk:
        d = t.types[i].upper()
        if d == 'INTEGER':
            out.append(rng.randint(0, 70) if t.ipk() else rng.randint(0, 15))
        elif t.kind() == 'worowid' or len(t.pk) == 1:
            out.append(rng.choice(KEYS))
        else:
            out.append(rng.choice(['a', 'B', "c'd", 'new']))
    if not t.worowid and rng.random() < 0.08:
        j = rng.randrange(len(t.pk))
        if t.types[t.pk[j]].upper() != 'INTEGER':
            out[j] = None
    return tuple(out)


def row_values(t, rng, con, key=None):
    vals = []
    fk = {low(f): (p, to) for f, p, to in t.fks}
    for i, (c, d) in enumerate(zip(t.cols, t.types)):
        if key is not None and i in t.pk:
            vals.append(key[t.pk.index(i)])
        elif low(c) in fk:
            p, to = fk[low(c)]
            try:
                ks = [r[0] for r in con.execute('SELECT %s FROM %s' % (
                    qi(to), qi(p)))]
            except sqlite3.Error:
                ks = []
            vals.append(rng.choice(ks + [None]))
        else:
            vals.append(v_for(rng, d))
    return tuple(vals)


def where_key(t, row):
    return ' AND '.join('%s IS %s' % (qi(t.cols[i]), lit(row[i]))
                        for i in t.pk)


def where_row(t, row):
    return ' AND '.join('%s IS %s' % (qi(c), lit(v))
                        for c, v in zip(t.cols, row))


def insert_sql(t, row, cols=None):
    cols = cols if cols is not None else list(range(len(t.cols)))
    return 'INSERT INTO %s(%s) VALUES (%s)' % (
        qi(t.name), ', '.join(qi(t.cols[i]) for i in cols),
        ', '.join(lit(row[i]) for i in cols))


def null_key_taken(t, key):
    return any(v is None for v in key) and \
        any(t.key(r) == key for r in t.rows)


def gen_history(rng, con, backup, dupe_ok):
    """The application's afternoon on the live database: deletes, inserts
    (deleted keys reused), updates, VACUUM, sometimes a column added or a
    table dropped.  Returns the statements that ran."""
    done = []

    def run(sql):
        try:
            con.execute(sql)
            done.append(sql)
        except sqlite3.Error:
            pass
    for _ in range(rng.randint(2, 10)):
        st = read_con(con).tables
        if not st:
            break
        t = st[rng.choice(sorted(st))]
        op = rng.choices(['delete', 'insert', 'update', 'vacuum', 'addcol',
                          'rekey', 'deleteall', 'bulk', 'newtable', 'fk'],
                         [30, 30, 25, 6, 2, 5, 2, 5, 1, 20])[0]
        if op == 'fk':
            kids = [(c, f) for c in st.values() for f in c.fks
                    if low(f[1]) in st]
            if kids:
                c, (col, parent, to) = rng.choice(kids)
                p = st[low(parent)]
                if rng.random() < 0.5 and c.rows:
                    # A parent row and its children gone.
                    v = rng.choice(c.rows)[c.lcols().index(low(col))]
                    if v is not None:
                        run('DELETE FROM %s WHERE %s = %s' % (
                            qi(c.name), qi(col), lit(v)))
                        run('DELETE FROM %s WHERE %s = %s' % (
                            qi(p.name), qi(to), lit(v)))
                else:
                    # A new parent row and a child of it.
                    v = rng.randint(61, 90)
                    run(insert_sql(p, row_values(p, rng, con, (v,))))
                    row = list(row_values(c, rng, con, key_values(
                        c, rng, con)))
                    row[c.lcols().index(low(col))] = v
                    run(insert_sql(c, row))
            continue
        b = backup.get(low(t.name))
        if op == 'delete' and t.rows:
            for r in rng.sample(t.rows, min(len(t.rows), rng.randint(1, 4))):
                if t.keyed():
                    run('DELETE FROM %s WHERE %s' % (qi(t.name),
                                                     where_key(t, r)))
                else:
                    run('DELETE FROM %s WHERE rowid = (SELECT rowid FROM %s '
                        'WHERE %s LIMIT 1)' % (qi(t.name), qi(t.name),
                                               where_row(t, r)))
        elif op == 'insert':
            for _ in range(rng.randint(1, 3)):
                st2 = read_con(con).tables.get(low(t.name))
                if t.keyed():
                    gone = [] if b is None else [
                        b.key(r) for r in b.rows
                        if b.key(r) not in {st2.key(x) for x in st2.rows}]
                    if gone and rng.random() < 0.5:
                        key = rng.choice(gone)
                    else:
                        key = key_values(t, rng, con)
                    if null_key_taken(st2, key) and not (
                            dupe_ok and rng.random() < 0.3):
                        continue
                    row = row_values(t, rng, con, key)
                    if t.ipk() and rng.random() < 0.2:
                        run(insert_sql(t, row, [i for i in range(len(row))
                                                if i not in t.pk]))
                    else:
                        run(insert_sql(t, row))
                elif b is not None and b.rows and rng.random() < 0.3 \
                        and same_columns(b, t):
                    run(insert_sql(t, rng.choice(b.rows)))
                elif st2.rows and rng.random() < 0.2:
                    run(insert_sql(t, rng.choice(st2.rows)))
                else:
                    run(insert_sql(t, row_values(t, rng, con)))
        elif op == 'update' and t.rows:
            for r in rng.sample(t.rows, min(len(t.rows), rng.randint(1, 3))):
                free = [i for i in range(len(t.cols)) if i not in t.pk]
                i = rng.choice(free)
                v = row_values(t, rng, con)[i]
                if t.keyed():
                    run('UPDATE %s SET %s = %s WHERE %s' % (
                        qi(t.name), qi(t.cols[i]), lit(v), where_key(t, r)))
                else:
                    run('UPDATE %s SET %s = %s WHERE rowid = (SELECT rowid '
                        'FROM %s WHERE %s LIMIT 1)' % (
                            qi(t.name), qi(t.cols[i]), lit(v), qi(t.name),
                            where_row(t, r)))
        elif op == 'rekey' and t.keyed() and t.rows:
            r = rng.choice(t.rows)
            key = key_values(t, rng, con)
            if not null_key_taken(t, key):
                run('UPDATE %s SET %s WHERE %s' % (qi(t.name), ', '.join(
                    '%s = %s' % (qi(t.cols[i]), lit(v))
                    for i, v in zip(t.pk, key)), where_key(t, r)))
        elif op == 'bulk' and t.rows:
            i = rng.randrange(len(t.cols))
            if i not in t.pk:
                v = row_values(t, rng, con)[i]
                run('UPDATE %s SET %s = %s WHERE %s' % (
                    qi(t.name), qi(t.cols[i]), lit(v),
                    gen_cond(rng, t, None)))
        elif op == 'vacuum':
            run('VACUUM')
        elif op == 'addcol':
            run('ALTER TABLE %s ADD COLUMN "extra col" TEXT' % qi(t.name))
        elif op == 'deleteall':
            run('DELETE FROM %s' % qi(t.name))
        elif op == 'newtable':
            run('CREATE TABLE "New Table"(x, "Y y")')
            run('INSERT INTO "New Table" VALUES (1, \'it\'\'s\')')
    if rng.random() < 0.1:
        st = read_con(con).tables
        parents = {low(p) for t in st.values() for _, p, _ in t.fks}
        can = [t for ln, t in sorted(st.items()) if ln not in parents]
        if can:
            run('DROP TABLE %s' % qi(rng.choice(can).name))
    return done


def hot_columns(b, l):
    """The columns in which rows of the same key differ between the
    backup and live: a condition on them finds resets and collisions."""
    if l is None or not b.keyed() or not same_columns(b, l):
        return []
    lm = {b.key(r): r for r in l.rows}
    hot = []
    for r in b.rows:
        x = lm.get(b.key(r))
        if x is not None:
            hot += [(i, r[i]) for i in range(len(r)) if tv(r[i]) != tv(x[i])]
    return hot


def gen_cond(rng, b, l, depth=0):
    """A --where: a condition on one column (or two joined)."""
    if depth == 0 and rng.random() < 0.15:
        a, c = gen_cond(rng, b, l, 1), gen_cond(rng, b, l, 1)
        return rng.choice(['(%s) OR (%s)' % (a, c), '%s AND %s' % (a, c),
                           'NOT (%s)' % a])
    i = rng.randrange(len(b.cols))
    hot = hot_columns(b, l)
    if b.pk and rng.random() < 0.3:
        i = rng.choice(b.pk)
    elif hot and rng.random() < 0.6:
        i, v = rng.choice(hot)
        if rng.random() < 0.4:
            # The backup's value of a row changed since: live no longer
            # matches (a collision), or matches (a reset) when it
            # matches the same value for another reason.
            return '%s IS %s' % (qi(variant(rng, b.cols[i])), lit(v))
    c = qi(variant(rng, b.cols[i]))
    vals = [r[i] for r in b.rows] + ([r[i] for r in l.rows] if l else [])
    nums = [v for v in vals if isinstance(v, (int, float))]
    some = [v for v in vals if v is not None]
    forms = ['null', 'notnull']
    if nums:
        forms += ['cmp', 'cmp', 'cmp', 'between']
    if some:
        forms += ['eq', 'in', 'ne']
    f = rng.choice(forms)
    if f == 'null':
        return '%s IS NULL' % c
    if f == 'notnull':
        return '%s IS NOT NULL' % c
    if f == 'cmp':
        return '%s %s %s' % (c, rng.choice(['<', '<=', '>', '>=']),
                             lit(rng.choice(nums)))
    if f == 'between':
        x, y = sorted((rng.choice(nums), rng.choice(nums)))
        return '%s BETWEEN %s AND %s' % (c, lit(x), lit(y))
    if f == 'eq':
        return '%s = %s' % (c, lit(rng.choice(some)))
    if f == 'ne':
        return '%s <> %s' % (c, lit(rng.choice(some)))
    return '%s IN (%s, %s)' % (c, lit(rng.choice(some)),
                               lit(rng.choice(some)))


def gen_app(rng, con, s0, s1, mode):
    """The application's writes between a restore and its undo: 'safe'
    ones never touch a row the restore changed (rows elsewhere, new keys,
    copies, VACUUM); 'conflict' adds writes to rows it changed.  Tables in
    a foreign key are left alone (an undo's foreign keys are not the
    subject here).  Returns the statements that ran."""
    fk = set()
    for t in s1.values():
        for _, p, _ in t.fks:
            fk.add(low(p))
            fk.add(low(t.name))
    done = []
    serial = [0]

    def run(sql):
        try:
            con.execute(sql)
            done.append(sql)
        except sqlite3.Error:
            pass

    def fresh():
        serial[0] += 1
        return 'post-%d' % serial[0]
    names = [ln for ln in sorted(s1) if ln not in fk]
    if not names:
        return done
    moved = [ln for ln in names if ln not in s0 or compare(
        {ln: s0[ln]}, {ln: s1[ln]})] or names
    ops = []
    for _ in range(rng.randint(1, 4)):
        ops.append(('safe', rng.choice(names)))
    if mode == 'conflict':
        # Last: a trigger fired by a later write could otherwise put back
        # a copy of a row a conflict deleted from a table without a key.
        for _ in range(rng.randint(1, 2)):
            ops.append(('conflict', rng.choice(moved)))
    for what, ln in ops:
        cur = read_con(con).tables
        t, t1 = cur.get(ln), s1[ln]
        if t is None:
            continue
        t0 = s0.get(ln)
        rows0 = t0.rows if t0 is not None else []
        if t.keyed() and not t.dupes():
            m0 = {t.key(r): r for r in rows0}
            m1 = {t.key(r): r for r in t1.rows}
            touched = {k for k in set(m0) | set(m1)
                       if rk(m0.get(k)) != rk(m1.get(k))}
            now = {t.key(r): r for r in t.rows}
            free = [i for i in range(len(t.cols)) if i not in t.pk]
            if what == 'conflict':
                ks = sorted((k for k in touched), key=repr)
                if not ks:
                    continue
                k = rng.choice(ks)
                if k in now and rng.random() < 0.6:
                    run('UPDATE %s SET %s = %s WHERE %s' % (
                        qi(t.name), qi(t.cols[rng.choice(free)]),
                        lit(fresh()), where_key(t, now[k])))
                elif k in now:
                    run('DELETE FROM %s WHERE %s' % (
                        qi(t.name), where_key(t, now[k])))
                else:
                    run(insert_sql(t, row_values(t, rng, con, k)))
                continue
            r = rng.random()
            calm = [x for x in t.rows if t.key(x) not in touched]
            if r < 0.2:
                run('VACUUM')
            elif r < 0.5 or not calm:
                key = tuple(
                    1000 + serial[0] if t.types[i].upper() == 'INTEGER'
                    else fresh() for i in t.pk)
                serial[0] += 1
                run(insert_sql(t, row_values(t, rng, con, key)))
            elif r < 0.75:
                run('UPDATE %s SET %s = %s WHERE %s' % (
                    qi(t.name), qi(t.cols[rng.choice(free)]),
                    lit(fresh()), where_key(t, rng.choice(calm))))
            else:
                run('DELETE FROM %s WHERE %s' % (
                    qi(t.name), where_key(t, rng.choice(calm))))
        else:
            c0 = collections.Counter(rk(x) for x in rows0)
            c1 = collections.Counter(rk(x) for x in t1.rows)
            put = [x for x in t1.rows if c1[rk(x)] > c0[rk(x)]]
            if what == 'conflict':
                if put:
                    run('DELETE FROM %s WHERE %s' % (
                        qi(t.name), where_row(t, rng.choice(put))))
                continue
            calm = [x for x in t.rows if c1[rk(x)] <= c0[rk(x)]]
            r = rng.random()
            if r < 0.2:
                run('VACUUM')
            elif r < 0.45 or not t.rows:
                row = row_values(t, rng, con)
                i = rng.randrange(len(row))
                row = row[:i] + (fresh(),) + row[i + 1:]
                run(insert_sql(t, row))
            elif r < 0.65:
                run(insert_sql(t, rng.choice(t.rows)))
            elif calm and r < 0.85:
                run('DELETE FROM %s WHERE rowid = (SELECT rowid FROM %s '
                    'WHERE %s LIMIT 1)' % (qi(t.name), qi(t.name),
                                           where_row(t, rng.choice(calm))))
            elif calm:
                run('UPDATE %s SET %s = %s WHERE rowid = (SELECT rowid '
                    'FROM %s WHERE %s LIMIT 1)' % (
                        qi(t.name), qi(rng.choice(t.cols)), lit(fresh()),
                        qi(t.name), where_row(t, rng.choice(calm))))
    return done


def gen_steps(rng, backup, live):
    """A case's commands after the history."""
    steps = []
    if rng.random() < 0.35:
        steps.append(('diff',))
    names = sorted({t.name for t in backup.values()} |
                   {t.name for t in live.values()})
    if rng.random() < 0.25:
        steps.append(('diff_table', variant(rng, rng.choice(names))))
    pool = sorted(t.name for t in backup.values())
    k = min(len(pool), rng.choices([1, 2, 3], [60, 30, 10])[0])
    specs = []
    for name in rng.sample(pool, k):
        b = backup[low(name)]
        cond = gen_cond(rng, b, live.get(low(name))) \
            if rng.random() < 0.45 else None
        specs.append((variant(rng, name), cond))
    r = rng.random()
    if r < 0.03:
        specs.insert(rng.randrange(len(specs) + 1),
                     (rng.choice(['BackupLog', 'backuplog']), None))
    elif r < 0.05:
        specs.append(('No Such', None))
    if rng.random() < 0.03:
        steps.append(('usage', specs[0][0], '1 = 1'))
    steps.append(('restore', specs, rng.random() < 0.25))
    if rng.random() < 0.8:
        mode = rng.choices(['none', 'safe', 'conflict'], [40, 35, 25])[0]
        if mode != 'none':
            steps.append(('app_gen', mode))
        steps.append(('undo', rng.random() < (0.5 if mode == 'conflict'
                                               else 0.2)))
        if mode == 'none' and rng.random() < 0.3:
            steps.append(('redo',))
    if rng.random() < 0.15:
        steps.append(('diff',))
    return steps


# ---- the fixed cases: the known defects as scenarios ----

FIXED = {
    'a': dict(
        what='--table ORDERS with REFERENCES in another letter case: the '
             'foreign keys are checked (refused), both tables together '
             'pass, and the undo is exact',
        schema=['CREATE TABLE Orders(id INTEGER PRIMARY KEY, item TEXT)',
                'CREATE TABLE "Line Items"(id INTEGER PRIMARY KEY, '
                'oid INTEGER REFERENCES orders(ID), qty INTEGER)'],
        data=["INSERT INTO Orders VALUES (1, 'a'), (2, 'b'), (3, 'c')",
              'INSERT INTO "Line Items" VALUES (1, 1, 5), (2, 2, 6), '
              '(3, 3, 7)'],
        history=['DELETE FROM "Line Items" WHERE oid = 3',
                 'DELETE FROM orders WHERE id = 3',
                 "INSERT INTO orders VALUES (4, 'new')",
                 'INSERT INTO "Line Items" VALUES (4, 4, 1)'],
        steps=[('restore', [('ORDERS', None)], False),
               ('restore', [('Line Items', None)], False),
               ('restore', [('ORDERS', None), ('LINE ITEMS', None)], False),
               ('undo', False)]),
    'b': dict(
        what='--where with a reused INTEGER PRIMARY KEY (explicit and '
             'automatic) whose live row does not match: a collision, '
             'refused; a --where without collision puts rows back',
        schema=['CREATE TABLE Items(id INTEGER PRIMARY KEY, price INTEGER, '
                'name TEXT)'],
        data=["INSERT INTO Items VALUES (1, 1, 'a'), (2, 2, 'b'), "
              "(3, 3, 'c'), (4, 10, 'd')"],
        history=['DELETE FROM Items WHERE id IN (1, 3, 4)',
                 "INSERT INTO Items VALUES (3, 100, 'reused')",
                 "INSERT INTO Items(price, name) VALUES (7, 'auto')"],
        steps=[('restore', [('Items', '"price" < 5')], False),
               ('restore', [('Items', '"price" >= 10')], False),
               ('restore', [('Items', '"price" < 3')], False),
               ('undo', False)]),
    'c': dict(
        what='a table without a key after VACUUM, --where: only the '
             'missing copies of matching rows inserted, nothing else '
             'touched; the undo exact',
        schema=['CREATE TABLE log(what TEXT, n INTEGER)'],
        data=["INSERT INTO log VALUES ('a', 1), ('b', 2), ('c', 3), "
              "('d', 4), ('e', 5), ('a', 1)"],
        history=['DELETE FROM log WHERE rowid IN (1, 2)', 'VACUUM',
                 "INSERT INTO log VALUES ('new', 9)",
                 "UPDATE log SET n = 40 WHERE what = 'd'"],
        steps=[('diff',),
               ('restore', [('log', '"n" < 3')], False),
               ('diff',),
               ('undo', False)]),
    'd': dict(
        what='TEXT PRIMARY KEY holding NULL: --diff of the unchanged table '
             'says same, --where does not duplicate the NULL-key row',
        schema=['CREATE TABLE kv(k TEXT PRIMARY KEY, v)',
                'CREATE TABLE other(id INTEGER PRIMARY KEY, x)'],
        data=["INSERT INTO kv VALUES (NULL, 'nul'), ('a', 1), ('b', 2)",
              'INSERT INTO other VALUES (1, 1), (2, 2)'],
        history=['UPDATE other SET x = 5 WHERE id = 1', 'VACUUM'],
        steps=[('diff',),
               ('diff_table', 'kv'),
               ('restore', [('kv', '"v" IS NOT NULL')], False),
               ('restore', [('kv', '"k" IS NULL')], False),
               ('restore', [('kv', None)], False),
               ('diff',)]),
    'e': dict(
        what='undo after the application wrote new rows elsewhere in the '
             'restored tables (and VACUUMed): those rows survive',
        schema=['CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)',
                'CREATE TABLE tags(name TEXT, n INTEGER)'],
        data=["INSERT INTO notes VALUES (1, 'a'), (2, 'b'), (3, 'c'), "
              "(4, 'd'), (5, 'e')",
              "INSERT INTO tags VALUES ('x', 1), ('y', 2), ('z', 3), "
              "('z', 3), ('w', 4)"],
        history=['DELETE FROM notes WHERE id > 3',
                 'DELETE FROM tags WHERE n > 2'],
        steps=[('restore', [('notes', None), ('tags', None)], False),
               ('app', ["INSERT INTO notes VALUES (10, 'new')",
                        "INSERT INTO tags VALUES ('new', 9)",
                        "INSERT INTO tags VALUES ('z', 3)",
                        "DELETE FROM tags WHERE name = 'x'",
                        'VACUUM']),
               ('undo', False)]),
    'f': dict(
        what='two --table, each with its own --where: each applies to its '
             'table only; a --where before any --table is a usage error',
        schema=['CREATE TABLE a(id INTEGER PRIMARY KEY, x INTEGER)',
                'CREATE TABLE b(id INTEGER PRIMARY KEY, y INTEGER, '
                'x INTEGER)'],
        data=['INSERT INTO a VALUES (1, 1), (2, 2), (3, 3), (4, 4), (5, 5)',
              'INSERT INTO b VALUES (1, 1, 1), (2, 2, 2), (3, 3, 3), '
              '(4, 4, 4), (5, 5, 5)'],
        history=['DELETE FROM a', 'DELETE FROM b'],
        steps=[('usage', 'a', '"x" < 3'),
               ('restore', [('a', '"x" < 3'), ('b', '"y" > 3')], False),
               ('undo', False)]),
    'g': dict(
        what='a dropped table put back with its index (and its rows); '
             '--diff names it only-backup',
        schema=['CREATE TABLE "Sales Q1"(id INTEGER PRIMARY KEY, '
                '"Amount" REAL, region TEXT)',
                'CREATE INDEX "sales by region" ON "Sales Q1"(region)',
                'CREATE TABLE other(x)'],
        data=["INSERT INTO \"Sales Q1\" VALUES (1, 2.5, 'n'), (2, 3.5, 's'), "
              "(3, NULL, 'it''s')",
              'INSERT INTO other VALUES (1), (2)'],
        history=['DROP TABLE "Sales Q1"', 'INSERT INTO other VALUES (3)'],
        steps=[('diff',),
               ('restore', [('sales q1', None)], False),
               ('diff',),
               ('undo', False)]),
    'h': dict(
        what="--diff-table on table and column names holding ' and \": "
             'the SQL is valid; on an error nothing on stdout',
        schema=['CREATE TABLE "Order\'s ""x"""(id INTEGER PRIMARY KEY, '
                '"it\'s" TEXT, "q""c" INTEGER)',
                'CREATE TABLE "kv\'s"(k TEXT PRIMARY KEY, "v\'v") '
                'WITHOUT ROWID',
                'CREATE TABLE "it\'s schema"(a, b)'],
        data=['INSERT INTO "Order\'s ""x""" VALUES (1, \'a\'\'b\', 1), '
              '(2, \'say "hi"\', 2), (3, NULL, 3)',
              'INSERT INTO "kv\'s" VALUES (\'it\'\'s\', 1), (\'b"\', '
              'X\'00FF\'), (\'c\', NULL)',
              'INSERT INTO "it\'s schema" VALUES (1, 2)'],
        history=['DELETE FROM "Order\'s ""x""" WHERE id = 1',
                 'UPDATE "Order\'s ""x""" SET "it\'s" = \'x\'\'y\' '
                 'WHERE id = 2',
                 'INSERT INTO "Order\'s ""x""" VALUES (9, \'n\', 9)',
                 'DELETE FROM "kv\'s" WHERE k = \'it\'\'s\'',
                 'UPDATE "kv\'s" SET "v\'v" = \'w\' WHERE k = \'c\'',
                 'ALTER TABLE "it\'s schema" ADD COLUMN "c\'c"'],
        steps=[('diff_table', 'Order\'s "x"'),
               ('diff_table', "kv's"),
               ('diff_table', 'ORDER\'S "X"'),
               ('diff_table', "it's schema"),
               ('diff_table', "no'such"),
               ('diff',)]),
}


# ---- running worlds and cases ----

def build_world(vb, wdir, schema, data, journal):
    live = os.path.join(wdir, 'live.db')
    base = os.path.join(wdir, 'base.db')
    con = connect(live)
    try:
        con.execute('PRAGMA journal_mode = %s' % journal)
        con.execute('PRAGMA foreign_keys = ON')
        con.execute('BEGIN')
        for sql in schema + data:
            con.execute(sql)
        con.execute('COMMIT')
    finally:
        con.close()
    bdir = os.path.join(wdir, 'B')
    archive = make_backup(vb, live, bdir)
    # Each case starts from the backup's state, at the same path.
    copy_db(live, base)
    return base, archive, read_db(base).tables


def run_steps(c, rng, steps):
    for step in steps:
        op = step[0]
        if op == 'diff':
            c.diff()
        elif op == 'diff_table':
            c.diff_table(step[1])
        elif op == 'usage':
            c.usage_where_first(step[1], step[2])
        elif op == 'restore':
            c.restore(step[1], step[2])
        elif op == 'app':
            c.app(step[1])
        elif op == 'app_gen':
            if c.op is None:
                continue
            con = connect(c.live)
            con.execute('PRAGMA foreign_keys = ON')
            try:
                sqls = gen_app(rng, con, c.op[0], c.op[1], step[1])
            finally:
                con.close()
            for sql in sqls:
                c.note('app> ' + sql + ';')
        elif op == 'undo':
            c.do_undo(step[1])
        elif op == 'redo':
            # Not after a restore that kept foreign-key violations: whether
            # redoing it needs --force again, the contract does not say.
            if c.op is not None and set(c.op[0]) == set(c.op[1]) and \
                    not c.kept_violations:
                c.do_undo(False, 'redo')


def run_world(job):
    """One world (schema, rows, backup) and its cases; returns a list of
    (case number, label, mismatches, reproduction, seconds)."""
    vb, tmp, keep, seed, widx, cases, fixed = job
    wdir = tempfile.mkdtemp(prefix='vb-model.', dir=tmp)
    results = []
    try:
        if fixed is not None:
            spec = FIXED[fixed]
            schema, data, journal = spec['schema'], spec['data'], 'wal'
        else:
            schema, data, journal = gen_world(
                random.Random('%s/%d' % (seed, widx)))
        try:
            base, archive, backup = build_world(vb, wdir, schema, data,
                                                journal)
        except Exception:
            return [(n, 'world %d' % widx, [('driver-error',
                                             traceback.format_exc())],
                     (schema, data, []), 0.0, collections.Counter())
                    for n in cases]
        for n in cases:
            t0 = time.time()
            label = ('fixed case (%s)' % fixed if fixed is not None
                     else 'case %d' % n)
            cdir = tempfile.mkdtemp(prefix='case.', dir=wdir)
            c = Case(vb, wdir, cdir, archive, backup, label)
            c.note('-- journal_mode=%s; the backup was taken here' % journal)
            rng = random.Random('%s/%d/%d' % (seed, widx, n))
            try:
                remove_db(c.live)
                copy_db(base, c.live)
                if fixed is not None:
                    c.note('-- ' + FIXED[fixed]['what'])
                    c.app(FIXED[fixed]['history'])
                    steps = FIXED[fixed]['steps']
                else:
                    con = connect(c.live)
                    con.execute('PRAGMA foreign_keys = ON')
                    try:
                        hist = gen_history(rng, con, backup,
                                           any(t.dupes()
                                               for t in backup.values()))
                    finally:
                        con.close()
                    for sql in hist:
                        c.note('app> ' + sql + ';')
                    steps = gen_steps(rng, backup, c.state().tables)
                run_steps(c, rng, steps)
            except Exception:
                c.fail('driver-error', traceback.format_exc())
            results.append((n, label, c.mismatches,
                            (schema, data, c.lines), time.time() - t0,
                            c.seen))
            if not keep:
                shutil.rmtree(cdir, ignore_errors=True)
        return results
    finally:
        if not keep:
            shutil.rmtree(wdir, ignore_errors=True)


def report(seed, n, label, mismatches, repro, fixed, verbose, out, full):
    schema, data, lines = repro
    if fixed is not None:
        again = '--fixed %s' % fixed
    else:
        again = '--seed %s --case %d' % (seed, n)
    out.write('# MISMATCH %s (seed %s): %s\n' % (
        label, seed, ', '.join(sorted({k for k, _ in mismatches}))))
    out.write('#   reproduce: VB_BIN=... %s %s\n' % (
        os.path.relpath(__file__), again))
    if not full:
        return
    out.write('#   schema:\n')
    for sql in schema:
        out.write('#     %s;\n' % sql)
    if verbose or fixed is not None:
        for sql in data:
            out.write('#     %s;\n' % sql)
    else:
        out.write('#     (%d INSERTs of rows: -v shows them)\n' % len(data))
    out.write('#   then:\n')
    for line in lines:
        for part in line.splitlines():
            out.write('#     %s\n' % part)


def main():
    ap = argparse.ArgumentParser(
        description='model-based test of vb-restore --table/--where/--undo/'
                    '--diff against DESIGN.md "Restoring part of a database"')
    ap.add_argument('--seed', type=int,
                    help='the random seed (default: a random one, printed)')
    ap.add_argument('--cases', type=int, default=300,
                    help='how many random cases (default 300)')
    ap.add_argument('--case', type=int, action='append',
                    help='run only this case of the seed (again for more)')
    ap.add_argument('--fixed', nargs='*', metavar='NAME',
                    help='run the fixed cases (a-h; all when none named) '
                         'instead of random ones')
    ap.add_argument('--jobs', type=int, default=2,
                    help='worker processes (default 2)')
    ap.add_argument('--tmpdir', help='where the work directories go '
                    '(default $TMPDIR, else /tmp)')
    ap.add_argument('--repros', type=int, default=20, metavar='N',
                    help='a whole reproduction for the first N mismatching '
                         'cases only, one line for the others (default 20; '
                         '-1: all)')
    ap.add_argument('--keep', action='store_true',
                    help='keep the work directories (their path printed)')
    ap.add_argument('-v', '--verbose', action='store_true',
                    help='print every case, and the rows of a mismatch')
    a = ap.parse_args()
    vb = os.environ.get('VB_BIN')
    if not vb or not os.path.isfile(os.path.join(vb, 'vb-restore')):
        print('%s: VB_BIN must name the build directory (with vb-restore)'
              % sys.argv[0], file=sys.stderr)
        return 2
    vb = os.path.abspath(vb)
    seed = a.seed if a.seed is not None else \
        random.SystemRandom().randrange(1, 2 ** 31)
    tmp = a.tmpdir or tempfile.gettempdir()
    if a.keep:
        tmp = tempfile.mkdtemp(prefix='vb-model-keep.', dir=tmp)
    jobs = []
    if a.fixed is not None:
        names = a.fixed or sorted(FIXED)
        for f in names:
            if f not in FIXED:
                print('%s: no fixed case %r (%s)' % (
                    sys.argv[0], f, ' '.join(sorted(FIXED))),
                    file=sys.stderr)
                return 2
        jobs = [(vb, tmp, a.keep, 'fixed', i, [i], f)
                for i, f in enumerate(names)]
        total = len(jobs)
        print('# fixed cases %s; VB_BIN=%s' % (' '.join(names), vb))
    else:
        wanted = sorted(set(a.case)) if a.case else list(range(a.cases))
        by_world = collections.OrderedDict()
        for n in wanted:
            by_world.setdefault(n // PER_WORLD, []).append(n)
        jobs = [(vb, tmp, a.keep, seed, w, ns, None)
                for w, ns in by_world.items()]
        total = len(wanted)
        print('# seed %s, %d cases, %d jobs; VB_BIN=%s' % (
            seed, total, a.jobs, vb))
    sys.stdout.flush()
    t0 = time.time()
    results = []
    if a.jobs > 1 and len(jobs) > 1:
        with multiprocessing.get_context('fork').Pool(a.jobs) as pool:
            for r in pool.imap_unordered(run_world, jobs):
                results.extend(r)
    else:
        for j in jobs:
            results.extend(run_world(j))
    results.sort(key=lambda r: r[0])
    bad = 0
    kinds = collections.Counter()
    first = {}
    seen = collections.Counter()
    for n, label, mism, repro, secs, s in results:
        seen.update(s)
        fixed = jobs[n][6] if a.fixed is not None else None
        if mism:
            bad += 1
            for k in sorted({k for k, _ in mism}):
                kinds[k] += 1
                first.setdefault(k, label)
            report(seed, n, label, mism, repro, fixed, a.verbose, sys.stdout,
                   a.repros < 0 or bad <= a.repros)
        elif a.verbose:
            print('# ok %s (%.2fs)' % (label, secs))
    if a.verbose or a.fixed is None:
        print('# what the oracle expected: ' + ', '.join(
            '%s %d' % kv for kv in sorted(seen.items())))
    if kinds:
        print('# mismatches by kind (cases; the first):')
        for k, c in sorted(kinds.items(), key=lambda kc: (-kc[1], kc[0])):
            print('#   %4d  %-50s %s' % (c, k, first[k]))
    if a.keep:
        print('# work directories kept in %s' % tmp)
    print('%d cases, %d mismatches (seed %s, %.1fs)' % (
        total, bad, seed if a.fixed is None else 'fixed', time.time() - t0))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
