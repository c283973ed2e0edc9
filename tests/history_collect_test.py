#!/usr/bin/env python3
"""Tests of relays/history-collect (stdlib only).

    python3 tests/history_collect_test.py        (from the repository root)

The expected numbers come from an oracle written here (a regex over the consensus files), not
from the script's own parser; where ../shared/relays/history/scripts/build_intervals.py is
present, the interval files are also compared with what that script makes of the same days.
The CollecTor download path is run against a local HTTP server laid out like CollecTor (the
real service is not reachable here).
"""
import contextlib
import datetime
import functools
import gzip
import http.server
import importlib.machinery
import importlib.util
import io
import ipaddress
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import unittest
import urllib.request

sys.dont_write_bytecode = True  # loading relays/history-collect as a module leaves no __pycache__
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, 'relays', 'history-collect')
SHARED = os.path.normpath(os.path.join(ROOT, '..', 'shared', 'relays'))
CONSENSUS_DIR = os.path.join(SHARED, 'consensus')
SHARED_HISTORY = os.path.join(SHARED, 'history')
BUILD_INTERVALS = os.path.join(SHARED_HISTORY, 'scripts', 'build_intervals.py')
SRC = 'collector-consensus'
FILES = ('relay-history-ip.tsv.gz', 'relay-history-orport.tsv.gz', 'coverage.tsv.gz')


