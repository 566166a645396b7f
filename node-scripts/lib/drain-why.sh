# shellcheck shell=bash
# Why a drain did not finish, for each pod still to go on the node, as the API tells it; shared
# by drain.sh and pool-node.sh (remove). Needs lib/node-health.sh (kube_bounded, time_left,
# lease_check, not_ready_why) included before it. components/node-scripts.ts puts it in place of
# each script's include line for this file.
# A pod being deleted while the node's kubelet is not reporting (Ready not True, or its Lease not
# renewed) is stuck Terminating until the kubelet returns or an operator force-deletes it (never
# done here); any other pod is asked about with a server-side dry-run eviction, whose 429 names the
# PodDisruptionBudget in details.causes[].message (kubectl drain prints only the generic message;
# kubectl -v=4 logs the whole Status: ../shared/data/kube-api/v1.31-kubeadm-ha/eviction-denied-by-pdb.json);
# else what is so is said (being deleted, eviction allowed now). At most 10 pods, each kubectl
# call at most 10 s, no pod checked after 60 s. Names reach paths and JSON only when they are names
# the API allows (a namespace is a DNS label, a pod name a DNS subdomain).

drain_ns_re='^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$'
drain_name_re='^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$'

# eviction_why DEADLINE NS NAME: what a server-side dry-run eviction of NS/NAME answers, as a sentence.
eviction_why() {
  local deadline=$1 out budgets="" msg pdb
  if out=$(printf '{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"namespace":"%s","name":"%s"},"deleteOptions":{"dryRun":["All"]}}' "$2" "$3" |
    kube_bounded "$(time_left "$deadline")" create --raw "/api/v1/namespaces/$2/pods/$3/eviction" -f - -v=4 2>&1 >/dev/null); then
    echo "its eviction is allowed now (a server-side dry run) but it was not evicted in time"
    return
  fi
  # The Status as kubectl -v=4 logs it ("server response object"): one cause message a line.
  while IFS= read -r msg; do
    pdb=${msg#The disruption budget }
    pdb=${pdb%% *}
    [[ $pdb =~ $drain_name_re ]] || pdb="?"
    budgets+="${budgets:+, }PodDisruptionBudget $2/$pdb (\"$msg\")"
  done < <(grep -o '"message": *"The disruption budget [^"]*"' <<<"$out" | sed 's/^"message": *"//; s/"$//' | awk '!seen[$0]++')
  if [[ -n $budgets ]]; then
    echo "its eviction is refused by $budgets"
  else
    out=$(tail -n 1 <<<"$out")
    echo "the eviction API answers a server-side dry run with: ${out:-no answer in time}"
  fi
}

# drain_why NODE NO_EVICTION: prints why the drain of NODE did not finish, reasons joined by "; "
# and ending in "; " (NO_EVICTION true: pods are deleted, not evicted, so no eviction is asked about).
drain_why() {
  local node=$1 no_eviction=$2 deadline=$((SECONDS + 60)) err left ns name phase owner mirror deleting grace finalizers pod seen ready reason message
  local reasons=() stuck=() checked=0 more=0 kubelet_state="" silent=""
  local left_tpl='{range .items[*]}{.metadata.namespace}|{.metadata.name}|{.status.phase}|{.metadata.ownerReferences[?(@.controller==true)].kind}|{.metadata.annotations.kubernetes\.io/config\.mirror}|{.metadata.deletionTimestamp}|{.metadata.deletionGracePeriodSeconds}|{.metadata.finalizers[*]}{"\n"}{end}'
  err=$(mktemp)
  if ! left=$(kube_bounded "$(time_left "$deadline")" get pods --all-namespaces --field-selector "spec.nodeName=$node" -o "jsonpath=$left_tpl" 2>"$err"); then
    echo "listing the pods left on it failed: $(tail -n 1 "$err"); "
    rm -f "$err"
    return
  fi
  while IFS='|' read -r ns name phase owner mirror deleting grace finalizers; do
    [[ -n $name && -z $mirror && $owner != DaemonSet && $phase != Succeeded && $phase != Failed ]] || continue
    if ((checked >= 10 || SECONDS >= deadline)); then
      more=$((more + 1))
      continue
    fi
    checked=$((checked + 1))
    if ! [[ $ns =~ $drain_ns_re && $name =~ $drain_name_re ]]; then
      reasons+=("a pod with an unexpected name is left (not checked)")
      continue
    fi
    pod="$ns/$name"
    if [[ -n $deleting ]]; then
      if [[ -z $kubelet_state ]]; then
        # Whether the node's kubelet reports: its Ready condition, then (Ready True) its Lease.
        kubelet_state=reporting
        if seen=$(kube_bounded "$(time_left "$deadline")" get node "$node" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}|{.status.conditions[?(@.type=="Ready")].reason}|{.status.conditions[?(@.type=="Ready")].message}' 2>"$err"); then
          IFS='|' read -r ready reason message <<<"$seen"
          if [[ $ready == True ]] && ! lease_check "$node" "$(time_left "$deadline")"; then
            kubelet_state="not known: its Lease could not be read: ${lease_error:-}"
          else
            silent=$(not_ready_why "$ready" "$reason" "$message")
            [[ -z $silent ]] || kubelet_state=silent
          fi
        else
          kubelet_state="not known: reading node $node failed: $(tail -n 1 "$err")"
        fi
      fi
      if [[ $kubelet_state == silent ]]; then
        stuck+=("$pod")
      else
        reasons+=("$pod is being deleted (since $deleting, grace period ${grace:-?} s${finalizers:+, finalizers $finalizers}) and not gone yet; whether the kubelet on $node reports: $kubelet_state")
      fi
    elif [[ $no_eviction == true ]]; then
      reasons+=("$pod is still there (${phase:-no phase}) and not being deleted")
    else
      reasons+=("$pod: $(eviction_why "$deadline" "$ns" "$name")")
    fi
  done <<<"$left"
  rm -f "$err"
  if [[ ${#stuck[@]} -gt 0 ]]; then
    reasons+=("stuck Terminating because the kubelet on $node is not reporting ($silent): ${stuck[*]}; they go when the kubelet returns; if the machine is gone for good, an operator may force-delete them (kubectl delete pod -n NAMESPACE NAME --force --grace-period=0; this script never does)")
  fi
  if ((more > 0)); then reasons+=("and $more more pods left, not checked"); fi
  if [[ ${#reasons[@]} -eq 0 ]]; then reasons+=("no pod is left to evict on it now (kubectl drain's own error is above)"); fi
  printf '%s; ' "${reasons[@]}"
}
