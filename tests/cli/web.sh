#!/bin/sh
# detente serve's pages and record, over HTTP with curl (no browser; the
# pages themselves are tested by browser.sh): static file safety ("..",
# percent-encoded or not, hidden files, a symbolic link out of web/, unknown
# extensions, a FIFO, a file too large: all 404), the headers of pages, the
# board's keys, a missing web folder (pages 404, the API still answers),
# GET /api/v1/results (404 before the decryption, 200 verified, 409 for a
# changed tally, 200 again once restored), and GET /api/v1/record.tar (tar
# lists it, its extraction verifies, a name over 100 bytes in the prefix
# field, HEAD, no private_data).
# usage: web.sh DETENTE DATA_DIR WORK_DIR
set -eu
dt=$1
src=$(cd "$2/../.." && pwd)
work=$3
fails=0
pids=
if ! command -v curl >/dev/null 2>&1; then
    echo "SKIPPED: curl is not installed (scripts/deps.sh check installs it)"
    exit 77
fi
rm -rf "$work"
mkdir -p "$work"
trap 'for p in $pids; do kill "$p" 2>/dev/null || true; done' EXIT

ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }

# serve NAME DIR ARGS...: starts detente serve, sets $url
serve() {
    name=$1 dir=$2
    shift 2
    "$dt" serve "$dir" --listen 127.0.0.1:0 --publish-every 0 "$@" 2>"$work/serve-$name.log" &
    pids="$pids $!"
    i=0
    while ! grep -q "on port" "$work/serve-$name.log" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 300 ] || { echo "FAIL: the server $name did not start"; cat "$work/serve-$name.log"; exit 1; }
        sleep 0.1
    done
    url=http://127.0.0.1:$(sed -n 's/.*on port \([0-9]*\).*/\1/p' "$work/serve-$name.log")
}

# status PATH [CURL ARGS...]: the status code of GET PATH, sent as is
status() {
    p=$1
    shift
    curl -s --path-as-is --max-time 10 -o "$work/body" -D "$work/head" -w '%{http_code}' "$@" "$url$p" || echo 000
}
expect() { # NAME WANT PATH [CURL ARGS...]
    name=$1 want=$2
    shift 2
    got=$(status "$@")
    if [ "$got" = "$want" ]; then ok "$name ($1: $got)"; else bad "$name: $1 answered $got, expected $want"; fi
}
header() { # NAME PATTERN: a header line of the last answer
    if grep -qi "^$2" "$work/head"; then ok "$1"; else bad "$1: no '$2' in"; cat "$work/head"; fi
}

"$dt" demo --ballots 4 --guardians 3 --quorum 2 --absent 1 --quiet --out "$work/e" >"$work/demo.out" 2>&1 ||
    { cat "$work/demo.out"; exit 1; }

# a web folder with traps in it
cp -R "$src/web" "$work/web"
echo 'secret' >"$work/outside.js"
echo 'hidden' >"$work/web/assets/.hidden.js"
echo 'secret' >"$work/web/secret.txt"
echo 'not allowed' >"$work/web/assets/tool.exe"
echo '<p>page</p>' >"$work/web/assets/page.html"
ln -s "$work/outside.js" "$work/web/assets/link.js"
ln -s "$work/outside.js" "$work/web/linked.html"
mkfifo "$work/web/assets/fifo.js"
dd if=/dev/zero of="$work/web/assets/big.js" bs=1048576 count=5 2>/dev/null
serve pages "$work/e" --web "$work/web"

for p in / /index.html /board.html /results.html; do
    expect "page" 200 "$p"
done
status / >/dev/null
header "pages are text/html" "Content-Type: text/html; charset=utf-8"
header "Content-Security-Policy without inline script" "Content-Security-Policy: default-src 'self';"
header "X-Content-Type-Options" "X-Content-Type-Options: nosniff"
header "Referrer-Policy" "Referrer-Policy: no-referrer"
header "pages are not cached unchecked" "Cache-Control: no-cache"
grep -qi "<script[^>]*>[^<]" "$work/body" && bad "an inline script in index.html" || ok "no inline script in index.html"
if cmp -s "$work/body" "$src/web/index.html"; then ok "/ is web/index.html"; else bad "/ is not web/index.html"; fi
expect "asset" 200 /assets/verify.js
header "scripts are text/javascript" "Content-Type: text/javascript; charset=utf-8"
expect "asset" 200 /assets/style.css
header "styles are text/css" "Content-Type: text/css"
expect "asset" 200 /assets/icon.svg
header "images are image/svg+xml" "Content-Type: image/svg+xml"
expect "HEAD of a page" 200 /board.html -I

for p in /../etc/passwd /assets/../index.html /assets/../../outside.js /%2e%2e/etc/passwd /assets/%2e%2e/index.html \
    /assets/%2E%2E/%2E%2E/outside.js /assets/..%2foutside.js /assets/%2e%2e%2fsecret.txt /assets/.hidden.js \
    /assets/%2ehidden.js /.hidden.js /secret.txt /assets/tool.exe /assets/page.html /assets/link.js /linked.html \
    /assets/big.js /assets/fifo.js /assets/ /assets /index.html/ /assets//verify.js /assets/verify.js%00.svg \
    /assets/nothere.js /web/index.html /board/private /board/../manifest.json /api/v1/results/x; do
    expect "refused" 404 "$p"
done
grep -q secret "$work/body" && bad "a secret was served" || ok "no secret served"
expect "POST to a page" 405 / -X POST -d x
header "405 says what is allowed" "Allow: GET, HEAD"

