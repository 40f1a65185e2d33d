#!/bin/sh
# detente witness: init, add-log, show, cosign from a file and from standard
# input (each refusal with its status), then a real server on 127.0.0.1
# answering detente witness push (200, 409 with the witness's size, 404,
# 413) until SIGTERM, after which it exits 0.
# The requests below are fixed (deterministic keys, leaves and Ed25519
# signatures): tests/test_witness.c builds them and checks that they are
# exactly these (DT_WITNESS_FIXTURES=1 test_witness prints them).
# usage: witness.sh DETENTE DATA_DIR WORK_DIR
set -eu
dt=$1
work=$3
fails=0
pid=
rm -rf "$work"
mkdir -p "$work"
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null || true' EXIT

ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }
# expect NAME STATUS PATTERN(stderr) ARGS...: runs detente witness ARGS
# (standard input from $stdin if set), checks the exit status and stderr
expect() {
    name=$1 want=$2 pat=$3
    shift 3
    if "$dt" witness "$@" <"${stdin:-/dev/null}" >"$work/out" 2>"$work/err"; then got=0; else got=$?; fi
    if [ "$got" != "$want" ]; then bad "$name: exit $got, expected $want"; cat "$work/err"; return 0; fi
    if [ -n "$pat" ] && ! grep -q -- "$pat" "$work/err"; then bad "$name: no '$pat' in stderr"; cat "$work/err"; return 0; fi
    ok "$name"
}
# out_is NAME TEXT: standard output of the last command is TEXT
out_is() { [ "$(cat "$work/out")" = "$2" ] && ok "$1" || { bad "$1: output '$(cat "$work/out")'"; }; }
# out_cosig NAME: standard output is one cosignature line of the witness
out_cosig() {
    [ "$(wc -l <"$work/out")" = 1 ] && grep -q '^— witness.example/w1 [A-Za-z0-9+/]*=*$' "$work/out" &&
        ok "$1" || bad "$1: not a cosignature line: $(cat "$work/out")"
}

logkey='example.org/cli-log+83bec02e+ASFS+NGbeR0kRTJC4V8uq2y3z/p7al7TAJeWDgaYgdsS'
otherkey='example.org/cli-log+6e5fcc88+AddZeTu8E6KBmoJ8dq22+6ikmu4Af0ny0JktmbglrSxI'
cat >"$work/first" <<'EOF'
old 0

example.org/cli-log
3
lPvQ3YNvUDAWkubQ6t5yjuGexSv/8WBu2AfIV11aqhk=

— example.org/cli-log g77ALmRscg8TfEepdR24ZiRmcaqncVtU8P4aYw/4ZBTNnQXoKEoAGEfHbRHj/nDsZrMIR83HjkQfTpYEmaRBfc7QPgE=
EOF
cat >"$work/grow" <<'EOF'
old 3
V8efTzGuApxdS9MLBzwnyU35NDiytGl+Hh7vW8A5SkE=
YcoROfaBWEHVuvLQ0tm9nf7pfImN1ve6DAqpQe5sAes=
WkdmL9ijF9lgSaP59HxV3GfKZgUbqjaD27GbL+CaB7A=
lK+4osoFHAVFjqOdzRmxvWjn4zUp8QtDnSphWlH2NuI=

example.org/cli-log
7
mMl/C6MXXNCLAx3QhLncTmSbZNGijm6mlGRlAxc6tYc=

— example.org/cli-log g77ALkHU8vLpFQIfDMfGWm73wJPkzmM0RE1FUvB0zvXpAw3dpAxfSCFQcmQAkKOeo07I0h/g3pRJSN89YfhTEH4AeAc=
EOF
cat >"$work/again" <<'EOF'
old 7

example.org/cli-log
7
mMl/C6MXXNCLAx3QhLncTmSbZNGijm6mlGRlAxc6tYc=

— example.org/cli-log g77ALkHU8vLpFQIfDMfGWm73wJPkzmM0RE1FUvB0zvXpAw3dpAxfSCFQcmQAkKOeo07I0h/g3pRJSN89YfhTEH4AeAc=
EOF
cat >"$work/grow2" <<'EOF'
old 7
vhV4G2KKKEFMHIoRuG24Qi+hBBIV/g18RJbSPNoeQUI=
Rn73BqsCMMU7SGYrU3boFVbdCx4Ss2dBA/9z7i4Fh/Q=
3QN52DrH8WTn7qMM3O+1dQglTEj3Zq/M09l2Nl4yjMw=
l5nzB1F+9RfCIF35tndivzR1ayAJn7ffzOdrzr0nOy4=
lJEOQnicGWJFCQhFH/mxwFCn1s3n1NLU6X8vdQlpS58=