def run(*args, check=True):
    p = subprocess.run([sys.executable, SCRIPT] + list(args), capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError('history-collect %s failed:\n%s' % (' '.join(args), p.stderr))
    return p


def read(path):
    with gzip.open(path, 'rt') as f:
        return f.read()


def table(path):
    return [l.split('\t') for l in read(path).splitlines() if not l.startswith('#')]


# --- the oracle: a few regexes over the consensus text ----------------------------------------
R_LINE = re.compile(r'^r \S+ \S+ (?:\S+ )?\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (\d+\.\d+\.\d+\.\d+) (\d+) \d+$', re.M)
A_LINE = re.compile(r'^a \[?([0-9A-Fa-f:.]+?)\]?:(\d+)$', re.M)
VALID_AFTER = re.compile(r'^valid-after (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)$', re.M)


def oracle(paths):
    """day -> {'ips', 'pairs', 'files', 'first'} from the files."""
    days = {}
    for p in paths:
        with open(p, encoding='utf-8', errors='replace') as f:
            text = f.read()
        day, time = VALID_AFTER.search(text).groups()
        d = days.setdefault(day, {'ips': set(), 'pairs': set(), 'files': 0, 'first': '9'})
        d['files'] += 1
        d['first'] = min(d['first'], '%sT%sZ' % (day, time))
        for ip, port in R_LINE.findall(text) + A_LINE.findall(text):
            ip = str(ipaddress.ip_address(ip))  # str() of an address is its compressed form
            d['ips'].add(ip)
            d['pairs'].add((ip, int(port)))
    return days


def build_intervals_oracle(days, workdir):
    """Runs the README's build_intervals.py on the oracle's days; returns its output dir."""
    daysdir, out = os.path.join(workdir, 'days'), os.path.join(workdir, 'bi-out')
    os.makedirs(daysdir)
    with gzip.open(os.path.join(daysdir, SRC + '.days.tsv.gz'), 'wt') as f:
        for day in sorted(days):
            d = days[day]
            for ip in sorted(d['ips']):
                f.write('%s\t%d\t%s\tip\t%s\n' % (day, d['files'], d['first'], ip))
            for ip, port in sorted(d['pairs']):
                f.write('%s\t%d\t%s\torport\t%s %d\n' % (day, d['files'], d['first'], ip, port))
    subprocess.run([sys.executable, BUILD_INTERVALS, daysdir, out, SRC], check=True, capture_output=True)
    return out


def consensus(valid_after, relays):
    """A small microdesc consensus; relays: (ipv4, orport, [ipv6:port ...])."""
    lines = ['@type network-status-microdesc-consensus-3 1.0', 'network-status-version 3 microdesc',
             'vote-status consensus', 'valid-after ' + valid_after]
    for i, (ip, port, extra) in enumerate(relays):
        lines.append('r relay%d AAAA%04d %s %s %d 0' % (i, i, valid_after, ip, port))
        lines += ['a ' + a for a in extra]
        lines.append('s Fast Running Valid')
    return '\n'.join(lines) + '\n'


class RealConsensuses(unittest.TestCase):
    """(a) the shared consensus files: counts per day and sampled intervals."""

    @classmethod
    def setUpClass(cls):
        if not os.path.isdir(CONSENSUS_DIR):
            raise unittest.SkipTest('no %s (shared data absent): real-consensus test skipped' % CONSENSUS_DIR)
        cls.files = sorted(os.path.join(CONSENSUS_DIR, f) for f in os.listdir(CONSENSUS_DIR) if 'consensus' in f)
        cls.tmp = tempfile.mkdtemp()
        cls.out = os.path.join(cls.tmp, 'out')
        run('--consensus-files', cls.out, *cls.files)
        cls.days = oracle(cls.files)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_counts_per_day(self):
        cov = {r[1]: r for r in table(os.path.join(self.out, 'coverage.tsv.gz'))}
        self.assertEqual(sorted(d for d, r in cov.items() if r[2] == '1'), sorted(self.days))
        for day, d in sorted(self.days.items()):
            n4 = sum(1 for ip in d['ips'] if ':' not in ip)
            want = [SRC, day, '1', str(len(d['ips'])), str(n4), str(len(d['ips']) - n4),
                    str(len(d['pairs'])), str(d['files']), d['first']]
            self.assertEqual(cov[day], want)
            print('  %s: %d addresses (%d IPv4, %d IPv6), %d address:port pairs, %d file(s)' % (
                day, len(d['ips']), n4, len(d['ips']) - n4, len(d['pairs']), d['files']), file=sys.stderr)
        # every day from the first to the last snapshot, the others without a snapshot
        first, last = min(self.days), max(self.days)
        self.assertEqual(min(cov), first)
        self.assertEqual(max(cov), last)
        self.assertTrue(all(r[2:] == ['0', '0', '0', '0', '0', '-', '-'] for d, r in cov.items() if d not in self.days))

    def test_intervals(self):
        ip_rows = table(os.path.join(self.out, 'relay-history-ip.tsv.gz'))
        op_rows = table(os.path.join(self.out, 'relay-history-orport.tsv.gz'))
        # the days are years apart: one one-day interval per address (pair) and day
        self.assertEqual(len(ip_rows), sum(len(d['ips']) for d in self.days.values()))
        self.assertEqual(len(op_rows), sum(len(d['pairs']) for d in self.days.values()))
        ip_set, op_set = set(map(tuple, ip_rows)), set(map(tuple, op_rows))
        for day, d in sorted(self.days.items()):
            ips, pairs = sorted(d['ips']), sorted(d['pairs'])
            for ip in (ips[0], ips[len(ips) // 3], ips[-1]):
                self.assertIn((ip, day, day, SRC), ip_set)
            for ip, port in (pairs[0], pairs[len(pairs) // 2], pairs[-1]):
                self.assertIn((ip, str(port), day, day, SRC), op_set)
        # an address seen on two of the days has two separate intervals
        both = sorted(set.intersection(*(d['ips'] for d in self.days.values())))
        self.assertTrue(both)
        self.assertEqual(sorted(r[1:3] for r in ip_rows if r[0] == both[0]), [[d, d] for d in sorted(self.days)])

    def test_sorted_as_readme(self):
        for name, header in (('relay-history-ip.tsv.gz', '#ip\tfirst_day\tlast_day\tsource'),
                             ('relay-history-orport.tsv.gz', '#ip\tport\tfirst_day\tlast_day\tsource')):
            text = read(os.path.join(self.out, name))
            self.assertEqual(text.split('\n', 1)[0], header)
            rows = table(os.path.join(self.out, name))
            key = lambda r: (ipaddress.ip_address(r[0]).version, int(ipaddress.ip_address(r[0]))) + tuple(
                (int(x) if x.isdigit() else x) for x in r[1:-1])
            self.assertEqual(rows, sorted(rows, key=key))
            for r in rows:  # canonical addresses
                self.assertEqual(r[0], ipaddress.ip_address(r[0]).compressed)

    @unittest.skipUnless(os.path.exists(BUILD_INTERVALS), 'no build_intervals.py in ../shared')
    def test_same_as_build_intervals(self):
        bi = build_intervals_oracle(self.days, tempfile.mkdtemp(dir=self.tmp))
        for name in FILES:
            with open(os.path.join(bi, name[:-3])) as f:
                self.assertEqual(read(os.path.join(self.out, name)), f.read(), name)


class Synthetic(unittest.TestCase):
    """(b) the interval rule on made-up days, and incremental runs."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def write(self, name, valid_after, relays):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            f.write(consensus(valid_after, relays))
        return path

    def rows(self, out, name):
        return table(os.path.join(out, name))

    def test_gap_closes_and_incremental_run_extends(self):
        A = ('192.0.2.1', 9001, ['[2001:DB8:0:0::1]:9001'])  # upper case, not compressed
        B = ('192.0.2.2', 443, [])
        C = ('198.51.100.3', 9001, [])
        D = ('192.0.2.4', 9002, ['192.0.2.44:9003'])
        # day 1: two hourly consensuses, D only in the second (the union keeps it)
        f1 = [self.write('d1a', '2020-01-01 00:00:00', [A, B, C]),
              self.write('d1b', '2020-01-01 13:00:00', [A, B, C, D])]
        # day 7: six days later (more than 4): every interval was closed
        f2 = [self.write('d7', '2020-01-07 05:00:00', [A, B, C, D])]
        out = os.path.join(self.tmp, 'out')
        run('--consensus-files', out, *(f1 + f2))
        ips = self.rows(out, 'relay-history-ip.tsv.gz')
        a_rows = [r[1:3] for r in ips if r[0] == '192.0.2.1']
        self.assertEqual(a_rows, [['2020-01-01', '2020-01-01'], ['2020-01-07', '2020-01-07']])
        self.assertIn(['2001:db8::1', '2020-01-01', '2020-01-01', SRC], ips)
        self.assertIn(['192.0.2.4', '2020-01-01', '2020-01-01', SRC], ips)
        self.assertIn(['192.0.2.44', '9003', '2020-01-07', '2020-01-07', SRC], self.rows(out, 'relay-history-orport.tsv.gz'))
        cov = self.rows(out, 'coverage.tsv.gz')
        self.assertEqual([r[1] for r in cov], ['2020-01-0%d' % i for i in range(1, 8)])
        self.assertEqual(cov[0], [SRC, '2020-01-01', '1', '6', '5', '1', '6', '2', '2020-01-01T00:00:00Z'])
        self.assertEqual([r[2] for r in cov], ['1', '0', '0', '0', '0', '0', '1'])

        # second run: day 9 (two days later, within the gap) extends the open intervals; C is
        # absent, so its interval ends on day 7; B moved to another ORPort.
        B2 = ('192.0.2.2', 444, [])
        f3 = [self.write('d9', '2020-01-09 00:00:00', [A, B2, D])]
        run('--consensus-files', out, *f3)
        ips = self.rows(out, 'relay-history-ip.tsv.gz')
        ops = self.rows(out, 'relay-history-orport.tsv.gz')
        self.assertEqual([r[1:3] for r in ips if r[0] == '192.0.2.1'],
                         [['2020-01-01', '2020-01-01'], ['2020-01-07', '2020-01-09']])
        self.assertEqual([r[1:3] for r in ips if r[0] == '2001:db8::1'],
                         [['2020-01-01', '2020-01-01'], ['2020-01-07', '2020-01-09']])
        self.assertEqual([r[1:3] for r in ips if r[0] == '198.51.100.3'],
                         [['2020-01-01', '2020-01-01'], ['2020-01-07', '2020-01-07']])
        self.assertEqual([r[1:4] for r in ops if r[0] == '192.0.2.2'],
                         [['443', '2020-01-01', '2020-01-01'], ['443', '2020-01-07', '2020-01-07'],
                          ['444', '2020-01-09', '2020-01-09']])
        self.assertEqual([r[1] for r in self.rows(out, 'coverage.tsv.gz')][-2:], ['2020-01-08', '2020-01-09'])

        # third run: C comes back on day 10: a new interval, not the closed one reopened
        f4 = [self.write('d10', '2020-01-10 00:00:00', [A, B2, C, D])]
        run('--consensus-files', out, *f4)
        ips = self.rows(out, 'relay-history-ip.tsv.gz')
        self.assertEqual([r[1:3] for r in ips if r[0] == '198.51.100.3'],
                         [['2020-01-01', '2020-01-01'], ['2020-01-07', '2020-01-07'], ['2020-01-10', '2020-01-10']])
        self.assertEqual([r[1:3] for r in ips if r[0] == '192.0.2.1'][-1], ['2020-01-07', '2020-01-10'])

        # the three runs give the same files as one run over every file
        once = os.path.join(self.tmp, 'once')
        run('--consensus-files', once, *(f1 + f2 + f3 + f4))
        for name in FILES:
            self.assertEqual(read(os.path.join(out, name)), read(os.path.join(once, name)), name)
        if os.path.exists(BUILD_INTERVALS):  # and the same as the README's script
            bi = build_intervals_oracle(oracle(f1 + f2 + f3 + f4), os.path.join(self.tmp, 'bi'))
            for name in FILES:
                with open(os.path.join(bi, name[:-3])) as f:
                    self.assertEqual(read(os.path.join(out, name)), f.read(), name)

        # a day that is already in the history is refused, and nothing is changed
        before = [read(os.path.join(out, n)) for n in FILES]
        p = run('--consensus-files', out, self.write('d8', '2020-01-08 00:00:00', [A]), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('already in the history', p.stderr)
        self.assertEqual(before, [read(os.path.join(out, n)) for n in FILES])

    def test_partial_day_is_skipped(self):
        relays = [('203.0.113.%d' % i, 9001, []) for i in range(1, 11)]
        files = [self.write('p%d' % d, '2021-03-%02d 00:00:00' % d, relays) for d in (1, 2, 4, 5)]
        files.append(self.write('p3', '2021-03-03 00:00:00', relays[:3]))  # truncated: 3 of 10
        out = os.path.join(self.tmp, 'out')
        run('--consensus-files', out, *files)
        cov = self.rows(out, 'coverage.tsv.gz')
        self.assertEqual([r[2] for r in cov], ['1', '1', '-1', '1', '1'])
        self.assertEqual(cov[2][7:], ['rejected-partial', '-'])
        # it neither breaks the intervals nor counts as a snapshot
        self.assertIn(['203.0.113.9', '2021-03-01', '2021-03-05', SRC], self.rows(out, 'relay-history-ip.tsv.gz'))


class FromShared(unittest.TestCase):
    """(c) --from-shared copies the three files unchanged."""

    def check_copy(self, src):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, 'sources', 'history')
            run('--from-shared', src, out)
            self.assertEqual(sorted(os.listdir(out)), sorted(FILES))
            for name in FILES:
                with open(os.path.join(src, name), 'rb') as a, open(os.path.join(out, name), 'rb') as b:
                    self.assertEqual(a.read(), b.read(), name)

    def test_synthetic(self):
        with tempfile.TemporaryDirectory() as src:
            for i, name in enumerate(FILES):
                with gzip.open(os.path.join(src, name), 'wt') as f:
                    f.write('#header %d\nline\n' % i)
            self.check_copy(src)

    @unittest.skipUnless(os.path.exists(os.path.join(SHARED_HISTORY, 'coverage.tsv.gz')),
                         'no ../shared/relays/history: real copy test skipped')
    def test_real(self):
        self.check_copy(SHARED_HISTORY)


class SettledDays(unittest.TestCase):
    """The CollecTor path's rule for which days may be written (no network needed)."""

    @classmethod
    def setUpClass(cls):
        loader = importlib.machinery.SourceFileLoader('history_collect', SCRIPT)
        spec = importlib.util.spec_from_loader('history_collect', loader)
        cls.hc = importlib.util.module_from_spec(spec)
        loader.exec_module(cls.hc)

    def test_rule(self):
        settled = self.hc.settled_days
        # the archive ends at 05:00 on the 10th and recent starts later: up to the 9th
        self.assertEqual(settled('2024-05-08', '2024-05-20', {'2024-05': '2024-05-10 05:00:00'},
                                 ('2024-05-12 03:00:00', '2024-05-15 02:00:00')), ['2024-05-08', '2024-05-09'])
        # recent fills the rest of the 10th: up to the 14th (the 15th is not over in recent)
        self.assertEqual(settled('2024-05-08', '2024-05-20', {'2024-05': '2024-05-10 05:00:00'},
                                 ('2024-05-10 06:00:00', '2024-05-15 02:00:00'))[-1], '2024-05-14')
        # a final month (its end as newest hour) counts whole, even across the month's end
        self.assertEqual(len(settled('2024-04-01', '2024-05-02', {'2024-04': '2024-04-30 23:00:00'}, None)), 30)
        self.assertEqual(settled('2024-05-01', '2024-05-02', {}, None), [])


class CollectorOffline(unittest.TestCase):
    """The --collector path against a local HTTP server laid out like CollecTor (archive
    tarballs streamed as r|xz, the recent folder's listing), with a fixed 'today'."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.www = os.path.join(self.tmp, 'www')
        os.makedirs(os.path.join(self.www, 'archive'))
        os.makedirs(os.path.join(self.www, 'recent'))
        handler = functools.partial(Quiet, directory=self.www)
        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        base = 'http://127.0.0.1:%d/' % self.server.server_address[1]
        loader = importlib.machinery.SourceFileLoader('history_collect', SCRIPT)
        spec = importlib.util.spec_from_loader('history_collect', loader)
        self.hc = importlib.util.module_from_spec(spec)
        loader.exec_module(self.hc)
        self.hc.ARCHIVE_URL = base + 'archive/consensuses-%s.tar.xz'
        self.hc.RECENT_URL = base + 'recent/'
        # straight to the local server, whatever proxy the environment names
        urllib.request.install_opener(urllib.request.build_opener(urllib.request.ProxyHandler({})))
        self.state = os.path.join(self.tmp, 'state')

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.tmp)

    A = ('192.0.2.1', 9001, ['[2001:db8::1]:9001'])
    B = ('192.0.2.2', 443, [])

    def hours(self, first, last):
        """Every hour from first to last ('YYYY-MM-DD HH'), as valid-after strings."""
        t = datetime.datetime.strptime(first, '%Y-%m-%d %H')
        while t <= datetime.datetime.strptime(last, '%Y-%m-%d %H'):
            yield t.strftime('%Y-%m-%d %H:%M:%S')
            t += datetime.timedelta(hours=1)

    def relays(self, va):
        # B is a relay only from 12:00 to 12:59 on 2024-04-10 (one consensus of that day)
        return [self.A, self.B] if va == '2024-04-10 12:00:00' else [self.A]

    def archive(self, month, last, skip=()):
        path = os.path.join(self.www, 'archive', 'consensuses-%s.tar.xz' % month)
        with tarfile.open(path, 'w:xz') as tar:
            for va in self.hours(month + '-01 00', last):
                if va in skip:
                    continue
                name = va.replace(' ', '-').replace(':', '-') + '-consensus'
                data = consensus(va, self.relays(va)).encode()
                info = tarfile.TarInfo('consensuses-%s/%s/%s' % (month, va[8:10], name))
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))

    def recent(self, first, last):
        recent = os.path.join(self.www, 'recent')
        for f in os.listdir(recent):
            os.remove(os.path.join(recent, f))
        names = []
        for va in self.hours(first, last):
            names.append(va.replace(' ', '-').replace(':', '-') + '-consensus')
            with open(os.path.join(recent, names[-1]), 'w') as f:
                f.write(consensus(va, self.relays(va)))
        with open(os.path.join(recent, 'index.html'), 'w') as f:
            f.write(''.join('<a href="%s">%s</a>\n' % (n, n) for n in names))

    def collect(self, today, *args):
        self.hc.utc_today = lambda: datetime.date.fromisoformat(today)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = self.hc.collector(self.state, *args)
        return rc, err.getvalue()

    def test_runs(self):
        # 2024-03 and 04 are final on 2024-05-20; 05 is not, its archive ends on the 15th at
        # 05:00 and recent starts on the 17th: the days up to the 14th are complete.
        self.archive('2024-03', '2024-03-31 23', skip={'2024-03-31 23:00:00'})  # a missing last hour
        self.archive('2024-04', '2024-04-30 23', skip={'2024-04-20 %02d:00:00' % h for h in range(24)})
        self.archive('2024-05', '2024-05-15 05')
        self.recent('2024-05-17 03', '2024-05-20 02')
        rc, err = self.collect('2024-05-20', '2024-03', 2)  # two months per run
        self.assertEqual(rc, 0, err)
        cov = table(os.path.join(self.state, 'coverage.tsv.gz'))
        self.assertEqual((cov[0][1], cov[-1][1], len(cov)), ('2024-03-01', '2024-04-30', 61))
        self.assertEqual(cov[30][7:], ['23', '2024-03-31T00:00:00Z'])  # 23 consensuses that day
        self.assertEqual(cov[-11][1:3], ['2024-04-20', '0'])            # no consensus at all
        ips = table(os.path.join(self.state, 'relay-history-ip.tsv.gz'))
        self.assertIn(['192.0.2.2', '2024-04-10', '2024-04-10', SRC], ips)
        self.assertIn(['192.0.2.1', '2024-03-01', '2024-04-30', SRC], ips)  # a 1-day hole is no gap

        rc, err = self.collect('2024-05-20', None, 3)
        self.assertEqual(rc, 0, err)
        cov = table(os.path.join(self.state, 'coverage.tsv.gz'))
        self.assertEqual(cov[-1][1], '2024-05-14')
        # two days later the month's archive reaches the 19th: the rest comes from recent
        self.archive('2024-05', '2024-05-19 10')
        self.recent('2024-05-19 03', '2024-05-22 02')
        rc, err = self.collect('2024-05-22', None, 3)
        self.assertEqual(rc, 0, err)
        cov = table(os.path.join(self.state, 'coverage.tsv.gz'))
        self.assertEqual([r[1] for r in cov], sorted(set(r[1] for r in cov)))  # no day twice
        self.assertEqual((cov[-1][1], len(cov), cov[-1][7]), ('2024-05-21', 82, '24'))
        ips = table(os.path.join(self.state, 'relay-history-ip.tsv.gz'))
        self.assertEqual([r for r in ips if r[0] == '192.0.2.1'], [['192.0.2.1', '2024-03-01', '2024-05-21', SRC]])
        self.assertEqual(self.collect('2024-05-22', None, 3)[0], 0)  # up to date: nothing to do
        self.assertEqual(len(table(os.path.join(self.state, 'coverage.tsv.gz'))), 82)
        # the next day everything needed is in recent: the (here broken) archive is not read
        with open(os.path.join(self.www, 'archive', 'consensuses-2024-05.tar.xz'), 'wb') as f:
            f.write(b'not an archive')
        self.recent('2024-05-20 03', '2024-05-23 02')
        rc, err = self.collect('2024-05-23', None, 3)
        self.assertEqual(rc, 0, err)
        self.assertNotIn('reading', err)
        cov = table(os.path.join(self.state, 'coverage.tsv.gz'))
        self.assertEqual((cov[-1][1], len(cov)), ('2024-05-22', 83))
        # a broken archive is an error (exit 1), and the days before it stay as they were
        self.recent('2024-05-29 03', '2024-06-01 02')
        rc, err = self.collect('2024-06-01', None, 3)
        self.assertEqual(rc, 1)
        self.assertIn('consensuses-2024-05.tar.xz', err)
        self.assertEqual(table(os.path.join(self.state, 'coverage.tsv.gz')), cov)
        ips = table(os.path.join(self.state, 'relay-history-ip.tsv.gz'))
        self.assertEqual([r for r in ips if r[0] == '192.0.2.1'], [['192.0.2.1', '2024-03-01', '2024-05-22', SRC]])

    def test_missing_final_archive_is_an_error(self):
        rc, err = self.collect('2024-05-20', '2024-01', 3)
        self.assertEqual(rc, 1)
        self.assertIn('404', err)
        self.assertFalse(os.path.exists(os.path.join(self.state, 'coverage.tsv.gz')))


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


if __name__ == '__main__':
    unittest.main(verbosity=2)
