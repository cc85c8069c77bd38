# bench/lib.sh - helpers of bench/run (sourced; not a command of its own):
# tools, ports, processes, and one measured wrk run.
# shellcheck shell=bash

log() { printf '[bench %4ss] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}
PHASES="" PHASE_T=$T0
phase_done() { # phase_done <name>: records the seconds since the previous phase ended
	local now
	now=$(date +%s)
	PHASES="$PHASES${PHASES:+, }$1 $((now - PHASE_T)) s"
	PHASE_T=$now
}
has_part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

# --- tools -------------------------------------------------------------------
need_pkg() { # need_pkg <command> <debian package>: installs it as root when missing
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		log "installing $2"
		if [ -z "${APT_UPDATED:-}" ]; then
			apt-get update -qq >/dev/null || true
			APT_UPDATED=1
		fi
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null || true
	fi
	command -v "$1" >/dev/null 2>&1
}

# --- ports and processes -----------------------------------------------------
# Ports are picked below the kernel's ephemeral range, so that an outgoing
# connection cannot be holding one.
USED_PORTS=" "
EPHEMERAL_LOW=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
freeport() {
	local p
	for _ in $(seq 200); do
		p=$((10000 + RANDOM % (EPHEMERAL_LOW - 10000)))
		case "$USED_PORTS" in *" $p "*) continue ;; esac
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			USED_PORTS="$USED_PORTS$p "
			echo "$p"
			return
		fi
	done
	die "no free port"
}
wait_http() { # wait_http <url> <pid> [seconds]
	for _ in $(seq $((${3:-10} * 10))); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# cpu_ticks <pid>...: utime+stime summed over the pids, in clock ticks (1/100 s).
cpu_ticks() {
	local p t=0 v
	for p in "$@"; do
		v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}')
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

PIDS=()
# Clean environments: only what is set here, run from an empty directory so
# no .env file is read.
run_bg() { # run_bg <log> <cmd...>; sets LAST_PID
	local out=$1
	shift
	(cd "$WORK" && exec env -i PATH="$PATH" HOME="$WORK" "$@") >"$out" 2>&1 &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}
stop_pid() { # stop_pid <pid>: ends one process this script started
	local p keep=()
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	PIDS=()
	rm -rf "$WORK"
}

redis_info() { redis-cli -p "$REDIS_PORT" INFO "$1" 2>/dev/null | tr -d '\r'; }
redis_gets() { redis_info commandstats | sed -nE 's/^cmdstat_get:calls=([0-9]+).*/\1/p' | grep . || echo 0; }

# metrics_snapshot <metrics url>: "metrics-cache <hits> <misses>" when
# authbff serves authbff_session_cache_{hits,misses}_total there,
# "metrics-store <gets>" when it serves the store's Get count, else nothing.
metrics_snapshot() {
	local body
	body=$(curl -fsS --max-time 2 "$1" 2>/dev/null) || return 0
	if grep -q '^authbff_session_cache_hits_total' <<<"$body"; then
		awk '$1 ~ /^authbff_session_cache_hits_total([{]|$)/ {h += $NF}
			$1 ~ /^authbff_session_cache_misses_total([{]|$)/ {m += $NF}
			END {printf "metrics-cache %d %d\n", h, m}' <<<"$body"
	elif grep -q '^authbff_store_operation_duration_seconds_count{.*op="get"' <<<"$body"; then
		awk '/^authbff_store_operation_duration_seconds_count[{].*op="get"/ {g += $NF}
			END {printf "metrics-store %d\n", g}' <<<"$body"
	fi
}

# hit_snapshot <row>: what the row's cache hit ratio is computed from
# (Prometheus counters when authbff serves them, else the store's side).
hit_snapshot() {
	local r=$1 u m src="" a=0 b=0 x y z
	for u in ${R_METRICS[$r]:-}; do
		m=$(metrics_snapshot "$u")
		if [ -z "$m" ]; then
			src=""
			break
		fi
		read -r x y z <<<"$m"
		src=$x a=$((a + y)) b=$((b + ${z:-0}))
	done
	if [ -n "$src" ]; then
		echo "$src $a $b"
		return
	fi
	case ${R_HIT[$r]:-} in
	redis) echo "redis $(redis_gets)" ;;
	stats:*) echo "store $(curl -fsS --max-time 2 "${R_HIT[$r]#stats:}" | sed -nE 's/.*"store_gets":([0-9]+).*/\1/p')" ;;
	*) echo "-" ;;
	esac
}
# hit_ratio <before> <after> <requests>: prints "<ratio> <source>" or "- -".
hit_ratio() {
	awk -v b="$1" -v a="$2" -v n="$3" 'BEGIN {
		split(b, x, " "); split(a, y, " ")
		if (x[1] == "-" || x[1] != y[1] || n <= 0) { print "- -"; exit }
		if (x[1] == "metrics-cache") {
			h = y[2] - x[2]; m = y[3] - x[3]
			if (h + m <= 0) { print "- -"; exit }
			r = h / (h + m)
		} else {
			r = 1 - (y[2] - x[2]) / n
		}
		if (r < 0) r = 0
		printf "%.4f %s\n", r, x[1]
	}'
}

