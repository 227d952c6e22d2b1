#!/usr/bin/env bash
# Rebuilds api/assets/stats (the statistics page's script and style sheet, with Chart.js, and their licences and
# versions) from the exact versions in package-lock.json. The server embeds the committed files; cargo never runs
# npm. To move to newer versions, change package.json, run `npm install` here to update package-lock.json, run
# this script and commit all three.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
node build.mjs