example.org/cli-log
9
JA2btqVfDLN1tdAIJR5xRUWLexrchGOrj+92/RT3X2s=

— example.org/cli-log g77ALsPPl/ma9Q5HK/rZgxlKTfDaBJbWpNW+M1iXo7GLnluANOoIZlKpCu77dhfjlEKPUWVCq77WHsi5gN3DccxhzQ8=
EOF
cat >"$work/badproof" <<'EOF'
old 7
vxV4G2KKKEFMHIoRuG24Qi+hBBIV/g18RJbSPNoeQUI=
Rn73BqsCMMU7SGYrU3boFVbdCx4Ss2dBA/9z7i4Fh/Q=
3QN52DrH8WTn7qMM3O+1dQglTEj3Zq/M09l2Nl4yjMw=
l5nzB1F+9RfCIF35tndivzR1ayAJn7ffzOdrzr0nOy4=
lJEOQnicGWJFCQhFH/mxwFCn1s3n1NLU6X8vdQlpS58=

example.org/cli-log
9
JA2btqVfDLN1tdAIJR5xRUWLexrchGOrj+92/RT3X2s=

— example.org/cli-log g77ALsPPl/ma9Q5HK/rZgxlKTfDaBJbWpNW+M1iXo7GLnluANOoIZlKpCu77dhfjlEKPUWVCq77WHsi5gN3DccxhzQ8=
EOF
cat >"$work/split" <<'EOF'
old 7

example.org/cli-log
7
vlHa/tw+pLyPfqrIOphoxxbIvfcwiOFRkHMIgArNQOY=

— example.org/cli-log g77ALggn6Qs2Bm6BbZ7J6syeJryQBE+vx9FOaMnG3IyDkOFzERGrokgQOeFKlRy1BxdC3kHbaBpgBTjU9nY0o7SIWgA=
EOF
cat >"$work/unknown" <<'EOF'
old 0

example.org/unknown
2
WkdmL9ijF9lgSaP59HxV3GfKZgUbqjaD27GbL+CaB7A=

— example.org/unknown 5ED88iSi4ADh9LvRwq6lQlTP+ISLRvPDnDbTfAbRKG9ZOcN/fBmCq3ZcYenUS5G8dd6Il+fgN437Uv6Flm0m9asw/gE=
EOF
w=$work/w1

# ---- init ----
expect "init" 0 "" init "$w" --name witness.example/w1
vkey=$(cat "$work/out")
[ "$vkey" = "$(cat "$w/witness.vkey")" ] && ok "init prints witness.vkey" || bad "init output is not witness.vkey"
case "$vkey" in witness.example/w1+????????+*) ok "the verifier key is named" ;; *) bad "vkey '$vkey'" ;; esac
[ "$(stat -c %a "$w/witness.key")" = 600 ] && ok "witness.key is 0600" || bad "witness.key mode"
expect "init on a folder that is not empty" 2 "not an empty folder" init "$w" --name other
expect "init with a bad name" 2 "no space or '+'" init "$work/w2" --name "a+b"
[ ! -e "$work/w2" ] && ok "nothing left by a refused init" || bad "init left $work/w2"
expect "init without --name" 2 "needs DIR and --name" init "$work/w3"
expect "init --name without a value" 2 "needs a value" init "$work/w3" --name
expect "not a witness folder" 2 "not a witness folder" show "$work"

# ---- add-log ----
expect "add-log a key" 0 "" add-log "$w" "$logkey"
printf '%s\n' "$logkey" >"$work/log.vkey"
expect "add-log the same key from a file" 0 "" add-log "$w" "$work/log.vkey"
[ "$(cat "$w/logs")" = "$logkey" ] && ok "logs holds the key once" || bad "logs: $(cat "$w/logs")"
expect "add-log another key for the origin" 2 "already known with another key" add-log "$w" "$otherkey"
expect "add-log a cosigner key" 2 "not a log's checkpoint key" add-log "$w" "$vkey"
expect "add-log garbage" 2 "neither a verifier key" add-log "$w" "nonsense"
expect "show before" 0 "" show "$w"
grep -q "example.org/cli-log  nothing cosigned yet" "$work/out" && grep -q "^vkey  $vkey\$" "$work/out" &&
    ok "show: the log, nothing cosigned" || { bad "show before"; cat "$work/out"; }

