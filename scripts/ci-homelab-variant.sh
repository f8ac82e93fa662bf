#!/usr/bin/env bash
# The tool's tests must pass whatever homelab the workspace holds: this repository is
# both the tool and a homelab, and its owner fills it by following the README. This
# script makes a throw-away clone of the committed HEAD, populates it the way the README
# does (init, every catalog component, a default secret store, an extra environment,
# two apps, one with secrets that depends on postgres), then runs the tests there.
#
#   bash scripts/ci-homelab-variant.sh                 # npm test in the populated clone
#   bash scripts/ci-homelab-variant.sh npx vitest run tools generators
#
# The clone links this checkout's node_modules (installed by `npm ci` first), except
# node_modules/homelab, which links to the clone's own tools/homelab. It lives under
# TMPDIR and is removed on exit (HOMELAB_VARIANT_KEEP=1 keeps it and prints where).
# .ci/run runs it after `npm test`.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[homelab-variant] %s\n' "$*" >&2; }
die() { printf '[homelab-variant] ERROR: %s\n' "$*" >&2; exit 1; }

[[ -d "$repo/node_modules/nx" ]] || die "node_modules is missing in $repo; run npm ci first"
(($# > 0)) || set -- npm test

work="$(mktemp -d -t homelab-variant-XXXXXX)"
cleanup() {
  if [[ "${HOMELAB_VARIANT_KEEP:-0}" == 1 ]]; then log "kept the populated clone in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

clone="$work/homelab"
log "cloning $(git -C "$repo" rev-parse --short HEAD) into a temporary folder"
git clone --quiet --shared --no-checkout "$repo" "$clone"
git -C "$clone" checkout --quiet --detach "$(git -C "$repo" rev-parse HEAD)"

# node_modules: links to the installed packages; the homelab workspace package is the clone's own.
mkdir "$clone/node_modules"
for entry in "$repo/node_modules"/* "$repo/node_modules"/.bin; do
  name="$(basename "$entry")"
  [[ "$name" == homelab ]] && continue
  ln -s "$entry" "$clone/node_modules/$name"
done
ln -s ../tools/homelab "$clone/node_modules/homelab"

cd "$clone"
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
nx() { node_modules/.bin/nx "$@" --no-interactive; }

log "populating it as the README does"
nx g homelab:init --repo-url https://git.example.org/me/homelab.git
# Every component of the catalog, as the infra generator's schema lists them.
for component in $(node -p "require('./generators/infra/schema.json').properties.component.enum.join(' ')"); do
  nx g homelab:infra "$component" --email admin@example.org
done
nx g homelab:secret-store onepassword --default
nx g homelab:environment lab --kubernetes-server https://lab.home.arpa:6443 --compose-context lab
nx g homelab:app whoami --image traefik/whoami:v1.10.4 --port 80 --host whoami.home.example.org
nx g homelab:app notes --image ghcr.io/example/notes:2.1.0 --port 8080 --secrets DATABASE_URL,API_TOKEN --volumes data:1Gi:/data
# The app that needs PostgreSQL says so in its spec, as a user would.
node -e "
  const fs = require('fs');
  const file = 'applications/specs/notes.yaml';
  const text = fs.readFileSync(file, 'utf8');
  if (!text.includes('\nenvironments:')) { console.error(file + ': no environments: key to insert dependsOn before'); process.exit(1); }
  fs.writeFileSync(file, text.replace('\nenvironments:', '\ndependsOn:\n  - postgres\nenvironments:'));
"
nx sync
git -c user.email=ci@homelab.invalid -c user.name='homelab ci' add -A
git -c user.email=ci@homelab.invalid -c user.name='homelab ci' commit --quiet -m 'a populated homelab'
log "$(git ls-files applications infrastructure platform | wc -l) files of homelab content; running: $*"
"$@"