# the board's keys
for f in log.vkey witnesses.vkey; do
    expect "board key" 200 "/board/$f"
    if cmp -s "$work/body" "$work/e/board/$f"; then ok "/board/$f is the file"; else bad "/board/$f differs"; fi
    header "/board/$f no-cache" "Cache-Control: no-cache"
done

# results
expect "results" 200 /api/v1/results
grep -q '"verified":true' "$work/body" && ok "results verified" || { bad "results not verified"; cat "$work/body"; }
# every count of tally.json in the answer, by option id
sel=$(grep -c '"selection_id"' "$work/e/tally.json")
n=0
for id in $(sed -n 's/.*"selection_id": "\([^"]*\)".*/\1/p' "$work/e/tally.json"); do
    want=$(grep -A1 "\"selection_id\": \"$id\"" "$work/e/tally.json" | sed -n 's/.*"tally": \([0-9]*\).*/\1/p')
    grep -q "\"id\":\"$id\",\"label\":\"[^\"]*\",\"votes\":$want}" "$work/body" && n=$((n + 1)) ||
        bad "results: $id is not $want"
done
[ "$n" = "$sel" ] && [ "$n" -gt 0 ] && ok "results: the $n counts of tally.json" || bad "results: $n of $sel counts"
cp "$work/e/tally.json" "$work/tally.good"
sed 's/"tally": 0,/"tally": 1,/' "$work/tally.good" >"$work/e/tally.json"
cmp -s "$work/tally.good" "$work/e/tally.json" && sed 's/"tally": 1,/"tally": 2,/' "$work/tally.good" >"$work/e/tally.json"
expect "results of a changed tally" 409 /api/v1/results
grep -q '"verified":false' "$work/body" && grep -q '"status":"fail"' "$work/body" && ok "409 names the failing steps" ||
    { bad "409 body"; cat "$work/body"; }
cp -p "$work/tally.good" "$work/e/tally.json"
touch "$work/e/tally.json"
expect "results once restored" 200 /api/v1/results
mv "$work/e/tally.json" "$work/tally.away"
expect "results without tally.json" 404 /api/v1/results
grep -q "not decrypted" "$work/body" && ok "404 says why" || bad "404 body: $(cat "$work/body")"
mv "$work/tally.away" "$work/e/tally.json"

# the record
expect "record" 200 /api/v1/record.tar
header "record is a tar" "Content-Type: application/x-tar"
header "record is an attachment" "Content-Disposition: attachment"
len=$(sed -n 's/^Content-Length: \([0-9]*\).*/\1/ip' "$work/head" | tr -d '\r')
size=$(wc -c <"$work/body")
[ "$len" = "$size" ] && [ $((size % 512)) = 0 ] && ok "record: $size bytes, as announced, in 512-byte blocks" ||
    bad "record: $size bytes, Content-Length $len"
cp "$work/body" "$work/record.tar"
if tar -tvf "$work/record.tar" >"$work/list"; then ok "tar -tvf lists the record"; else bad "tar -tvf"; fi
grep -q "detente-record/board/checkpoint" "$work/list" && grep -q "detente-record/encrypted_ballots/" "$work/list" &&
    ok "the record and its board are in it" || bad "files missing from the archive"
grep -q private_data "$work/list" && bad "private_data in the archive" || ok "no private_data in the archive"
mkdir "$work/x"
tar -xf "$work/record.tar" -C "$work/x"
(cd "$work/e" && find . -path ./private_data -prune -o -type f ! -name '.*' -print | sort) >"$work/files.e"
(cd "$work/x/detente-record" && find . -type f | sort) >"$work/files.x"
cmp -s "$work/files.e" "$work/files.x" && ok "the archive holds every public file" || bad "the archive's files differ"
if "$dt" verify --quiet --require-board "$work/x/detente-record" >"$work/verify.out" 2>&1; then
    ok "detente verify accepts the extracted record"
else
    bad "detente verify refuses the extracted record"
    tail -20 "$work/verify.out"
fi
expect "HEAD of the record" 200 /api/v1/record.tar -I
# a path over 100 bytes goes in the ustar prefix field
long=extra/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/c.json
mkdir -p "$work/e/$(dirname $long)"
echo '{}' >"$work/e/$long"
status /api/v1/record.tar >/dev/null
tar -tf "$work/body" 2>/dev/null | grep -qx "detente-record/$long" && ok "a name of ${#long} bytes" ||
    bad "the name of ${#long} bytes is not in the archive"
rm -rf "$work/e/extra"

# a web folder that does not exist: pages 404, the API answers
serve none "$work/e" --web "$work/no-such-folder"
expect "no web folder: page" 404 /
grep -q "no web folder\|not found" "$work/body" && ok "404 says why" || bad "404 body: $(cat "$work/body")"
expect "no web folder: results" 200 /api/v1/results
# assets/ a symbolic link out of the web folder
mkdir -p "$work/web2" "$work/elsewhere"
cp "$src/web/index.html" "$work/web2/"
cp "$src/web/assets/verify.js" "$work/elsewhere/"
ln -s "$work/elsewhere" "$work/web2/assets"
serve linked "$work/e" --web "$work/web2"
expect "web/ itself" 200 /
expect "assets/ a symbolic link" 404 /assets/verify.js

for p in $pids; do kill -TERM "$p"; wait "$p" || bad "a server exited with $?"; done
pids=
[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
