#!/usr/bin/env bash
# Restore drill: base backup + WAL archive → point-in-time recovery, timed, on throwaway
# clusters (nothing touches the machine's own cluster except reading one database).
#
#   scripts/restore-drill.sh [SOURCE_URL]     (default postgres://postgres@127.0.0.1:5432/tongban_load,
#                                              e.g. what `bench/load.py --keep` leaves behind)
#
# 1. a "primary": a private PostgreSQL 15 cluster with WAL archiving on (archive_command cp),
#    loaded with a copy of SOURCE_URL (pg_dump -Fc | pg_restore — also timed: the logical backup);
# 2. pg_basebackup of it (timed), a marker row, the recovery target time noted, then an
#    "accident" after it (TRUNCATE store_delivery) and a marker row that must not come back;
# 3. the restore: base backup copied to a new data folder, restore_command from the archive,
#    recovery_target_time, promote; timed from the copy to the first query answered;
# 4. checks: the row counts at the target are back (cases, events, certificates, deliveries),
#    the row written just before the target is there, the one after it is not.
# Run as root (it runs PostgreSQL as the postgres user). Everything is removed on exit.
set -euo pipefail

SOURCE_URL=${1:-postgres://postgres@127.0.0.1:5432/tongban_load}
BIN=/usr/lib/postgresql/15/bin
WORK=$(mktemp -d /tmp/tongban-drill-XXXXXX)
chown postgres:postgres "$WORK"
PRIMARY=$WORK/primary RESTORED=$WORK/restored BASE=$WORK/base ARCHIVE=$WORK/archive
P1=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
P2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg() { runuser -u postgres -- "$@"; }
psql1() { as_pg psql -h "$WORK" -p "$P1" -d drill -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
psql2() { as_pg psql -h "$WORK" -p "$P2" -d drill -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
now() { date +%s.%N; }
took() { python3 -c "print(f'{$2 - $1:.1f}')"; }
cleanup() {
  as_pg "$BIN/pg_ctl" -D "$RESTORED" -m immediate stop >/dev/null 2>&1 || true
  as_pg "$BIN/pg_ctl" -D "$PRIMARY" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

as_pg mkdir -p "$ARCHIVE"
echo "== primary: initdb on port $P1 with WAL archiving to $ARCHIVE"
as_pg "$BIN/initdb" -D "$PRIMARY" -A trust -E UTF8 >/dev/null
cat >>"$PRIMARY/postgresql.conf" <<EOF
port = $P1
listen_addresses = ''
unix_socket_directories = '$WORK'
wal_level = replica
archive_mode = on
archive_command = 'test ! -f $ARCHIVE/%f && cp %p $ARCHIVE/%f'
archive_timeout = 60
EOF
as_pg "$BIN/pg_ctl" -D "$PRIMARY" -l "$WORK/primary.log" -w start >/dev/null
as_pg createdb -h "$WORK" -p "$P1" drill

echo "== logical copy of $SOURCE_URL (pg_dump -Fc, pg_restore)"
t0=$(now)
pg_dump -Fc -f "$WORK/source.dump" "$SOURCE_URL"
t1=$(now)
chown postgres "$WORK/source.dump"
as_pg pg_restore -h "$WORK" -p "$P1" -d drill --no-owner -j 2 "$WORK/source.dump"
t2=$(now)
DUMP_MB=$(du -m "$WORK/source.dump" | cut -f1)
echo "   pg_dump $(took "$t0" "$t1") s (${DUMP_MB} MB), pg_restore -j 2 $(took "$t1" "$t2") s"

echo "== base backup (pg_basebackup, WAL fetched from the archive at restore)"
t0=$(now)
as_pg pg_basebackup -h "$WORK" -p "$P1" -D "$BASE" -c fast -X none
t1=$(now)
BASE_MB=$(du -sm "$BASE" | cut -f1)
echo "   pg_basebackup $(took "$t0" "$t1") s (${BASE_MB} MB)"

psql1 "CREATE TABLE drill_marker (note text, at timestamptz DEFAULT clock_timestamp())"
psql1 "INSERT INTO drill_marker (note) VALUES ('before-target')"
counts="SELECT (SELECT count(*) FROM store_case) || ' ' || (SELECT count(*) FROM store_event)
  || ' ' || (SELECT count(*) FROM store_certificate) || ' ' || (SELECT count(*) FROM store_delivery)"
EXPECTED=$(psql1 "$counts")
sleep 1
TARGET=$(psql1 "SELECT clock_timestamp()")
sleep 1
echo "== the accident after $TARGET: TRUNCATE store_delivery, a row written after the target"
psql1 "INSERT INTO drill_marker (note) VALUES ('after-target')"
psql1 "TRUNCATE store_delivery"
psql1 "SELECT pg_switch_wal()" >/dev/null
for _ in $(seq 1 50); do  # until the segment holding the accident is archived
  [ "$(psql1 "SELECT last_archived_wal >= pg_walfile_name(pg_current_wal_lsn()) FROM pg_stat_archiver" 2>/dev/null)" = t ] && break
  psql1 "SELECT pg_switch_wal()" >/dev/null; sleep 0.2
done
as_pg "$BIN/pg_ctl" -D "$PRIMARY" -m fast -w stop >/dev/null  # the primary is "lost"

echo "== restore: copy the base backup, replay the archive to $TARGET, promote (port $P2)"
t0=$(now)
as_pg cp -a "$BASE" "$RESTORED"
cat >>"$RESTORED/postgresql.conf" <<EOF
port = $P2
archive_mode = off
restore_command = 'cp $ARCHIVE/%f %p'
recovery_target_time = '$TARGET'
recovery_target_action = 'promote'
EOF
as_pg touch "$RESTORED/recovery.signal"
as_pg "$BIN/pg_ctl" -D "$RESTORED" -l "$WORK/restored.log" -w -t 300 start >/dev/null
until [ "$(psql2 "SELECT NOT pg_is_in_recovery()" 2>/dev/null)" = t ]; do sleep 0.1; done
GOT=$(psql2 "$counts")
t1=$(now)
echo "   restore to a queryable, promoted server: $(took "$t0" "$t1") s"
MARKERS=$(psql2 "SELECT string_agg(note, ',' ORDER BY at) FROM drill_marker")
WAL_FILES=$(find "$ARCHIVE" -type f | wc -l)
echo "   cases events certificates deliveries: expected $EXPECTED, restored $GOT"
echo "   markers restored: $MARKERS   (WAL segments archived: $WAL_FILES)"
if [ "$GOT" = "$EXPECTED" ] && [ "$MARKERS" = "before-target" ]; then
  echo "DRILL PASSED"
else
  echo "DRILL FAILED"; tail -20 "$WORK/restored.log"; exit 1
fi