# parse_wrk <file>: "rps p50_ms p99_ms errors requests"
parse_wrk() {
	awk '
	function ms(v) {
		if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
		if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
		if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
		if (v ~ /m$/) return substr(v, 1, length(v) - 1) * 60000
		return v + 0
	}
	/Requests\/sec:/ { rps = $2 }
	/^ +50%/ { p50 = ms($2) }
	/^ +99%/ { p99 = ms($2) }
	/ requests in / { req = $1 }
	/Non-2xx or 3xx responses:/ { err += $NF }
	/Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
	END { printf "%s %.3f %.3f %d %d\n", rps, p50, p99, err, req }' "$1"
}

# wrk_cmd <out> <threads> <conns> <row> [shard shards] : runs wrk for a row
# (R_URL2 etc. with "2" as the row suffix arg are used by measure2).
wrk_cmd() {
	local out=$1 t=$2 n=$3 url=$4 tok=$5 tokfile=$6 csrf=$7 shard=${8:-0} shards=${9:-1} h=()
	if [ -n "$tokfile" ]; then
		wrk -t"$t" -c"$n" -d"${DURATION}s" --latency -s "$LUA" "$url" -- "$tokfile" "$t" "$csrf" "$shard" "$shards" >"$out" 2>&1
		return
	fi
	[ -n "$tok" ] && h+=(-H "Cookie: $COOKIE=$tok")
	[ "$csrf" = 1 ] && h+=(-H "X-CSRF: 1")
	wrk -t"$t" -c"$n" -d"${DURATION}s" --latency "${h[@]}" "$url" >"$out" 2>&1
}

# Rows: R_URL (what wrk requests), R_PID (the server, for CPU and RSS),
# R_TOK (one cookie) or R_TOKFILE (rotating cookies), R_CSRF (1: send
# X-CSRF: 1), R_AUX (another process whose CPU per request is reported:
# redis-server, the upstream), R_HIT and R_METRICS (see hit_snapshot).
# R_CONNS (optional): a stats URL answering {"conns_opened": n} (the
# upstream), recorded as connections opened per 1,000 requests.
declare -A R_URL R_PID R_TOK R_TOKFILE R_CSRF R_AUX R_HIT R_METRICS R_CONNS
row() { # row <name> <url> <pid> <tok> <tokfile> <csrf> <aux pid> <hit> <metrics urls>
	R_URL[$1]=$2 R_PID[$1]=$3 R_TOK[$1]=$4 R_TOKFILE[$1]=$5 R_CSRF[$1]=$6 R_AUX[$1]=$7 R_HIT[$1]=$8 R_METRICS[$1]=$9
}

record() { # record <row> <conns> <round> <rps> <p50> <p99> <rss> <err> <req> <cpu> <aux> <hit> <src> [conns/1k]
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${@:1:13}" "${14:--}" >>"$SAMPLES"
	log "  $1 c=$2 r=$3: $4 req/s, p50 $5 ms, p99 $6 ms, CPU ${10} us/req$([ "${11}" = - ] || echo ", aux ${11} us/req")$([ "${12}" = - ] || echo ", hit ratio ${12} (${13})")$([ "${14:--}" = - ] || echo ", upstream conns opened ${14}/1k req")$([ "$8" = 0 ] || echo ", ERRORS $8")"
}
per_req() { # per_req <ticks> <requests>: microseconds of CPU per request
	awk -v t="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.1f", t * 10000 / n; else print "-" }'
}

conns_opened() { curl -fsS --max-time 2 "$1" | sed -nE 's/.*"conns_opened":([0-9]+).*/\1/p'; }

