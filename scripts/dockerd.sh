#!/usr/bin/env bash
# A private Docker engine for the tests and the Docker experiments: its own socket, data and state under one
# folder, no bridge network and no iptables rules (containers run with --network host), so it never
# touches the machine's own engine or firewall.
#
#   scripts/dockerd.sh start [DIR]   start it (or find it running) and print the DOCKER_HOST to use
#   scripts/dockerd.sh stop [DIR]    stop it, unmount what it left mounted under DIR
#   scripts/dockerd.sh clean [DIR]   stop it, then delete DIR (images and containers with it)
#
# DIR defaults to $CHAOS_DOCKERD_DIR, else .chaos/dockerd in the repository. Needs root and Debian's
# docker.io (apt-get install -y --no-install-recommends docker.io).
set -euo pipefail

cmd="${1:-}"
dir="${2:-${CHAOS_DOCKERD_DIR:-$(cd "$(dirname "$0")/.." && pwd)/.chaos/dockerd}}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
sock="$dir/docker.sock"
host="unix://$sock"
pidfile="$dir/dockerd.pid"
ready_timeout="${CHAOS_DOCKERD_TIMEOUT:-60}"

running_pid() {
  local pid
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

answers() { docker --host "$host" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# dockerd leaves mounts under its exec-root (an nsfs mount at netns/default) and data-root; a folder holding
# them cannot be deleted, so unmount them, deepest first.
unmount_all() {
  awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}

start() {
  command -v dockerd >/dev/null || { echo "dockerd not found: apt-get install -y --no-install-recommends docker.io" >&2; exit 1; }
  if [ -n "$(running_pid)" ] && answers; then echo "$host"; return; fi
  rm -f "$sock"
  dockerd --host "$host" --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$pidfile" \
    --bridge=none --iptables=false --ip6tables=false >"$dir/dockerd.log" 2>&1 </dev/null &
  local waited=0
  until answers; do
    if ! kill -0 "$!" 2>/dev/null; then
      echo "dockerd exited at start; its log ($dir/dockerd.log) ends with:" >&2
      tail -n 20 "$dir/dockerd.log" >&2
      exit 1
    fi
    if [ "$waited" -ge $((ready_timeout * 5)) ]; then
      echo "dockerd did not answer on $sock within ${ready_timeout}s (log: $dir/dockerd.log)" >&2
      kill "$!" 2>/dev/null || true
      exit 1
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
  echo "$host"
}

stop() {
  local pid
  pid="$(running_pid)"
  if [ -n "$pid" ]; then
    kill -TERM "$pid"
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; sleep 0.5; fi
  fi
  rm -f "$pidfile" "$sock"
  unmount_all
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  clean) stop; rm -rf "$dir" ;;
  *) echo "usage: $0 start|stop|clean [DIR]" >&2; exit 2 ;;
esac
