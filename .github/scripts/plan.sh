#!/usr/bin/env bash
# Read-only plans of every stack of $ENV, as the infra-plan role runs them
# (infra-ci.yml and the drift job in security.yml).
#
#   plan.sh diff  REPORT.md   plan each stack, collect a Markdown report
#   plan.sh drift             plan each stack, fail if any has changes
#
# Plans run with -lock=false: the plan role writes nothing, not even a lock.
# The Kubernetes-side stacks (platform, observability, edge) hold Helm
# releases, and the helm provider refreshes a release by reading its
# storage Secret, which the plan role may not read (AmazonEKSViewPolicy has
# no Secrets). So a PR diff plans them with -refresh=false (the change the
# PR makes against the recorded state), and drift checks skip them; the
# deploy from main converges them.
set -euo pipefail

mode=${1:?usage: plan.sh diff REPORT.md | plan.sh drift}
report=${2:-/dev/null}
: "${ENV:?set ENV}"
kube_side='-(platform|observability|edge)$'

make --no-print-directory synth >/dev/null
echo "### $ENV" > "$report"
drift=""
for s in $(make --no-print-directory stacks | grep -v -- '-state$'); do
  dir="cdktf.out/stacks/$s"
  args=(-input=false -lock=false -no-color -detailed-exitcode)
  if [[ $s =~ $kube_side ]]; then
    if [[ $mode == drift ]]; then
      echo "::notice::$s: skipped (Helm releases need Secret reads; see docs/cicd.md)"
      continue
    fi
    args+=(-refresh=false)
  fi
  terraform -chdir="$dir" init -input=false -no-color >/dev/null
  rc=0
  terraform -chdir="$dir" plan "${args[@]}" > "plan-$s.txt" 2>&1 || rc=$?
  case $rc in
    0) echo "$s: no changes" ;;
    2) echo "$s: changes"; drift="$drift $s" ;;
    *) echo "::error::$s: plan failed"; tail -30 "plan-$s.txt"; exit 1 ;;
  esac
  {
    echo "<details><summary>$s</summary>"; echo; echo '```'
    grep -E '^  [#~+-]|^Plan:|^No changes' "plan-$s.txt" | tail -n 200 || true
    echo '```'; echo '</details>'
  } >> "$report"
done
if [[ $mode == drift && -n $drift ]]; then
  echo "::error::drift in:$drift. Re-apply from main (infra-deploy) or fold the manual change into code."
  exit 1
fi
