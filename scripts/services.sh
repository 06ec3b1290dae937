#!/usr/bin/env bash
# Check that Redis and PostgreSQL respond for the tests, and start a local server that is down.
#
# Usage: scripts/services.sh redis|postgres|all
#
# Environment:
#   REDIS_URL      Redis to check (default redis://127.0.0.1:6379/0)
#   DATABASE_URL   PostgreSQL to check (default postgres://postgres@127.0.0.1:5432/test)
#   CI             when "true", a service that does not respond is an error on stderr
#
# Prints one status line per service. Exits 0 when every requested service responds, 2 on a
# usage error and 1 otherwise, so a caller outside CI can skip what needs the service. A server
# is started only when the URL's host is local and the server binary is installed. The script
# never stops or kills a process.
set -euo pipefail

PROJECT_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
# Seconds to wait for a server that this script started to respond.
WAIT_SECONDS=15

usage() {
    echo "Usage: $0 redis|postgres|all" >&2
    exit 2
}

# Print the scheme, host, port, user name and password of a URL, one per line, with
# percent-escapes decoded. An empty line stands for a part the URL does not contain.
# On an invalid URL, print the reason and return 1.
parse_url() {
    python3 - "$1" <<'PY'
import sys
from urllib.parse import unquote, urlsplit

try:
    parts = urlsplit(sys.argv[1])
    port = parts.port
except ValueError as error:
    # The URL itself is not printed because it may contain a password.
    print(error)
    sys.exit(1)
print(parts.scheme)
print(parts.hostname or "")
print(port or "")
print(unquote(parts.username or ""))
print(unquote(parts.password or ""))
PY
}

is_local_host() {
    case "$1" in
        127.0.0.1 | localhost | ::1) return 0 ;;
        *) return 1 ;;
    esac
}

# Report a service that does not respond, loudly under CI, and return 1.
report_unavailable() {
    local service="$1" message="$2"
    echo "$service: $message"
    if [ "${CI:-}" = true ]; then
        echo "services.sh: ERROR: $service is required when CI=true, and it does not respond." >&2
    fi
    return 1
}

# Call a check function until it succeeds or WAIT_SECONDS pass.
wait_for() {
    local check="$1"
    local deadline=$((SECONDS + WAIT_SECONDS))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if "$check"; then
            return 0
        fi
        sleep 0.5
    done
    "$check"
}

# --- Redis -----------------------------------------------------------------------------

redis_responds() {
    if command -v redis-cli >/dev/null 2>&1; then
        local cli=(timeout 5 redis-cli -h "$redis_host" -p "$redis_port")
        if [ "$redis_scheme" = rediss ]; then
            cli+=(--tls)
        fi
        if [ -n "$redis_user" ]; then
            cli+=(--user "$redis_user")
        fi
        # REDISCLI_AUTH keeps the password off the process list.
        local reply
        if [ -n "$redis_password" ]; then
            reply="$(REDISCLI_AUTH="$redis_password" "${cli[@]}" ping 2>/dev/null || true)"
        else
            reply="$("${cli[@]}" ping 2>/dev/null || true)"
        fi
        [ "$reply" = PONG ]
        return
    fi

    # Without redis-cli, speak just enough RESP to send AUTH (if needed) and PING.
    REDIS_USER="$redis_user" REDIS_PASSWORD="$redis_password" \
        python3 - "$redis_host" "$redis_port" <<'PY'
import os
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
user, password = os.environ["REDIS_USER"], os.environ["REDIS_PASSWORD"]


def encode(*words):
    parts = [f"*{len(words)}\r\n".encode()]
    for word in words:
        data = word.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


commands = []
if password:
    commands.append(encode("AUTH", user, password) if user else encode("AUTH", password))
commands.append(encode("PING"))
request = b"".join(commands)

try:
    with socket.create_connection((host, port), timeout=3) as connection:
        connection.sendall(request)
        reply = b""
        while reply.count(b"\r\n") < len(commands):
            chunk = connection.recv(4096)
            if not chunk:
                break
            reply += chunk
except OSError:
    sys.exit(1)
sys.exit(0 if reply.endswith(b"+PONG\r\n") else 1)
PY
}

# Start redis-server on the URL's port without persistence, as the test suite needs no data
# kept. Root uses the Debian package's folders, as the machine's own start command does.
start_redis() {
    local data_dir log_file
    if [ "$(id -u)" = 0 ] && [ -d /var/lib/redis ] && [ -d /var/log/redis ]; then
        data_dir=/var/lib/redis
        log_file=/var/log/redis/ci.log
    else
        data_dir="$PROJECT_ROOT/.services/redis"
        log_file="$data_dir/redis.log"
        mkdir -p "$data_dir"
    fi
    redis_log_file="$log_file"

    # NOTE: the server starts without a password, so a REDIS_URL with credentials
    # still fails the check after the start.
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$redis_port" \
        --save "" --appendonly no --dir "$data_dir" --logfile "$log_file"
}