# ---- cosign ----
stdin=$work/first expect "cosign the first checkpoint (stdin)" 0 "" cosign "$w"
out_cosig "cosign prints the cosignature"
expect "cosign 3 -> 7 (file)" 0 "" cosign "$w" "$work/grow"
out_cosig "cosign from a file prints the cosignature"
expect "cosign 7 -> 7 again: idempotent" 0 "" cosign "$w" "$work/again"
expect "show after" 0 "" show "$w"
grep -q "example.org/cli-log  cosigned up to size 7" "$work/out" && ok "show: size 7" || { bad "show after"; cat "$work/out"; }
expect "old size 0 once there is state" 1 "409: old size 0 is not the witness's size 7" cosign "$w" "$work/first"
out_is "409 prints the witness's size" 7
expect "a bad proof" 1 "422: the consistency proof from size 7 to 9 does not verify" cosign "$w" "$work/badproof"
expect "a split view" 1 "409: split view" cosign "$w" "$work/split"
out_is "the split view's 409 prints the size" 7
expect "an unknown log" 1 "404: unknown log example.org/unknown" cosign "$w" "$work/unknown"
printf 'old 7\nnot a hash\n\n' >"$work/garbage"
expect "a malformed request" 1 "400: malformed request" cosign "$w" "$work/garbage"
head -c 70000 /dev/zero | tr '\0' x >"$work/big"
expect "a request too large" 1 "413:" cosign "$w" "$work/big"
expect "cosign a missing file" 2 "cannot read" cosign "$w" "$work/none"
expect "show unchanged" 0 "" show "$w"
grep -q "cosigned up to size 7" "$work/out" && ok "refusals left the state at 7" || bad "state moved"

# ---- serve and push ----
port=$((20000 + $$ % 10000))
tries=0
while :; do
    "$dt" witness serve "$w" --listen "127.0.0.1:$port" 2>"$work/serve.log" &
    pid=$!
    i=0
    while [ $i -lt 100 ] && ! grep -q "serving" "$work/serve.log" && kill -0 "$pid" 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
    done
    grep -q "serving" "$work/serve.log" && break
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
    tries=$((tries + 1))
    [ $tries -lt 10 ] || { bad "serve: no port from $((port - 9)) to $port"; cat "$work/serve.log"; exit 1; }
    port=$((port + 1))
done
ok "serve listens on 127.0.0.1:$port"
url=http://127.0.0.1:$port
expect "push 7 -> 9" 0 ": 200" push "$url" "$work/grow2"
out_cosig "push prints the cosignature"
expect "push a stale request: 409" 1 ": 409" push "$url/" "$work/grow"
out_is "the 409 body is the witness's size" 9
expect "push to a wrong path: 404" 1 "/nope/add-checkpoint: 404" push "$url/nope" "$work/grow2"
expect "push a request too large: 413" 1 ": 413" push "$url" "$work/big"
expect "push to a path with a newline: 404" 1 ": 404" push "$url/a%0Ab" "$work/grow2"
if command -v curl >/dev/null 2>&1; then
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/add-checkpoint")" = 405 ] && ok "GET: 405" || bad "GET is not 405"
fi
expect "push to nobody" 2 "no answer" push "http://127.0.0.1:1" "$work/grow2"
expect "push to a bad URL" 2 "not an http:// URL" push "https://127.0.0.1:$port" "$work/grow2"
expect "serve on a bad address" 2 "want ADDR:PORT" serve "$w" --listen "localhost"
expect "serve on a port in use" 2 "cannot listen" serve "$w" --listen "127.0.0.1:$port"
kill -TERM "$pid"
if wait "$pid"; then st=0; else st=$?; fi
pid=
[ "$st" = 0 ] && ok "SIGTERM: serve exits 0" || bad "serve exited $st after SIGTERM"
grep -q "stopped" "$work/serve.log" && ok "serve says it stopped" || bad "no 'stopped' line"
for pat in "POST /add-checkpoint 200 cosigned" "POST /add-checkpoint 409 old size 3 is not the witness's size 9" \
    "POST /nope/add-checkpoint 404" "POST /add-checkpoint 413" "POST /a?b/add-checkpoint 404"; do
    grep -q "127.0.0.1 $pat" "$work/serve.log" && ok "serve logged '$pat'" || { bad "serve did not log '$pat'"; cat "$work/serve.log"; }
done
expect "show after serve" 0 "" show "$w"
grep -q "cosigned up to size 9" "$work/out" && ok "the server's state is on disk: 9" || bad "state after serve"

expect "help" 0 "" --help
expect "an unknown subcommand" 2 "unknown subcommand" frobnicate

[ "$fails" = 0 ] || { echo "$fails failures"; exit 1; }
echo "all witness CLI checks pass"
