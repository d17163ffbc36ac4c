#!/usr/bin/env bash
# A local stand-in for node:22-slim, for a machine that reaches Debian's archive and the npm registry
# but no container registry (this project's CI): a debootstrap minbase root of Debian 12 (what the
# slim images are made of), the Node binary of the npm package node@22 with npm, a `node` user (uid
# 1000, as in the official image), and the host's CA bundle, so that `npm ci` inside a build trusts
# what the host's npm trusts. The Dockerfile takes it unchanged: --build-arg NODE_IMAGE=<this tag>.
#
# Usage (as root): bash scripts/container/base-image.sh [TAG]   default: localhost/token-swap-node:22
set -euo pipefail

TAG=${1:-localhost/token-swap-node:22}
NODE_SPEC=${NODE_SPEC:-node@22}
# npm 10 is what Node 22 ships with, and so what node:22-slim has.
NPM_SPEC=${NPM_SPEC:-npm@10}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root

# libstdc++6: the Node binary links it (libc, libm and libgcc_s are in minbase already).
debootstrap --variant=minbase --include=libstdc++6 bookworm "$root" "$MIRROR" >"$work/debootstrap.log" ||
  { tail -n 20 "$work/debootstrap.log"; exit 1; }

# The node package's install step puts the binary of the platform's node-<os>-<arch> package in place.
npm install --prefix "$work/npm" --no-audit --no-fund --loglevel=error "$NODE_SPEC" "$NPM_SPEC" >/dev/null
install -m 0755 "$work/npm/node_modules/node/bin/node" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$work/npm/node_modules/npm" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"

mkdir -p "$root/etc/ssl/certs"
cp "$CA_BUNDLE" "$root/etc/ssl/certs/ca-certificates.crt"
chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log

tar --numeric-owner -C "$root" -c . |
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" \
    --change 'CMD ["node"]' \
    - "$TAG"
# runc and explicit rlimits: podman's defaults (crun, the host's rlimits) fail to start containers here.
run=(podman run --rm --runtime runc --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 --user node "$TAG")
echo "$TAG: Node $("${run[@]}" node --version), npm $("${run[@]}" npm --version), user $("${run[@]}" id -un)"
