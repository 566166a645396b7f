# shellcheck shell=bash
# Version comparison shared by the node scripts: components/node-scripts.ts puts it in place of
# each script's include line for this file when it composes the text it sends.
# Succeeds when version $1 (X.Y.Z or vX.Y.Z; a "-pre" release comes before X.Y.Z, "+build" does
# not count) is at or past X.Y.Z $2, field by field as numbers; fails when $1 is anything else.
version_at_least() {
  local re='^v?([0-9]{1,9})\.([0-9]{1,9})\.([0-9]{1,9})(-[^+]*)?(\+.*)?$' x y pre i
  [[ $1 =~ $re ]] || return 1
  x=("${BASH_REMATCH[@]:1:3}") pre=${BASH_REMATCH[4]}
  [[ $2 =~ $re && -z ${BASH_REMATCH[4]}${BASH_REMATCH[5]} ]] || return 1
  y=("${BASH_REMATCH[@]:1:3}")
  for i in 0 1 2; do
    if ((10#${x[i]} != 10#${y[i]})); then ((10#${x[i]} > 10#${y[i]})); return; fi
  done
  [[ -z $pre ]]
}
