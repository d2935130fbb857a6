#!/usr/bin/env bash
# Builds the sample app's image without a registry: a root filesystem holding this machine's node binary,
# the shared libraries it links (from ldd), the built app (dist/) and its production node_modules, loaded
# with `docker import`. The tag is the hash of that filesystem, so an unchanged build is imported once.
#
#   examples/target-app/docker/build-image.sh [--tag NAME:TAG]    prints the image tag it built or found
#
# Needs `npm run build` first, the docker CLI and DOCKER_HOST (or the default socket). With a Docker
# registry at hand, examples/target-app/Dockerfile builds the same app from the official node image.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
extra_tag=""
if [ "${1:-}" = "--tag" ]; then extra_tag="${2:?--tag needs NAME:TAG}"; fi
[ -f "$root/dist/examples/target-app/services/web.js" ] || { echo "run npm run build first" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/chaoskit-image-XXXXXX")"
trap 'rm -rf "$work"' EXIT
fs="$work/rootfs"
mkdir -p "$fs/usr/bin" "$fs/tmp" "$fs/app" "$fs/etc"
chmod 1777 "$fs/tmp"
node="$(command -v node)"
node="$(readlink -f "$node")"
cp "$node" "$fs/usr/bin/node"
for lib in $(ldd "$node" | grep -o '/[^ ]*'); do
  mkdir -p "$fs$(dirname "$lib")"
  cp -L "$lib" "$fs$lib"
done
echo "root:x:0:0:root:/root:/sbin/nologin" >"$fs/etc/passwd"
echo "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin" >>"$fs/etc/passwd"
cp "$root/package.json" "$fs/app/"
cp -r "$root/dist" "$fs/app/dist"
# The production dependencies only: each top-level package folder npm lists (nested ones come with them).
# (npm ls exits non-zero over an extraneous package; the list it prints is still right.)
(cd "$root" && { npm ls --omit=dev --all --parseable 2>/dev/null || true; } | sed "s|^$root/||" |
  grep -E '^node_modules/(@[^/]+/)?[^/]+$' | sort -u) >"$work/modules"
tar -C "$root" -cf - -T "$work/modules" | tar -C "$fs/app" -xf -

tar -C "$fs" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$work/rootfs.tar" .
hash="$(sha256sum "$work/rootfs.tar" | cut -c1-16)"
tag="chaoskit-target-app:$hash"
if ! docker image inspect "$tag" >/dev/null 2>&1; then
  docker import \
    --change 'WORKDIR /app' \
    --change 'ENV NODE_ENV=production' \
    --change 'CMD ["/usr/bin/node", "dist/examples/target-app/services/web.js"]' \
    "$work/rootfs.tar" "$tag" >/dev/null
fi
# Images of earlier builds pile up otherwise; one a container still uses is refused and kept.
docker images chaoskit-target-app --format '{{.Repository}}:{{.Tag}}' | grep -vxF "$tag" |
  xargs -r docker image rm >/dev/null 2>&1 || true
[ -z "$extra_tag" ] || docker tag "$tag" "$extra_tag"
echo "$tag"