# measure <row> <conns> <round>: one wrk run against a row, recorded.
measure() {
	local r=$1 n=$2 k=$3 f c0 c1 a0=0 a1=0 h0 h1 rps p50 p99 err req aux=- hit src o0=0 o1=0 opened=-
	f="$OUT/wrk-${r//\//_}-c$n-r$k.txt"
	[ -n "${R_CONNS[$r]:-}" ] && o0=$(conns_opened "${R_CONNS[$r]}")
	h0=$(hit_snapshot "$r")
	c0=$(cpu_ticks "${R_PID[$r]}")
	[ -n "${R_AUX[$r]}" ] && a0=$(cpu_ticks "${R_AUX[$r]}")
	wrk_cmd "$f" "$THREADS" "$n" "${R_URL[$r]}" "${R_TOK[$r]}" "${R_TOKFILE[$r]}" "${R_CSRF[$r]}" ||
		{ cat "$f" >&2; die "wrk failed on $r"; }
	c1=$(cpu_ticks "${R_PID[$r]}")
	[ -n "${R_AUX[$r]}" ] && a1=$(cpu_ticks "${R_AUX[$r]}")
	h1=$(hit_snapshot "$r")
	[ -n "${R_CONNS[$r]:-}" ] && o1=$(conns_opened "${R_CONNS[$r]}")
	read -r rps p50 p99 err req < <(parse_wrk "$f")
	[ -n "$rps" ] || { cat "$f" >&2; die "no wrk result for $r"; }
	[ -n "${R_AUX[$r]}" ] && aux=$(per_req $((a1 - a0)) "$req")
	[ -n "${R_CONNS[$r]:-}" ] && opened=$(awk -v d=$((o1 - o0)) -v n="$req" 'BEGIN { if (n > 0) printf "%.1f", d * 1000 / n; else print "-" }')
	read -r hit src < <(hit_ratio "$h0" "$h1" "$req")
	record "$r" "$n" "$k" "$rps" "$p50" "$p99" "$(rss_kb "${R_PID[$r]%% *}")" "$err" "$req" \
		"$(per_req $((c1 - c0)) "$req")" "$aux" "$hit" "$src" "$opened"
}

# measure2 <row> <rowA> <rowB> <conns> <round>: rowA and rowB (two
# instances) at once, each with half the connections and one wrk thread
# (the cookie list split in two shards), recorded as <row>: summed req/s,
# the worse p50 and p99, the CPU of both per request. <row>'s own R_HIT and
# R_METRICS give the hit ratio over both.
measure2() {
	local r=$1 ra=$2 rb=$3 n=$4 k=$5 fa fb c0 c1 a0=0 a1=0 h0 h1 pa pb aux=- hit src
	local rpsa p50a p99a erra reqa rpsb p50b p99b errb reqb
	fa="$OUT/wrk-${r//\//_}-a-c$n-r$k.txt" fb="$OUT/wrk-${r//\//_}-b-c$n-r$k.txt"
	h0=$(hit_snapshot "$r")
	c0=$(cpu_ticks "${R_PID[$ra]}" "${R_PID[$rb]}")
	[ -n "${R_AUX[$ra]}" ] && a0=$(cpu_ticks "${R_AUX[$ra]}")
	wrk_cmd "$fa" 1 $((n / 2)) "${R_URL[$ra]}" "${R_TOK[$ra]}" "${R_TOKFILE[$ra]}" "${R_CSRF[$ra]}" 0 2 &
	pa=$!
	wrk_cmd "$fb" 1 $((n / 2)) "${R_URL[$rb]}" "${R_TOK[$rb]}" "${R_TOKFILE[$rb]}" "${R_CSRF[$rb]}" 1 2 &
	pb=$!
	wait "$pa" || { cat "$fa" >&2; die "wrk failed on $ra"; }
	wait "$pb" || { cat "$fb" >&2; die "wrk failed on $rb"; }
	c1=$(cpu_ticks "${R_PID[$ra]}" "${R_PID[$rb]}")
	[ -n "${R_AUX[$ra]}" ] && a1=$(cpu_ticks "${R_AUX[$ra]}")
	h1=$(hit_snapshot "$r")
	read -r rpsa p50a p99a erra reqa < <(parse_wrk "$fa")
	read -r rpsb p50b p99b errb reqb < <(parse_wrk "$fb")
	{ [ -n "$rpsa" ] && [ -n "$rpsb" ]; } || die "no wrk result for $r"
	[ -n "${R_AUX[$ra]}" ] && aux=$(per_req $((a1 - a0)) $((reqa + reqb)))
	read -r hit src < <(hit_ratio "$h0" "$h1" $((reqa + reqb)))
	record "$r" "$n" "$k" "$(awk -v a="$rpsa" -v b="$rpsb" 'BEGIN {printf "%.2f", a + b}')" \
		"$(awk -v a="$p50a" -v b="$p50b" 'BEGIN {print (a > b ? a : b)}')" \
		"$(awk -v a="$p99a" -v b="$p99b" 'BEGIN {print (a > b ? a : b)}')" \
		$(($(rss_kb "${R_PID[$ra]}") + $(rss_kb "${R_PID[$rb]}"))) $((erra + errb)) $((reqa + reqb)) \
		"$(per_req $((c1 - c0)) $((reqa + reqb)))" "$aux" "$hit" "$src"
}

# warm <row>...: 2 s of wrk on each row, not recorded.
warm() {
	local r DURATION=2
	for r in "$@"; do
		wrk_cmd "$WORK/warm.txt" "$THREADS" 64 "${R_URL[$r]}" "${R_TOK[$r]}" "${R_TOKFILE[$r]}" "${R_CSRF[$r]}" ||
			{ cat "$WORK/warm.txt" >&2; die "warm-up of $r failed"; }
	done 2>/dev/null
}