ensure_redis() {
    local fields
    if ! fields="$(parse_url "$REDIS_URL")"; then
        report_unavailable redis "invalid REDIS_URL: $fields"
        return
    fi
    mapfile -t fields <<<"$fields"
    redis_scheme="${fields[0]:-}"
    redis_host="${fields[1]:-127.0.0.1}"
    redis_port="${fields[2]:-6379}"
    redis_user="${fields[3]:-}"
    redis_password="${fields[4]:-}"
    local address="$redis_host:$redis_port"

    case "$redis_scheme" in
        redis | rediss) ;;
        *)
            report_unavailable redis "invalid REDIS_URL scheme '$redis_scheme': expected redis:// or rediss://"
            return
            ;;
    esac

    if redis_responds; then
        echo "redis: already running at $address"
        return 0
    fi
    if ! is_local_host "$redis_host"; then
        report_unavailable redis "no response at $address, and servers are started only for 127.0.0.1 or localhost"
        return
    fi
    if ! command -v redis-server >/dev/null 2>&1; then
        report_unavailable redis "not installed (redis-server is not on PATH) and nothing responds at $address"
        return
    fi

    redis_log_file=""
    local start_status=0
    start_redis || start_status=$?
    if [ "$start_status" -eq 0 ] && wait_for redis_responds; then
        echo "redis: started at $address (log: $redis_log_file)"
        return 0
    fi
    if [ "$start_status" -ne 0 ]; then
        report_unavailable redis "failed to start: redis-server exited with status $start_status (log: $redis_log_file)" || true
    else
        report_unavailable redis "failed to start: no response at $address within ${WAIT_SECONDS} s (log: $redis_log_file)" || true
    fi
    if [ -r "$redis_log_file" ]; then
        tail -n 5 "$redis_log_file" | sed 's/^/    /'
    fi
    return 1
}

# --- PostgreSQL ------------------------------------------------------------------------

postgres_responds() {
    if command -v pg_isready >/dev/null 2>&1; then
        local args=(-q -t 5 -p "$postgres_port")
        # An empty host means the default Unix socket, as it does for libpq.
        if [ -n "$postgres_host" ]; then
            args+=(-h "$postgres_host")
        fi
        pg_isready "${args[@]}"
        return
    fi

    # Without pg_isready, a TCP connection is the best check available.
    python3 - "${postgres_host:-127.0.0.1}" "$postgres_port" <<'PY'
import socket
import sys

try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()
except OSError:
    sys.exit(1)
PY
}

# Print the newest PostgreSQL version that has a cluster named "main", or nothing.
find_postgres_cluster_version() {
    local version
    if [ -d /etc/postgresql ]; then
        for version in $(ls /etc/postgresql | sort -V -r); do
            if [ -d "/etc/postgresql/$version/main" ]; then
                echo "$version"
                return
            fi
        done
    fi
}

ensure_postgres() {
    local fields
    if ! fields="$(parse_url "$DATABASE_URL")"; then
        report_unavailable postgres "invalid DATABASE_URL: $fields"
        return
    fi
    mapfile -t fields <<<"$fields"
    local scheme="${fields[0]:-}"
    postgres_host="${fields[1]:-}"
    postgres_port="${fields[2]:-5432}"
    local address="${postgres_host:-local socket}:$postgres_port"

    case "$scheme" in
        postgres | postgresql) ;;
        *)
            report_unavailable postgres "invalid DATABASE_URL scheme '$scheme': expected postgres:// or postgresql://"
            return
            ;;
    esac

    if postgres_responds; then
        echo "postgres: already running at $address"
        return 0
    fi
    if [ -n "$postgres_host" ] && ! is_local_host "$postgres_host"; then
        report_unavailable postgres "no response at $address, and servers are started only for 127.0.0.1 or localhost"
        return
    fi

    local version
    version="$(find_postgres_cluster_version)"
    if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$version" ]; then
        report_unavailable postgres "not installed (no pg_ctlcluster or no cluster under /etc/postgresql) and nothing responds at $address"
        return
    fi

    local start_output start_status=0
    start_output="$(pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>&1)" || start_status=$?
    if [ "$start_status" -eq 0 ] && wait_for postgres_responds; then
        echo "postgres: started cluster $version/main at $address"
        return 0
    fi
    if [ "$start_status" -ne 0 ]; then
        report_unavailable postgres "failed to start cluster $version/main: pg_ctlcluster exited with status $start_status" || true
    else
        report_unavailable postgres "failed to start cluster $version/main: no response at $address within ${WAIT_SECONDS} s" || true
    fi
    if [ -n "$start_output" ]; then
        printf '%s\n' "$start_output" | tail -n 5 | sed 's/^/    /'
    fi
    return 1
}

# --- Main ------------------------------------------------------------------------------

if [ "$#" -ne 1 ]; then
    usage
fi

status=0
case "$1" in
    redis) ensure_redis || status=$? ;;
    postgres) ensure_postgres || status=$? ;;
    all)
        ensure_redis || status=$?
        ensure_postgres || status=$?
        ;;
    *) usage ;;
esac
exit "$status"
